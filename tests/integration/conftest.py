"""Fixtures of the integration tier: the store, and appends in their own write transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pytest

from domain.events import Event
from events.database import Database
from events.store import EventMetadata, EventStore, RecordedEvent
from tests.integration.support import METADATA, T0

Append = Callable[..., list[RecordedEvent]]


@pytest.fixture
def store() -> EventStore:
    return EventStore()


@pytest.fixture
def append(database: Database, store: EventStore) -> Append:
    """Append in its own write transaction, as a command handler would."""

    def _append(
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        *,
        now: dt.datetime = T0,
        metadata: EventMetadata = METADATA,
        stream_type: str = "candidacy",
    ) -> list[RecordedEvent]:
        with database.write() as conn:
            return store.append(
                conn,
                store.lock_head(conn),
                stream_type=stream_type,
                stream_id=stream_id,
                expected_version=expected_version,
                new_events=new_events,
                metadata=metadata,
                now=now,
            )

    return _append
