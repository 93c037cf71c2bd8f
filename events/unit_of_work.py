"""The unit of work: one write, top to bottom, in one transaction.

with uow.write(metadata) as tx:       # the write lock first: the ledger head, locked
    history = tx.load(stream_id)      # the stream as it stands (nobody can change it now)
    event = decide(...)               # the domain
    tx.append(...)                    # position, previous hash, hash; the read models projected
    ...                               # the caller keeps its idempotent reply in `tx.conn`
# committed here, durably, before the caller can answer anyone
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from domain.events import Event
from events import projections
from events.database import Database
from events.store import EventMetadata, EventStore, LedgerHead, RecordedEvent

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class Appended:
    events: list[RecordedEvent]
    cases: dict[str, dict[str, Any]]  # the candidacy rows the events changed, as now stored


class WriteTransaction:
    """What a command handler works with: its stream's events, and where to append new ones."""

    def __init__(
        self,
        conn: Connection,
        store: EventStore,
        head: LedgerHead,
        metadata: EventMetadata | None,
        now: dt.datetime,
    ) -> None:
        self.conn = conn
        self.now = now
        self._store = store
        self._head = head
        self._metadata = metadata

    def load(self, stream_id: str) -> list[RecordedEvent]:
        return self._store.load_stream(self.conn, stream_id)

    def stream_version(self, stream_id: str) -> int:
        return self._store.stream_version(self.conn, stream_id)

    def append(
        self, stream_type: str, stream_id: str, expected_version: int, new_events: Sequence[Event]
    ) -> Appended:
        """Append to the stream after `expected_version`, and bring every read model up to date."""
        if self._metadata is None:
            raise ValueError("this unit of work records no events: it was opened without metadata")
        recorded = self._store.append(
            self.conn,
            self._head,
            stream_type=stream_type,
            stream_id=stream_id,
            expected_version=expected_version,
            new_events=new_events,
            metadata=self._metadata,
            now=self.now,
        )
        if not recorded:
            return Appended([], {})
        last = recorded[-1]
        self._head = LedgerHead(last.position, last.hash, last.recorded_at)
        return Appended(recorded, projections.project(self.conn, recorded))


class UnitOfWork:
    def __init__(self, database: Database, clock: Clock, store: EventStore | None = None) -> None:
        self.database = database
        self.clock = clock
        self.store = store or EventStore()

    @contextmanager
    def write(self, metadata: EventMetadata | None = None) -> Iterator[WriteTransaction]:
        """A write transaction under the write lock; `metadata` (who, in which request) goes on every
        event appended, and a unit of work without it records none (reference data, say)."""
        with self.database.write() as conn:
            head = self.store.lock_head(conn)
            yield WriteTransaction(conn, self.store, head, metadata, self.clock())
