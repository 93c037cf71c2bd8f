"""Fixtures shared by every tier: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a migrated app with a clock the test drives, and a small world of offices, users and villages."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, insert, make_url, text

from domain.accounts import AccountDraft
from domain.actors import Actor, Role
from domain.places import Office
from events.database import Database
from events.unit_of_work import UnitOfWork
from service import accounts, organisation, passwords
from service.app import create_app
from service.application import Application
from service.migrate import upgrade
from service.tables import areas

POSTGRES_SKIP_REASON = (
    "PostgreSQL tests need TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
    "(`bash .ci/run` sets it)"
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def scratch_database_url(backend: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a scratch PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'desa_binaan.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Templates:
    """Databases migrated once per test session, per backend, and with the world's offices and users
    once more: each test gets a copy of one, which costs a small part of migrating and opening the
    accounts again (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._built: dict[tuple[str, bool], tuple[str, World | None]] = {}
        self._postgres_databases: list[str] = []

    def copy(self, backend: str, directory: Path, *, with_world: bool) -> AbstractContextManager[Copy]:
        template, world = self._template(backend, with_world)
        if backend == "sqlite":
            return self._sqlite_copy(template, directory, world)
        return self._postgres_copy(template, world)

    def _template(self, backend: str, with_world: bool) -> tuple[str, World | None]:
        if (backend, with_world) not in self._built:
            if with_world:
                url, _ = self._template(backend, with_world=False)
                url = self._new_template(backend, url)
                application = Application(Database(url), lambda: WORLD_OPENED)
                world: World | None = build_world(application)
                application.db.dispose()
            else:
                url, world = self._new_template(backend, None), None
                db = Database(url)
                upgrade(db)
                db.dispose()
            self._built[(backend, with_world)] = (url, world)
        return self._built[(backend, with_world)]

    def _new_template(self, backend: str, source: str | None) -> str:
        """An empty database, or a copy of `source`, kept for the session."""
        if backend == "sqlite":
            path = self._directory / f"template-{len(self._built)}.sqlite3"
            if source is not None:
                shutil.copyfile(make_url(source).database or "", path)
            return f"sqlite:///{path}"
        name = self._create_postgres_database(source)
        self._postgres_databases.append(name)
        return _postgres_url(name)

    @contextmanager
    def _sqlite_copy(self, template: str, directory: Path, world: World | None) -> Iterator[Copy]:
        # The template was closed cleanly, so its file holds everything (no write-ahead log beside it).
        path = directory / "desa_binaan.sqlite3"
        shutil.copyfile(make_url(template).database or "", path)
        yield Copy(f"sqlite:///{path}", world)

    @contextmanager
    def _postgres_copy(self, template: str, world: World | None) -> Iterator[Copy]:
        name = self._create_postgres_database(template)
        try:
            yield Copy(_postgres_url(name), world)
        finally:
            _drop_postgres_database(name)

    @staticmethod
    def _create_postgres_database(template: str | None) -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        copied = f' TEMPLATE "{make_url(template).database}"' if template else ""
        with _postgres_admin() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
        return name

    def drop_all(self) -> None:
        for name in reversed(self._postgres_databases):
            _drop_postgres_database(name)


@dataclass(frozen=True)
class Copy:
    url: str
    world: World | None  # the world already in it, if copied from the template that has it


def _postgres_base() -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(POSTGRES_SKIP_REASON)
    return base


def _postgres_url(database: str) -> str:
    return make_url(_postgres_base()).set(database=database).render_as_string(hide_password=False)


@contextmanager
def _postgres_admin() -> Iterator[Connection]:
    engine = create_engine(_postgres_base(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _drop_postgres_database(name: str) -> None:
    with _postgres_admin() as conn:
        # FORCE: a server a test started may still hold a connection.
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """The suite sets and checks hundreds of passwords: argon2id with its smallest cost, not the
    production one (about 0.2 s a hash here). A hash carries its parameters, so the servers the tests
    start verify these as quickly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        patch.setattr(passwords, "_NOBODY", passwords.hash_password("nobody has this password"))
        yield


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    found = Templates(tmp_path_factory.mktemp("templates"))
    yield found
    found.drop_all()


@pytest.fixture(params=BACKENDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> Iterator[Copy]:
    """A migrated database of the test's own, on each backend; with the world in it already when the
    test asks for the world."""
    with templates.copy(request.param, tmp_path, with_world="world" in request.fixturenames) as copy:
        yield copy


@pytest.fixture
def database_url(fresh_database: Copy) -> str:
    return fresh_database.url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema, for the migrations to start from."""
    with scratch_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database, on each backend."""
    db = Database(database_url)
    yield db
    db.dispose()


@dataclass
class FakeClock:
    """Time stands still until a test moves it."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, iso: str) -> None:
        self.now = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    settings = {"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True}
    # A failed commit stops the process it happened in: not the test runner's.
    flask_app = create_app({**settings, "STOP_PROCESS": lambda: None})
    application: Application = flask_app.extensions["desa_binaan"]
    yield flask_app
    application.db.dispose()


@pytest.fixture
def application(app: Flask) -> Application:
    return app.extensions["desa_binaan"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


OFFICES = [
    Office(
        "BOGOR",
        "Kantor Imigrasi Kelas I Non TPI Bogor",
        "JABAR",
        "Kanwil Jawa Barat",
        frozenset({"32.01", "32.71"}),
    ),
    Office(
        "SUKABUMI",
        "Kantor Imigrasi Kelas II Non TPI Sukabumi",
        "JABAR",
        "Kanwil Jawa Barat",
        frozenset({"32.02", "32.72"}),
    ),
    Office(
        "SURABAYA", "Kantor Imigrasi Kelas I TPI Surabaya", "JATIM", "Kanwil Jawa Timur", frozenset({"35.78"})
    ),
]

# username: (role, office, region)
USERS: dict[str, tuple[Role, str | None, str | None]] = {
    "officer": (Role.OFFICER, "BOGOR", None),
    "section_head": (Role.SECTION_HEAD, "BOGOR", None),
    "head": (Role.HEAD_OF_OFFICE, "BOGOR", None),
    "acting_head": (Role.HEAD_OF_OFFICE, "BOGOR", None),
    "supervisor": (Role.REGIONAL_SUPERVISOR, None, "JABAR"),
    "auditor": (Role.AUDITOR, None, None),
    "admin": (Role.ADMIN, None, None),
    "sukabumi_officer": (Role.OFFICER, "SUKABUMI", None),
    "sukabumi_head": (Role.HEAD_OF_OFFICE, "SUKABUMI", None),
    "surabaya_section_head": (Role.SECTION_HEAD, "SURABAYA", None),
    "jatim_supervisor": (Role.REGIONAL_SUPERVISOR, None, "JATIM"),
}

# A few real areas (Kepmendagri 300.2.2-2138/2025), enough for the Bogor story and its neighbours: every
# regency an office of the tests serves or takes is one (the registry is the authority on them).
AREAS = [
    ("32", "Jawa Barat"),
    ("32.01", "Kabupaten Bogor"),
    ("32.01.25", "Cisarua"),
    ("32.01.25.2001", "Batulayang"),
    ("32.01.25.2002", "Jogjogan"),
    ("32.01.25.2005", "Citeko"),
    ("32.01.25.2006", "Tugu Selatan"),
    ("32.01.25.2007", "Leuwimalang"),
    ("32.01.25.2008", "Kopo"),
    ("32.71", "Kota Bogor"),
    ("32.71.01", "Bogor Selatan"),
    ("32.71.01.1001", "Batu Tulis"),
    ("32.02", "Kabupaten Sukabumi"),
    ("32.02.01", "Palabuhanratu"),
    ("32.02.01.2002", "Tonjong"),
    ("32.03", "Kabupaten Cianjur"),
    ("32.72", "Kota Sukabumi"),
    ("32.76", "Kota Depok"),
    ("35", "Jawa Timur"),
    ("35.78", "Kota Surabaya"),
    ("35.78.01", "Karang Pilang"),
    ("35.78.01.1001", "Warugunung"),
]


@dataclass
class World:
    """Offices and users of every role, each with a live token."""

    tokens: dict[str, str]
    actors: dict[str, Actor]

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}


# The earliest day any test sets its clock to is in November 2023, the latest in 2025.
WORLD_OPENED = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
WORLD_TOKEN_DAYS = 10 * 365


def build_world(application: Application) -> World:
    tokens: dict[str, str] = {}
    actors: dict[str, Actor] = {}
    operator = accounts.command_line_actor()
    # The accounts are events: opened before anything the tests record (the log's times never go
    # back), with tokens that outlive every day the tests move the clock to.
    opening = UnitOfWork(application.db, lambda: WORLD_OPENED)
    with accounts.as_command_line(opening, "test-world") as tx:
        for office in OFFICES:
            organisation.import_office(tx, accounts.command_line_actor(), office)
        for username, (role, office, region) in USERS.items():
            name = username.replace("_", " ").title()
            tokens[username] = accounts.add_user(
                tx, operator, AccountDraft(username, name, role, office, region), token_days=WORLD_TOKEN_DAYS
            ).token
            user_id = accounts.listed_user(tx.conn, username).id
            actors[username] = Actor(username, name, role, office, region, user_id)
    return World(tokens, actors)


def add_test_user(application: Application, draft: AccountDraft) -> tuple[str, Actor]:
    """One more user than the world has, opened as the world's were (no later than the log's head):
    its token, and the actor it acts as."""
    with accounts.as_command_line(UnitOfWork(application.db, lambda: WORLD_OPENED), "test-user") as tx:
        token = accounts.add_user(tx, accounts.command_line_actor(), draft, token_days=WORLD_TOKEN_DAYS).token
        user_id = accounts.listed_user(tx.conn, draft.username).id
    return token, Actor(draft.username, draft.name, draft.role, draft.office_code, draft.region_code, user_id)


def by(actor: Actor) -> dict[str, str]:
    """How a read model names who did something: the `by` of a case's stage, a target's `set_by`."""
    named = {"username": actor.username, "name": actor.name, "role": actor.role.value}
    return {**named, "id": actor.id} if actor.id is not None else named


@pytest.fixture
def world(application: Application, fresh_database: Copy) -> World:
    """The world the database was copied with; each test may add to its own copy of the tokens."""
    assert fresh_database.world is not None
    return World(dict(fresh_database.world.tokens), dict(fresh_database.world.actors))


def load_areas(application: Application, rows: list[tuple[str, str]] = AREAS) -> None:
    with application.db.write() as conn:
        conn.execute(insert(areas), [{"code": c, "name": n, "level": c.count(".") + 1} for c, n in rows])


@pytest.fixture
def registry(application: Application) -> None:
    """A small village registry (the real one is imported in its own test)."""
    load_areas(application)


def proposal(village_code: str = "32.01.25.2006", office_code: str = "BOGOR", **overrides: object) -> dict:
    body: dict = {
        "village_code": village_code,
        "office_code": office_code,
        "rationale": "Kantong PMI; kasus TPPO tercatat.",
        "indicators": {
            "migrant_workers": 412,
            "prospective_migrant_workers": 160,
            "trafficking_cases": 3,
            "border_area": False,
        },
    }
    body.update(overrides)
    return body


ACTION_BODIES: dict[str, dict] = {
    "coordinate": {
        "held_on": "2024-02-19",
        "venue": "Aula Kantor Imigrasi Bogor",
        "agencies": ["Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"],
        "minutes_ref": "UND-0219",
    },
    "socialize": {"held_on": "2024-02-21", "speakers": ["BP3MI"], "attendees": 85, "topics": ["TPPO"]},
    "assess": {
        "assessed_on": "2024-03-20",
        "score": 86,
        "meets_criteria": True,
        "criteria": {"migrant_worker_base": True},
    },
    "designate": {
        "decree_number": "W11.IMI.IMI.4-UM.01.01-0416",
        "decree_date": "2024-04-16",
        "fostering_officers": ["Rina Marlina"],
    },
    "reject": {"reason": "Tidak memenuhi kriteria."},
    "return": {"reason": "Penilaian ulang diperlukan."},
    "withdraw": {"reason": "Data tidak terkonfirmasi."},
}
