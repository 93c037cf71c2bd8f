"""Engines and transactions for SQLite (the embedded default) and PostgreSQL (production).

Nothing is visible before it is durable, as far as each engine promises:
- SQLite runs in WAL mode with `synchronous=FULL`: SQLite syncs the WAL before it publishes a commit
  to readers.
- PostgreSQL write transactions pin `synchronous_commit=on`: the commit is answered, and visible to
  others, only once its WAL record is flushed.

On SQLite a write transaction begins with `BEGIN IMMEDIATE`: it holds the database's one write lock
from its first statement, after its turn in the application's writers' queue (`_WritersQueue`). (On
PostgreSQL the log's writers take the ledger-head row instead: see `events.unit_of_work`.)

A commit that fails raises `CommitFailed`: whether it reached the disk is unknown, so nothing may
answer it as a success, and the process that saw it should stop.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Beside a SQLite database file: where the application's writers queue for their turn.
WRITERS_QUEUE_SUFFIX = "-writers.lock"

_SYNCHRONOUS_COMMIT_ON = text("SET LOCAL synchronous_commit TO on")


class CommitFailed(Exception):
    """A commit was not confirmed by the database: it may or may not be on disk."""


# What the engines say when they cannot take a write now: SQLite's result codes, PostgreSQL's
# SQLSTATEs (disk_full, insufficient_resources, read_only_sql_transaction, admin_shutdown,
# cannot_connect_now).
_SQLITE_CANNOT_WRITE = frozenset({"SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_BUSY"})
_POSTGRES_CANNOT_WRITE = frozenset({"53100", "53000", "25006", "57P01", "57P03"})


def unavailable(error: DBAPIError) -> bool:
    """Whether the database failed a statement because it cannot serve now (a full disk, a
    read-only database, a lost connection), not because the statement was wrong."""
    if error.connection_invalidated:
        return True
    sqlite_code = getattr(error.orig, "sqlite_errorname", None)  # SQLITE_IOERR_FSYNC: an IOERR
    if sqlite_code is not None:
        return any(sqlite_code == c or sqlite_code.startswith(c + "_") for c in _SQLITE_CANNOT_WRITE)
    return getattr(error.orig, "sqlstate", None) in _POSTGRES_CANNOT_WRITE


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self._writers_queue: _WritersQueue | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, **engine_options)
            self.read_engine = self.engine
            if self.url.database not in (None, "", ":memory:"):
                self._writers_queue = _WritersQueue(self.url.database + WRITERS_QUEUE_SUFFIX)
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            # A pooled connection is pinged before use: a server restart or failover closed it.
            self.engine = create_engine(url, pool_pre_ping=True, **engine_options)
            # Reads see one snapshot from their first statement to their last.
            self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A durable write transaction: committed when the block ends, rolled back if it raises. A
        failed commit raises `CommitFailed`, and its connection is thrown away."""
        with self._turn(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE")  # the lock, with the transaction
            transaction = conn.begin()
            try:
                if not self.is_sqlite:
                    conn.execute(_SYNCHRONOUS_COMMIT_ON)
                yield conn
            except BaseException:
                transaction.rollback()
                raise
            try:
                transaction.commit()
            except Exception as error:
                # The connection's state is unknown (on SQLite after a failed fsync, so is the page
                # cache's): it must never serve anyone again.
                conn.invalidate()
                raise CommitFailed("the database did not confirm the commit") from error

    def _turn(self) -> Any:
        return self._writers_queue if self._writers_queue is not None else nullcontext()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: one consistent snapshot on either database."""
        with self.read_engine.connect() as conn, conn.begin():
            yield conn
            conn.rollback()

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """For a query of one statement, which is a consistent snapshot by itself: no transaction
        around it (on PostgreSQL, no BEGIN and ROLLBACK round trips; every request's token is one)."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                yield conn.execution_options(sqlite_begin=None)
            else:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()


class _WritersQueue:
    """SQLite writers wait here, blocked in the kernel, until the writer before them has committed.

    SQLite's own busy handler makes a waiting writer poll, sleeping 1, 2, 5, 10, 25 and up to 100 ms
    between tries, while the lock may stand free: a command's latency under load grew by those
    sleeps. An advisory lock on a file beside the database wakes the next writer as soon as the one
    before lets go, and the kernel lets go of it if its process dies. `BEGIN IMMEDIATE` still takes
    SQLite's lock, so a writer that does not queue here (another program) is serialized as before."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._held = threading.local()

    def __enter__(self) -> None:
        if getattr(self._held, "fd", None) is not None:
            # A thread waiting for its own turn would wait forever.
            raise RuntimeError("a write transaction is already open in this thread")
        # A descriptor per turn: flock excludes open files, so threads and worker processes each
        # need their own.
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._held.fd = fd

    def __exit__(self, *_exc: object) -> None:
        fd, self._held.fd = self._held.fd, None
        os.close(fd)  # closing the descriptor lets go of its lock


def _sqlite_engine(url: str, **engine_options: Any) -> Engine:
    connect_args = engine_options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: BEGIN is sent by the listener below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, FULL syncs the WAL before a commit is published to readers (NORMAL would not).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads first and then
        # writes gets SQLITE_BUSY at once whatever the busy timeout. None: a lookup's one statement,
        # in SQLite's own autocommit.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
