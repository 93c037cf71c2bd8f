"""The Bogor example: offices, a user of every role, and cases in several stages, one designated and
fostered (an officer assigned, a counseling held with its photo and attendance list, a resident's
report received).

The story is recorded through the same command handlers as any request, on a clock set to the days
it happened (February to May 2024), so its history and reports read as they would have then.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select

from domain.accounts import AccountDraft
from domain.actors import Actor, Role
from domain.commands import (
    ActOnCase,
    Assess,
    CaseCommand,
    Coordinate,
    Designate,
    Indicators,
    ProposeCandidacy,
    SetTarget,
    Socialize,
    Withdraw,
)
from domain.documents import MAX_ATTACHMENT_BYTES
from domain.events import CANDIDACY_STREAM, TARGET_STREAM
from domain.fostering import (
    ActivityKind,
    AssignOfficers,
    Channel,
    ReceiveReport,
    RecordActivity,
    ReportCategory,
)
from domain.places import Office
from events.schema import events, users
from events.store import EventMetadata
from service import accounts, documents, handlers, organisation
from service.application import Application
from service.auth import DEFAULT_TOKEN_DAYS

OFFICES = [
    Office(
        "BOGOR",
        "Kantor Imigrasi Kelas I Non TPI Bogor",
        "JABAR",
        "Kantor Wilayah Jawa Barat",
        frozenset({"32.01", "32.71"}),
    ),
    Office(
        "SUKABUMI",
        "Kantor Imigrasi Kelas II Non TPI Sukabumi",
        "JABAR",
        "Kantor Wilayah Jawa Barat",
        frozenset({"32.02", "32.72"}),
    ),
]

USERS = [
    AccountDraft("petugas.bogor", "Rina Marlina (PIMPASA)", Role.OFFICER, "BOGOR", None),
    AccountDraft("kasi.bogor", "Andi Setiawan (Kasi Inteldakim)", Role.SECTION_HEAD, "BOGOR", None),
    AccountDraft("kakan.bogor", "Ruhiyat (Kepala Kantor)", Role.HEAD_OF_OFFICE, "BOGOR", None),
    AccountDraft("plh.bogor", "Dewi Lestari (Plh. Kepala Kantor)", Role.HEAD_OF_OFFICE, "BOGOR", None),
    AccountDraft("petugas.sukabumi", "Yusuf Hidayat (PIMPASA)", Role.OFFICER, "SUKABUMI", None),
    AccountDraft("kadiv.jabar", "Kepala Divisi Imigrasi Jawa Barat", Role.REGIONAL_SUPERVISOR, None, "JABAR"),
    AccountDraft("auditor", "Inspektorat Jenderal", Role.AUDITOR, None, None),
    AccountDraft("admin", "Administrator Sistem", Role.ADMIN, None, None),
]

AGENCIES = (
    "Pengadilan Negeri Cibinong",
    "Polres Bogor",
    "Kodim 0621",
    "Kecamatan Cisarua",
    "BP3MI Jawa Barat",
)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class StoryClock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(frozen=True)
class Step:
    at: str
    username: str
    village: str  # the village code names the case ("" for a target)
    command: ProposeCandidacy | CaseCommand | SetTarget | AssignOfficers | RecordActivity | ReceiveReport
    # Documents uploaded with a fostering act, each a file name and what makes its bytes.
    files: tuple[tuple[str, Callable[[], bytes]], ...] = ()


def attendance_list(title: str) -> bytes:
    """A one-page PDF naming its title: the demo's attendance list."""
    stream = f"BT /F1 14 Tf 72 720 Td ({title}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _activity_photo() -> bytes:
    """A stand-in for the photo of the counseling: a drawn picture saying what it stands for."""
    image = Image.new("RGB", (1200, 900), (46, 110, 74))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 520, 1120, 820), fill=(230, 224, 205))
    draw.text((110, 560), "Penyuluhan TPPO, balai desa Tugu Selatan (foto contoh)", fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


TARGET_BASIS = "Keputusan Menteri Hukum dan HAM M.HH-01.OT.01.01 Tahun 2024"


def _proposal(
    code: str, name: str, migrant: int, prospective: int, cases: int, rationale: str
) -> ProposeCandidacy:
    return ProposeCandidacy(
        village_code=code,
        office_code="SUKABUMI" if code.startswith("32.02") else "BOGOR",
        rationale=rationale,
        indicators=Indicators(migrant, prospective, cases, border_area=False),
        village_name=name,
    )


def _meeting(day: str) -> Coordinate:
    return Coordinate(
        held_on=dt.date.fromisoformat(day),
        venue="Aula Kantor Imigrasi Kelas I Non TPI Bogor",
        agencies=AGENCIES,
        minutes_ref=f"W11.IMI.IMI.4-UM.01.01-{day[5:7]}{day[8:]}",
        notes="Rapat koordinasi dimoderatori Kasi Inteldakim.",
    )


def _socialization(day: str, attendees: int) -> Socialize:
    return Socialize(
        held_on=dt.date.fromisoformat(day),
        speakers=("BP3MI Jawa Barat", "Kasi Inteldakim Kantor Imigrasi Bogor"),
        attendees=attendees,
        topics=("Bahaya TPPO dan penyelundupan manusia", "Prosedur penempatan PMI yang aman"),
    )


def _assessment(day: str, score: int, met: bool) -> Assess:
    return Assess(
        assessed_on=dt.date.fromisoformat(day),
        score=score,
        meets_criteria=met,
        criteria={"migrant_worker_base": True, "trafficking_vulnerability": met, "village_commitment": True},
    )


STORY = [
    Step("2024-01-15T02:00:00", "kadiv.jabar", "", SetTarget("BOGOR", 2024, 3, TARGET_BASIS)),
    Step("2024-01-15T02:05:00", "kadiv.jabar", "", SetTarget("SUKABUMI", 2024, 2, TARGET_BASIS)),
    Step(
        "2024-02-12T02:00:00",
        "petugas.bogor",
        "32.01.25.2006",
        _proposal(
            "32.01.25.2006", "Tugu Selatan", 412, 160, 3, "Kantong PMI di Cisarua; tiga kasus TPPO 2023."
        ),
    ),
    Step(
        "2024-02-12T02:10:00",
        "petugas.bogor",
        "32.01.25.2001",
        _proposal("32.01.25.2001", "Batulayang", 210, 95, 1, "Banyak calon PMI berangkat nonprosedural."),
    ),
    Step(
        "2024-02-12T02:20:00",
        "petugas.bogor",
        "32.01.25.2005",
        _proposal("32.01.25.2005", "Citeko", 180, 70, 0, "Desa asal PMI ke Timur Tengah."),
    ),
    Step(
        "2024-02-13T03:00:00",
        "petugas.bogor",
        "32.71.01.1001",
        _proposal("32.71.01.1001", "Batu Tulis", 60, 40, 0, "Laporan perekrutan daring ke luar negeri."),
    ),
    Step(
        "2024-02-13T03:10:00",
        "petugas.bogor",
        "32.71.01.1003",
        _proposal("32.71.01.1003", "Empang", 35, 20, 0, "Usulan awal, perlu verifikasi."),
    ),
    Step("2024-02-19T07:00:00", "kasi.bogor", "32.01.25.2006", _meeting("2024-02-19")),
    Step("2024-02-19T07:05:00", "kasi.bogor", "32.01.25.2001", _meeting("2024-02-19")),
    Step("2024-02-19T07:10:00", "kasi.bogor", "32.01.25.2005", _meeting("2024-02-19")),
    Step("2024-02-19T07:15:00", "kasi.bogor", "32.71.01.1001", _meeting("2024-02-19")),
    Step("2024-02-21T08:00:00", "kasi.bogor", "32.01.25.2006", _socialization("2024-02-21", 85)),
    Step("2024-02-21T08:05:00", "kasi.bogor", "32.01.25.2005", _socialization("2024-02-21", 60)),
    Step("2024-02-21T08:10:00", "kasi.bogor", "32.71.01.1001", _socialization("2024-02-21", 40)),
    Step(
        "2024-03-01T04:00:00",
        "kasi.bogor",
        "32.71.01.1003",
        Withdraw(reason="Data PMI desa tidak terkonfirmasi oleh BP3MI."),
    ),
    Step("2024-03-20T04:00:00", "kasi.bogor", "32.01.25.2006", _assessment("2024-03-20", 86, True)),
    Step("2024-03-20T04:30:00", "kasi.bogor", "32.71.01.1001", _assessment("2024-03-20", 48, False)),
    Step(
        "2024-04-16T03:00:00",
        "kakan.bogor",
        "32.01.25.2006",
        Designate(
            decree_number="W11.IMI.IMI.4-UM.01.01-0416 Tahun 2024",
            decree_date=dt.date(2024, 4, 16),
            fostering_officers=("Rina Marlina (PIMPASA)", "Andi Setiawan"),
        ),
    ),
    Step(
        "2024-05-02T02:00:00",
        "petugas.bogor",
        "32.01.25.2008",
        _proposal("32.01.25.2008", "Kopo", 150, 65, 1, "Jalur perekrutan PMI nonprosedural."),
    ),
    Step(
        "2024-05-02T03:00:00",
        "kakan.bogor",
        "32.01.25.2006",
        AssignOfficers(("petugas.bogor",), "W11.IMI.IMI.4-UM.01.01-0502 Tahun 2024", dt.date(2024, 5, 2)),
    ),
    Step(
        "2024-05-06T02:00:00",
        "petugas.sukabumi",
        "32.02.01.2002",
        _proposal("32.02.01.2002", "Tonjong", 300, 110, 2, "Desa pesisir Palabuhanratu, banyak PMI."),
    ),
    Step(
        "2024-05-20T06:00:00",
        "petugas.bogor",
        "32.01.25.2006",
        RecordActivity(
            ActivityKind.COUNSELING,
            dt.date(2024, 5, 20),
            64,
            "Penyuluhan bahaya TPPO dan cara bekerja ke luar negeri secara prosedural, di balai desa.",
            ("TPPO", "Paspor", "PMI prosedural"),
        ),
        files=(
            ("penyuluhan-balai-desa.jpg", _activity_photo),
            ("daftar-hadir-2024-05-20.pdf", lambda: attendance_list("Daftar hadir penyuluhan 20 Mei 2024")),
        ),
    ),
    Step(
        "2024-05-21T01:00:00",
        "petugas.bogor",
        "32.01.25.2006",
        ReceiveReport(
            _at("2024-05-21T00:30:00"),
            Channel.WHATSAPP,
            ReportCategory.FOREIGN_NATIONAL,
            "Warga melaporkan dua WNA menginap di vila tanpa lapor RT.",
        ),
    ),
]


# The streams of the story itself (accounts and offices are opened before it).
STORY_STREAMS = (CANDIDACY_STREAM, TARGET_STREAM)


class DemoRefused(Exception):
    """The database holds accounts that are not the demo's: seeding it would touch real data."""


def _is_demo_user(row: Any) -> bool:
    return any(
        (row.username, row.name, row.role, row.office_code, row.region_code)
        == (user.username, user.name, user.role.value, user.office_code, user.region_code)
        for user in USERS
    )


def seed(
    app: Application,
    base_url: str,
    echo: Callable[[str], Any],
    *,
    force: bool = False,
    token_days: int = DEFAULT_TOKEN_DAYS,
) -> None:
    """Load the demo. A database with users who are not the demo's is refused unless `force`; even
    then their accounts are left alone (no token for them), and the story is not recorded where one
    of its people is somebody else, or where the log has moved past its first day."""
    with app.db.read() as conn:
        existing = {row.username: row for row in conn.execute(select(users))}
        told = conn.execute(select(events.c.position).where(events.c.stream_type.in_(STORY_STREAMS)).limit(1))
        story_told = told.first() is not None
        story_may_start = not story_told and app.store.head(conn).recorded_at < STORY[0].at
        missing_offices = [o for o in OFFICES if organisation.get_office(conn, o.code) is None]
        serving = {r: o.code for o in organisation.list_offices(conn) for r in o.regencies}
    taken = sorted(f"{r} by {serving[r]}" for o in missing_offices for r in o.regencies if r in serving)
    if taken:
        raise DemoRefused(
            f"the demo's offices would serve regencies another office serves ({', '.join(taken)}):"
            " seed a database of its own"
        )
    strangers = sorted(name for name, row in existing.items() if not _is_demo_user(row))
    if strangers and not force:
        named = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
        raise DemoRefused(
            f"this database holds {len(strangers)} users who are not the demo's ({named}): the demo "
            "issues tokens and records a made-up story; seed a database of its own, or add the "
            "demo beside them with --force (their accounts are left alone)"
        )
    operator = accounts.command_line_actor()
    # The accounts open the day before the story, so that its acts come after the grants they rest on.
    opening = Application(app.db, StoryClock(_at(STORY[0].at) - dt.timedelta(days=1)))
    with (opening if story_may_start else app).uow.write(EventMetadata.of(operator, "demo-seed")) as tx:
        for office in missing_offices:
            organisation.import_office(tx, operator, office)
        for user in USERS:
            if user.username not in existing:
                accounts.create_user(tx, operator, user)
    if story_may_start and any(step.username in strangers for step in STORY):
        echo("The demo's story is not recorded: some of its people's usernames are somebody else's.")
    elif story_may_start:
        _record_story(app)
        echo(f"Demo loaded: {len(OFFICES)} offices, {len(USERS)} users, {len(STORY)} recorded actions.")
    elif story_told:
        echo("Demo data is already there; new tokens were issued (earlier ones keep working).")
    else:
        echo(
            "The demo's story is not recorded: the log already holds events after its first day"
            f" ({STORY[0].at[:10]})."
        )
    tokens, passwords = {}, {}
    with app.uow.write(EventMetadata.of(operator, "demo-tokens")) as tx:
        for user in USERS:
            found = existing.get(user.username)
            if user.username in strangers:
                tokens[user.username] = "(the username is somebody else's: no token)"
            elif found is not None and not found.active:
                # Revoked on purpose: a demo run must not hand the account a working token again.
                tokens[user.username] = "(revoked: no token)"
            else:
                tokens[user.username] = accounts.issue_token(tx, operator, user.username, token_days).token
                # A new password on every run, as with the tokens: the demo's are printed, never kept.
                passwords[user.username] = secrets.token_urlsafe(12)
                accounts.set_password(tx, operator, user.username, passwords[user.username])
    echo("")
    echo(f"Web:     {base_url}/   (sign in with a username and password below)")
    echo(f"API:     {base_url}/api/v1")
    echo(f"OpenAPI: {base_url}/openapi.json   docs: {base_url}/docs")
    echo("")
    echo(f"Demo users, their passwords and their API tokens (valid for {token_days} days):")
    for user in USERS:
        scope = user.office_code or user.region_code or "national"
        password = passwords.get(user.username, "-")
        echo(f"  {user.username:<17} {user.role.value:<20} {scope:<9} {password:<16} {tokens[user.username]}")
    echo("")
    echo("Try:")
    echo(f'  curl -s -H "Authorization: Bearer {tokens["kakan.bogor"]}" {base_url}/api/v1/candidacies')
    echo(f"Reports (kadiv.jabar's token): {base_url}/api/v1/reports/performance?year=2024")


def _record_story(app: Application) -> None:
    clock = StoryClock(_at(STORY[0].at))
    story_app = Application(app.db, clock)
    with app.db.read() as conn:
        people = {row.username: row for row in conn.execute(select(users))}
    case_ids: dict[str, str] = {}
    for step in STORY:
        clock.now = _at(step.at)
        user = people[step.username]
        actor = Actor(user.username, user.name, Role(user.role), user.office_code, user.region_code, user.id)
        request_id = f"demo-{step.at}"
        match step.command:
            case SetTarget():
                story_app.execute(handlers.set_target, actor, step.command, request_id=request_id)
            case ProposeCandidacy():
                case = story_app.execute(handlers.propose, actor, step.command, request_id=request_id)
                case_ids[step.village] = case["id"]
            case AssignOfficers() | RecordActivity() | ReceiveReport():
                uploads = tuple(
                    documents.inspect_upload(name, make(), limit=MAX_ATTACHMENT_BYTES)
                    for name, make in step.files
                )
                command = replace(step.command, documents=tuple(upload.sha256 for upload in uploads))
                fostering = handlers.FosterCase(case_ids[step.village], command)
                with_files = handlers.WithUploads(
                    uploads, handlers.FOSTERING_HANDLERS[command.act], fostering
                )
                story_app.execute(handlers.with_uploads, actor, with_files, request_id=request_id)
            case _:
                command = ActOnCase(case_ids[step.village], step.command)
                story_app.execute(handlers.act, actor, command, request_id=request_id)
