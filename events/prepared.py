"""Statements that every command runs, compiled once per dialect and sent on the driver's cursor.

`Connection.execute(statement)` computes the statement's cache key, looks the compiled form up and
processes the parameters on every call, and even `Connection.exec_driver_sql` builds an execution
context and a result around the driver's cursor: for the short statements of a command that costs
more CPU than the database takes to run them, and on SQLite the write lock is held meanwhile. A
`Prepared` statement is compiled by SQLAlchemy once per dialect and sent on a cursor of the
connection's own DBAPI connection, in its transaction (begun first if none is, as SQLAlchemy would).
A driver error goes through SQLAlchemy's own handling, so it is wrapped as usual (an `IntegrityError`
stays one) and a lost connection is invalidated. Each parameter goes through its column type's own
bind processor, as SQLAlchemy would send it. Where something listens to the engine's statements
(`before_cursor_execute`, `after_cursor_execute`, or `echo`), the statement goes through
`exec_driver_sql` instead, so that they see it.

Only for statements whose rows need no result processing (no JSON or date columns read back) and
whose parameters are plain (no expanding IN lists); `Prepared` refuses any other when compiling.

Inside `pipelined(conn)`, on PostgreSQL through psycopg, prepared statements are sent in the driver's
pipeline mode: one that returns no rows is not waited for, so the writes of a command travel to the
server together instead of one round trip each (see `Pipeline`). `commit_in_pipeline` sends the
transaction's COMMIT behind them, so that the writes, their errors and the commit cost one round trip.
A transaction begun inside `begin_with_first_statement` sends its BEGIN ahead of its first statement,
in the same round trip when that statement is pipelined.
"""

from __future__ import annotations

import functools
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql import ClauseElement

Parameters = Mapping[str, Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # (name the caller gives, name in the SQL, fixed value if the caller gives none, bind processor)
    binds: tuple[tuple[str, str, Any, Callable[[Any], Any] | None], ...]
    returns_rows: bool


_NO_VALUE = object()
# Where a connection keeps its open `Pipeline`, if any.
_PIPELINE = "desa_binaan.pipeline"
# Set while a transaction begun inside `begin_with_first_statement` has not sent its BEGIN yet: True,
# or the `Precondition` to send behind it.
_BEGIN_DUE = "desa_binaan.begin_due"


class Rows:
    """What a prepared statement gave back, fetched whole: rows that are tuples with their columns as
    attributes (`_asdict()` for a dict), and the driver's row count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise MultipleResultsFound("more than one row where at most one was expected")
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        row = self.one_or_none()
        if row is None:
            raise NoResultFound("no row where one was expected")
        return row


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def execute(self, conn: Connection, parameters: Parameters | Sequence[Parameters] | None = None) -> Rows:
        """One set of parameters, or a non-empty list of them, sent as an executemany (no rows come
        back from one)."""
        return self.send(conn, parameters)()

    def send(
        self, conn: Connection, parameters: Parameters | Sequence[Parameters] | None = None
    ) -> Callable[[], Rows]:
        """As `execute`, but what the statement gave back is read when the returned function is
        called. In a `Pipeline` its rows wait until then, so that reads sent one after another this
        way are answered together, in one round trip, when the first of them is read; elsewhere the
        statement has run when this returns."""
        dialect = conn.dialect
        compiled = self._by_dialect.get((dialect.name, dialect.driver)) or self._compile(dialect)
        many = not (parameters is None or isinstance(parameters, Mapping))
        if many and not parameters:
            raise ValueError("an executemany needs at least one set of parameters")
        bound: Any = (
            [_bound(compiled, p) for p in parameters]  # type: ignore[union-attr]
            if many
            else _bound(compiled, parameters or {})  # type: ignore[arg-type]
        )
        if _watched(conn):
            result = conn.exec_driver_sql(compiled.sql, bound)
            if not result.returns_rows:
                return _given(Rows([], result.rowcount))
            rows = _as_named([tuple(row) for row in result], tuple(result.keys()))
            return _given(Rows(rows, result.rowcount))
        if not conn.in_transaction():
            conn.begin()  # as `Connection.execute` begins one
        pipeline: Pipeline | None = conn.info.get(_PIPELINE)
        if pipeline is not None:
            pipeline.resume()
        else:
            _send_begin_if_due(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        pending = False
        try:
            if many:
                cursor.executemany(compiled.sql, bound)
            else:
                cursor.execute(compiled.sql, bound)
            if pipeline is None:
                return _given(_fetched(cursor))
            if not compiled.returns_rows:
                return _given(_SENT)  # its reply is read with the pipeline's next
            pending = True
            return functools.partial(_fetch_pending, conn, compiled.sql, bound, cursor)
        except Exception as error:
            # SQLAlchemy's own handling of a driver error: wraps it (an IntegrityError stays one), and
            # invalidates the connection if it was lost.
            conn._handle_dbapi_exception(error, compiled.sql, bound, cursor, None)
            raise  # not reached: the line above raises
        finally:
            if not pending:
                cursor.close()

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        for column in getattr(self.statement, "exported_columns", ()):  # a SELECT's or a RETURNING's
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise TypeError(f"a prepared statement's rows need no result processing; {column} does")
        # The names in the SQL text; an anonymous parameter (`id = 1`) is named there as `id_1`.
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = compiled.positiontup if dialect.positional else list(by_name)
        escaped = compiled.escaped_bind_names or {}
        binds = []
        for name in names or ():
            bind = by_name[name]
            if bind.expanding:
                raise TypeError("a prepared statement takes no expanding parameters")
            fixed = _NO_VALUE if bind.required else bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((bind.key, escaped.get(name, name), fixed, processor))
        returns_rows = bool(compiled.effective_returning) or not (
            compiled.isinsert or compiled.isupdate or compiled.isdelete
        )
        prepared = _Compiled(compiled.string, dialect.positional, tuple(binds), returns_rows)
        self._by_dialect[(dialect.name, dialect.driver)] = prepared
        return prepared


_SENT = Rows([], -1)  # a pipelined statement's: its row count is not known when it is sent


def _given(rows: Rows) -> Callable[[], Rows]:
    return lambda: rows


def _fetched(cursor: Any, *, pipelined: bool = False) -> Rows:
    """The rows of the cursor's statement, fetched whole. A pipelined statement's are waited for
    here: only then is there a description."""
    rows = cursor.fetchall() if pipelined or cursor.description else []
    return Rows(_as_named(rows, tuple(d[0] for d in cursor.description or ())), cursor.rowcount)


def _fetch_pending(conn: Connection, sql: str, bound: Any, cursor: Any) -> Rows:
    try:
        return _fetched(cursor, pipelined=True)
    except Exception as error:
        conn._handle_dbapi_exception(error, sql, bound, cursor, None)
        raise  # not reached: the line above raises
    finally:
        cursor.close()


def _watched(conn: Connection) -> bool:
    """Whether something listens to the engine's statements, and must see each as it is sent."""
    return bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute or conn.engine.echo)


class Pipeline:
    """A transaction's prepared statements sent in psycopg's pipeline mode, each reply read only when
    needed: a statement's rows when it returns some (everything sent before it is then answered too),
    the rest when the pipeline waits (`wait()`, and when it closes). A command's writes, whose replies
    say nothing but "done", thus cost the server one round trip together instead of one each.

    SQLAlchemy's own execution reads a statement's result as soon as it sends it, which pipeline
    mode does not give: before such a statement the pipeline waits and leaves pipeline mode, and the
    next prepared statement enters it again. A failed statement's error is raised where the pipeline
    waits (at the latest when it closes), wrapped as SQLAlchemy wraps it, and every statement after it
    in the pipeline is skipped: the transaction must be rolled back, as after any failed statement."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._mode: AbstractContextManager[Any] | None = None  # psycopg's, while in pipeline mode
        self.committed = False

    def resume(self) -> None:
        self.refuse_if_committed()
        if self._mode is None:
            mode = self._conn.connection.dbapi_connection.pipeline()  # type: ignore[union-attr]
            mode.__enter__()
            self._mode = mode
        _send_begin_if_due(self._conn)  # not waited for: it goes with the statement that follows

    def wait(self) -> None:
        """Read every reply still due, raising the first error among them, and leave pipeline mode."""
        mode, self._mode = self._mode, None
        if mode is None:
            return
        try:
            mode.__exit__(None, None, None)
        except self._conn.dialect.loaded_dbapi.Error as error:
            self._conn._handle_dbapi_exception(error, "(statements sent in a pipeline)", {}, None, None)

    def commit(self) -> None:
        """Send COMMIT behind every statement still unanswered, then wait for all of them: one round
        trip where waiting and then committing take two, and on PostgreSQL the transaction's row
        locks are let go that much sooner. If a statement before it failed, the server skips the
        COMMIT, the error is raised, and the transaction is rolled back as after any failure."""
        self.resume()
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            # Never as a prepared statement of the server's, which psycopg makes of a query it sees often.
            cursor.execute("COMMIT", prepare=False)
        except Exception as error:
            self._conn._handle_dbapi_exception(error, "COMMIT", {}, cursor, None)
        finally:
            cursor.close()
        self.committed = True
        self.wait()

    def refuse_if_committed(self) -> None:
        """A statement after the pipeline's COMMIT would begin a transaction of its own, which the
        caller's would then commit unseen: it is a mistake, and refused."""
        if self.committed:
            raise InvalidRequestError("the transaction was committed in its pipeline; nothing more may go")

    def abandon(self, error: BaseException) -> None:
        """Leave pipeline mode after `error`, which is what the caller raises."""
        mode, self._mode = self._mode, None
        if mode is not None:
            mode.__exit__(type(error), error, error.__traceback__)


# Engines whose SQLAlchemy statements first make an open pipeline wait and send a BEGIN still due.
_ENGINES_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _watch_sqlalchemy_statements(engine: Engine) -> None:
    if engine not in _ENGINES_WATCHED:
        event.listen(engine, "before_execute", _before_sqlalchemy_statement)
        _ENGINES_WATCHED.add(engine)


@dataclass
class Precondition:
    """A statement that a transaction sends right behind its BEGIN and that fails, failing the
    transaction, unless what it checks holds: in a pipeline it costs no wait of its own, and its error,
    being the transaction's first, is the one raised. `sent` says whether a transaction sent it.
    `sql` takes `parameters` in the driver's own style (psycopg's `%s`)."""

    sql: str
    parameters: tuple[Any, ...]
    sqlstate: str  # the error it fails with
    sent: bool = False

    def failed_with(self, error: BaseException) -> bool:
        return getattr(getattr(error, "orig", None), "sqlstate", None) == self.sqlstate


class PreconditionFailed(Exception):
    """A transaction's `Precondition` did not hold: it was rolled back."""


@contextmanager
def begin_with_first_statement(conn: Connection, precondition: Precondition | None = None) -> Iterator[None]:
    """The transaction that `conn` begins inside (before any statement) sends its BEGIN just ahead of
    its first statement: in a `Pipeline`, together with it. psycopg, left to begin a transaction
    itself, sends BEGIN and waits for its reply before the first statement goes, even in pipeline
    mode: a round trip that carries nothing else. Here the driver is in autocommit mode for the
    block, so that it begins nothing itself, and the BEGIN is sent before whatever the transaction
    sends first: a prepared statement, in its pipeline or not, or SQLAlchemy's own statement (which
    then waits for it). A transaction that sends nothing sends no BEGIN. `precondition` goes right
    behind the BEGIN. Elsewhere (SQLite) this does nothing, and takes no precondition: the transaction
    begins as it always does."""
    if conn.dialect.driver != "psycopg":
        if precondition is not None:
            raise ValueError(f"a precondition is sent by psycopg's transactions, not {conn.dialect.driver}'s")
        yield
        return
    _watch_sqlalchemy_statements(conn.engine)
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.info[_BEGIN_DUE] = precondition or True
    try:
        yield
    finally:
        conn.info.pop(_BEGIN_DUE, None)


def _send_begin_if_due(conn: Connection) -> None:
    """Send the BEGIN that `begin_with_first_statement` left due, if any, and its precondition: in
    pipeline mode they are queued with what follows; outside it, answered before this returns."""
    due = conn.info.pop(_BEGIN_DUE, None)
    if due is None:
        return
    statements: list[tuple[str, tuple[Any, ...]]] = [("BEGIN", ())]
    if isinstance(due, Precondition):
        statements.append((due.sql, due.parameters))
        due.sent = True
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for sql, parameters in statements:
            try:
                # Never as a server-side prepared statement: psycopg would make one of a query it sees often.
                cursor.execute(sql, parameters or None, prepare=False)
            except Exception as error:
                conn._handle_dbapi_exception(error, sql, parameters, cursor, None)
    finally:
        cursor.close()


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the prepared statements inside in a `Pipeline`, where the driver has one (psycopg) and
    nothing watches the engine's statements; elsewhere (SQLite) this does nothing. Every reply has
    been read when the block ends without an error."""
    if conn.dialect.driver != "psycopg" or _PIPELINE in conn.info or _watched(conn):
        yield
        return
    _watch_sqlalchemy_statements(conn.engine)
    pipeline = conn.info[_PIPELINE] = Pipeline(conn)
    try:
        yield
        pipeline.wait()
    except BaseException as error:
        pipeline.abandon(error)
        raise
    finally:
        del conn.info[_PIPELINE]


def wait_for_pipeline(conn: Connection) -> None:
    """Read the replies of every statement sent in the connection's pipeline, if it has one, raising
    the first error among them."""
    pipeline: Pipeline | None = conn.info.get(_PIPELINE)
    if pipeline is not None:
        pipeline.wait()


def commit_in_pipeline(conn: Connection) -> None:
    """Commit the connection's transaction together with the replies still due in its pipeline, if
    it has one (see `Pipeline.commit`); the transaction must then end, its `begin()` block finding
    nothing left to send, and a statement sent before it ends is refused. Without a pipeline (on
    SQLite) this does nothing: the transaction commits when its block ends."""
    pipeline: Pipeline | None = conn.info.get(_PIPELINE)
    if pipeline is not None:
        pipeline.commit()


def _before_sqlalchemy_statement(conn: Connection, *_statement: Any) -> None:
    """SQLAlchemy reads a statement's reply as soon as it sends it: whatever went before must have
    been answered, and the transaction begun."""
    pipeline: Pipeline | None = conn.info.get(_PIPELINE)
    if pipeline is not None:
        pipeline.refuse_if_committed()
        pipeline.wait()
    _send_begin_if_due(conn)


def _bound(compiled: _Compiled, parameters: Parameters) -> tuple[Any, ...] | dict[str, Any]:
    values = []
    for key, _sql_name, fixed, processor in compiled.binds:
        value = parameters[key] if fixed is _NO_VALUE else parameters.get(key, fixed)
        values.append(value if processor is None else processor(value))  # None too, as SQLAlchemy does
    if compiled.positional:
        return tuple(values)
    return {bind[1]: value for bind, value in zip(compiled.binds, values, strict=True)}


@functools.lru_cache(maxsize=256)
def _row_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns, rename=True)  # type: ignore[misc]


def _as_named(rows: list[Any], columns: tuple[str, ...]) -> list[Any]:
    if not rows:
        return []
    make = _row_type(columns)._make
    return [make(row) for row in rows]
