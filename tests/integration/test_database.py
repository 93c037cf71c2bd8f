"""The transactions `Database` hands out: a one-statement lookup, the reads around it, and writes."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from events import database as database_module
from events.database import WRITER_LOCK_SUFFIX, Database
from events.store import EventStore
from events.types import CandidacyRejected
from tests.integration.support import METADATA, T0


def test_a_lookup_sees_what_is_committed_and_leaves_reads_as_they_were(database: Database) -> None:
    with database.write() as conn:
        conn.execute(text("CREATE TABLE lookup_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO lookup_probe (id, name) VALUES (1, 'before')"))
    for _ in range(3):  # the same pooled connections, used by lookups and by reads in turn
        with database.lookup() as conn:
            assert conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one() == "before"
            # No transaction of its own: the statement's own snapshot, no BEGIN or ROLLBACK sent.
            if database.is_sqlite:
                assert not conn.connection.driver_connection.in_transaction
            else:
                assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
        with database.read() as conn:
            if not database.is_sqlite:
                level = conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one()
                assert level == "repeatable read"
            first = conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one()
            with database.write() as writer:
                writer.execute(text("UPDATE lookup_probe SET name = 'after' WHERE id = 1"))
            # A read is one snapshot: the commit made after it began is not seen in it.
            assert conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one() == first
        with database.write() as writer:
            writer.execute(text("UPDATE lookup_probe SET name = 'before' WHERE id = 1"))
    with database.lookup() as conn:
        assert conn.execute(text("SELECT count(*) FROM lookup_probe")).scalar_one() == 1


# ---- SQLite: writers queue for their turn on a lock file beside the database ----------------------


def _sqlite_file(database: Database) -> str:
    if not database.is_sqlite:
        pytest.skip("the writers' lock file is SQLite's; PostgreSQL queues writers on the ledger-head row")
    assert database.url.database
    return database.url.database


def _turn_is_free(path: str) -> bool:
    """Whether another process could take the writers' turn now."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also lets go of the lock if it was taken
    return True


def test_a_write_holds_the_writers_turn_until_it_ends(database: Database) -> None:
    lock_file = _sqlite_file(database) + WRITER_LOCK_SUFFIX
    with database.write() as conn:
        conn.execute(text("SELECT 1"))
        assert not _turn_is_free(lock_file)
    assert _turn_is_free(lock_file)
    with pytest.raises(ZeroDivisionError), database.write():
        1 / 0  # noqa: B018 - a failed transaction lets go of the turn too
    assert _turn_is_free(lock_file)


def test_a_writer_waits_for_the_turn_another_process_holds(database: Database) -> None:
    lock_file = _sqlite_file(database) + WRITER_LOCK_SUFFIX
    held = os.open(lock_file, os.O_RDONLY | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # as another server worker in its transaction would
    entered = threading.Event()

    def writer() -> None:
        with database.write() as conn:
            conn.execute(text("SELECT 1"))
            entered.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert not entered.wait(0.3), "the writer went ahead of the one holding the turn"
    finally:
        os.close(held)
    assert entered.wait(10), "the writer was not woken when the turn was let go"
    thread.join(10)


def test_a_second_write_in_the_same_thread_is_refused_not_waited_for(database: Database) -> None:
    _sqlite_file(database)
    with (
        database.write(),
        pytest.raises(RuntimeError, match="already open in this thread"),
        database.write(),
    ):
        pass
    with database.write() as conn:  # the refusal left the turn as it was
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


# ---- SQLite: a commit is made durable by the connection's own fsync of the WAL -------------------


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What is fsynced from now on, in order, beside when the writers' turn is let go ("turn let go")."""
    happened: list[str] = []
    fsync, leave = os.fsync, database_module._WriterTurn.__exit__

    def recorded_fsync(fd: int) -> None:
        happened.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    def recorded_leave(self: database_module._WriterTurn, *exc: object) -> None:
        leave(self, *exc)
        happened.append("turn let go")

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(database_module._WriterTurn, "__exit__", recorded_leave)
    return happened


def _wal_file(database: Database) -> str:
    return os.path.realpath(_sqlite_file(database)) + "-wal"


def _append_rejection(conn: Connection, stream_id: str) -> None:
    """A one-event stream appended in the caller's write transaction."""
    EventStore().append(
        conn,
        stream_type="candidacy",
        stream_id=stream_id,
        expected_version=0,
        new_events=[CandidacyRejected(reason=stream_id)],
        metadata=METADATA,
        now=T0,
    )


def _pragma(conn: Connection, name: str) -> int:
    return conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()


def test_a_sqlite_file_runs_normal_and_syncs_its_wal_itself_where_memory_runs_full(tmp_path: Path) -> None:
    on_file = Database(f"sqlite:///{tmp_path}/durable.sqlite3")
    in_memory = Database("sqlite://")
    try:
        with on_file.lookup() as conn:
            assert _pragma(conn, "journal_mode") == "wal"
            assert _pragma(conn, "synchronous") == 1  # NORMAL: no fsync inside COMMIT
            wal_path = conn.connection.driver_connection.wal_path
            assert wal_path == os.path.realpath(f"{tmp_path}/durable.sqlite3") + "-wal"
        with in_memory.lookup() as conn:
            assert _pragma(conn, "synchronous") == 2  # FULL: no WAL file to sync, SQLite syncs
            assert conn.connection.driver_connection.wal_path is None
    finally:
        on_file.dispose()
        in_memory.dispose()


def test_a_write_syncs_the_wal_after_letting_go_of_the_turn_and_before_it_returns(
    database: Database, syncs: list[str]
) -> None:
    wal = _wal_file(database)
    with database.write() as conn:
        conn.execute(text("CREATE TABLE durable_probe (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO durable_probe (id) VALUES (1)"))
        assert syncs == []  # nothing is synced inside the transaction
    assert syncs == ["turn let go", wal]


def test_a_write_that_locks_late_syncs_after_its_append_and_not_when_it_wrote_nothing(
    database: Database, syncs: list[str]
) -> None:
    wal = _wal_file(database)
    store = EventStore()
    with database.write(lock_first=False) as conn:
        assert store.stream_version(conn, "read-only") == 0
    with pytest.raises(ZeroDivisionError), database.write() as conn:
        conn.execute(text("SELECT 1"))
        1 / 0  # noqa: B018 - rolled back: nothing was committed, nothing to sync
    assert wal not in syncs
    with database.write(lock_first=False) as conn:
        _append_rejection(conn, "late")
    assert syncs[-2:] == ["turn let go", wal]
    assert syncs.count(wal) == 1


def test_a_commit_outside_a_write_syncs_the_wal_at_once(database: Database, syncs: list[str]) -> None:
    """Migrations and the like commit on the engine directly: the fsync is made inside `commit()`."""
    wal = _wal_file(database)
    with database.engine.connect() as conn:
        conn.execute(text("CREATE TABLE direct_probe (id INTEGER PRIMARY KEY)"))
        conn.commit()
        assert syncs == [wal]
        conn.execute(text("INSERT INTO direct_probe (id) VALUES (1)"))
        assert syncs == [wal]
        conn.commit()
        assert syncs == [wal, wal]


# ---- a write that takes the lock with its append -----------------------------------------------------


def test_a_write_that_locks_late_lets_other_writers_by_until_it_appends(database: Database) -> None:
    """`write(lock_first=False)`: other writers commit while it reads, and its append lands after
    theirs (on SQLite too, where a read transaction overtaken by a writer could no longer write)."""
    store = EventStore()
    other_committed = threading.Event()

    def other_writer() -> None:
        with database.write() as conn:
            _append_rejection(conn, "other")
        other_committed.set()

    thread = threading.Thread(target=other_writer)
    with database.write(lock_first=False) as conn:
        assert store.stream_version(conn, "late") == 0
        thread.start()
        assert other_committed.wait(10), "the other writer waited for one that has not locked"
        _append_rejection(conn, "late")
    thread.join(10)
    with database.read() as conn:
        order = [e.stream_id for e in store.read_all(conn)]
        assert store.verify(conn).ok
    assert order == ["other", "late"]


def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_if_the_server_closed_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.is_sqlite:
        pytest.skip("a SQLite file has no server to lose the connection")
    pings: list[object] = []
    ping = database.engine.dialect.do_ping
    monkeypatch.setattr(database.engine.dialect, "do_ping", lambda dbapi: pings.append(dbapi) or ping(dbapi))

    def backend() -> int:
        with database.write() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    first = backend()
    assert backend() == first
    assert pings == []  # back in use at once: handed out without a ping

    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert backend() == first
    assert len(pings) == 1  # idle (here, for any time at all): pinged, and alive

    with database.read() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    replaced = backend()  # the ping finds it gone; the pool connects again and the work goes on
    assert replaced != first
    assert len(pings) == 2
