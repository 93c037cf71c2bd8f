"""Check the read models against the log without touching them.

Inside the caller's one read snapshot, the whole log is replayed by the projections' own code into
temporary scratch copies of the read-model tables, which are then compared with the live ones row by
row. Temporary tables belong to the connection, so writers are never blocked and nothing live changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import JSON, Connection, MetaData, String, Table, Text, cast, select

from events.projections import LIVE, ReadModels
from events.rebuild import replay
from events.store import EventStore

# Scratch names differ from the live ones: an unqualified name finds a temporary table first on both
# databases, and a scratch table must never hide a live one.
SCRATCH_PREFIX = "verify_"
# Rows fetched at a time from each side of a comparison: memory stays flat whatever the table size.
FETCH_ROWS = 1000


class DifferenceKind(enum.Enum):
    MISSING = "missing in live"  # the log projects the row, the live table lacks it
    EXTRA = "extra in live"  # the live table holds a row the log does not project
    DIFFERS = "differs"


@dataclass(frozen=True, slots=True)
class Difference:
    table: str
    key: dict[str, Any]  # primary-key column -> value
    kind: DifferenceKind
    columns: tuple[str, ...] = ()  # for DIFFERS: the columns whose stored values disagree

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value}" for name, value in self.key.items())
        detail = f" in {', '.join(self.columns)}" if self.columns else ""
        return f"{self.table} ({key}): {self.kind.value}{detail}"


@dataclass(frozen=True, slots=True)
class ReadModelCheck:
    replayed: int  # events replayed from the log
    compared: int  # distinct rows (by primary key) looked at, live and replayed together
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(
    conn: Connection, store: EventStore, *, progress: Callable[[int], None] | None = None
) -> ReadModelCheck:
    """Replay the log into scratch tables and compare them with the live read models.

    `conn` must be in one read transaction (`Database.read()`): live rows and the replayed log are then
    seen at the same point, and the scratch tables vanish with its rollback should anything fail.
    """
    scratch = scratch_read_models()
    for table in scratch.tables():
        table.create(conn, checkfirst=False)
    replayed = replay(conn, store, scratch, progress=progress)
    compared, differences = 0, list[Difference]()
    for live_table, scratch_table in zip(LIVE.tables(), scratch.tables(), strict=True):
        table_compared, table_differences = _compare(conn, live_table, scratch_table)
        compared += table_compared
        differences.extend(table_differences)
    # Were the caller to commit, they would live on with the pooled connection: drop them explicitly.
    for table in reversed(scratch.tables()):
        table.drop(conn, checkfirst=False)
    return ReadModelCheck(replayed=replayed, compared=compared, differences=differences)


def scratch_read_models() -> ReadModels:
    """Temporary copies of the live read models: the same columns and primary keys, no named indexes
    (on PostgreSQL an index name is taken schema-wide, and a scratch table needs none)."""
    metadata = MetaData()

    def copy(table: Table) -> Table:
        return Table(
            SCRATCH_PREFIX + table.name,
            metadata,
            *(column._copy() for column in table.columns),
            prefixes=["TEMPORARY"],
        )

    return ReadModels(**{f.name: copy(getattr(LIVE, f.name)) for f in fields(ReadModels)})


def _compare(conn: Connection, live: Table, scratch: Table) -> tuple[int, list[Difference]]:
    """Merge the two tables in primary-key order; returns the rows looked at and how they differ."""
    key_names = [column.name for column in live.primary_key.columns]
    value_names = [column.name for column in live.columns if column.name not in key_names]
    compared, differences = 0, list[Difference]()
    with (
        closing(_rows_by_key(conn, live)) as live_rows,
        closing(_rows_by_key(conn, scratch)) as replayed_rows,
    ):
        live_row, replayed_row = next(live_rows, None), next(replayed_rows, None)
        while live_row is not None or replayed_row is not None:
            compared += 1
            if live_row is not None and (replayed_row is None or live_row[0] < replayed_row[0]):
                differences.append(_difference(live, key_names, live_row[0], DifferenceKind.EXTRA))
                live_row = next(live_rows, None)
            elif replayed_row is not None and (live_row is None or replayed_row[0] < live_row[0]):
                differences.append(_difference(live, key_names, replayed_row[0], DifferenceKind.MISSING))
                replayed_row = next(replayed_rows, None)
            else:  # the same key on both sides
                assert live_row is not None and replayed_row is not None
                changed = tuple(
                    name
                    for name, live_value, replayed_value in zip(
                        value_names, live_row[1], replayed_row[1], strict=True
                    )
                    if live_value != replayed_value
                )
                if changed:
                    differences.append(
                        _difference(live, key_names, live_row[0], DifferenceKind.DIFFERS, changed)
                    )
                live_row, replayed_row = next(live_rows, None), next(replayed_rows, None)
    return compared, differences


def _difference(
    table: Table,
    key_names: list[str],
    key: tuple[Any, ...],
    kind: DifferenceKind,
    columns: tuple[str, ...] = (),
) -> Difference:
    return Difference(table.name, dict(zip(key_names, key, strict=True)), kind, columns)


def _rows_by_key(conn: Connection, table: Table) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(primary key, other values) in primary-key order, fetched a chunk at a time. JSON columns come
    as the text stored: a replay must give the same bytes, key order included, not merely equal values.
    """
    keys = list(table.primary_key.columns)
    values = [column for column in table.columns if not column.primary_key]
    selected = [cast(c, Text) if isinstance(c.type, JSON) else c for c in values]
    query = (
        select(*keys, *selected)
        .order_by(*(_in_code_point_order(conn, key) for key in keys))
        .execution_options(yield_per=FETCH_ROWS)
    )
    result = conn.execute(query)
    try:
        for row in result:
            yield tuple(row[: len(keys)]), tuple(row[len(keys) :])
    finally:
        # An open cursor would keep SQLite from dropping the scratch table afterwards.
        result.close()


def _in_code_point_order(conn: Connection, column: Any) -> Any:
    """The merge compares keys in Python, so the database must sort strings as Python does: by code
    point. SQLite's default (BINARY, UTF-8 bytes) does; PostgreSQL's locale collation may not."""
    if conn.dialect.name == "postgresql" and isinstance(column.type, String):
        return column.collate("C")
    return column
