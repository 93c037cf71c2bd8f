"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production).

Every write transaction is serialized: on SQLite by `BEGIN IMMEDIATE` (a deferred BEGIN that reads
first would get SQLITE_BUSY whatever the busy timeout), on PostgreSQL by taking the single ledger-head
row `FOR UPDATE` (on a SQLite file, the application's writers first queue for their turn on a lock
file beside it: `_WriterTurn`). Global positions are therefore handed out in commit order.

By default the lock is the transaction's first statement, so that it loads, decides, appends and
projects on a state nobody else can change under it. A command may instead read and decide first and
take the lock with its first append (`write(lock_first=False)`), checking under the lock that what it
read still holds.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from events.prepared import Precondition, PreconditionFailed, Prepared, begin_with_first_statement
from events.schema import ledger_head

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Beside a SQLite database file: where the application's writers queue for their turn.
WRITER_LOCK_SUFFIX = "-writer.lock"
# Where a write transaction keeps the ledger-head row it locked, so that the store appends after it
# without reading it again; cleared when the transaction ends or a savepoint rolls back.
LOCKED_HEAD = "desa_binaan.locked_ledger_head"
# Where a write transaction that did not lock first keeps how to take the lock (see `locked_head`).
_TAKE_LOCK_LATE = "desa_binaan.take_write_lock"
# A pooled connection back in use within this long is taken to be alive without a ping: under load,
# a ping on every checkout was a round trip on every request (two: the token's lookup and the work).
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "desa_binaan.idle_since"
# What every write transaction of this context sends with its BEGIN (PostgreSQL): `require_in_writes`.
_WRITE_PRECONDITION: ContextVar[Precondition | None] = ContextVar("write_precondition", default=None)
_BEGIN_IMMEDIATE = Prepared(text("BEGIN IMMEDIATE"))
_TAKE_WRITE_LOCK = Prepared(
    select(ledger_head.c.position, ledger_head.c.hash, ledger_head.c.recorded_at)
    .where(ledger_head.c.id == 1)
    .with_for_update()
)


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self._writer_turn: _WriterTurn | None = None
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, **engine_options)
            self.read_engine = self.engine
            if self.url.database not in (None, "", ":memory:"):
                self._writer_turn = _WriterTurn(self.url.database + WRITER_LOCK_SUFFIX)
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            self.engine = _server_engine(url, **engine_options)
            # Reads get a pool of their own whose connections are REPEATABLE READ from the start:
            # setting and resetting the level on every checkout costs two round trips per request.
            self.read_engine = _server_engine(url, isolation_level="REPEATABLE READ", **engine_options)
        event.listen(self.engine, "rollback_savepoint", _forget_locked_head)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self, *, lock_first: bool = True) -> Iterator[Connection]:
        """A write transaction, committed on success, rolled back on any error.

        `lock_first`: the write lock is taken before anything else. With False, the store's first
        append takes it (`locked_head`), and every read before it sees other writers' commits as they
        land (on SQLite each is a snapshot of its own, and the transaction begins with the lock, so
        nothing but reads may come before that append): the caller must check under the lock that
        what it read still holds (the store's unique (stream_id, version) key does for a stream) and
        do the work again, locking first, when it did not."""
        with ExitStack() as turn, self.engine.connect() as conn:  # the turn outlives the transaction
            if lock_first:
                self._wait_for_turn(turn)
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE" if lock_first else None)
            wal = _wal_connection(conn)
            precondition = _WRITE_PRECONDITION.get()
            try:
                if wal is not None:
                    wal.defer_sync = True
                # On PostgreSQL the BEGIN goes with the first statement, not in a round trip of its own.
                with begin_with_first_statement(conn, precondition), conn.begin():
                    if lock_first:
                        conn.info[LOCKED_HEAD] = _TAKE_WRITE_LOCK.execute(conn).one()
                    else:
                        conn.info[_TAKE_LOCK_LATE] = partial(self._lock_late, conn, turn)
                    yield conn
            except DBAPIError as error:
                if precondition is not None and precondition.failed_with(error):
                    raise PreconditionFailed(str(error.orig)) from error
                raise
            finally:
                # The transaction has ended: the next writer's turn need not wait for this connection
                # to go back to the pool, nor for its commit to reach the disk.
                turn.close()
                # `info` outlives the transaction with the connection
                conn.info.pop(LOCKED_HEAD, None)
                conn.info.pop(_TAKE_LOCK_LATE, None)
                if wal is not None:
                    wal.defer_sync = False
            if wal is not None:
                wal.sync()  # before the caller answers anyone: the commit is durable from here on

    @staticmethod
    def require_in_writes(precondition: Precondition) -> Callable[[], None]:
        """From now on in this context (a request, say), every write transaction on PostgreSQL sends
        `precondition` with its BEGIN, and fails with `PreconditionFailed`, rolled back, where it does
        not hold. Returns what ends it."""
        token = _WRITE_PRECONDITION.set(precondition)
        return lambda: _WRITE_PRECONDITION.reset(token)

    def _wait_for_turn(self, turn: ExitStack) -> None:
        if self._writer_turn is not None:
            turn.enter_context(self._writer_turn)

    def _lock_late(self, conn: Connection, turn: ExitStack) -> Any:
        del conn.info[_TAKE_LOCK_LATE]
        if self.is_sqlite:  # the reads so far ran each in its own snapshot; the transaction starts here
            self._wait_for_turn(turn)
            _BEGIN_IMMEDIATE.execute(conn)
        head = conn.info[LOCKED_HEAD] = _TAKE_WRITE_LOCK.execute(conn).one()
        return head

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: one consistent snapshot on either database."""
        with self.read_engine.connect() as conn, conn.begin():
            yield conn
            conn.rollback()

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """For one statement, which is a consistent snapshot by itself, outside any transaction: on
        PostgreSQL autocommit spares the round trips of BEGIN and ROLLBACK on every request; on
        SQLite no BEGIN is sent and the statement runs in its own implicit read transaction."""
        with self.read_engine.connect() as conn:
            if self.is_sqlite:
                yield conn.execution_options(sqlite_begin=None)
            else:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


class _WriterTurn:
    """Writers queue here, blocked in the kernel, until the one before them ends its transaction.

    Without it, SQLite's busy handler makes a waiting writer poll by sleeping 1, 2, 5, 10, 25 and up
    to 100 ms between tries: with two server workers the lock stood free while the waiter slept, and
    a command's p99 grew by those sleeps. An advisory lock on a file beside the database wakes the
    next writer when the holder lets go, and the kernel releases it if the holder's process dies.

    `BEGIN IMMEDIATE` still takes SQLite's own lock, so writers that do not queue here (another
    program, the `sqlite3` shell) are serialized as before, by the busy timeout."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._held = threading.local()

    def __enter__(self) -> None:
        if getattr(self._held, "fd", None) is not None:
            # The same thread waiting for itself would wait forever (before, for the busy timeout).
            raise RuntimeError("a write transaction is already open in this thread")
        # A descriptor per turn: flock excludes open files, not threads, so threads of one process
        # and forked workers each need their own.
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._held.fd = fd

    def __exit__(self, *_exc: object) -> None:
        fd, self._held.fd = self._held.fd, None
        os.close(fd)  # closing the descriptor releases its lock


def locked_head(conn: Connection) -> Any:
    """The ledger head's row (position, hash, recorded_at), under the write lock: as the transaction
    locked it, or locked now."""
    head = conn.info.get(LOCKED_HEAD)
    if head is not None:
        return head
    take_late = conn.info.get(_TAKE_LOCK_LATE)
    if take_late is not None:
        return take_late()
    # A transaction not from `Database.write()`, or whose head a rolled-back savepoint moved.
    return _TAKE_WRITE_LOCK.execute(conn).one()


def _forget_locked_head(conn: Connection, _name: Any, _context: Any) -> None:
    """An append inside a rolled-back savepoint moved the remembered head: read it again next time."""
    conn.info.pop(LOCKED_HEAD, None)


def _server_engine(url: str, **engine_options: Any) -> Engine:
    """An engine whose pool pings a connection that stood idle before handing it out (`pool_pre_ping`
    pings every time, unless it is asked for)."""
    engine = create_engine(url, **engine_options)
    if not engine_options.get("pool_pre_ping"):
        event.listen(engine, "checkout", partial(_ping_if_idle, engine))
        event.listen(engine, "checkin", _note_idle)
    return engine


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A connection that stood idle in the pool may have been closed meanwhile (a server restart or
    failover, an idle timeout): ping it, and if it is gone, the pool replaces it and tries again. One
    used within `PING_AFTER_IDLE_SECONDS` is handed out as it is: if the server dropped it in that
    instant, the statement fails, the pool is invalidated as on any lost connection, and the next
    request connects afresh. A new connection (no idle time kept: `record.info` is the connection's
    own) needs no ping."""
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    dialect = engine.dialect
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, dbapi_connection, None):
            raise DisconnectionError("the pooled connection was closed while idle") from error
        raise


class WalSyncedConnection(sqlite3.Connection):
    """A SQLite connection whose commits are as durable as `synchronous=FULL` makes them, with the
    write-ahead log's fsync made here instead of inside COMMIT.

    In WAL mode, FULL's only addition to NORMAL is one fsync of the WAL file as a transaction
    commits (on Linux, whose files overwrite in place without tearing a sector, SQLite pads no frame
    for it), and SQLite makes it while it still holds the database's write lock. Here the connection
    runs NORMAL and fsyncs the WAL itself: at once after a commit, or, in a `Database.write`
    transaction (`defer_sync`), after the writers' turn has gone to the next writer, which then writes
    its frames while this one waits for the disk. Either way the fsync returns before the caller can
    answer anyone, so an acknowledged commit survives a power cut; one fsync makes every frame
    written before it durable, so a later commit can never outlive an earlier one. A commit already
    made but not yet synced is visible to other connections for that instant, as it is under NORMAL:
    a power cut then may lose it, and its writer has not been answered.

    Set up by the engine's `connect` listener: in any journal mode but WAL (`:memory:`), or where
    the WAL file cannot be named, `wal_path` stays None and the connection runs FULL, syncing inside
    COMMIT as SQLite does."""

    wal_path: str | None = None
    defer_sync = False
    _sync_due = False

    def commit(self) -> None:
        wrote = self.in_transaction
        super().commit()
        if wrote and self.wal_path is not None:
            self._sync_due = True
            if not self.defer_sync:
                self.sync()

    def sync(self) -> None:
        """Make every commit so far durable (nothing to do if none is waiting)."""
        if not self._sync_due:  # only set where there is a WAL to sync
            return
        fd = os.open(self.wal_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._sync_due = False


def _wal_connection(conn: Connection) -> WalSyncedConnection | None:
    driver_connection = conn.connection.driver_connection
    if isinstance(driver_connection, WalSyncedConnection) and driver_connection.wal_path is not None:
        return driver_connection
    return None


def _sqlite_engine(url: str, **engine_options: Any) -> Engine:
    connect_args = engine_options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("factory", WalSyncedConnection)
    engine = create_engine(url, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: we issue BEGIN [IMMEDIATE] ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        journal_mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # A commit acknowledged to a client survives a power cut, not only a crash: FULL, or NORMAL
        # with the connection's own fsync of the WAL after every commit (`WalSyncedConnection`).
        main_file = next(row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main")
        synced_here = (
            isinstance(dbapi_connection, WalSyncedConnection) and journal_mode.lower() == "wal" and main_file
        )
        cursor.execute(f"PRAGMA synchronous={'NORMAL' if synced_here else 'FULL'}")
        if synced_here:
            dbapi_connection.wal_path = main_file + "-wal"
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a lookup's one statement, in SQLite's own autocommit
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
