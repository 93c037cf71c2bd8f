"""Statements that every command runs, compiled once per dialect and sent as their SQL text.

`Connection.execute(statement)` computes the statement's cache key, looks the compiled form up and
processes the parameters on every call: for the short statements of a command that costs more CPU
than the database takes to run them, and on SQLite the write lock is held meanwhile. A `Prepared`
statement is compiled by SQLAlchemy once per dialect and sent with `Connection.exec_driver_sql`, which
still runs in the connection's transaction, fires its events and wraps driver errors (an
`IntegrityError` stays one). Each parameter goes through its column type's own bind processor, as
SQLAlchemy would send it.

Only for statements whose rows need no result processing (no JSON or date columns read back) and
whose parameters are plain (no expanding IN lists); `Prepared` refuses any other when compiling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Parameters = Mapping[str, Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # (name the caller gives, name in the SQL, fixed value if the caller gives none, bind processor)
    binds: tuple[tuple[str, str, Any, Callable[[Any], Any] | None], ...]


_NO_VALUE = object()


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def execute(
        self, conn: Connection, parameters: Parameters | Sequence[Parameters] | None = None
    ) -> CursorResult[Any]:
        """One set of parameters, or a non-empty list of them: SQLAlchemy sends a list of one as a
        single execute, a longer one as an executemany (no RETURNING then)."""
        dialect = conn.dialect
        compiled = self._by_dialect.get((dialect.name, dialect.driver)) or self._compile(dialect)
        if parameters is None or isinstance(parameters, Mapping):
            return conn.exec_driver_sql(compiled.sql, _bound(compiled, parameters or {}))
        if not parameters:
            raise ValueError("an executemany needs at least one set of parameters")
        many: Any = [_bound(compiled, p) for p in parameters]
        return conn.exec_driver_sql(compiled.sql, many)

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
        prepared = _Compiled(compiled.string, dialect.positional, tuple(binds))
        self._by_dialect[(dialect.name, dialect.driver)] = prepared
        return prepared


def _bound(compiled: _Compiled, parameters: Parameters) -> tuple[Any, ...] | dict[str, Any]:
    values = []
    for key, _sql_name, fixed, processor in compiled.binds:
        value = parameters[key] if fixed is _NO_VALUE else parameters.get(key, fixed)
        values.append(value if processor is None else processor(value))  # None too, as SQLAlchemy does
    if compiled.positional:
        return tuple(values)
    return {bind[1]: value for bind, value in zip(compiled.binds, values, strict=True)}
