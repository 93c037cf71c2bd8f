"""Read models projected from the log, in the same transaction as the append, and rebuilt from it.

The live path projects the one or few events a command appended; a rebuild replays the whole log,
stream by stream. Both fold events into rows and counters with the same functions
(`apply_to_candidacy_row`, `_Tally`), so a rebuilt table is what the live one would be. The tables
written are given (`ReadModels`): the live ones, or scratch copies that a verification replays into
and compares with them.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from domain.calendar import day_of
from domain.candidacy import ACTION_OF_EVENT
from domain.lifecycle import CLOSING_STAGES, Stage, next_stage
from domain.performance import quarter_of
from events import schema
from events.prepared import Prepared
from events.store import EventStore, RecordedEvent, parse_timestamp
from events.types import CandidacyDesignated, CandidacyProposed, TargetSet

CANDIDACY_STREAM = "candidacy"
TARGET_STREAM = "target"
_NO_ROWS: Mapping[str, dict[str, Any] | None] = MappingProxyType({})

_ACTION_BY_TYPE = {cls.type_name: action for cls, action in ACTION_OF_EVENT.items()}

# Which stage object of the case each event fills in.
_STAGE_COLUMN = {
    "CandidacyCoordinated": "coordinated",
    "CandidacySocialized": "socialized",
    "CandidacyAssessed": "assessed",
    "CandidacyDesignated": "designated",
}
_CLOSING_OUTCOME = {"CandidacyRejected": "rejected", "CandidacyWithdrawn": "withdrawn"}
_CLOSING_STAGES = frozenset(stage.value for stage in CLOSING_STAGES)


@dataclass(frozen=True, slots=True)
class ReadModels:
    """The tables the projections write: the live ones, or copies with the same columns and keys."""

    candidacies: Table
    pipeline_counts: Table
    stage_changes: Table
    stage_levels: Table
    designations: Table
    designation_days: Table
    closings: Table
    targets: Table
    target_history: Table

    def tables(self) -> tuple[Table, ...]:
        return tuple(getattr(self, field.name) for field in fields(self))


LIVE = ReadModels(
    candidacies=schema.candidacies,
    pipeline_counts=schema.pipeline_counts,
    stage_changes=schema.stage_changes,
    stage_levels=schema.stage_levels,
    designations=schema.designations,
    designation_days=schema.designation_days,
    closings=schema.closings,
    targets=schema.targets,
    target_history=schema.target_history,
)


class Projection(Protocol):
    tables: Sequence[Table]

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None: ...


@dataclass(frozen=True, slots=True)
class _RowState:
    """The lifecycle guards read from a read-model row."""

    stage: Stage
    assessment_met_criteria: bool


def apply_to_candidacy_row(row: dict[str, Any] | None, event: RecordedEvent) -> dict[str, Any]:
    """The candidacy row after `event`; pure, so the live path and a rebuild agree by construction."""
    stamp = {
        "at": event.recorded_at,
        "by": {"username": event.actor_username, "name": event.actor_name, "role": event.actor_role},
    }
    if event.type == CandidacyProposed.type_name:
        village = event.data["village"]
        return {
            "id": event.stream_id,
            "stage": Stage.PROPOSED.value,
            "version": event.version,
            "village_code": village["code"],
            "village_name": village["name"],
            "district_name": village.get("district"),
            "regency_name": village.get("regency"),
            "province_name": village.get("province"),
            "office_code": event.data["office_code"],
            "region_code": event.data["region_code"],
            "proposed_year": day_of_timestamp(event.recorded_at).year,
            "proposed_position": event.position,
            "rationale": event.data["rationale"],
            "indicators": event.data["indicators"],
            "proposed": stamp,
            "coordinated": None,
            "socialized": None,
            "assessed": None,
            "designated": None,
            "closed": None,
            "returned": None,
            "updated_at": event.recorded_at,
            "last_position": event.position,
        }
    if row is None:
        raise ValueError(f"event {event.position} continues candidacy {event.stream_id}, never proposed")
    state = _RowState(Stage(row["stage"]), bool((row["assessed"] or {}).get("meets_criteria")))
    updated = dict(row)
    updated["stage"] = next_stage(state, _ACTION_BY_TYPE[event.type]).value
    updated.update(version=event.version, updated_at=event.recorded_at, last_position=event.position)
    if event.type in _STAGE_COLUMN:
        updated[_STAGE_COLUMN[event.type]] = {**stamp, **event.data}
    elif event.type in _CLOSING_OUTCOME:
        updated["closed"] = {**stamp, "outcome": _CLOSING_OUTCOME[event.type], **event.data}
    elif event.type == "CandidacyReturned":
        updated["returned"] = {**stamp, **event.data, "assessment": row["assessed"]}
        updated["assessed"] = None
    return updated


def case_row_of(history: Sequence[RecordedEvent]) -> dict[str, Any]:
    """A case's row folded from its stream, first event to last: what the projection has written."""
    row: dict[str, Any] | None = None
    for recorded in history:
        row = apply_to_candidacy_row(row, recorded)
    if row is None:
        raise ValueError("a case's row needs at least its proposal")
    return row


def recorded_day(recorded: RecordedEvent) -> str:
    return _iso_day_of_hour(recorded.recorded_at[:13])


def day_of_timestamp(timestamp: str) -> dt.date:
    """The system day of a stored UTC timestamp. The system zone is a whole number of hours from UTC,
    so the date and hour decide the day: worked out once per hour seen, not once per event."""
    return _day_of_hour(timestamp[:13])


@functools.lru_cache(maxsize=8192)
def _iso_day_of_hour(date_and_hour: str) -> str:
    # One string per day seen: a rebuild holds a day's changes under it for every office and stage.
    return _day_of_hour(date_and_hour).isoformat()


@functools.lru_cache(maxsize=8192)
def _day_of_hour(date_and_hour: str) -> dt.date:
    return day_of(parse_timestamp(f"{date_and_hour}:00:00.000000Z"))


def designation_row(case: dict[str, Any], recorded: RecordedEvent) -> dict[str, Any]:
    """The register's row for a case just designated: the decree and everyone who took it there."""

    def person(stage: dict[str, Any]) -> dict[str, Any]:
        return {**stage["by"], "at": stage["at"]}

    decree_date = dt.date.fromisoformat(recorded.data["decree_date"])
    proposed_day = day_of_timestamp(case["proposed"]["at"])
    return {
        "candidacy_id": case["id"],
        "position": recorded.position,
        "village_code": case["village_code"],
        "village_name": case["village_name"],
        "district_name": case["district_name"],
        "regency_name": case["regency_name"],
        "province_name": case["province_name"],
        "office_code": case["office_code"],
        "region_code": case["region_code"],
        "decree_number": recorded.data["decree_number"],
        "decree_date": decree_date.isoformat(),
        "decree_year": decree_date.year,
        "quarter": quarter_of(decree_date),
        "fostering_officers": recorded.data["fostering_officers"],
        "proposed_by": person(case["proposed"]),
        "coordinated_by": person(case["coordinated"]),
        "socialized_by": person(case["socialized"]),
        "assessed_by": person(case["assessed"]),
        "approved_by": person(case["designated"]),
        "recorded_day": recorded_day(recorded),
        "days_to_designation": (decree_date - proposed_day).days,
    }


@dataclass(slots=True)
class _Tally:
    """What candidacy events add to the per-office counters and to the register, until written."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    changes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    register: list[dict[str, Any]] = field(default_factory=list)
    # (office, decree year, quarter) -> the days to designation of its new designations
    designated_days: defaultdict[tuple[str, int, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def apply(self, before: dict[str, Any] | None, recorded: RecordedEvent) -> dict[str, Any]:
        """The case's row after `recorded`, its move from one stage to the next counted."""
        after = apply_to_candidacy_row(before, recorded)
        office, day = after["office_code"], recorded_day(recorded)
        if before is not None:
            self.counts[(office, before["stage"])] -= 1
            self.changes[(office, day, before["stage"])] -= 1
        self.counts[(office, after["stage"])] += 1
        self.changes[(office, day, after["stage"])] += 1
        if recorded.type == CandidacyDesignated.type_name:
            row = designation_row(after, recorded)
            self.register.append(row)
            self.designated_days[(office, row["decree_year"], row["quarter"])].append(
                row["days_to_designation"]
            )
        return after

    def write_counts(
        self, conn: Connection, models: ReadModels, *, read_back: bool = True
    ) -> dict[tuple[str, str], int]:
        """Add the counts to the pipeline counters. With `read_back`, returns what each counter written
        holds before the addition, read from what the upsert returns (no statement of its own inside
        the write lock); without it, returns nothing and the upsert returns nothing to wait for."""
        rows = [{"office_code": o, "stage": st, "cases": n} for (o, st), n in sorted(self.counts.items())]
        before: dict[tuple[str, str], int] = {}
        dialect, table = conn.dialect.name, models.pipeline_counts
        if not read_back:
            _add_to_counters(conn, table, "cases", rows)
            self.counts.clear()
            return before
        returned: Iterable[Any] = ()
        if 0 < len(rows) <= _FEW_ROWS:
            upsert = _prepared_counter_upsert(dialect, table, "cases", len(rows), returning=True)
            returned = upsert.execute(conn, _numbered(rows))
        elif rows:
            returned = conn.execute(_counter_upsert(dialect, table, "cases", returning=True), rows)
        for office, stage, cases in returned:
            before[(office, stage)] = cases - self.counts[(office, stage)]
        self.counts.clear()
        return before

    def write_changes(self, conn: Connection, models: ReadModels) -> None:
        write_daily_changes(conn, models, sorted(self.changes.items()))
        self.changes.clear()

    def write_register(self, conn: Connection, models: ReadModels) -> None:
        _insert_rows(conn, models.designations, self.register)
        self.register.clear()

    def write_designation_days(self, conn: Connection, models: ReadModels) -> None:
        """Merge the new days into each key's stored ones, kept in ascending order: the same row
        whether its designations came one command at a time or all at once in a rebuild."""
        if not self.designated_days:
            return
        table = models.designation_days
        offices = sorted({office for office, _year, _quarter in self.designated_days})
        if len(offices) == 1:  # a command's
            found: Iterable[Any] = _designation_days_of_office(table).execute(conn, {"office": offices[0]})
        else:
            found = conn.execute(_select_designation_days(table), {"offices": offices})
        stored = {(office, year, quarter): days for office, year, quarter, days in found}
        rows = []
        for (office, year, quarter), new_days in sorted(self.designated_days.items()):
            earlier = stored.get((office, year, quarter))
            days = sorted([*(map(int, earlier.split(",")) if earlier else ()), *new_days])
            rows.append(
                {
                    "office_code": office,
                    "decree_year": year,
                    "quarter": quarter,
                    "designated": len(days),
                    "days": ",".join(map(str, days)),
                }
            )
        if len(rows) <= _FEW_ROWS:
            upsert = _prepared_replacing_upsert(conn.dialect.name, table, ("designated", "days"), len(rows))
            upsert.execute(conn, _numbered(rows))
        else:
            conn.execute(_replacing_upsert(conn.dialect.name, table, ("designated", "days")), rows)
        self.designated_days.clear()


def write_daily_changes(
    conn: Connection,
    models: ReadModels,
    changes: Iterable[tuple[tuple[str, str, str], int]],
    per_statement: int = 20_000,
) -> None:
    """Add ((office, day, stage), delta) changes, in key order, to the daily changes, and those of the
    closing stages, summed per year, to the closings: what each key's days add up to, whichever runs
    they were written in. Written `per_statement` rows at a time, so that a rebuild's hundreds of
    thousands of keys never stand in memory as rows all at once."""
    closed: Counter[tuple[str, int, str]] = Counter()
    changes = iter(changes)
    while part := list(itertools.islice(changes, per_statement)):
        rows = [{"office_code": o, "day": d, "stage": st, "delta": n} for (o, d, st), n in part]
        _add_to_counters(conn, models.stage_changes, "delta", rows)
        for (office, day, stage), delta in part:
            if stage in _CLOSING_STAGES:
                closed[(office, int(day[:4]), stage)] += delta
    closings = [
        {"office_code": o, "year": y, "stage": st, "cases": n} for (o, y, st), n in sorted(closed.items())
    ]
    _add_to_counters(conn, models.closings, "cases", closings)


class CandidacyProjection:
    """Cases, the pipeline per office (now and per day) and the designation register."""

    def __init__(self, models: ReadModels = LIVE) -> None:
        self.models = models
        self.tables = (
            models.candidacies,
            models.pipeline_counts,
            models.stage_changes,
            models.stage_levels,
            models.designations,
            models.designation_days,
            models.closings,
        )

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        self.project_cases(conn, batch)

    def project_cases(
        self,
        conn: Connection,
        batch: Sequence[RecordedEvent],
        rows_before: Mapping[str, dict[str, Any] | None] = _NO_ROWS,
    ) -> dict[str, dict[str, Any]]:
        """Project `batch`; returns the case rows written, by id, as a read of them would give them.

        `rows_before`: the rows of streams the caller read in this transaction, folded from their
        events as a rebuild folds them (`case_row_of`), None for a new stream: not read again.
        """
        relevant = [e for e in batch if e.stream_type == CANDIDACY_STREAM]
        if not relevant:
            return {}
        candidacies = self.models.candidacies
        ids = list(dict.fromkeys(e.stream_id for e in relevant))
        existing = {i: row for i in ids if (row := rows_before.get(i)) is not None}
        unread = [i for i in ids if i not in rows_before]
        if unread:
            existing.update((row["id"], dict(row)) for row in _cases_by_id(conn, candidacies, unread))
        rows: dict[str, dict[str, Any]] = dict(existing)
        tally = _Tally()
        for recorded in relevant:
            rows[recorded.stream_id] = tally.apply(rows.get(recorded.stream_id), recorded)
        self._write_cases(conn, ids, existing, rows)
        self._write_counts_and_levels(conn, tally)
        tally.write_changes(conn, self.models)
        tally.write_register(conn, self.models)
        tally.write_designation_days(conn, self.models)
        return {case_id: rows[case_id] for case_id in ids}

    def _write_counts_and_levels(self, conn: Connection, tally: _Tally) -> None:
        """Add to the pipeline counters, and give each (office, stage) changed on a day that day's
        closing count. When every change falls on one day, as a command's do, a key's closing count is
        its counter's new value: the database copies it from the counter it has just added to, and
        nothing is read back (on PostgreSQL the command's writes then go unwaited, with its COMMIT)."""
        keys = sorted({(office, stage) for office, _day, stage in tally.changes})
        days = {day for _office, day, _stage in tally.changes}
        if len(days) == 1 and len(keys) <= _FEW_ROWS:
            tally.write_counts(conn, self.models, read_back=False)
            levels = _levels_from_counters(
                conn.dialect.name, self.models.stage_levels, self.models.pipeline_counts, len(keys)
            )
            keyed = _numbered([{"office_code": office, "stage": stage} for office, stage in keys])
            levels.execute(conn, {"day": days.pop(), **keyed})
        else:
            self._write_levels(conn, tally.changes, tally.write_counts(conn, self.models))

    def _write_levels(
        self, conn: Connection, changes: Counter[tuple[str, str, str]], before: dict[tuple[str, str], int]
    ) -> None:
        """Each (office, stage) changed on a day gets that day's closing count: the count before the
        batch plus the day's changes, day after day. Every key the live path writes one event at a
        time, a batch writes too, with the same count."""
        level = {(office, stage): before[(office, stage)] for office, _day, stage in changes}
        rows = []
        for (office, day, stage), delta in sorted(changes.items(), key=lambda item: item[0][1]):
            level[(office, stage)] += delta
            rows.append({"office_code": office, "stage": stage, "day": day, "cases": level[(office, stage)]})
        levels, dialect = self.models.stage_levels, conn.dialect.name
        if 0 < len(rows) <= _FEW_ROWS:
            _prepared_replacing_upsert(dialect, levels, ("cases",), len(rows)).execute(conn, _numbered(rows))
        elif rows:
            conn.execute(_replacing_upsert(dialect, levels, ("cases",)), rows)

    def _write_cases(
        self, conn: Connection, ids: list[str], existing: dict[str, Any], rows: dict[str, dict[str, Any]]
    ) -> None:
        candidacies = self.models.candidacies
        changed = [rows[i] for i in ids if i in existing]
        added = [rows[i] for i in ids if i not in existing]
        # Updates first: a village released in this batch may be proposed again in the same batch.
        # Each row sets only the columns its events changed: a case's JSON columns (what each step
        # recorded) are otherwise encoded, sent and stored again on every step.
        by_columns: defaultdict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in changed:
            before = existing[row["id"]]
            columns = tuple(k for k, v in row.items() if k != "id" and (k not in before or before[k] != v))
            if columns:
                by_columns[columns].append({**{k: row[k] for k in columns}, "row_id": row["id"]})
        for columns, keyed in by_columns.items():
            _update_cases(candidacies, columns).execute(conn, keyed)
        _insert_rows(conn, candidacies, added)


def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if 0 < len(rows) <= _FEW_ROWS:
        _prepared_insert(conn.dialect.name, table, len(rows)).execute(conn, _numbered(rows))
    elif rows:
        conn.execute(_insert(table), rows)


def _add_to_counters(conn: Connection, table: Table, column: str, rows: list[dict[str, Any]]) -> None:
    """Add each row's count to the stored one (insert if new). Keys that net to zero are still
    written, so that a rebuild in large batches leaves the rows the live path left one by one."""
    if 0 < len(rows) <= _FEW_ROWS:
        _prepared_counter_upsert(conn.dialect.name, table, column, len(rows)).execute(conn, _numbered(rows))
    elif rows:
        conn.execute(_counter_upsert(conn.dialect.name, table, column), rows)


# A command writes a row or two to each read model: those go `Prepared`, as one statement whose VALUES
# list holds exactly its rows (an executemany costs PostgreSQL's driver a pipeline of statements). A
# batch (a rebuild writes thousands per statement) goes through SQLAlchemy, whose "insertmanyvalues"
# batches the rows.
_FEW_ROWS = 4


def _numbered(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows' values as the parameters of a `_values_for` statement: `stage_0`, `stage_1`..."""
    return {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}


def _values_for(dialect_name: str, table: Table, rows: int) -> Insert:
    """The dialect's INSERT into `table`: for any number of rows if `rows` is 0, else for exactly
    `rows` rows of every column, as one VALUES list whose parameters `_numbered` names."""
    statement = (sqlite if dialect_name == "sqlite" else postgresql).insert(table)
    if rows:
        # Typed as their columns, so that a JSON value is encoded as SQLAlchemy encodes it.
        statement = statement.values(
            [{c.name: bindparam(f"{c.name}_{i}", type_=c.type) for c in table.columns} for i in range(rows)]
        )
    return statement


# Statements built once per table (live or scratch): building them per command cost more CPU than
# running them. Scratch tables come and go with `projections verify`, hence the bounded caches.
@functools.lru_cache(maxsize=64)
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.lru_cache(maxsize=64)
def _select_cases(table: Table) -> Select[Any]:
    return select(table).where(table.c.id.in_(bindparam("ids", expanding=True)))


# The sizes an id lookup is padded to. Each distinct length of an IN list is another statement in the
# driver's cache; a rebuild's batches of every length up to 5,000 kept SQLite's cache growing by
# hundreds of megabytes.
_LOOKUP_SIZES = (1, 8, 64, 512)


def _cases_by_id(conn: Connection, table: Table, ids: list[str]) -> list[Any]:
    rows: list[Any] = []
    largest = _LOOKUP_SIZES[-1]
    for start in range(0, len(ids), largest):
        chunk = ids[start : start + largest]
        size = next(s for s in _LOOKUP_SIZES if s >= len(chunk))
        padded = chunk + [chunk[-1]] * (size - len(chunk))  # a repeated id matches nothing new
        rows += conn.execute(_select_cases(table), {"ids": padded}).mappings().all()
    return rows


@functools.lru_cache(maxsize=256)  # a few column sets per kind of step
def _update_cases(table: Table, columns: tuple[str, ...]) -> Prepared:
    return Prepared(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in columns})
    )


@functools.lru_cache(maxsize=64)
def _select_designation_days(table: Table) -> Select[Any]:
    return select(table.c.office_code, table.c.decree_year, table.c.quarter, table.c.days).where(
        table.c.office_code.in_(bindparam("offices", expanding=True))
    )


@functools.lru_cache(maxsize=64)
def _designation_days_of_office(table: Table) -> Prepared:
    return Prepared(
        select(table.c.office_code, table.c.decree_year, table.c.quarter, table.c.days).where(
            table.c.office_code == bindparam("office")
        )
    )


@functools.lru_cache(maxsize=256)
def _prepared_insert(dialect_name: str, table: Table, rows: int) -> Prepared:
    """An INSERT of exactly `rows` rows of every column, for the few rows of one command."""
    return Prepared(_values_for(dialect_name, table, rows))


@functools.lru_cache(maxsize=256)
def _replacing_upsert(dialect_name: str, table: Table, columns: tuple[str, ...], rows: int = 0) -> Insert:
    """The row's `columns` replace what is stored under its key: a day's closing count replaces what an
    earlier event of the same day left; a quarter's merged days replace the days before. `rows`: as
    `_values_for`."""
    statement = _values_for(dialect_name, table, rows)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={column: statement.excluded[column] for column in columns},
    )


@functools.lru_cache(maxsize=64)
def _levels_from_counters(dialect_name: str, levels: Table, counts: Table, keys: int) -> Prepared:
    """On one day (`day`), the level of each of `keys` (office, stage) keys (`office_code_0`,
    `stage_0`...) becomes its pipeline counter's value, replacing what an earlier event that day left."""
    office, stage = counts.c.office_code, counts.c.stage
    wanted = [(bindparam(f"office_code_{i}"), bindparam(f"stage_{i}")) for i in range(keys)]
    chosen = or_(*(and_(office == office_i, stage == stage_i) for office_i, stage_i in wanted))
    day = bindparam("day", type_=levels.c.day.type)
    copied = select(office, stage, day, counts.c.cases).where(chosen)
    statement = (sqlite if dialect_name == "sqlite" else postgresql).insert(levels)
    statement = statement.from_select(["office_code", "stage", "day", "cases"], copied)
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=list(levels.primary_key.columns), set_={"cases": statement.excluded.cases}
        )
    )


@functools.lru_cache(maxsize=256)
def _prepared_replacing_upsert(
    dialect_name: str, table: Table, columns: tuple[str, ...], rows: int
) -> Prepared:
    """The same upsert, for the few rows of one command."""
    return Prepared(_replacing_upsert(dialect_name, table, columns, rows))


@functools.lru_cache(maxsize=256)
def _counter_upsert(
    dialect_name: str, table: Table, column: str, rows: int = 0, *, returning: bool = False
) -> Insert:
    """Each row's `column` is added to the stored count (inserted if new). `rows`: as `_values_for`.
    `returning`: the statement gives back each key's new count; for many rows, SQLAlchemy's
    "insertmanyvalues" still sends one statement, on SQLite and PostgreSQL alike."""
    statement = _values_for(dialect_name, table, rows)
    upsert = statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={column: table.c[column] + statement.excluded[column]},
    )
    if returning:
        return upsert.returning(*(c for c in table.primary_key.columns), table.c[column])
    return upsert


@functools.lru_cache(maxsize=256)
def _prepared_counter_upsert(
    dialect_name: str, table: Table, column: str, rows: int, *, returning: bool = False
) -> Prepared:
    """The same upsert, for the few rows of one command."""
    return Prepared(_counter_upsert(dialect_name, table, column, rows, returning=returning))


class _CaseReplay:
    """The candidacy read models from the whole log read stream by stream, each case in version order.

    Live, every event of a case reads its row back and writes it again; a replay folds each case in
    memory, from its first event to its last, with the same functions, and writes it once. Counters add
    up the same in any order, so they are written in long runs. A day's level is the running sum of
    the daily changes up to that day, as recorded days never go back along the log: what the live
    path's closing counts come to.
    """

    # Daily change rows per statement when they are written at the end.
    CHANGES_PER_STATEMENT = 20_000

    def __init__(self, models: ReadModels) -> None:
        self.models = models
        self.tally = _Tally()
        self.case: dict[str, Any] | None = None  # its stream may run on into the next batch
        # Every daily change, held to the end: {office: {stage: {day: delta}}}. Streams come in id
        # order, so each (office, day, stage) recurs all along the log; held, each is written once
        # and in key order. Nested, with one string per day, a national log's 600,000 keys take
        # tens of megabytes.
        self.daily: defaultdict[str, defaultdict[str, Counter[str]]] = defaultdict(
            lambda: defaultdict(Counter)
        )

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        finished: list[dict[str, Any]] = []
        for recorded in batch:
            if recorded.stream_type != CANDIDACY_STREAM:
                continue
            if self.case is not None and self.case["id"] != recorded.stream_id:
                finished.append(self.case)
                self.case = None
            self.case = self.tally.apply(self.case, recorded)
        if finished:
            conn.execute(_insert(self.models.candidacies), finished)
        self.tally.write_register(conn, self.models)
        self._hold_changes()

    def _hold_changes(self) -> None:
        for (office, day, stage), delta in self.tally.changes.items():
            self.daily[office][stage][day] += delta  # a change that nets to zero is kept, as live
        self.tally.changes.clear()

    def _held_changes_in_key_order(self) -> Iterator[tuple[tuple[str, str, str], int]]:
        for office in sorted(self.daily):
            stages = self.daily.pop(office)
            keyed = [((day, stage), delta) for stage, days in stages.items() for day, delta in days.items()]
            for (day, stage), delta in sorted(keyed):
                yield (office, day, stage), delta

    def finish(self, conn: Connection) -> None:
        if self.case is not None:
            conn.execute(_insert(self.models.candidacies), [self.case])
            self.case = None
        self.tally.write_counts(conn, self.models, read_back=False)  # the levels are derived in SQL below
        self._hold_changes()
        write_daily_changes(
            conn, self.models, self._held_changes_in_key_order(), per_statement=self.CHANGES_PER_STATEMENT
        )
        self.tally.write_designation_days(conn, self.models)
        conn.execute(_levels_from_changes(self.models.stage_levels, self.models.stage_changes))


@functools.lru_cache(maxsize=64)
def _levels_from_changes(levels: Table, changes: Table) -> Insert:
    running = func.sum(changes.c.delta).over(
        partition_by=(changes.c.office_code, changes.c.stage), order_by=changes.c.day
    )
    return insert(levels).from_select(
        ["office_code", "stage", "day", "cases"],
        select(changes.c.office_code, changes.c.stage, changes.c.day, running),
    )


class TargetProjection:
    """Each office's current target per year, and its every change."""

    def __init__(self, models: ReadModels = LIVE) -> None:
        self.models = models
        self.tables = (models.targets, models.target_history)

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        relevant = [e for e in batch if e.stream_type == TARGET_STREAM and e.type == TargetSet.type_name]
        if not relevant:
            return
        targets = self.models.targets
        keys = list(dict.fromkeys((e.data["office_code"], e.data["year"]) for e in relevant))
        existing = {
            (row["office_code"], row["year"])
            for row in conn.execute(
                select(targets.c.office_code, targets.c.year).where(
                    tuple_(targets.c.office_code, targets.c.year).in_(keys)
                )
            ).mappings()
        }
        current: dict[tuple[str, int], dict[str, Any]] = {}
        history: list[dict[str, Any]] = []
        for recorded in relevant:
            set_by = {
                "username": recorded.actor_username,
                "name": recorded.actor_name,
                "role": recorded.actor_role,
            }
            key = (recorded.data["office_code"], recorded.data["year"])
            current[key] = {
                "office_code": key[0],
                "year": key[1],
                "target": recorded.data["target"],
                "basis": recorded.data["basis"],
                "version": recorded.version,
                "set_at": recorded.recorded_at,
                "set_by": set_by,
                "last_position": recorded.position,
            }
            history.append(
                {
                    "position": recorded.position,
                    "office_code": key[0],
                    "year": key[1],
                    "version": recorded.version,
                    "target": recorded.data["target"],
                    "basis": recorded.data["basis"],
                    "set_at": recorded.recorded_at,
                    "set_day": recorded_day(recorded),
                    "set_by": set_by,
                }
            )
        changed = [row for key, row in current.items() if key in existing]
        if changed:
            columns = ["target", "basis", "version", "set_at", "set_by", "last_position"]
            conn.execute(
                update(targets)
                .where(
                    targets.c.office_code == bindparam("key_office"), targets.c.year == bindparam("key_year")
                )
                .values({name: bindparam(name) for name in columns}),
                [
                    {
                        **{c: row[c] for c in columns},
                        "key_office": row["office_code"],
                        "key_year": row["year"],
                    }
                    for row in changed
                ],
            )
        added = [row for key, row in current.items() if key not in existing]
        if added:
            conn.execute(insert(targets), added)
        conn.execute(insert(self.models.target_history), history)


def projections_into(models: ReadModels) -> tuple[Projection, ...]:
    """Every projection, writing to `models`."""
    return (CandidacyProjection(models), TargetProjection(models))


_CASES = CandidacyProjection(LIVE)
_TARGETS = TargetProjection(LIVE)
PROJECTIONS: tuple[Projection, ...] = (_CASES, _TARGETS)


def project(
    conn: Connection,
    batch: Sequence[RecordedEvent],
    rows_before: Mapping[str, dict[str, Any] | None] = _NO_ROWS,
) -> dict[str, dict[str, Any]]:
    """Bring every read model up to date with events just appended, in the caller's transaction.

    `rows_before`: by stream id, the case rows of the streams the caller loaded in this transaction,
    folded from their events (`case_row_of`; None for a stream it just began), so as not to read them
    again; the caller folds them before it takes the write lock.
    Returns the case rows written, by id, as reading them back would give them: a command answers
    with its case from these, without reading it again inside the write lock.
    """
    cases = _CASES.project_cases(conn, batch, rows_before)
    _TARGETS.project(conn, batch)
    return cases


def rebuild(conn: Connection, store: EventStore, *, progress: Callable[[int], None] | None = None) -> int:
    """Empty every read model and replay the whole log into it; returns the number of events."""
    for table in LIVE.tables():
        conn.execute(delete(table))
    return replay(conn, store, LIVE, progress=progress)


def replay(
    conn: Connection,
    store: EventStore,
    models: ReadModels,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Project the whole log, stream by stream, into `models` (expected empty); returns the number of
    events. The one replay behind a rebuild and a verification."""
    cases, targets = _CaseReplay(models), TargetProjection(models)
    replayed = 0
    for batch in store.iterate_by_stream(conn):
        cases.project(conn, batch)
        # A target stream comes whole and in order, so each key's last event in a batch is its newest.
        targets.project(conn, batch)
        replayed += len(batch)
        if progress:
            progress(len(batch))
    cases.finish(conn)
    return replayed
