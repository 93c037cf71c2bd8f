"""The append-only event store: expected-version appends, one gap-free global order, a hash chain.

Functions take a `Connection` inside a transaction from `Database.write()` or `read()`; appending
needs the write lock that `Database.write()` holds, and the unit of work owns commit and rollback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from domain.actors import Actor
from domain.events import REGISTRY, Event, EventRegistry, JsonDict
from events.schema import GENESIS_HASH, events, ledger_head

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_HEAD = select(ledger_head.c.position, ledger_head.c.hash, ledger_head.c.recorded_at).where(
    ledger_head.c.id == 1
)
# The log's write lock: every writer takes the one ledger-head row first, so positions are handed
# out one writer at a time, in commit order (SQLite, which has no FOR UPDATE, is locked by its
# `BEGIN IMMEDIATE` already).
_LOCK_HEAD = _HEAD.with_for_update()
_STREAM_VERSION = select(func.max(events.c.version)).where(events.c.stream_id == bindparam("stream_id"))
_LOAD_STREAM = select(events).where(events.c.stream_id == bindparam("stream_id")).order_by(events.c.version)
_STREAMS_AFTER = (
    select(events)
    .where(
        tuple_(events.c.stream_id, events.c.version) > tuple_(bindparam("stream_id"), bindparam("version"))
    )
    .order_by(events.c.stream_id, events.c.version)
    .limit(bindparam("limit"))
)
_ADVANCE_HEAD = (
    update(ledger_head)
    .where(ledger_head.c.id == 1)
    .values(position=bindparam("new_position"), hash=bindparam("new_hash"), recorded_at=bindparam("new_at"))
)


class ConcurrencyError(Exception):
    """The stream is not at the version the append expected: someone else wrote first."""


def canonical_json(value: Any) -> str:
    """One encoding for one value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> dt.datetime:
    # fromisoformat reads what format_timestamp writes ("...T03:00:00.000000Z") many times faster
    # than strptime; a rebuild parses every event's time.
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class EventMetadata:
    """Who caused the events and in which request."""

    actor_username: str
    actor_name: str
    actor_role: str
    actor_office: str | None
    request_id: str

    @classmethod
    def of(cls, actor: Actor, request_id: str) -> EventMetadata:
        return cls(actor.username, actor.name, actor.role.value, actor.office_code, request_id)


@dataclass(frozen=True, slots=True)
class LedgerHead:
    position: int
    hash: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    event_id: str
    stream_type: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: JsonDict
    actor_username: str
    actor_name: str
    actor_role: str
    actor_office: str | None
    request_id: str
    recorded_at: str
    prev_hash: str
    hash: str

    def hashed_content(self) -> JsonDict:
        """Everything the hash covers: the stored event as written, position and predecessor included."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "stream_type": self.stream_type,
            "stream_id": self.stream_id,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "actor": {
                "username": self.actor_username,
                "name": self.actor_name,
                "role": self.actor_role,
                "office_code": self.actor_office,
            },
            "request_id": self.request_id,
            "recorded_at": self.recorded_at,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return chain_hash(self.hashed_content())

    @classmethod
    def first_recorded(
        cls,
        event: Event,
        position: int,
        stream_type: str,
        stream_id: str,
        version: int,
        metadata: EventMetadata,
        recorded_at: str,
        prev_hash: str,
    ) -> RecordedEvent:
        """A new event as it is stored, its hash computed over everything stored."""
        unhashed = cls(
            position=position,
            event_id=str(uuid.uuid4()),
            stream_type=stream_type,
            stream_id=stream_id,
            version=version,
            type=event.type_name,
            schema_version=event.schema_version,
            # As a read gives it back (canonical key order, lists for tuples): the live projection
            # and a rebuild from the log then store the same JSON.
            data=json.loads(canonical_json(event.to_data())),
            actor_username=metadata.actor_username,
            actor_name=metadata.actor_name,
            actor_role=metadata.actor_role,
            actor_office=metadata.actor_office,
            request_id=metadata.request_id,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            hash="",
        )
        return dataclasses.replace(unhashed, hash=unhashed.computed_hash())


def chain_hash(content: JsonDict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


class EventStore:
    def __init__(self, registry: EventRegistry = REGISTRY) -> None:
        self.registry = registry

    def head(self, conn: Connection) -> LedgerHead:
        row = conn.execute(_HEAD).one()
        return LedgerHead(row.position, row.hash, row.recorded_at)

    def lock_head(self, conn: Connection) -> LedgerHead:
        """Take the log's write lock, held until the transaction ends, and read the head under it."""
        row = conn.execute(_LOCK_HEAD).one()
        return LedgerHead(row.position, row.hash, row.recorded_at)

    def stream_version(self, conn: Connection, stream_id: str) -> int:
        version = conn.execute(_STREAM_VERSION, {"stream_id": stream_id}).scalar_one()
        return version or 0

    def append(
        self,
        conn: Connection,
        head: LedgerHead,
        *,
        stream_type: str,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        metadata: EventMetadata,
        now: dt.datetime,
    ) -> list[RecordedEvent]:
        """Append after `expected_version` of the stream (0: a new stream) and after `head`, the
        ledger head as read under the write lock the caller holds."""
        actual = self.stream_version(conn, stream_id)
        if actual != expected_version:
            raise ConcurrencyError(f"stream {stream_id} is at version {actual}, not {expected_version}")
        # Recorded times never go backwards along the log, even if the clock does.
        recorded_at = max(format_timestamp(now), head.recorded_at)
        position, prev_hash = head.position, head.hash
        recorded: list[RecordedEvent] = []
        for version, new_event in enumerate(new_events, start=expected_version + 1):
            position += 1
            event = RecordedEvent.first_recorded(
                new_event, position, stream_type, stream_id, version, metadata, recorded_at, prev_hash
            )
            recorded.append(event)
            prev_hash = event.hash
        if not recorded:
            return []
        try:
            conn.execute(insert(events), [_to_row(event) for event in recorded])
        except IntegrityError as error:  # the unique (stream_id, version) key
            raise ConcurrencyError(f"stream {stream_id} changed while appending") from error
        conn.execute(_ADVANCE_HEAD, {"new_position": position, "new_hash": prev_hash, "new_at": recorded_at})
        return recorded

    def load_stream(self, conn: Connection, stream_id: str) -> list[RecordedEvent]:
        rows = conn.execute(_LOAD_STREAM, {"stream_id": stream_id})
        return [self._from_row(row) for row in rows]

    def read_all(
        self, conn: Connection, *, after: int = 0, limit: int | None = None, upcast: bool = True
    ) -> list[RecordedEvent]:
        query = select(events).where(events.c.position > after).order_by(events.c.position)
        if limit is not None:
            query = query.limit(limit)
        return [self._from_row(row, upcast=upcast) for row in conn.execute(query)]

    def iterate_all(
        self, conn: Connection, *, batch_size: int = 5000, upcast: bool = True
    ) -> Iterator[list[RecordedEvent]]:
        """The whole log in position order, a batch at a time (keyset paging keeps memory flat)."""
        after = 0
        while batch := self.read_all(conn, after=after, limit=batch_size, upcast=upcast):
            yield batch
            after = batch[-1].position

    def iterate_by_stream(self, conn: Connection, *, batch_size: int = 5000) -> Iterator[list[RecordedEvent]]:
        """The whole log stream by stream, each in version order, a batch at a time; a stream may run on
        into the next batch. Paged along the (stream_id, version) key, so memory stays flat."""
        after: dict[str, Any] = {"stream_id": "", "version": 0, "limit": batch_size}
        while rows := conn.execute(_STREAMS_AFTER, after).all():
            batch = [self._from_row(row) for row in rows]
            yield batch
            after.update(stream_id=batch[-1].stream_id, version=batch[-1].version)

    def count(self, conn: Connection) -> int:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()

    def verify(
        self, conn: Connection, *, progress: Callable[[int], None] | None = None
    ) -> VerificationResult:
        """Walk the chain from the start: positions contiguous, each hash recomputed and linked."""
        expected_position, prev_hash, checked = 1, GENESIS_HASH, 0
        for batch in self.iterate_all(conn, upcast=False):
            for recorded in batch:
                if (
                    recorded.position != expected_position
                    or recorded.prev_hash != prev_hash
                    or recorded.computed_hash() != recorded.hash
                ):
                    return VerificationResult(ok=False, checked=checked, first_bad_position=expected_position)
                checked += 1
                expected_position += 1
                prev_hash = recorded.hash
            if progress:
                progress(len(batch))
        head = self.head(conn)
        if head.position != checked or head.hash != prev_hash:
            # The head claims events the log does not hold (a deleted tail) or another digest.
            return VerificationResult(ok=False, checked=checked, first_bad_position=checked + 1)
        return VerificationResult(ok=True, checked=checked, first_bad_position=None)

    def _from_row(self, row: Any, upcast: bool = True) -> RecordedEvent:
        data = json.loads(row.data)
        schema_version = row.schema_version
        if upcast and row.type in self.registry:
            schema_version, data = self.registry.upcast(row.type, schema_version, data)
        return RecordedEvent(
            position=row.position,
            event_id=row.event_id,
            stream_type=row.stream_type,
            stream_id=row.stream_id,
            version=row.version,
            type=row.type,
            schema_version=schema_version,
            data=data,
            actor_username=row.actor_username,
            actor_name=row.actor_name,
            actor_role=row.actor_role,
            actor_office=row.actor_office,
            request_id=row.request_id,
            recorded_at=row.recorded_at,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@dataclass(frozen=True, slots=True)
class VerificationResult:
    ok: bool
    checked: int
    first_bad_position: int | None


def _to_row(recorded: RecordedEvent) -> dict[str, Any]:
    return {
        "position": recorded.position,
        "event_id": recorded.event_id,
        "stream_type": recorded.stream_type,
        "stream_id": recorded.stream_id,
        "version": recorded.version,
        "type": recorded.type,
        "schema_version": recorded.schema_version,
        "data": canonical_json(recorded.data),
        "actor_username": recorded.actor_username,
        "actor_name": recorded.actor_name,
        "actor_role": recorded.actor_role,
        "actor_office": recorded.actor_office,
        "request_id": recorded.request_id,
        "recorded_at": recorded.recorded_at,
        "prev_hash": recorded.prev_hash,
        "hash": recorded.hash,
    }
