"""The read models behind the reports: the pipeline per office (now and per day), the designation
register and targets with their history; what a story of several days projects live, and that a
rebuild from the log, in batches of any size, gives exactly the same rows."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from domain.commands import (
    ActOnCase,
    Assess,
    CaseCommand,
    Coordinate,
    Designate,
    Indicators,
    ProposeCandidacy,
    Reject,
    Return,
    Revoke,
    SetTarget,
    Socialize,
    Withdraw,
)
from domain.documents import MAX_ATTACHMENT_BYTES
from domain.errors import NotFound, NotPermitted, StaleVersion
from domain.fostering import (
    ActivityKind,
    AssignOfficers,
    Channel,
    CloseReport,
    Evaluate,
    FosteringCommand,
    Outcome,
    Rating,
    ReceiveReport,
    RecordActivity,
    ReportCategory,
    VerifyReport,
)
from events import rebuild
from events.schema import (
    candidacies,
    closings,
    designation_days,
    designations,
    pipeline_counts,
    stage_changes,
    stage_levels,
    target_history,
    targets,
)
from events.store import EventStore, format_timestamp
from service import documents, handlers
from service.application import Application
from tests import samples
from tests.conftest import FakeClock, World, by, load_areas
from tests.integration.support import read_model_snapshot
from tests.integration.test_projections import BatchedStore

TUGU_SELATAN, CITEKO, BATULAYANG = "32.01.25.2006", "32.01.25.2005", "32.01.25.2001"
LEUWIMALANG, KOPO, BATU_TULIS, TONJONG = "32.01.25.2007", "32.01.25.2008", "32.71.01.1001", "32.02.01.2002"
WARUGUNUNG = "35.78.01.1001"

WIB = dt.timedelta(hours=7)

# The read models of the organisation and of the accounts (the world's offices and users are events
# too), beside those of the reports.
ORGANISATION_TABLES = {"regions", "region_history", "offices", "office_history"}
ACCOUNT_TABLES = {"users", "role_grants"}
FOSTERING_TABLES = {
    "fostering_officers",
    "officer_assignments",
    "activities",
    "village_reports",
    "evaluations",
    "case_documents",
}
REPORT_TABLES = {
    "candidacies",
    "pipeline_counts",
    "stage_changes",
    "stage_levels",
    "designations",
    "designation_days",
    "closings",
    "targets",
    "target_history",
}


def coordinate(day: str) -> Coordinate:
    return Coordinate(
        held_on=dt.date.fromisoformat(day),
        venue="Aula Kantor Imigrasi",
        agencies=("Polres", "Kodim"),
        minutes_ref=f"UND-{day}",
    )


def socialize(day: str) -> Socialize:
    return Socialize(held_on=dt.date.fromisoformat(day), speakers=("BP3MI",), attendees=40, topics=("TPPO",))


def assess(day: str, met: bool = True) -> Assess:
    return Assess(
        assessed_on=dt.date.fromisoformat(day),
        score=86 if met else 41,
        meets_criteria=met,
        criteria={"migrant_worker_base": met},
    )


def designate(number: str, decree_date: str) -> Designate:
    return Designate(
        decree_number=number,
        decree_date=dt.date.fromisoformat(decree_date),
        fostering_officers=("Rina Marlina", "Asep Sunandar"),
    )


def instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def wib_day(iso: str) -> dt.date:
    """The WIB (UTC+7) day of a UTC instant, computed here without the code under test."""
    return (instant(iso) + WIB).date()


def stamp(iso: str) -> str:
    return format_timestamp(instant(iso))


@dataclass(frozen=True)
class Transition:
    at: str
    case: str
    stage: str


class Story:
    """Drives the application over many days and writes down, independently, each case's stage after
    every step and who did it."""

    def __init__(self, application: Application, world: World, clock: FakeClock) -> None:
        self.application, self.world, self.clock = application, world, clock
        self.cases: dict[str, str] = {}
        self.office: dict[str, str] = {}
        self.timeline: list[Transition] = []
        # (case, stage) -> (username, at, the position of its event in the log)
        self.done_by: dict[tuple[str, str], tuple[str, str, int]] = {}
        self.now = ""

    def at(self, iso: str) -> None:
        self.now = iso
        self.clock.set(iso)

    def propose(self, name: str, username: str, village_code: str) -> None:
        actor = self.world.actors[username]
        assert actor.office_code is not None
        body = self.application.execute(
            handlers.propose,
            actor,
            ProposeCandidacy(
                village_code=village_code,
                office_code=actor.office_code,
                rationale=f"Kantong PMI ({name}).",
                indicators=Indicators(412, 160, 3, border_area=False),
            ),
            request_id=f"req-propose-{name}",
        )
        assert body["stage"] == "proposed"
        self.cases[name], self.office[name] = body["id"], actor.office_code
        self._happened(name, "proposed", username)

    def act(self, name: str, username: str, command: CaseCommand, stage: str) -> None:
        case = self.application.execute(
            handlers.act,
            self.world.actors[username],
            ActOnCase(self.cases[name], command),
            request_id=f"req-{name}-{stage}",
        )
        assert case["stage"] == stage
        # A return sends the case back to socialized; it is no socialization of its own.
        self._happened(name, stage, None if isinstance(command, Return) else username)

    def foster(self, name: str, username: str, command: FosteringCommand) -> dict[str, Any]:
        return self.application.execute(
            handlers.FOSTERING_HANDLERS[command.act],
            self.world.actors[username],
            handlers.FosterCase(self.cases[name], command),
            request_id=f"req-{name}-{command.act}-{self.now}",
        )

    def set_target(self, username: str, office: str, year: int, target: int) -> None:
        done = self.application.execute(
            handlers.set_target,
            self.world.actors[username],
            SetTarget(office, year, target, f"Surat Kakanwil {office}/{year}/{target}"),
            request_id=f"req-target-{office}-{year}-{target}",
        )
        assert done["target"] == target

    def _happened(self, name: str, stage: str, username: str | None) -> None:
        self.timeline.append(Transition(self.now, name, stage))
        if username is not None:
            with self.application.db.read() as conn:
                position = EventStore().load_stream(conn, self.cases[name])[-1].position
            self.done_by[(name, stage)] = (username, self.now, position)

    def stage_at_end_of(self, day: dt.date) -> dict[str, str]:
        stages: dict[str, str] = {}
        for transition in self.timeline:
            if wib_day(transition.at) <= day:
                stages[transition.case] = transition.stage
        return stages

    def pipeline_at_end_of(self, day: dt.date) -> dict[tuple[str, str], int]:
        return dict(Counter((self.office[c], s) for c, s in self.stage_at_end_of(day).items()))

    def days(self) -> list[dt.date]:
        first, last = wib_day(self.timeline[0].at), wib_day(self.timeline[-1].at)
        return [first + dt.timedelta(days=n) for n in range(-1, (last - first).days + 2)]


@pytest.fixture
def story(application: Application, world: World, clock: FakeClock) -> Story:
    """Eight cases of three offices over a year, in every stage; events just either side of midnight
    WIB; targets set and changed in between, always in the order of the clock."""
    load_areas(application)
    s = Story(application, world, clock)

    s.at("2024-01-10T02:00:00Z")
    s.set_target("supervisor", "BOGOR", 2024, 10)
    s.set_target("supervisor", "SUKABUMI", 2024, 4)

    s.at("2024-01-14T18:30:00Z")  # 01:30 on 15 January in WIB
    s.propose("A", "officer", TUGU_SELATAN)
    s.at("2024-01-15T02:00:00Z")
    s.propose("B", "officer", CITEKO)
    s.propose("C", "section_head", BATULAYANG)
    s.propose("G", "sukabumi_officer", TONJONG)
    s.propose("S", "surabaya_section_head", WARUGUNUNG)
    s.at("2024-01-15T03:00:00Z")
    # Proposed and coordinated on the same day: its office's proposed count for the day nets to zero.
    s.act("G", "sukabumi_head", coordinate("2024-01-15"), "coordinated")

    s.at("2024-02-19T09:00:00Z")
    for name in "ABC":
        s.act(name, "section_head", coordinate("2024-02-19"), "coordinated")
    s.act("S", "surabaya_section_head", coordinate("2024-02-19"), "coordinated")
    s.at("2024-02-19T17:30:00Z")  # 00:30 on 20 February in WIB
    s.act("A", "section_head", socialize("2024-02-20"), "socialized")

    s.at("2024-02-21T09:00:00Z")
    s.act("C", "section_head", socialize("2024-02-21"), "socialized")
    s.act("B", "section_head", Withdraw(reason="Data tidak terkonfirmasi."), "withdrawn")
    s.act("G", "sukabumi_head", Withdraw(reason="Desa dimekarkan."), "withdrawn")

    s.at("2024-03-20T09:00:00Z")
    s.act("A", "section_head", assess("2024-03-20"), "assessed")
    s.act("C", "section_head", assess("2024-03-20"), "assessed")
    s.at("2024-03-25T09:00:00Z")
    s.act("C", "head", Return(reason="Penilaian ulang."), "socialized")
    s.at("2024-03-25T16:59:00Z")  # 23:59 on 25 March in WIB
    s.propose("D", "officer", KOPO)
    s.at("2024-03-25T17:00:00Z")  # midnight: 26 March in WIB
    s.propose("E", "head", LEUWIMALANG)

    s.at("2024-03-31T17:30:00Z")  # 1 April in WIB
    s.set_target("supervisor", "BOGOR", 2024, 12)

    s.at("2024-04-02T09:00:00Z")
    s.act("C", "head", assess("2024-04-02"), "assessed")

    s.at("2024-04-16T09:00:00Z")
    # Decreed in March (Q1), recorded in April.
    s.act("A", "head", designate("W11-0328", "2024-03-28"), "designated")
    # Four eyes: C was proposed by the section head and reassessed by the head.
    s.act("C", "acting_head", designate("W11-0416", "2024-04-16"), "designated")
    s.act("D", "section_head", coordinate("2024-04-16"), "coordinated")
    s.at("2024-04-16T10:00:00Z")
    s.set_target("supervisor", "BOGOR", 2024, 8)
    s.set_target("jatim_supervisor", "SURABAYA", 2024, 3)

    s.at("2024-04-17T09:00:00Z")
    s.act("D", "section_head", socialize("2024-04-17"), "socialized")
    s.act("D", "section_head", assess("2024-04-17", met=False), "assessed")
    s.at("2024-04-19T09:00:00Z")
    s.act("D", "head", Reject(reason="Tidak memenuhi kriteria."), "rejected")

    s.at("2024-11-04T02:00:00Z")
    s.propose("F", "officer", BATU_TULIS)
    s.at("2024-11-04T03:00:00Z")
    s.set_target("supervisor", "BOGOR", 2025, 15)
    s.at("2024-11-20T02:00:00Z")
    s.act("F", "section_head", coordinate("2024-11-20"), "coordinated")
    s.act("F", "section_head", socialize("2024-11-20"), "socialized")
    s.act("F", "section_head", assess("2024-11-20"), "assessed")
    s.at("2025-01-03T02:00:00Z")
    # Decreed on the last day of 2024, recorded in 2025: it counts for 2024, Q4.
    s.act("F", "head", designate("W11-1231", "2024-12-31"), "designated")

    # A's fostering: officers, an activity, a report of suspected trafficking taken through its steps
    # (the second report is left open), an evaluation; and C's designation revoked.
    s.at("2025-01-10T01:00:00Z")
    s.foster("A", "head", AssignOfficers(("officer",), "W11-PIMPASA-01", dt.date(2025, 1, 10)))
    photo = documents.inspect_upload("penyuluhan.jpg", samples.photo(), limit=MAX_ATTACHMENT_BYTES)
    application.execute(handlers.store_document, world.actors["officer"], photo, request_id="upload")
    counseling = RecordActivity(
        ActivityKind.COUNSELING, dt.date(2025, 1, 10), 60, "Penyuluhan.", documents=(photo.sha256,)
    )
    s.foster("A", "officer", counseling)
    received_at = dt.datetime(2025, 1, 10, 0, 30, tzinfo=dt.UTC)
    urgent = ReceiveReport(received_at, Channel.WHATSAPP, ReportCategory.SUSPECTED_TRAFFICKING, "Perekrut.")
    report = s.foster("A", "officer", urgent)
    foreigner = ReceiveReport(received_at, Channel.PHONE, ReportCategory.FOREIGN_NATIONAL, "WNA.")
    s.foster("A", "officer", foreigner)
    s.at("2025-01-10T03:00:00Z")
    s.foster("A", "officer", VerifyReport(report["id"], "Dicek ke lapangan."))
    s.at("2025-01-11T03:00:00Z")
    s.foster("A", "section_head", CloseReport(report["id"], Outcome.REFERRED, "Diteruskan.", "Polres Bogor"))
    s.foster("A", "supervisor", Evaluate("2025-Q1", Rating.ACTIVE, "Aktif."))
    s.at("2025-01-12T03:00:00Z")
    s.act("C", "head", Revoke("Desa tidak lagi aktif.", "W11-0112", dt.date(2025, 1, 12)), "revoked")
    return s


def fetch(application: Application, table: Any) -> list[dict[str, Any]]:
    with application.db.read() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(row) for row in conn.execute(query).mappings()]


def assert_a_rebuild_gives_the_live_rows(application: Application) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
    with application.db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def person(world: World, username: str, at: str, position: int) -> dict[str, str | int]:
    """Who took a case through a stage, as the register names them: when, and where in the log."""
    return {**by(world.actors[username]), "at": stamp(at), "position": position}


# ---- the pipeline now -------------------------------------------------------------------------


def test_the_story_covers_every_stage(story: Story) -> None:
    assert {t.stage for t in story.timeline} == {
        "proposed",
        "coordinated",
        "socialized",
        "assessed",
        "designated",
        "rejected",
        "withdrawn",
        "revoked",
    }
    assert story.stage_at_end_of(dt.date(2099, 1, 1)) == {
        "A": "designated",
        "B": "withdrawn",
        "C": "revoked",
        "D": "rejected",
        "E": "proposed",
        "F": "designated",
        "G": "withdrawn",
        "S": "coordinated",
    }


def test_pipeline_counts_are_the_cases_per_office_and_stage(application: Application, story: Story) -> None:
    counted = {(r["office_code"], r["stage"]): r["cases"] for r in fetch(application, pipeline_counts)}
    assert all(n >= 0 for n in counted.values())
    assert {key: n for key, n in counted.items() if n} == {
        ("BOGOR", "designated"): 2,
        ("BOGOR", "revoked"): 1,
        ("BOGOR", "withdrawn"): 1,
        ("BOGOR", "rejected"): 1,
        ("BOGOR", "proposed"): 1,
        ("SUKABUMI", "withdrawn"): 1,
        ("SURABAYA", "coordinated"): 1,
    }
    # The same, counted from the cases themselves and from the story's own notes.
    cases = Counter((r["office_code"], r["stage"]) for r in fetch(application, candidacies))
    assert {key: n for key, n in counted.items() if n} == dict(cases)
    assert dict(cases) == story.pipeline_at_end_of(dt.date(2099, 1, 1))


def test_pipeline_counts_follow_each_command(application: Application, story: Story) -> None:
    story.at("2025-01-06T02:00:00Z")
    story.act("S", "surabaya_section_head", socialize("2025-01-06"), "socialized")
    story.act("S", "surabaya_section_head", Withdraw(reason="Ditunda."), "withdrawn")
    story.propose("B2", "section_head", CITEKO)
    counted = {(r["office_code"], r["stage"]): r["cases"] for r in fetch(application, pipeline_counts)}
    assert counted[("SURABAYA", "coordinated")] == 0
    assert counted[("SURABAYA", "socialized")] == 0
    assert counted[("SURABAYA", "withdrawn")] == 1
    assert counted[("BOGOR", "proposed")] == 2
    cases = Counter((r["office_code"], r["stage"]) for r in fetch(application, candidacies))
    assert {key: n for key, n in counted.items() if n} == dict(cases)


# ---- the pipeline as of any day ---------------------------------------------------------------


def summed_up_to(rows: list[dict[str, Any]], day: dt.date) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if row["day"] <= day.isoformat():
            totals[(row["office_code"], row["stage"])] += row["delta"]
    return {key: n for key, n in totals.items() if n}


def test_stage_changes_summed_up_to_a_day_are_the_stages_at_its_end(
    application: Application, story: Story
) -> None:
    rows = fetch(application, stage_changes)
    days = story.days()
    assert len(days) > 300
    for day in days:
        assert summed_up_to(rows, day) == story.pipeline_at_end_of(day), day.isoformat()
    # Never a negative count of cases in a stage, on any day.
    for day in days:
        assert all(n > 0 for n in summed_up_to(rows, day).values())


def test_a_day_is_a_day_in_wib(application: Application, story: Story) -> None:
    delta = {(r["office_code"], r["day"], r["stage"]): r["delta"] for r in fetch(application, stage_changes)}
    # A at 18:30 UTC on 14 January, B and C on the 15th: three proposals on 15 January WIB.
    assert delta[("BOGOR", "2024-01-15", "proposed")] == 3
    assert not [key for key in delta if key[1] == "2024-01-14"]
    # A socialized at 17:30 UTC on 19 February: a change of 20 February.
    assert delta[("BOGOR", "2024-02-20", "socialized")] == 1
    assert delta[("BOGOR", "2024-02-20", "coordinated")] == -1
    assert delta[("BOGOR", "2024-02-19", "coordinated")] == 3
    # D a minute before midnight WIB, E at midnight.
    assert delta[("BOGOR", "2024-03-25", "proposed")] == 1
    assert delta[("BOGOR", "2024-03-26", "proposed")] == 1
    # C returned (assessed -> socialized) the same day.
    assert delta[("BOGOR", "2024-03-25", "assessed")] == -1
    assert delta[("BOGOR", "2024-03-25", "socialized")] == 1


def test_changes_that_net_to_zero_keep_their_row(application: Application, story: Story) -> None:
    delta = {(r["office_code"], r["day"], r["stage"]): r["delta"] for r in fetch(application, stage_changes)}
    assert delta[("SUKABUMI", "2024-01-15", "proposed")] == 0
    assert delta[("SUKABUMI", "2024-01-15", "coordinated")] == 1
    # F: coordinated, socialized and assessed on one day.
    assert delta[("BOGOR", "2024-11-20", "coordinated")] == 0
    assert delta[("BOGOR", "2024-11-20", "socialized")] == 0
    assert delta[("BOGOR", "2024-11-20", "assessed")] == 1


def test_every_change_moves_one_case_from_a_stage_to_another(application: Application, story: Story) -> None:
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for row in fetch(application, stage_changes):
        per_day[(row["office_code"], row["day"])] += row["delta"]
    proposals = Counter(
        (story.office[t.case], wib_day(t.at).isoformat()) for t in story.timeline if t.stage == "proposed"
    )
    assert {key: n for key, n in per_day.items() if n} == dict(proposals)


# ---- the designation register -----------------------------------------------------------------


def test_designations_carry_everyone_who_took_the_village_there(
    application: Application, world: World, story: Story
) -> None:
    rows = {row["candidacy_id"]: row for row in fetch(application, designations)}
    assert set(rows) == {story.cases[name] for name in "ACF"}
    store = EventStore()
    with application.db.read() as conn:
        streams = {name: store.load_stream(conn, story.cases[name]) for name in "ACF"}
    designated_at = {
        name: next(e for e in stream if e.type == "CandidacyDesignated") for name, stream in streams.items()
    }
    a_at, c_at = [e.position for e in streams["A"]], [e.position for e in streams["C"]]

    def who(name: str, stage: str) -> dict[str, str | int]:
        return person(world, *story.done_by[(name, stage)])

    a = rows[story.cases["A"]]
    assert a == {
        "candidacy_id": story.cases["A"],
        "position": designated_at["A"].position,
        "village_code": TUGU_SELATAN,
        "village_name": "Tugu Selatan",
        "district_name": "Cisarua",
        "regency_name": "Kabupaten Bogor",
        "province_name": "Jawa Barat",
        "office_code": "BOGOR",
        "region_code": "JABAR",
        "decree_number": "W11-0328",
        "decree_date": "2024-03-28",
        "decree_year": 2024,
        "quarter": "Q1",
        "fostering_officers": ["Rina Marlina", "Asep Sunandar"],
        "proposed_by": person(world, "officer", "2024-01-14T18:30:00Z", a_at[0]),
        "coordinated_by": person(world, "section_head", "2024-02-19T09:00:00Z", a_at[1]),
        "socialized_by": person(world, "section_head", "2024-02-19T17:30:00Z", a_at[2]),
        "assessed_by": person(world, "section_head", "2024-03-20T09:00:00Z", a_at[3]),
        "approved_by": person(world, "head", "2024-04-16T09:00:00Z", a_at[4]),
        "recorded_day": "2024-04-16",
        # Proposed on 15 January WIB (14 January UTC): 73 days to the decree, not 74.
        "days_to_designation": 73,
    }
    for name in "ACF":
        row = rows[story.cases[name]]
        assert row["position"] == designated_at[name].position
        for stage, column in [
            ("proposed", "proposed_by"),
            ("coordinated", "coordinated_by"),
            ("socialized", "socialized_by"),
            ("assessed", "assessed_by"),
            ("designated", "approved_by"),
        ]:
            assert row[column] == who(name, stage), (name, column)

    c = rows[story.cases["C"]]
    # The reassessment after the return is the one that counts.
    assert [e.type for e in streams["C"]][4:] == [
        "CandidacyReturned",
        "CandidacyAssessed",
        "CandidacyDesignated",
        "CandidacyRevoked",  # the register keeps a designation revoked later
    ]
    assert c["assessed_by"] == person(world, "head", "2024-04-02T09:00:00Z", c_at[5])
    assert c["approved_by"] == person(world, "acting_head", "2024-04-16T09:00:00Z", c_at[6])
    assert c["proposed_by"]["role"] == "section_head"
    assert (c["decree_date"], c["quarter"], c["days_to_designation"]) == ("2024-04-16", "Q2", 92)

    f = rows[story.cases["F"]]
    assert (f["decree_year"], f["quarter"], f["recorded_day"]) == (2024, "Q4", "2025-01-03")
    assert f["days_to_designation"] == (dt.date(2024, 12, 31) - dt.date(2024, 11, 4)).days
    assert (f["village_name"], f["regency_name"]) == ("Batu Tulis", "Kota Bogor")


def test_days_to_designation_count_from_the_proposal_day_in_wib(
    application: Application, story: Story
) -> None:
    rows = {row["candidacy_id"]: row for row in fetch(application, designations)}
    for name in "ACF":
        row = rows[story.cases[name]]
        proposed = story.done_by[(name, "proposed")][1]
        expected = (dt.date.fromisoformat(row["decree_date"]) - wib_day(proposed)).days
        assert row["days_to_designation"] == expected, name


def test_cases_not_designated_are_not_in_the_register(application: Application, story: Story) -> None:
    registered = {row["candidacy_id"] for row in fetch(application, designations)}
    for name in "BDEGS":
        assert story.cases[name] not in registered


def test_designation_days_are_each_quarters_days_in_ascending_order(
    application: Application, story: Story
) -> None:
    """A row per office, decree year and quarter; a later, quicker designation goes before the days
    stored already, as a rebuild writing them all at once would have it."""
    story.at("2025-01-04T02:00:00Z")
    story.act("E", "section_head", coordinate("2024-04-18"), "coordinated")
    story.act("E", "section_head", socialize("2024-04-19"), "socialized")
    story.act("E", "section_head", assess("2024-04-20"), "assessed")
    # Proposed on 26 March: 86 days to 20 June, fewer than C's 92 to 16 April, in the same quarter.
    story.act("E", "acting_head", designate("W11-0620", "2024-06-20"), "designated")

    rows = [
        (r["office_code"], r["decree_year"], r["quarter"], r["designated"], r["days"])
        for r in fetch(application, designation_days)
    ]
    assert rows == [
        ("BOGOR", 2024, "Q1", 1, "73"),
        ("BOGOR", 2024, "Q2", 2, "86,92"),
        ("BOGOR", 2024, "Q4", 1, "57"),
    ]
    register: dict[tuple[str, int, str], list[int]] = {}
    for row in fetch(application, designations):
        key = (row["office_code"], row["decree_year"], row["quarter"])
        register.setdefault(key, []).append(row["days_to_designation"])
    assert {(o, y, q): [int(d) for d in days.split(",")] for o, y, q, _n, days in rows} == {
        key: sorted(days) for key, days in register.items()
    }

    assert_a_rebuild_gives_the_live_rows(application)


def test_closings_are_each_years_rejections_and_withdrawals_by_the_wib_day_recorded(
    application: Application, story: Story
) -> None:
    story.at("2025-12-31T16:59:00Z")  # 23:59 on 31 December 2025 in WIB
    story.act("E", "head", Withdraw(reason="Desa digabung."), "withdrawn")
    story.at("2025-12-31T17:00:00Z")  # midnight: 1 January 2026 in WIB
    story.act("S", "surabaya_section_head", Withdraw(reason="Desa dimekarkan."), "withdrawn")

    rows = [(r["office_code"], r["year"], r["stage"], r["cases"]) for r in fetch(application, closings)]
    assert rows == [
        ("BOGOR", 2024, "rejected", 1),
        ("BOGOR", 2024, "withdrawn", 1),
        ("BOGOR", 2025, "withdrawn", 1),
        ("SUKABUMI", 2024, "withdrawn", 1),
        ("SURABAYA", 2026, "withdrawn", 1),
    ]
    closed = Counter(
        (story.office[t.case], wib_day(t.at).year, t.stage)
        for t in story.timeline
        if t.stage in ("rejected", "withdrawn")
    )
    assert {(o, y, st): n for o, y, st, n in rows} == dict(closed)
    # Each is its stage's daily changes summed over the year.
    yearly: Counter[tuple[str, int, str]] = Counter()
    for row in fetch(application, stage_changes):
        if row["stage"] in ("rejected", "withdrawn"):
            yearly[(row["office_code"], int(row["day"][:4]), row["stage"])] += row["delta"]
    assert {(o, y, st): n for o, y, st, n in rows} == dict(yearly)
    assert_a_rebuild_gives_the_live_rows(application)


# ---- targets ----------------------------------------------------------------------------------


def test_targets_hold_the_latest_change_and_the_history_every_change(
    application: Application, world: World, story: Story
) -> None:
    store = EventStore()
    with application.db.read() as conn:
        streams = {
            key: store.load_stream(conn, f"target:{key[0]}:{key[1]}")
            for key in [("BOGOR", 2024), ("SUKABUMI", 2024), ("SURABAYA", 2024), ("BOGOR", 2025)]
        }
    supervisor, jatim = by(world.actors["supervisor"]), by(world.actors["jatim_supervisor"])

    def current(office: str, year: int, target: int, version: int, at: str, by: dict) -> dict[str, Any]:
        return {
            "office_code": office,
            "year": year,
            "target": target,
            "basis": f"Surat Kakanwil {office}/{year}/{target}",
            "version": version,
            "set_at": stamp(at),
            "set_by": by,
            "last_position": streams[(office, year)][-1].position,
        }

    assert fetch(application, targets) == [
        current("BOGOR", 2024, 8, 3, "2024-04-16T10:00:00Z", supervisor),
        current("BOGOR", 2025, 15, 1, "2024-11-04T03:00:00Z", supervisor),
        current("SUKABUMI", 2024, 4, 1, "2024-01-10T02:00:00Z", supervisor),
        current("SURABAYA", 2024, 3, 1, "2024-04-16T10:00:00Z", jatim),
    ]

    changes = [
        ("BOGOR", 2024, 1, 10, "2024-01-10T02:00:00Z", "2024-01-10", supervisor),
        ("SUKABUMI", 2024, 1, 4, "2024-01-10T02:00:00Z", "2024-01-10", supervisor),
        # 17:30 UTC on 31 March is 1 April in WIB.
        ("BOGOR", 2024, 2, 12, "2024-03-31T17:30:00Z", "2024-04-01", supervisor),
        ("BOGOR", 2024, 3, 8, "2024-04-16T10:00:00Z", "2024-04-16", supervisor),
        ("SURABAYA", 2024, 1, 3, "2024-04-16T10:00:00Z", "2024-04-16", jatim),
        ("BOGOR", 2025, 1, 15, "2024-11-04T03:00:00Z", "2024-11-04", supervisor),
    ]
    positions = {(e.stream_id, e.version): e.position for stream in streams.values() for e in stream}
    assert fetch(application, target_history) == [
        {
            "position": positions[(f"target:{office}:{year}", version)],
            "office_code": office,
            "year": year,
            "version": version,
            "target": target,
            "basis": f"Surat Kakanwil {office}/{year}/{target}",
            "set_at": stamp(at),
            "set_day": day,
            "set_by": by,
        }
        for office, year, version, target, at, day, by in changes
    ]


def test_a_refused_target_change_leaves_no_trace(
    application: Application, world: World, story: Story
) -> None:
    with application.db.read() as conn:
        before = read_model_snapshot(conn)
        head = EventStore().head(conn)
    story.at("2025-01-06T02:00:00Z")

    def set_target(username: str, office: str, expected_version: int | None = None) -> None:
        command = SetTarget(office, 2025, 20, "x", expected_version)
        application.execute(handlers.set_target, world.actors[username], command, request_id="r")

    with pytest.raises(NotPermitted):
        set_target("head", "BOGOR")
    with pytest.raises(NotFound):
        set_target("supervisor", "SURABAYA")
    with pytest.raises(NotFound):
        set_target("supervisor", "NOWHERE")
    with pytest.raises(StaleVersion):
        set_target("supervisor", "BOGOR", expected_version=0)
    with application.db.read() as conn:
        assert EventStore().head(conn) == head
        assert read_model_snapshot(conn) == before
    set_target("supervisor", "BOGOR", expected_version=1)
    assert [r["target"] for r in fetch(application, targets) if r["year"] == 2025] == [20]


# ---- rebuild ----------------------------------------------------------------------------------


def test_the_snapshot_covers_every_report_table(application: Application, story: Story) -> None:
    with application.db.read() as conn:
        snapshot = read_model_snapshot(conn)
    every_table = REPORT_TABLES | ORGANISATION_TABLES | ACCOUNT_TABLES | FOSTERING_TABLES
    assert set(snapshot) == every_table
    assert all(snapshot[name] for name in every_table)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 5000])
def test_rebuild_gives_exactly_the_live_rows(application: Application, story: Story, batch_size: int) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
        total = EventStore().count(conn)
    with application.db.write() as conn:
        assert rebuild.rebuild(conn, BatchedStore(batch_size)) == total
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


@pytest.mark.parametrize("batch_size", [1, 7])
def test_rebuild_writing_the_daily_changes_in_many_statements_gives_the_same_rows(
    application: Application, story: Story, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long log's daily changes are held to the end and written a part at a time; one row per
    statement, each key's change and each year's closings must still come to the live rows."""
    monkeypatch.setattr(rebuild._CaseReplay, "CHANGES_PER_STATEMENT", 1)
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
    with application.db.write() as conn:
        rebuild.rebuild(conn, BatchedStore(batch_size))
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def test_rebuild_repairs_the_report_tables(application: Application, story: Story) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
    with application.db.write() as conn:
        conn.execute(delete(designations).where(designations.c.candidacy_id == story.cases["A"]))
        conn.execute(update(designation_days).values(days="1"))
        conn.execute(delete(closings).where(closings.c.stage == "rejected"))
        conn.execute(update(pipeline_counts).values(cases=pipeline_counts.c.cases + 1))
        conn.execute(delete(stage_changes).where(stage_changes.c.day == "2024-01-15"))
        conn.execute(update(stage_levels).values(cases=stage_levels.c.cases + 2))
        conn.execute(update(targets).values(target=99))
        conn.execute(delete(target_history).where(target_history.c.version == 2))
    with application.db.read() as conn:
        damaged = read_model_snapshot(conn)
    assert {name for name in REPORT_TABLES if damaged[name] != live[name]} == REPORT_TABLES - {"candidacies"}

    with application.db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live
