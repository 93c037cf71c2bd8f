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

Waits for a lock are bounded: a statement that waited `lock_wait_seconds` for one fails (SQLite's
busy timeout, PostgreSQL's `lock_timeout`), and `unavailable` classifies the failure, so a request
caught behind a long maintenance (`maintenance()`: a migration, a rebuild) is answered 503 rather
than left hanging.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# How long an application connection waits for a lock before its statement fails.
LOCK_WAIT_SECONDS = 10.0
# How long maintenance waits for the writers and readers before it: longer, since it runs once.
MAINTENANCE_LOCK_WAIT_SECONDS = 300.0
# Beside a SQLite database file: where the application's writers queue for their turn.
WRITERS_QUEUE_SUFFIX = "-writers.lock"

_SYNCHRONOUS_COMMIT_ON = text("SET LOCAL synchronous_commit TO on")


class CommitFailed(Exception):
    """A commit was not confirmed by the database: it may or may not be on disk."""


class LockNotTaken(Exception):
    """The write lock was not free within the time given."""


# What the engines say when they cannot take a write now: SQLite's result codes, PostgreSQL's
# SQLSTATEs (disk_full, insufficient_resources, read_only_sql_transaction, admin_shutdown,
# cannot_connect_now, lock_not_available). A busy SQLite or a lock_not_available waited its bound.
_SQLITE_CANNOT_WRITE = frozenset({"SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_BUSY"})
_POSTGRES_CANNOT_WRITE = frozenset({"53100", "53000", "25006", "57P01", "57P03", "55P03"})


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
    def __init__(
        self, url: str, *, lock_wait_seconds: float = LOCK_WAIT_SECONDS, **engine_options: Any
    ) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.lock_wait_seconds = lock_wait_seconds
        self._writers_queue: _WritersQueue | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, lock_wait_seconds, **engine_options)
            self.read_engine = self.engine
            if self.url.database not in (None, "", ":memory:"):
                self._writers_queue = _WritersQueue(self.url.database + WRITERS_QUEUE_SUFFIX)
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            # A pooled connection is pinged before use: a server restart or failover closed it.
            self.engine = create_engine(url, pool_pre_ping=True, **engine_options)
            _bound_postgres_lock_waits(self.engine, lock_wait_seconds)
            # Reads see one snapshot from their first statement to their last.
            self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A durable write transaction: committed when the block ends, rolled back if it raises. A
        failed commit raises `CommitFailed`, and its connection is thrown away."""
        with self._turn(), self.engine.connect() as conn, self._durable(conn):
            yield conn

    @contextmanager
    def maintenance(self) -> Iterator[Connection]:
        """A durable write transaction for work that may hold the write lock for minutes (`db upgrade`,
        `projections rebuild`). It waits up to `MAINTENANCE_LOCK_WAIT_SECONDS` for its locks and does
        not queue with the application's writers: those waiting meanwhile give up after their own
        bounded wait (503) instead of queueing behind it."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                _sqlite_busy_timeout(conn, MAINTENANCE_LOCK_WAIT_SECONDS)
            try:
                with self._durable(conn):
                    if not self.is_sqlite:
                        conn.execute(_LOCK_TIMEOUT, {"wait": _milliseconds(MAINTENANCE_LOCK_WAIT_SECONDS)})
                    yield conn
            finally:
                if self.is_sqlite and not conn.invalidated:
                    _sqlite_busy_timeout(conn, self.lock_wait_seconds)

    @contextmanager
    def probe_write(self, seconds: float) -> Iterator[Connection]:
        """A write transaction that waits at most `seconds` for its turn and the lock, and is always
        rolled back: whether the database would take a write now (readiness)."""
        queue = self._writers_queue
        if queue is not None and not queue.enter_within(seconds):
            raise LockNotTaken(f"the writers' queue did not move within {seconds:g} s")
        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:
                    _sqlite_busy_timeout(conn, seconds)
                    conn.execution_options(sqlite_begin="IMMEDIATE")
                try:
                    with conn.begin() as transaction:
                        if not self.is_sqlite:
                            conn.execute(_LOCK_TIMEOUT, {"wait": _milliseconds(seconds)})
                        yield conn
                        transaction.rollback()
                finally:
                    if self.is_sqlite and not conn.invalidated:
                        _sqlite_busy_timeout(conn, self.lock_wait_seconds)
        finally:
            if queue is not None:
                queue.__exit__()

    @contextmanager
    def _durable(self, conn: Connection) -> Iterator[None]:
        if self.is_sqlite:
            conn.execution_options(sqlite_begin="IMMEDIATE")  # the lock, with the transaction
        transaction = conn.begin()
        try:
            if not self.is_sqlite:
                conn.execute(_SYNCHRONOUS_COMMIT_ON)
            yield
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

    @contextmanager
    def writers_held(self) -> Iterator[None]:
        """The application's writers kept in their queue while the block runs (SQLite; nothing on
        PostgreSQL): for work on the database file itself, outside this engine (a restore)."""
        with self._turn():
            yield

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

    def enter_within(self, seconds: float) -> bool:
        """Take the turn within `seconds`, trying every few milliseconds (for rare callers: a
        readiness probe); False if it did not come."""
        if getattr(self._held, "fd", None) is not None:
            raise RuntimeError("a write transaction is already open in this thread")
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.005)
                continue
            except BaseException:
                os.close(fd)
                raise
            self._held.fd = fd
            return True

    def __exit__(self, *_exc: object) -> None:
        fd, self._held.fd = self._held.fd, None
        os.close(fd)  # closing the descriptor lets go of its lock


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


_LOCK_TIMEOUT = text("SELECT set_config('lock_timeout', :wait, true)")


def _bound_postgres_lock_waits(engine: Engine, seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {_milliseconds(seconds)}")
        dbapi_connection.commit()  # a session setting, kept past this first transaction


def _sqlite_busy_timeout(conn: Connection, seconds: float) -> None:
    # Straight to the driver: through SQLAlchemy the PRAGMA would open a transaction of its own.
    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={_milliseconds(seconds)}")


def _sqlite_engine(url: str, lock_wait_seconds: float, **engine_options: Any) -> Engine:
    connect_args = engine_options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", lock_wait_seconds)
    engine = create_engine(url, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: BEGIN is sent by the listener below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, FULL syncs the WAL before a commit is published to readers (NORMAL would not).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={_milliseconds(lock_wait_seconds)}")
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
