"""The baseline for the command benchmark: the same five-step lifecycle on the `eventsourcing` library
(9.5.x, the `bench` extra), written the way its documentation teaches.

One `Aggregate` whose public methods state the same checks as ours (role, stage, dates not in the
future and in order, four eyes) and then trigger an `@event` method carrying a comparable payload
(the command's fields plus who acted, in which role and office, and the request id). The application
loads the aggregate from its stream before each step (no aggregate cache, no snapshots, as the
library defaults) and saves after each step, so every command is one transaction, as ours.

Persistence settings (the library reads them from the application's environment):

- SQLite: `PERSISTENCE_MODULE` names `FullSyncSQLiteFactory` below, the library's `SQLiteFactory`
  whose connections also run `PRAGMA synchronous=FULL`, and `SQLITE_DBNAME` is a file. The library
  itself puts a file database in WAL mode and opens each write with a plain `BEGIN`; with
  synchronous=FULL a commit is as durable as one of ours (`events.database`: WAL mode,
  synchronous=FULL, the write lock taken at `BEGIN IMMEDIATE`). With one writer, as here, the
  deferred `BEGIN` takes the same lock at the first write.
- PostgreSQL: `PERSISTENCE_MODULE=eventsourcing.postgres` with `POSTGRES_DBNAME`, `POSTGRES_HOST`,
  `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` (may be empty under trust auth) and
  `POSTGRES_SCHEMA` (a scratch schema). Each save takes `LOCK TABLE ... IN EXCLUSIVE MODE` on the
  events table (its gap-free notification order, as our ledger-head lock gives ours) and commits with
  the server's `synchronous_commit`, on by default, which ours pins on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory
from eventsourcing.utils import get_topic
from sqlalchemy.engine import make_url

OFFICE_ROLES = frozenset({"officer", "section_head", "head_of_office"})
SUPERVISOR_ROLES = frozenset({"section_head", "head_of_office"})


class StateError(Exception):
    """A command the candidacy's rules refuse."""


class _FullSyncPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return connection


class FullSyncSQLiteFactory(SQLiteFactory):
    """The library's SQLite persistence, with synchronous=FULL on every connection."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool  # made lazily: it holds no connection yet
        self.datastore.pool = _FullSyncPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
        pool.close()


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise StateError(message)


def _check_actor(actor: dict[str, Any], roles: frozenset[str], office_code: str) -> None:
    _check(actor["role"] in roles, f"the role {actor['role']} may not do this")
    _check(actor["office_code"] == office_code, "another office's candidacy")


def _check_dates(field: str, value: dt.date, now: dt.datetime, earlier: dt.date | None) -> None:
    _check(value <= now.date(), f"{field} lies in the future")
    _check(earlier is None or value >= earlier, f"{field} is before the previous stage")


class Candidacy(Aggregate):
    """A village's candidacy, from proposal to designation."""

    @event("Proposed")
    def __init__(
        self,
        *,
        village: dict[str, Any],
        office_code: str,
        region_code: str,
        rationale: str,
        indicators: dict[str, Any],
        actor: dict[str, Any],
        request_id: str,
    ) -> None:
        self.stage = "proposed"
        self.village_code = village["code"]
        self.office_code = office_code
        self.region_code = region_code
        self.proposed_by = actor["username"]
        self.assessed_by: str | None = None
        self.assessment_met_criteria = False
        self.coordinated_on: dt.date | None = None
        self.socialized_on: dt.date | None = None
        self.assessed_on: dt.date | None = None

    @classmethod
    def propose(cls, *, actor: dict[str, Any], request_id: str, **payload: Any) -> Candidacy:
        _check_actor(actor, OFFICE_ROLES, payload["office_code"])
        return cls(actor=actor, request_id=request_id, **payload)

    def coordinate(self, now: dt.datetime, actor: dict[str, Any], request_id: str, **payload: Any) -> None:
        _check_actor(actor, SUPERVISOR_ROLES, self.office_code)
        _check(self.stage == "proposed", f"coordinate does not apply to a {self.stage} case")
        _check_dates("held_on", payload["held_on"], now, None)
        self._coordinated(actor=actor, request_id=request_id, **payload)

    @event("Coordinated")
    def _coordinated(
        self,
        *,
        held_on: dt.date,
        venue: str,
        agencies: list[str],
        minutes_ref: str,
        notes: str | None,
        documents: list[str],  # as ours carry: the SHA-256 of each document named
        actor: dict[str, Any],
        request_id: str,
    ) -> None:
        self.stage = "coordinated"
        self.coordinated_on = held_on

    def socialize(self, now: dt.datetime, actor: dict[str, Any], request_id: str, **payload: Any) -> None:
        _check_actor(actor, SUPERVISOR_ROLES, self.office_code)
        _check(self.stage == "coordinated", f"socialize does not apply to a {self.stage} case")
        _check_dates("held_on", payload["held_on"], now, self.coordinated_on)
        self._socialized(actor=actor, request_id=request_id, **payload)

    @event("Socialized")
    def _socialized(
        self,
        *,
        held_on: dt.date,
        speakers: list[str],
        attendees: int,
        topics: list[str],
        documents: list[str],  # as ours carry: the SHA-256 of each document named
        actor: dict[str, Any],
        request_id: str,
    ) -> None:
        self.stage = "socialized"
        self.socialized_on = held_on

    def assess(self, now: dt.datetime, actor: dict[str, Any], request_id: str, **payload: Any) -> None:
        _check_actor(actor, SUPERVISOR_ROLES, self.office_code)
        _check(self.stage == "socialized", f"assess does not apply to a {self.stage} case")
        _check_dates("assessed_on", payload["assessed_on"], now, self.socialized_on)
        self._assessed(actor=actor, request_id=request_id, **payload)

    @event("Assessed")
    def _assessed(
        self,
        *,
        assessed_on: dt.date,
        score: int,
        meets_criteria: bool,
        criteria: dict[str, bool],
        notes: str | None,
        documents: list[str],  # as ours carry: the SHA-256 of each document named
        actor: dict[str, Any],
        request_id: str,
    ) -> None:
        self.stage = "assessed"
        self.assessed_on = assessed_on
        self.assessed_by = actor["username"]
        self.assessment_met_criteria = meets_criteria

    def designate(self, now: dt.datetime, actor: dict[str, Any], request_id: str, **payload: Any) -> None:
        _check_actor(actor, frozenset({"head_of_office"}), self.office_code)
        _check(self.stage == "assessed", f"designate does not apply to a {self.stage} case")
        _check(
            self.assessment_met_criteria, "the assessment did not find that the village meets the criteria"
        )
        _check_dates("decree_date", payload["decree_date"], now, self.assessed_on)
        _check(actor["username"] not in (self.proposed_by, self.assessed_by), "four eyes")
        self._designated(actor=actor, request_id=request_id, **payload)

    @event("Designated")
    def _designated(
        self,
        *,
        decree_number: str,
        decree_date: dt.date,
        fostering_officers: list[str],
        documents: list[str],  # as ours carry: the SHA-256 of each document named
        actor: dict[str, Any],
        request_id: str,
    ) -> None:
        self.stage = "designated"


class Candidacies(Application[UUID]):
    """Each command: load the aggregate from its stream, decide, save (one transaction)."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def propose(self, **fields: Any) -> UUID:
        candidacy = Candidacy.propose(**fields)
        self.save(candidacy)
        return candidacy.id

    def act(self, candidacy_id: UUID, action: str, now: dt.datetime, **fields: Any) -> None:
        candidacy: Candidacy = self.repository.get(candidacy_id)
        getattr(candidacy, action)(now, **fields)
        self.save(candidacy)


def environment(url: str) -> dict[str, str]:
    """The library's settings for a scratch database `url` (as `bench.common.scratch_database`
    yields: a SQLite file, or a PostgreSQL URL whose search_path names the scratch schema)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {
            "PERSISTENCE_MODULE": get_topic(FullSyncSQLiteFactory),
            "SQLITE_DBNAME": str(parsed.database),
        }
    options = str(parsed.query.get("options", ""))
    schema = options.split("search_path=", 1)[1] if "search_path=" in options else ""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parsed.database),
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
        "POSTGRES_SCHEMA": schema,
    }
