"""The append-only event store: expected-version appends, one gap-free global order, a hash chain.

Functions take a `Connection` inside a transaction from `Database.write()` or `read()`; appending
needs the write lock that `Database.write()` holds, and the unit of work owns commit and rollback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from domain.actors import Actor
from domain.calendar import format_timestamp, parse_timestamp  # noqa: F401 (the log's own format)
from domain.events import REGISTRY, Event, EventRegistry, JsonDict
from events.schema import GENESIS_HASH, events, ledger_head

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
# What the chain's hash covers, in the order `event_hash` takes it, then the stored hash: a verification
# reads these columns and nothing else, along the primary key.
_CHAIN_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.stream_type,
    events.c.stream_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.data,
    events.c.actor_username,
    events.c.actor_name,
    events.c.actor_role,
    events.c.actor_office,
    events.c.request_id,
    events.c.recorded_at,
    events.c.prev_hash,
    events.c.hash,
    events.c.actor_id,
)
_CHAIN_AT = select(*_CHAIN_COLUMNS).where(events.c.position == bindparam("position"))
_CHAIN_AFTER = (
    select(*_CHAIN_COLUMNS)
    .where(events.c.position > bindparam("after"), events.c.position <= bindparam("upto"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)
_LAST_POSITION = 2**63 - 1
# Events a verification reads at a time: large enough that the round trips do not count.
VERIFY_BATCH = 20_000
_ADVANCE_HEAD = (
    update(ledger_head)
    .where(ledger_head.c.id == 1)
    .values(position=bindparam("new_position"), hash=bindparam("new_hash"), recorded_at=bindparam("new_at"))
)


class ConcurrencyError(Exception):
    """The stream is not at the version the append expected: someone else wrote first."""


# canonical_json's encoder, built once (json.dumps builds one on every call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# How that encoder writes a string (`ensure_ascii=False`): escapes only, UTF-8 kept as is.
_string = json.encoder.encode_basestring


def canonical_json(value: Any) -> str:
    """One encoding for one value: sorted keys, no spaces, UTF-8 kept as is."""
    return _CANONICAL.encode(value)


@dataclass(frozen=True, slots=True)
class EventMetadata:
    """Who caused the events and in which request."""

    actor_username: str
    actor_name: str
    actor_role: str
    actor_office: str | None
    request_id: str
    actor_id: str | None = None  # the user's stable id; none for the command line

    @classmethod
    def of(cls, actor: Actor, request_id: str) -> EventMetadata:
        return cls(actor.username, actor.name, actor.role.value, actor.office_code, request_id, actor.id)


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
    # Who acted, as a person whatever their username: recorded from accounts-as-events on (the command
    # line has none, nor has any event recorded before).
    actor_id: str | None = None

    def computed_hash(self) -> str:
        return event_hash(
            self.position,
            self.event_id,
            self.stream_type,
            self.stream_id,
            self.version,
            self.type,
            self.schema_version,
            canonical_json(self.data),
            self.actor_username,
            self.actor_name,
            self.actor_role,
            self.actor_office,
            self.request_id,
            self.recorded_at,
            self.prev_hash,
            self.actor_id,
        )

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
            actor_id=metadata.actor_id,
        )
        return dataclasses.replace(unhashed, hash=unhashed.computed_hash())


def event_hash(
    position: int,
    event_id: str,
    stream_type: str,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: str,
    actor_username: str,
    actor_name: str,
    actor_role: str,
    actor_office: str | None,
    request_id: str,
    recorded_at: str,
    prev_hash: str,
    actor_id: str | None = None,
) -> str:
    """The chain's one hash: SHA-256 of the canonical JSON (`canonical_json`) of everything stored,
    position and predecessor included, `data` given as its canonical JSON text:

        {"actor": {"id"?, "name", "office_code", "role", "username"}, "data", "event_id", "position",
         "prev_hash", "recorded_at", "request_id", "schema_version", "stream_id", "stream_type",
         "type", "version"}

    The actor's `id` is there only when recorded, so events of earlier releases hash as they did.

    Written out key by key in that (sorted) order rather than built as a dict and encoded: verifying
    a million events spends its time here. A value of another type than the stored columns hold
    raises TypeError or ValueError (integers are formatted with `:d`)."""
    office = "null" if actor_office is None else _string(actor_office)
    person = "" if actor_id is None else f'"id":{_string(actor_id)},'
    text = (
        f'{{"actor":{{{person}"name":{_string(actor_name)},"office_code":{office},'
        f'"role":{_string(actor_role)},"username":{_string(actor_username)}}},'
        f'"data":{data},"event_id":{_string(event_id)},"position":{position:d},'
        f'"prev_hash":{_string(prev_hash)},"recorded_at":{_string(recorded_at)},'
        f'"request_id":{_string(request_id)},"schema_version":{schema_version:d},'
        f'"stream_id":{_string(stream_id)},"stream_type":{_string(stream_type)},'
        f'"type":{_string(type)},"version":{version:d}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_hash_matches(row: Sequence[Any]) -> bool:
    """Whether an event as read (`_CHAIN_COLUMNS`) still hashes to the hash stored with it: its data
    parsed and encoded canonically, as the hash was computed. A column holding what no append writes
    (a payload that is not JSON, text in a number) does not match."""
    # By position in `_CHAIN_COLUMNS`: the seven columns before `data`, `data`, the seven after it
    # (up to `prev_hash`), the stored hash, and the actor's id.
    try:
        computed = event_hash(*row[:7], canonical_json(json.loads(row[7])), *row[8:15], row[16])
    except (TypeError, ValueError, RecursionError):
        return False
    return computed == row[15]


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
        self,
        conn: Connection,
        *,
        position: int = 0,
        digest: str = GENESIS_HASH,
        upto: int | None = None,
        until: float | None = None,
        progress: Callable[[int], None] | None = None,
        batch_size: int = VERIFY_BATCH,
    ) -> VerificationResult:
        """Prove that event `position` still has hash `digest` (0 and the genesis hash: the start of
        the log) and that the chain from it to the head is intact: positions contiguous, each hash
        recomputed and linked to the one before, the head row on the last event. Only the events from
        `position` on are read, along the primary key: the time grows with them, not with the log.

        Past `until` (a `time.monotonic()` instant) the walk stops after the event in hand, short of
        the head: the result is not `complete`, and a later call goes on from `verified_to` and
        `digest`. With `upto`, the walk ends at that event and leaves the head to the walk of the
        events after it (`events.ledger`). A digest kept elsewhere is what proves that nothing before
        `position` was rewritten."""
        if position < 0 or (position == 0 and digest != GENESIS_HASH):
            raise ValueError("position 0 is the start of the log: its digest is the genesis hash")
        head = self.head(conn)
        if position > head.position:
            return _broken(position, position, digest, f"the log ends at {head.position}")
        if position > 0:
            anchor = conn.execute(_CHAIN_AT, {"position": position}).first()
            if anchor is None:
                return _broken(position, position, digest, f"event {position} is missing")
            if anchor.hash != digest:
                return _broken(position, position, digest, f"event {position} has another digest")
            if not stored_hash_matches(anchor):
                return _broken(position, position, digest, f"event {position} no longer matches its digest")
        expected, prev_hash = position + 1, digest
        bounds = {"upto": _LAST_POSITION if upto is None else upto, "limit": batch_size}
        while batch := conn.execute(_CHAIN_AFTER, {"after": expected - 1, **bounds}).all():
            for row in batch:
                if row.position != expected:
                    reason = f"event {expected} is missing"
                elif row.prev_hash != prev_hash:
                    reason = f"event {expected} does not link to the event before it"
                elif not stored_hash_matches(row):
                    reason = f"event {expected} does not match its hash"
                else:
                    prev_hash = row.hash
                    expected += 1
                    if until is not None and expected <= head.position and time.monotonic() >= until:
                        return _verified(position, expected - 1, prev_hash, complete=False)
                    continue
                return _broken(position, expected, prev_hash, reason)
            if progress:
                progress(len(batch))
        last = expected - 1
        if upto is not None:
            if last == upto:
                return _verified(position, last, prev_hash, complete=True)
            return _broken(position, expected, prev_hash, f"event {expected} is missing")
        if head.position > last:
            reason = f"the head names event {head.position}, the log ends at {last}"
        elif head.position < last:
            reason = f"the head names event {head.position}, the log goes on to {last}"
        elif head.hash != prev_hash:
            reason = f"the head's digest is not that of event {last}"
        else:
            return _verified(position, last, prev_hash, complete=True)
        return _broken(position, expected, prev_hash, reason)

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
            actor_id=row.actor_id,
        )


@dataclass(frozen=True, slots=True)
class VerificationResult:
    ok: bool
    checked: int  # events recomputed and linked after `verified_from`
    first_bad_position: int | None
    reason: str | None = None  # what is wrong at `first_bad_position`
    verified_from: int = 0  # the position whose digest the walk started from (0: the start)
    verified_to: int = 0  # the last position found good
    digest: str = GENESIS_HASH  # the hash at `verified_to`: where a walk goes on from
    complete: bool = True  # False: the time ran out before the head (`ok`: good so far)


def _verified(start: int, last: int, digest: str, *, complete: bool) -> VerificationResult:
    """Good from `start` to `last`, whose hash is `digest`."""
    return VerificationResult(True, last - start, None, None, start, last, digest, complete)


def _broken(start: int, bad: int, digest: str, reason: str) -> VerificationResult:
    """Bad at `bad`, and why; good from `start` to the event before it, whose hash is `digest`. (At
    `start` itself: nothing was found good, and `digest` is the one given.)"""
    last = max(start, bad - 1)
    return VerificationResult(False, last - start, bad, reason, start, last, digest, True)


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
        "actor_id": recorded.actor_id,
        "request_id": recorded.request_id,
        "recorded_at": recorded.recorded_at,
        "prev_hash": recorded.prev_hash,
        "hash": recorded.hash,
    }
