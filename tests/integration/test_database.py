"""The transactions `Database` hands out, on both engines: durable write connections, one writer at a
time, reads as one snapshot, and a failed commit that is never taken for a success."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from events.database import WRITERS_QUEUE_SUFFIX, CommitFailed, Database
from events.store import EventStore
from service.migrate import upgrade
from tests.conftest import scratch_database_url


@pytest.fixture
def probe(database: Database) -> Database:
    """The database with a little table of its own to write to."""
    with database.write() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO probe (id, name) VALUES (1, 'before')"))
    return database


def probe_name(database: Database) -> str:
    with database.read() as conn:
        return conn.execute(text("SELECT name FROM probe WHERE id = 1")).scalar_one()


def test_every_write_connection_is_durable_before_its_commit_is_visible(database: Database) -> None:
    """SQLite: WAL with synchronous=FULL (2) on every connection of the pool. PostgreSQL:
    synchronous_commit=on inside every write transaction."""
    for _ in range(3):
        with database.write() as conn:
            if database.is_sqlite:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2
            else:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"


@pytest.mark.postgres
def test_postgresql_writes_pin_synchronous_commit_whatever_the_session_says(tmp_path: Path) -> None:
    """A server or role configured with synchronous_commit=off does not weaken a write."""
    with scratch_database_url("postgres", tmp_path) as url:
        database = Database(url, connect_args={"options": "-c synchronous_commit=off"})
        try:
            with database.read() as conn:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"
            upgrade(database)
            with database.write() as conn:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
        finally:
            database.dispose()


def test_a_read_is_one_snapshot(probe: Database) -> None:
    with probe.read() as conn:
        if not probe.is_sqlite:
            level = conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one()
            assert level == "repeatable read"
        first = conn.execute(text("SELECT name FROM probe WHERE id = 1")).scalar_one()
        with probe.write() as writer:
            writer.execute(text("UPDATE probe SET name = 'after' WHERE id = 1"))
        # The commit made after the read began is not seen in it; the next read sees it.
        assert conn.execute(text("SELECT name FROM probe WHERE id = 1")).scalar_one() == first == "before"
    assert probe_name(probe) == "after"


def test_a_lookup_is_one_statement_outside_any_transaction_and_sees_every_commit(probe: Database) -> None:
    """What every request's token lookup runs in: no BEGIN or ROLLBACK around it, and a revocation
    committed a moment ago is seen by the next lookup, on whichever pooled connection."""
    for name in ("first", "second", "third"):
        with probe.write() as writer:
            writer.execute(text("UPDATE probe SET name = :name WHERE id = 1"), {"name": name})
        with probe.lookup() as conn:
            assert conn.execute(text("SELECT name FROM probe WHERE id = 1")).scalar_one() == name
            if probe.is_sqlite:
                assert not conn.connection.driver_connection.in_transaction
            else:  # in a transaction, now() would be the transaction's start, not the statement's
                assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
    with probe.read() as conn:  # reads on the same pooled connections are still one snapshot
        if not probe.is_sqlite:
            level = conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one()
            assert level == "repeatable read"


def test_a_write_that_raises_is_rolled_back(probe: Database) -> None:
    with pytest.raises(ZeroDivisionError), probe.write() as conn:
        conn.execute(text("UPDATE probe SET name = 'half done' WHERE id = 1"))
        1 / 0  # noqa: B018
    assert probe_name(probe) == "before"


def test_writers_of_the_log_take_turns(probe: Database) -> None:
    """A writer that takes the log's lock (SQLite: any writer, from BEGIN IMMEDIATE) waits until the
    one holding it has committed, then sees its write: no lost update."""
    entered, second_saw = threading.Event(), []

    def second_writer() -> None:
        with probe.write() as conn:
            EventStore().lock_head(conn)
            entered.set()
            second_saw.append(conn.execute(text("SELECT name FROM probe WHERE id = 1")).scalar_one())

    with probe.write() as conn:
        EventStore().lock_head(conn)
        conn.execute(text("UPDATE probe SET name = 'first' WHERE id = 1"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not entered.wait(0.3), "the second writer went ahead of the one holding the lock"
    assert entered.wait(10)
    thread.join(10)
    assert second_saw == ["first"]


@pytest.fixture
def failing_commit(probe: Database) -> Iterator[list[int]]:
    """The next commit fails as a failed fsync or a lost connection would make it fail."""
    failures: list[int] = []

    def fail_once(conn: Any) -> None:
        if not failures:
            failures.append(1)
            raise OSError(5, "Input/output error")

    event.listen(probe.engine, "commit", fail_once)
    yield failures
    event.remove(probe.engine, "commit", fail_once)


def test_a_failed_commit_raises_and_leaves_nothing_behind(probe: Database, failing_commit: list[int]) -> None:
    connections: list[Any] = []
    with pytest.raises(CommitFailed), probe.write() as conn:
        conn.execute(text("UPDATE probe SET name = 'unconfirmed' WHERE id = 1"))
        connections.append(conn.connection.dbapi_connection)
    assert failing_commit == [1]
    assert probe_name(probe) == "before"
    # The connection that saw the failure never serves again.
    with probe.write() as conn:
        assert conn.connection.dbapi_connection is not connections[0]
        conn.execute(text("UPDATE probe SET name = 'confirmed' WHERE id = 1"))
    assert probe_name(probe) == "confirmed"


def test_a_connection_the_server_closed_is_replaced_before_use(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("a SQLite file has no server to lose the connection")

    def backend() -> int:
        with database.write() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    first = backend()
    assert backend() == first  # the pooled connection is used again
    admin = create_engine(database.url)  # a connection from outside the pool
    with admin.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    assert backend() != first  # the pool's ping found it gone, and the work went on on a new one
    with database.read() as conn:
        assert EventStore().head(conn).position == 0


# ---- SQLite: writers queue for their turn on a lock file beside the database -----------------------


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
    lock_file = _sqlite_file(database) + WRITERS_QUEUE_SUFFIX
    with database.write() as conn:
        conn.execute(text("SELECT 1"))
        assert not _turn_is_free(lock_file)
    assert _turn_is_free(lock_file)
    with pytest.raises(ZeroDivisionError), database.write():
        1 / 0  # noqa: B018 - a failed transaction lets go of the turn too
    assert _turn_is_free(lock_file)


def test_a_writer_waits_for_the_turn_another_process_holds(database: Database) -> None:
    lock_file = _sqlite_file(database) + WRITERS_QUEUE_SUFFIX
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
