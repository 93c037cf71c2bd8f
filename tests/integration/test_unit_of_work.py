"""The unit of work on both databases: the log's lock first, appends that follow each other on the
head, read models projected with them, and all of it rolled back together."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from domain.events import CANDIDACY_STREAM, CandidacyProposed
from events.database import Database
from events.schema import candidacies
from events.store import ConcurrencyError, EventStore
from events.unit_of_work import UnitOfWork
from tests.integration.support import METADATA, T0


def proposed(case_id: str, village_code: str) -> CandidacyProposed:
    return CandidacyProposed(
        candidacy_id=case_id,
        village={
            "code": village_code,
            "name": "Tugu Selatan",
            "district": None,
            "regency": None,
            "province": None,
        },
        office_code="BOGOR",
        region_code="JABAR",
        rationale="Kantong PMI.",
        indicators={"migrant_workers": 1},
    )


@pytest.fixture
def uow(database: Database) -> UnitOfWork:
    return UnitOfWork(database, lambda: T0)


def counts(database: Database) -> tuple[int, int]:
    with database.read() as conn:
        store = EventStore()
        return store.head(conn).position, conn.execute(
            select(func.count()).select_from(candidacies)
        ).scalar_one()


def test_appends_in_one_unit_follow_each_other_and_are_projected(uow: UnitOfWork, database: Database) -> None:
    with uow.write(METADATA) as tx:
        first = tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2006")])
        second = tx.append(CANDIDACY_STREAM, "case-b", 0, [proposed("case-b", "32.01.25.2007")])
        assert [first.events[0].position, second.events[0].position] == [1, 2]
        assert second.events[0].prev_hash == first.events[0].hash
        # The rows handed back are the rows stored.
        assert first.cases["case-a"]["stage"] == "proposed"
        assert tx.load("case-a")[0].event_id == first.events[0].event_id
    assert counts(database) == (2, 2)
    with database.read() as conn:
        assert EventStore().verify(conn).ok


def test_a_unit_that_raises_leaves_neither_event_nor_row(uow: UnitOfWork, database: Database) -> None:
    with pytest.raises(ConcurrencyError), uow.write(METADATA) as tx:
        tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2006")])
        tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2007")])
    assert counts(database) == (0, 0)


def test_a_unit_without_metadata_records_no_event(uow: UnitOfWork, database: Database) -> None:
    with pytest.raises(ValueError, match="records no events"), uow.write() as tx:
        tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2006")])
    assert counts(database) == (0, 0)


def test_the_lock_is_taken_before_anything_is_read(uow: UnitOfWork, database: Database) -> None:
    """A second unit of work waits at its start until the first has committed, and then reads the
    stream as the first left it."""
    seen: list[int] = []
    started = threading.Event()

    def second() -> None:
        with uow.write(METADATA) as tx:
            started.set()
            seen.append(len(tx.load("case-a")))

    with uow.write(METADATA) as tx:
        thread = threading.Thread(target=second)
        thread.start()
        assert not started.wait(0.3), "the second unit of work began while the first held the lock"
        tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2006")])
    thread.join(10)
    assert seen == [1]


def test_every_event_is_stamped_with_the_units_time_and_metadata(uow: UnitOfWork) -> None:
    later = UnitOfWork(uow.database, lambda: T0 + dt.timedelta(hours=1))
    with later.write(METADATA) as tx:
        [event] = tx.append(CANDIDACY_STREAM, "case-a", 0, [proposed("case-a", "32.01.25.2006")]).events
    assert event.recorded_at == "2024-06-01T04:00:00.000000Z"
    assert (event.actor_username, event.request_id) == (METADATA.actor_username, METADATA.request_id)
