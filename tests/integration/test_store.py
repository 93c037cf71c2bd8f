"""The event store against a real database: expected-version appends, gap-free positions, metadata,
the append-only triggers, the hash chain and what `verify()` makes of tampering."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import time
import uuid
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from domain.events import CandidacyCoordinated, CandidacyRejected, CandidacyWithdrawn, Event
from events import ledger
from events.database import Database
from events.schema import GENESIS_HASH, events, ledger_head
from events.store import (
    _CHAIN_COLUMNS,
    ConcurrencyError,
    EventMetadata,
    EventStore,
    RecordedEvent,
    VerificationResult,
    canonical_json,
    stored_hash_matches,
)
from tests.integration.conftest import Append
from tests.integration.support import METADATA, T0, drop_append_only_triggers


def coordinated(n: int = 1) -> CandidacyCoordinated:
    # Non-ASCII text, a date and a tuple: the parts of a payload an encoding can get wrong.
    return CandidacyCoordinated(
        held_on=dt.date(2024, 2, 19),
        venue=f"Aula Kantor Imigrasi Bogor — rapat {n}",
        agencies=("Polres Bogor", "Kodim 0621"),
        minutes_ref=f"UND-{n:04d}",
    )


def rejected(n: int) -> CandidacyRejected:
    return CandidacyRejected(reason=f"alasan {n}")


def raw_rows(database: Database) -> list[Any]:
    with database.read() as conn:
        return list(conn.execute(select(events).order_by(events.c.position)))


def ledger_state(database: Database) -> tuple[int, str, str, int]:
    with database.read() as conn:
        head = conn.execute(select(ledger_head)).one()
        count = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return head.position, head.hash, head.recorded_at, count


def independent_hash(row: Any) -> str:
    """The chain's hash computed here from the stored columns, not by the store: old chains must keep
    verifying, so the encoding is pinned by this test as much as by the code."""
    content = {
        "position": row.position,
        "event_id": row.event_id,
        "stream_type": row.stream_type,
        "stream_id": row.stream_id,
        "version": row.version,
        "type": row.type,
        "schema_version": row.schema_version,
        "data": json.loads(row.data),
        "actor": {
            "username": row.actor_username,
            "name": row.actor_name,
            "role": row.actor_role,
            "office_code": row.actor_office,
        },
        "request_id": row.request_id,
        "recorded_at": row.recorded_at,
        "prev_hash": row.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def verify(database: Database, store: EventStore) -> Any:
    with database.read() as conn:
        return store.verify(conn)


# ---- appends ---------------------------------------------------------------------------------------


def test_new_stream_gets_positions_and_versions_from_one_and_a_linked_chain(
    database: Database, append: Append
) -> None:
    first = append("case-a", 0, [coordinated(1), rejected(2), coordinated(3)])
    second = append("case-b", 0, [rejected(4), rejected(5)])

    assert [(e.position, e.stream_id, e.version) for e in first + second] == [
        (1, "case-a", 1),
        (2, "case-a", 2),
        (3, "case-a", 3),
        (4, "case-b", 1),
        (5, "case-b", 2),
    ]
    rows = raw_rows(database)
    assert [row.position for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(rows):
        assert later.prev_hash == earlier.hash
    for row, recorded in zip(rows, first + second, strict=True):
        assert row.hash == independent_hash(row) == recorded.hash
        assert len(row.hash) == 64
    assert len({row.hash for row in rows}) == 5
    # The head is the ledger digest: the newest position and its hash.
    position, digest, _, count = ledger_state(database)
    assert (position, digest, count) == (5, rows[-1].hash, 5)


@dataclasses.dataclass(frozen=True)
class _LookAlike(Event):
    """A payload whose keys are the ones the head decides, with the values they have before it does:
    its encoding holds the very text the store looks for to put the head's values in."""

    type_name: ClassVar[str] = "LookAlike"
    position: int
    prev_hash: str
    recorded_at: str
    note: str


def test_the_hash_is_right_whatever_the_payload_holds(database: Database, append: Append) -> None:
    tricky = [
        _LookAlike(0, "", "", note='"position":0,"prev_hash":"","recorded_at":""'),
        _LookAlike(7, "ab", "2024", note='Desa Sukamaju — "kutip" \\ \U0001d53b \u00e9\n'),
    ]
    metadata = replace(METADATA, request_id='id-"position":0,"prev_hash":"","recorded_at":""')
    recorded = append("case-a", 0, tricky, metadata=metadata) + append("case-a", 2, [rejected(1)])

    rows = raw_rows(database)
    for row, event in zip(rows, recorded, strict=True):
        assert row.hash == independent_hash(row) == event.hash == event.computed_hash()
        assert json.loads(row.data) == event.data
    assert rows[0].prev_hash == GENESIS_HASH and rows[1].prev_hash == rows[0].hash
    assert json.loads(rows[0].data)["note"] == tricky[0].note


def test_payload_round_trips_through_the_log(database: Database, store: EventStore, append: Append) -> None:
    [recorded] = append("case-a", 0, [coordinated(7)])
    with database.read() as conn:
        [loaded] = store.load_stream(conn, "case-a")
    assert loaded == recorded
    # Key order too: the live projection reads `recorded`, a rebuild reads `loaded`.
    assert json.dumps(loaded.data) == json.dumps(recorded.data)
    assert loaded.data == {
        "held_on": "2024-02-19",
        "venue": "Aula Kantor Imigrasi Bogor — rapat 7",
        "agencies": ["Polres Bogor", "Kodim 0621"],
        "minutes_ref": "UND-0007",
        "notes": None,
        "documents": [],
    }
    assert store.registry.decode(loaded.type, loaded.schema_version, loaded.data) == coordinated(7)


@pytest.mark.parametrize("expected_version", [0, 1, 3, -1])
def test_wrong_expected_version_is_a_conflict_and_writes_nothing(
    database: Database, store: EventStore, append: Append, expected_version: int
) -> None:
    append("case-a", 0, [coordinated(), rejected(1)])
    before = ledger_state(database)
    stream_before = raw_rows(database)

    with pytest.raises(ConcurrencyError, match="case-a"):
        append("case-a", expected_version, [rejected(2), rejected(3)], now=T0 + dt.timedelta(days=1))

    assert ledger_state(database) == before
    assert raw_rows(database) == stream_before
    assert verify(database, store).ok
    # The right version still goes through, right after the head the failed append left alone.
    [next_event] = append("case-a", 2, [rejected(4)])
    assert (next_event.position, next_event.version, next_event.prev_hash) == (3, 3, before[1])


def test_a_new_stream_id_that_exists_already_is_a_conflict(append: Append, database: Database) -> None:
    append("case-a", 0, [coordinated()])
    with pytest.raises(ConcurrencyError):
        append("case-a", 0, [coordinated()])
    assert ledger_state(database)[3] == 1


def test_empty_append_writes_nothing_but_still_checks_the_version(database: Database, append: Append) -> None:
    append("case-a", 0, [coordinated()])
    before = ledger_state(database)
    assert append("case-a", 1, []) == []
    assert ledger_state(database) == before
    with pytest.raises(ConcurrencyError, match="at version 1, not 0"):
        append("case-a", 0, [])


def test_conflict_inside_a_larger_transaction_rolls_back_its_earlier_appends(
    database: Database, store: EventStore
) -> None:
    """The unit of work owns the transaction: a failed append undoes what it already wrote."""
    with pytest.raises(ConcurrencyError), database.write() as conn:
        _append_in(conn, store, "case-a", 0)
        _append_in(conn, store, "case-a", 0)
    assert ledger_state(database) == (0, GENESIS_HASH, "", 0)


def _append_in(conn: Any, store: EventStore, stream_id: str, expected: int) -> Any:
    return store.append(
        conn,
        store.lock_head(conn),
        stream_type="candidacy",
        stream_id=stream_id,
        expected_version=expected,
        new_events=[coordinated()],
        metadata=METADATA,
        now=T0,
    )


def test_appends_in_one_write_follow_each_other(database: Database, store: EventStore) -> None:
    with database.write() as conn:
        first = _append_in(conn, store, "case-a", 0)
        second = _append_in(conn, store, "case-b", 0)
    assert [first[0].position, second[0].position] == [1, 2]
    assert second[0].prev_hash == first[0].hash
    assert verify(database, store).ok


def test_an_append_in_a_rolled_back_savepoint_leaves_no_trace_in_the_next(
    database: Database, store: EventStore
) -> None:
    with database.write() as conn:
        _append_in(conn, store, "case-a", 0)
        savepoint = conn.begin_nested()
        _append_in(conn, store, "case-b", 0)
        savepoint.rollback()
        after = _append_in(conn, store, "case-c", 0)
    assert after[0].position == 2
    assert ledger_state(database)[0] == 2
    assert verify(database, store).ok


# ---- metadata and time -----------------------------------------------------------------------------


def test_every_event_carries_its_metadata(database: Database, append: Append) -> None:
    auditor = EventMetadata(
        actor_username="dewi",
        actor_name="Dewi Lestari Ñ",
        actor_role="auditor",
        actor_office=None,
        request_id="req-0002",
    )
    append("case-a", 0, [coordinated(), rejected(1)], now=dt.datetime(2024, 6, 1, 10, 0, 0, 123456, dt.UTC))
    append(
        "target-bogor",
        0,
        [CandidacyWithdrawn(reason="x")],
        metadata=auditor,
        stream_type="target",
        # Another zone: stored as the same instant in UTC.
        now=dt.datetime(2024, 6, 1, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )

    rows = raw_rows(database)
    assert [
        (
            r.actor_username,
            r.actor_name,
            r.actor_role,
            r.actor_office,
            r.request_id,
            r.stream_type,
            r.recorded_at,
        )
        for r in rows
    ] == [
        (
            "rina",
            "Rina Marlina",
            "section_head",
            "BOGOR",
            "req-0001",
            "candidacy",
            "2024-06-01T10:00:00.123456Z",
        ),
        (
            "rina",
            "Rina Marlina",
            "section_head",
            "BOGOR",
            "req-0001",
            "candidacy",
            "2024-06-01T10:00:00.123456Z",
        ),
        ("dewi", "Dewi Lestari Ñ", "auditor", None, "req-0002", "target", "2024-06-01T11:30:00.000000Z"),
    ]
    assert [(r.type, r.schema_version) for r in rows] == [
        ("CandidacyCoordinated", CandidacyCoordinated.schema_version),
        ("CandidacyRejected", CandidacyRejected.schema_version),
        ("CandidacyWithdrawn", CandidacyWithdrawn.schema_version),
    ]
    ids = [uuid.UUID(r.event_id) for r in rows]
    assert all(str(i) == r.event_id and i.version == 4 for i, r in zip(ids, rows, strict=True))
    assert len(set(ids)) == 3


def test_recorded_at_never_goes_backwards_when_the_clock_does(database: Database, append: Append) -> None:
    noon = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    append("case-a", 0, [coordinated()], now=noon)
    # The clock steps back an hour (NTP correction, another server): the log keeps its order.
    [late] = append("case-b", 0, [rejected(1)], now=noon - dt.timedelta(hours=1))
    [later] = append("case-a", 1, [rejected(2)], now=noon + dt.timedelta(seconds=1))

    assert late.recorded_at == "2024-06-01T12:00:00.000000Z"
    assert later.recorded_at == "2024-06-01T12:00:01.000000Z"
    stamps = [row.recorded_at for row in raw_rows(database)]
    assert stamps == sorted(stamps)
    assert ledger_state(database)[2] == "2024-06-01T12:00:01.000000Z"


# ---- reading -------------------------------------------------------------------------------------


def test_load_stream_and_read_all(database: Database, store: EventStore, append: Append) -> None:
    append("case-a", 0, [coordinated(1)])
    append("case-b", 0, [rejected(2), rejected(3)])
    append("case-a", 1, [rejected(4), rejected(5)])
    append("case-c", 0, [rejected(6)])

    def shape(batch: list[RecordedEvent]) -> list[tuple[int, str, int]]:
        return [(e.position, e.stream_id, e.version) for e in batch]

    with database.read() as conn:
        assert shape(store.load_stream(conn, "case-a")) == [
            (1, "case-a", 1),
            (4, "case-a", 2),
            (5, "case-a", 3),
        ]
        assert shape(store.load_stream(conn, "case-b")) == [(2, "case-b", 1), (3, "case-b", 2)]
        assert store.load_stream(conn, "case-z") == []
        everything = store.read_all(conn)
        assert [e.position for e in everything] == [1, 2, 3, 4, 5, 6]
        assert shape(store.read_all(conn, after=2, limit=3)) == [
            (3, "case-b", 2),
            (4, "case-a", 2),
            (5, "case-a", 3),
        ]
        assert [e.position for e in store.read_all(conn, after=4)] == [5, 6]
        assert store.read_all(conn, after=6) == []
        assert store.read_all(conn, limit=0) == []
        batches = list(store.iterate_all(conn, batch_size=4))
        assert [[e.position for e in b] for b in batches] == [[1, 2, 3, 4], [5, 6]]
        assert store.count(conn) == 6
        assert store.stream_version(conn, "case-a") == 3
        assert store.stream_version(conn, "case-z") == 0


@pytest.mark.parametrize("batch_size", [1, 2, 4, 5000])
def test_iterate_by_stream_gives_each_stream_whole_and_in_order(
    database: Database, store: EventStore, append: Append, batch_size: int
) -> None:
    append("case-b", 0, [coordinated(1)])
    append("case-a", 0, [rejected(2), rejected(3)])
    append("case-b", 1, [rejected(4), rejected(5)])
    append("case-c", 0, [rejected(6)])
    append("case-a", 2, [rejected(7)])

    with database.read() as conn:
        batches = list(store.iterate_by_stream(conn, batch_size=batch_size))
    assert all(0 < len(batch) <= batch_size for batch in batches)
    assert [(e.stream_id, e.version, e.position) for batch in batches for e in batch] == [
        ("case-a", 1, 2),
        ("case-a", 2, 3),
        ("case-a", 3, 7),
        ("case-b", 1, 1),
        ("case-b", 2, 4),
        ("case-b", 3, 5),
        ("case-c", 1, 6),
    ]


def test_iterate_by_stream_of_an_empty_log(database: Database, store: EventStore) -> None:
    with database.read() as conn:
        assert list(store.iterate_by_stream(conn)) == []


def test_verify_accepts_an_empty_and_a_good_chain(
    database: Database, store: EventStore, append: Append
) -> None:
    result = verify(database, store)
    assert (result.ok, result.checked, result.first_bad_position) == (True, 0, None)
    for n in range(1, 6):
        append(f"case-{n % 2}", (n - 1) // 2, [rejected(n)])
    result = verify(database, store)
    assert (result.ok, result.checked, result.first_bad_position) == (True, 5, None)


# ---- append-only, at the database ----------------------------------------------------------------

TAMPERING = {
    "update data": 'UPDATE events SET data = \'{"reason": "forged"}\' WHERE position = 2',
    "update hash": "UPDATE events SET hash = prev_hash WHERE position = 3",
    "delete one": "DELETE FROM events WHERE position = 2",
    "delete all": "DELETE FROM events",
}


@pytest.mark.parametrize("statement", TAMPERING.values(), ids=TAMPERING.keys())
def test_database_refuses_update_and_delete_of_events(
    database: Database, store: EventStore, append: Append, statement: str
) -> None:
    append("case-a", 0, [coordinated(), rejected(1), rejected(2)])
    before = raw_rows(database)

    # Raw SQL straight through the engine: the triggers, not the code, must stop it.
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))

    assert raw_rows(database) == before
    assert verify(database, store).ok


def test_postgresql_refuses_truncate_of_events(database: Database, append: Append) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    append("case-a", 0, [coordinated(), rejected(1)])
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))
    assert len(raw_rows(database)) == 2


def test_other_tables_stay_writable(database: Database, append: Append) -> None:
    """The triggers guard the log only: the head moves and read models are rewritten on purpose."""
    append("case-a", 0, [coordinated()])
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_head SET recorded_at = recorded_at WHERE id = 1"))
        conn.execute(text("DELETE FROM candidacies"))


# ---- tampering, with the triggers out of the way -------------------------------------------------


def _recomputed(database: Database, store: EventStore, position: int, **changes: Any) -> str:
    """The hash an attacker would store after changing `position`, to hide the change in the event."""
    with database.read() as conn:
        [event] = store.read_all(conn, after=position - 1, limit=1, upcast=False)
    return replace(event, **changes).computed_hash()


def _tamper_edit_data(database: Database, store: EventStore) -> list[str]:
    return ['UPDATE events SET data = \'{"reason":"forged"}\' WHERE position = 3']


def _tamper_edit_data_and_rehash(database: Database, store: EventStore) -> list[str]:
    # The event is consistent again; the link to it from the next event is not.
    forged = _recomputed(database, store, 3, data={"reason": "forged"})
    return [
        'UPDATE events SET data = \'{"reason":"forged"}\' WHERE position = 3',
        f"UPDATE events SET hash = '{forged}' WHERE position = 3",
    ]


def _tamper_delete_middle(database: Database, store: EventStore) -> list[str]:
    return ["DELETE FROM events WHERE position = 4"]


def _tamper_delete_tail(database: Database, store: EventStore) -> list[str]:
    return ["DELETE FROM events WHERE position = 6"]


def _tamper_delete_tail_and_fix_head_hash(database: Database, store: EventStore) -> list[str]:
    # The head's hash now matches the new tail; its position still claims the deleted event. (Rewinding
    # the position too would leave a consistent, shorter log: only a digest kept elsewhere shows that.)
    return [
        "DELETE FROM events WHERE position = 6",
        "UPDATE ledger_head SET hash = (SELECT hash FROM events WHERE position = 5) WHERE id = 1",
    ]


def _tamper_swap_positions(database: Database, store: EventStore) -> list[str]:
    return [
        "UPDATE events SET position = -1 WHERE position = 2",
        "UPDATE events SET position = 2 WHERE position = 5",
        "UPDATE events SET position = 5 WHERE position = -1",
    ]


def _tamper_change_prev_hash(database: Database, store: EventStore) -> list[str]:
    return [f"UPDATE events SET prev_hash = '{'f' * 64}' WHERE position = 5"]


def _tamper_change_prev_hash_and_rehash(database: Database, store: EventStore) -> list[str]:
    forged = _recomputed(database, store, 5, prev_hash="f" * 64)
    return [
        f"UPDATE events SET prev_hash = '{'f' * 64}' WHERE position = 5",
        f"UPDATE events SET hash = '{forged}' WHERE position = 5",
    ]


# name: (tampering, first bad position, events found good before it)
TAMPER_CASES = {
    "edit data": (_tamper_edit_data, 3, 2),
    "edit data and rehash it": (_tamper_edit_data_and_rehash, 4, 3),
    "delete a middle event": (_tamper_delete_middle, 4, 3),
    "delete the tail event": (_tamper_delete_tail, 6, 5),
    "delete the tail, fix the head hash": (_tamper_delete_tail_and_fix_head_hash, 6, 5),
    "swap two positions": (_tamper_swap_positions, 2, 1),
    "change a prev_hash": (_tamper_change_prev_hash, 5, 4),
    "change a prev_hash and rehash it": (_tamper_change_prev_hash_and_rehash, 5, 4),
}


@pytest.mark.parametrize(("tamper", "first_bad", "checked"), TAMPER_CASES.values(), ids=TAMPER_CASES.keys())
def test_verify_names_the_first_bad_position(
    database: Database,
    store: EventStore,
    append: Append,
    tamper: Any,
    first_bad: int,
    checked: int,
) -> None:
    append("case-a", 0, [coordinated(1), rejected(2), rejected(3)])
    append("case-b", 0, [rejected(4), rejected(5)])
    append("case-a", 3, [rejected(6)])
    assert verify(database, store).ok
    drop_append_only_triggers(database)

    statements = tamper(database, store)
    with database.engine.begin() as conn:
        for statement in statements:
            assert conn.execute(text(statement)).rowcount == 1

    result = verify(database, store)
    assert (result.ok, result.first_bad_position, result.checked) == (False, first_bad, checked)


def test_verify_reports_progress_per_batch(database: Database, store: EventStore, append: Append) -> None:
    for n in range(1, 8):
        append(f"case-{n}", 0, [rejected(n)])
    seen: list[int] = []

    with database.read() as conn:
        result = store.verify(conn, progress=seen.append, batch_size=3)
    assert (result.ok, result.checked, seen) == (True, 7, [3, 3, 1])


def test_the_hash_is_one_function_of_the_stored_row(database: Database, append: Append) -> None:
    """What an append computes, what verify recomputes from the row as read, and the encoding pinned
    here are one and the same, whatever the payload holds."""
    tricky = [
        _LookAlike(7, "ab", "2024", note='Desa — "kutip" \\ \U0001d53b \u00e9\n\t\x00\x7f'),
        coordinated(1),
    ]
    recorded = append("case-a", 0, tricky)
    with database.read() as conn:
        rows = conn.execute(select(*_CHAIN_COLUMNS).order_by(events.c.position)).all()
    for row, event in zip(rows, recorded, strict=True):
        assert stored_hash_matches(row)
        assert event.computed_hash() == independent_hash(row) == row.hash
        data = json.loads(row.data)
        # The hash covers the payload's value, in its canonical encoding: spaces do not change it ...
        assert stored_hash_matches((*row[:7], json.dumps(data, indent=1), *row[8:]))
        # ... another value does, and so does a payload that is not JSON.
        assert not stored_hash_matches((*row[:7], canonical_json({**data, "extra": 1}), *row[8:]))
        assert not stored_hash_matches((*row[:7], row.data[:-1], *row[8:]))
        assert not stored_hash_matches((*row[:4], str(row.version), *row[5:]))


# ---- verifying from a digest kept elsewhere ----------------------------------------------------


@pytest.fixture
def ten_events(append: Append) -> list[RecordedEvent]:
    """Positions 1..10, over three streams."""
    recorded = []
    for n in range(1, 11):
        recorded += append(f"case-{n % 3}", (n - 1) // 3, [rejected(n)])
    return recorded


def verify_from(database: Database, position: int, digest: str, **options: Any) -> VerificationResult:
    with database.read() as conn:
        return EventStore().verify(conn, position=position, digest=digest, **options)


def test_verify_from_a_kept_digest_checks_only_the_events_after_it(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    kept = ten_events[6]  # position 7
    # Before the kept position the log may hold anything: the digest vouches for it.
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text('UPDATE events SET data = \'{"reason":"forged"}\' WHERE position = 2'))
    seen: list[int] = []

    result = verify_from(database, 7, kept.hash, progress=seen.append)

    assert result == VerificationResult(
        ok=True,
        checked=3,
        first_bad_position=None,
        reason=None,
        verified_from=7,
        verified_to=10,
        digest=ten_events[-1].hash,
        complete=True,
    )
    assert seen == [3]  # events 8, 9 and 10 read after the kept one, nothing before it
    assert not verify(database, EventStore()).ok  # the whole walk finds the forged event


def test_verify_from_the_head_checks_nothing_after_it(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    result = verify_from(database, 10, ten_events[-1].hash)
    assert (result.ok, result.checked, result.verified_to, result.complete) == (True, 0, 10, True)


def test_verify_from_a_digest_that_differs_fails_at_its_position(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    result = verify_from(database, 7, ten_events[5].hash)
    assert (result.ok, result.first_bad_position, result.checked) == (False, 7, 0)
    assert result.reason == "event 7 has another digest"


def test_verify_from_beyond_the_head_fails_saying_where_the_log_ends(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    result = verify_from(database, 11, ten_events[-1].hash)
    assert (result.ok, result.first_bad_position, result.checked) == (False, 11, 0)
    assert result.reason == "the log ends at 10"


def test_verify_from_a_kept_digest_finds_a_tampered_event_after_it(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE events SET actor_name = 'Someone Else' WHERE position = 9"))

    result = verify_from(database, 7, ten_events[6].hash)

    assert (result.ok, result.first_bad_position, result.checked, result.verified_to) == (False, 9, 1, 8)
    assert result.reason == "event 9 does not match its hash"


def test_verify_from_a_kept_digest_finds_the_kept_event_itself_altered(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    """The stored hash is still the one kept, but the event no longer hashes to it."""
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE events SET request_id = 'req-forged' WHERE position = 7"))

    result = verify_from(database, 7, ten_events[6].hash)

    assert (result.ok, result.first_bad_position, result.reason) == (
        False,
        7,
        "event 7 no longer matches its digest",
    )


@pytest.mark.parametrize(("tamper", "first_bad", "checked"), TAMPER_CASES.values(), ids=TAMPER_CASES.keys())
def test_every_failure_says_why(
    database: Database, store: EventStore, append: Append, tamper: Any, first_bad: int, checked: int
) -> None:
    append("case-a", 0, [coordinated(1), rejected(2), rejected(3)])
    append("case-b", 0, [rejected(4), rejected(5)])
    append("case-a", 3, [rejected(6)])
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        for statement in tamper(database, store):
            conn.execute(text(statement))

    result = verify(database, store)

    assert result.reason is not None and str(first_bad) in result.reason
    assert (result.verified_from, result.verified_to, result.complete) == (0, checked, True)


# ---- a time limit ----------------------------------------------------------------------------------


def test_past_the_time_limit_the_walk_stops_and_goes_on_from_where_it_got(
    database: Database, ten_events: list[RecordedEvent]
) -> None:
    spent = verify_from(database, 0, GENESIS_HASH, until=0.0)  # long past: one event, then stop

    assert (spent.ok, spent.complete, spent.checked, spent.verified_to) == (True, False, 1, 1)
    assert spent.digest == ten_events[0].hash
    position, digest, rounds = spent.verified_to, spent.digest, 1
    while True:
        step = verify_from(database, position, digest, until=0.0)
        rounds += 1
        assert step.ok and step.verified_from == position
        if step.complete:
            break
        position, digest = step.verified_to, step.digest
    assert (rounds, step.verified_to, step.digest) == (10, 10, ten_events[-1].hash)
    # With time to spare, one walk does it all.
    whole = verify_from(database, 0, GENESIS_HASH, until=time.monotonic() + 60)
    assert (whole.complete, whole.checked) == (True, 10)


def test_a_time_limit_never_hides_a_break(database: Database, ten_events: list[RecordedEvent]) -> None:
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 10"))
    position, digest = 0, GENESIS_HASH
    while (step := verify_from(database, position, digest, until=0.0)).ok:
        assert not step.complete
        position, digest = step.verified_to, step.digest
    assert (step.first_bad_position, step.complete) == (10, True)
    assert step.reason == "the head names event 10, the log ends at 9"


# ---- in parts, one process each (events.ledger) ------------------------------------------------


def test_verified_in_parts_it_is_the_same_walk(database: Database, ten_events: list[RecordedEvent]) -> None:
    whole = verify(database, EventStore())
    in_parts = ledger.verify_chain(database, EventStore(), processes=3, min_part=1)
    assert in_parts == whole
    from_seven = ledger.verify_chain(
        database, EventStore(), position=7, digest=ten_events[6].hash, processes=3, min_part=1
    )
    assert from_seven == verify_from(database, 7, ten_events[6].hash)
    for position, digest in ((3, ten_events[6].hash), (11, ten_events[-1].hash)):  # another, beyond
        refused = ledger.verify_chain(
            database, EventStore(), position=position, digest=digest, processes=3, min_part=1
        )
        assert not refused.ok
        assert refused == verify_from(database, position, digest)


@pytest.mark.parametrize(("tamper", "first_bad", "checked"), TAMPER_CASES.values(), ids=TAMPER_CASES.keys())
def test_verified_in_parts_it_names_the_first_bad_position(
    database: Database, store: EventStore, append: Append, tamper: Any, first_bad: int, checked: int
) -> None:
    append("case-a", 0, [coordinated(1), rejected(2), rejected(3)])
    append("case-b", 0, [rejected(4), rejected(5)])
    append("case-a", 3, [rejected(6)])
    drop_append_only_triggers(database)
    with database.engine.begin() as conn:
        for statement in tamper(database, store):
            conn.execute(text(statement))

    result = ledger.verify_chain(database, store, processes=3, min_part=1)  # parts after 0, 2 and 4

    assert (result.ok, result.first_bad_position, result.checked) == (False, first_bad, checked)
    assert result == verify(database, store)
