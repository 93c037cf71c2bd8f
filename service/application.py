"""The command handlers and queries: load, decide, append, project, in one transaction.

Nothing here knows Flask. A command's reply is kept with its idempotency key so that a retry gets
the first answer back, byte for byte.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from domain import candidacy as candidacy_rules
from domain import rules
from domain import targets as target_rules
from domain.actors import OFFICE_ROLES, Actor, Role
from domain.candidacy import Candidacy
from domain.commands import CaseCommand, ProposeCandidacy
from domain.errors import DomainError, NotFound, RuleBroken
from domain.lifecycle import Stage
from events import idempotency, projections
from events.database import Database
from events.idempotency import StoredResponse
from events.prepared import Prepared, commit_in_pipeline, pipelined, wait_for_pipeline
from events.projections import CANDIDACY_STREAM, TARGET_STREAM
from events.schema import HOLDS_VILLAGE, candidacies
from events.store import ConcurrencyError, EventMetadata, EventStore, RecordedEvent, format_timestamp
from events.types import REGISTRY
from service import accounts, registry, reports
from service.config import Clock
from service.pagination import Page, decode_position_cursor, encode_cursor
from service.representations import case_as_dict, event_as_dict

CASE_PATH = "/api/v1/candidacies/{id}"

# Built once: constructing a statement per command cost more CPU than running it.
_CASE_BY_ID = select(candidacies).where(candidacies.c.id == bindparam("candidacy_id"))
# The index's own condition, so that a proposal looks the village up in it instead of scanning cases.
_STAGE_HOLDING_VILLAGE = Prepared(
    select(candidacies.c.stage).where(
        candidacies.c.village_code == bindparam("village_code"), text(HOLDS_VILLAGE)
    )
)


# What a command's work returns: how to make its reply, once it is known to be recorded.
PendingReply = Callable[[], StoredResponse]


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class CaseFilters:
    office: str | None = None
    region: str | None = None
    stage: str | None = None
    year: int | None = None
    q: str | None = None


class Application:
    def __init__(self, database: Database, clock: Clock, store: EventStore | None = None) -> None:
        self.db = database
        self.clock = clock
        self.store = store or EventStore()

    # ---- commands ----------------------------------------------------------------------------

    def propose(
        self,
        actor: Actor,
        command: ProposeCandidacy,
        *,
        request_id: str,
        idempotency_request: IdempotencyRequest | None = None,
    ) -> StoredResponse:
        def work(conn: Connection) -> PendingReply:
            now = self.clock()
            candidacy_id = str(uuid.uuid4())
            # Sent together before any is read: on PostgreSQL one round trip, with the BEGIN.
            village = registry.find_village_later(conn, command.village_code)
            registry_loaded = registry.is_loaded_later(conn)
            holding_stage = self._stage_holding_village_later(conn, command.village_code)
            office = accounts.get_office(conn, command.office_code)
            event = candidacy_rules.propose(
                command,
                actor,
                candidacy_id=candidacy_id,
                office=office,
                registry_village=village(),
                registry_loaded=registry_loaded(),
                holding_stage=holding_stage(),
                now=now,
            )
            cases = self._append(
                conn, actor, request_id, 0, event, now, CANDIDACY_STREAM, candidacy_id, history=[]
            )
            row, location = cases[candidacy_id], CASE_PATH.format(id=candidacy_id)
            return lambda: _reply(201, case_as_dict(row, actor.role), Location=location)

        return self._write(actor, idempotency_request, work)

    def act(
        self,
        actor: Actor,
        candidacy_id: str,
        command: CaseCommand,
        *,
        request_id: str,
        expected_version: int | None = None,
        idempotency_request: IdempotencyRequest | None = None,
    ) -> StoredResponse:
        def work(conn: Connection) -> PendingReply:
            now = self.clock()
            case, history = self._load_case(conn, actor, candidacy_id)
            event = candidacy_rules.decide(case, command, actor, now=now, expected_version=expected_version)
            cases = self._append(
                conn, actor, request_id, case.version, event, now, CANDIDACY_STREAM, candidacy_id, history
            )
            row = cases[candidacy_id]
            return lambda: _reply(200, case_as_dict(row, actor.role))

        return self._write(actor, idempotency_request, work)

    def _write(
        self,
        actor: Actor,
        idempotency_request: IdempotencyRequest | None,
        work: Callable[[Connection], PendingReply],
    ) -> StoredResponse:
        """Run `work` in one write transaction. The first try reads and decides before taking the
        write lock, beside other writers, so that the lock is held only to append, project and
        commit. It is rolled back and done again, locking first, when it lost a race (its stream,
        idempotency key or village was written meanwhile: a unique key says so), and when a request
        with an idempotency key was refused: its first sending may have been recorded after this one
        looked for it, and must then be answered with that first reply.

        `work` returns how to make the reply. It is made after the commit, so that the write lock
        (on SQLite, the writers' turn) is not held meanwhile; with an idempotency key it is made
        before, to be kept with the key in the same transaction."""
        try:
            return self._write_once(actor, idempotency_request, work, lock_first=False)
        except (ConcurrencyError, IntegrityError):
            pass
        except DomainError:
            if idempotency_request is None:
                raise
        return self._write_once(actor, idempotency_request, work, lock_first=True)

    def _write_once(
        self,
        actor: Actor,
        idempotency_request: IdempotencyRequest | None,
        work: Callable[[Connection], PendingReply],
        *,
        lock_first: bool,
    ) -> StoredResponse:
        # Pipelined: the writes of a command go to PostgreSQL together, not one round trip each.
        with self.db.write(lock_first=lock_first) as conn, pipelined(conn):
            if idempotency_request is not None:
                earlier = idempotency.find(
                    conn, actor.username, idempotency_request.key, idempotency_request.fingerprint
                )
                if earlier is not None:
                    return earlier
            try:
                make_reply = work(conn)
                # A failed write is raised here, as if it had failed in `work`. Without a reply to
                # keep, the commit goes with the writes: one round trip less under the row lock.
                if idempotency_request is None:
                    commit_in_pipeline(conn)
                else:
                    wait_for_pipeline(conn)
            except IntegrityError as error:
                if not lock_first:
                    raise  # a lost race, to be tried again under the lock
                # Only the database's own uniqueness backstop can get here: the rules checked first.
                raise RuleBroken(
                    "the village already has a live candidacy", rule="duplicate_candidacy"
                ) from error
            if idempotency_request is not None:
                response = make_reply()
                idempotency.save(
                    conn,
                    actor.username,
                    idempotency_request.key,
                    idempotency_request.fingerprint,
                    response,
                    format_timestamp(self.clock()),
                )
                return response
        return make_reply()

    def set_target(
        self,
        actor: Actor,
        office_code: str,
        year: int,
        target: int,
        basis: str,
        *,
        request_id: str,
        expected_version: int | None = None,
        idempotency_request: IdempotencyRequest | None = None,
    ) -> StoredResponse:
        def work(conn: Connection) -> PendingReply:
            now = self.clock()
            office = target_rules.office_for_target(
                actor, accounts.get_office(conn, office_code), office_code
            )
            event = target_rules.set_target(actor, office, year, target, basis, now)
            stream_id = target_rules.target_stream_id(office.code, year)
            version = self.store.stream_version(conn, stream_id)
            rules.check_expected_version(expected_version, version)
            self._append(conn, actor, request_id, version, event, now, TARGET_STREAM, stream_id)
            body = reports.target_of(conn, office, year)  # read in the transaction that wrote it
            return lambda: _reply(200, body)

        return self._write(actor, idempotency_request, work)

    def _append(
        self,
        conn: Connection,
        actor: Actor,
        request_id: str,
        expected_version: int,
        event: Any,
        now: Any,
        stream_type: str,
        stream_id: str,
        history: list[RecordedEvent] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Append the event and project it; returns the case rows written, by id (none for a target).

        `history`: the stream's events as loaded in this transaction (empty for a new stream), from
        which the case's row is folded instead of read, before the append takes the write lock."""
        rows_before = (
            {} if history is None else {stream_id: projections.case_row_of(history) if history else None}
        )
        recorded = self.store.append(
            conn,
            stream_type=stream_type,
            stream_id=stream_id,
            expected_version=expected_version,
            new_events=[event],
            metadata=EventMetadata(
                actor_username=actor.username,
                actor_name=actor.name,
                actor_role=actor.role.value,
                actor_office=actor.office_code,
                request_id=request_id,
            ),
            now=now,
            # Every caller read the stream's version in this write transaction (a new id is at 0); if
            # it read before the lock, the unique key catches a writer that came in between.
            version_known=True,
        )
        return projections.project(conn, recorded, rows_before)

    def _load_case(
        self, conn: Connection, actor: Actor, candidacy_id: str
    ) -> tuple[Candidacy, list[RecordedEvent]]:
        """The case as its stream tells it, and the stream as loaded."""
        history = self.store.load_stream(conn, candidacy_id)
        if not history or history[0].stream_type != CANDIDACY_STREAM:
            rules.check_may_read_cases(actor)
            raise NotFound(f"no candidacy {candidacy_id}")
        case = Candidacy.from_history(
            (REGISTRY.decode(e.type, e.schema_version, e.data), e.actor_username) for e in history
        )
        rules.check_may_read_case(actor, case.office_code, case.region_code, candidacy_id)
        return case, history

    def _stage_holding_village_later(self, conn: Connection, village_code: str) -> Callable[[], Stage | None]:
        """The stage of the live case that holds the village, if any, when called."""
        found = _STAGE_HOLDING_VILLAGE.send(conn, {"village_code": village_code})

        def stage() -> Stage | None:
            row = found().one_or_none()
            return Stage(row.stage) if row else None

        return stage

    # ---- queries -----------------------------------------------------------------------------

    def get_case(self, actor: Actor, candidacy_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._readable_row(conn, actor, candidacy_id)
            return case_as_dict(row, actor.role)

    def case_events(self, actor: Actor, candidacy_id: str) -> list[dict[str, Any]]:
        """The case's history straight from the log (its own index), upcast to today's schemas."""
        with self.db.read() as conn:
            self._readable_row(conn, actor, candidacy_id)
            return [event_as_dict(e) for e in self.store.load_stream(conn, candidacy_id)]

    def list_cases(self, actor: Actor, filters: CaseFilters, limit: int, cursor: str | None) -> Page:
        rules.check_may_read_cases(actor)
        query = select(candidacies).order_by(candidacies.c.proposed_position.desc()).limit(limit + 1)
        if actor.role in OFFICE_ROLES:
            query = query.where(candidacies.c.office_code == actor.office_code)
        elif actor.role is Role.REGIONAL_SUPERVISOR:
            query = query.where(candidacies.c.region_code == actor.region_code)
        if filters.office:
            query = query.where(candidacies.c.office_code == filters.office)
        if filters.region:
            query = query.where(candidacies.c.region_code == filters.region)
        if filters.stage:
            query = query.where(candidacies.c.stage == filters.stage)
        if filters.year:
            query = query.where(candidacies.c.proposed_year == filters.year)
        if filters.q:
            query = query.where(
                func.lower(candidacies.c.village_name).contains(filters.q.lower(), autoescape=True)
            )
        if cursor:
            query = query.where(candidacies.c.proposed_position < decode_position_cursor(cursor))
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        items = [case_as_dict(row, actor.role) for row in rows[:limit]]
        next_cursor = encode_cursor("p", rows[limit - 1]["proposed_position"]) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    def _readable_row(self, conn: Connection, actor: Actor, candidacy_id: str) -> Any:
        rules.check_may_read_cases(actor)
        row = conn.execute(_CASE_BY_ID, {"candidacy_id": candidacy_id}).mappings().one_or_none()
        if row is None:
            raise NotFound(f"no candidacy {candidacy_id}")
        rules.check_may_read_case(actor, row["office_code"], row["region_code"], candidacy_id)
        return row


def _reply(status: int, body: dict[str, Any], **headers: str) -> StoredResponse:
    return StoredResponse(
        status=status,
        body=json.dumps(body, ensure_ascii=False),
        headers={"ETag": f'"{body["version"]}"', **headers},
    )
