"""The read models, kept up to date in the same transaction as the append.

`project` brings every read model up to date with the events a command just appended: it reads the
rows they change, folds the events into them (`events.folds`) and writes them back. A rebuild
(`events.rebuild`) folds the whole log with the same functions and the same writers. The tables
written are given (`ReadModels`): the live ones, or scratch copies that a verification replays into.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from domain.events import (
    CANDIDACY_STREAM,
    OFFICE_STREAM,
    REGION_STREAM,
    TARGET_STREAM,
    USER_STREAM,
    ActivityRecorded,
    FosteringOfficersAssigned,
    OfficeChanged,
    OfficeOpened,
    RegionAdded,
    RegionRenamed,
    TargetSet,
    UserChanged,
    UserCreated,
    UserDeactivated,
    UserReactivated,
    VillageEvaluated,
    VillageReportClosed,
    VillageReportReceived,
    VillageReportVerified,
)
from domain.lifecycle import CLOSING_STAGES
from events import schema
from events.folds import Tally, recorded_day, stamp_of
from events.store import RecordedEvent

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
    users: Table
    role_grants: Table
    regions: Table
    region_history: Table
    offices: Table
    office_history: Table
    fostering_officers: Table
    officer_assignments: Table
    activities: Table
    village_reports: Table
    evaluations: Table
    case_documents: Table

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
    users=schema.users,
    role_grants=schema.role_grants,
    regions=schema.regions,
    region_history=schema.region_history,
    offices=schema.offices,
    office_history=schema.office_history,
    fostering_officers=schema.fostering_officers,
    officer_assignments=schema.officer_assignments,
    activities=schema.activities,
    village_reports=schema.village_reports,
    evaluations=schema.evaluations,
    case_documents=schema.case_documents,
)


def project(
    conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels = LIVE
) -> dict[str, dict[str, Any]]:
    """Bring every read model up to date with events just appended, in the caller's transaction.
    Returns the candidacy rows the events changed, by id, as they are now stored."""
    cases = project_cases(conn, batch, models)
    project_targets(conn, batch, models)
    project_users(conn, batch, models)
    project_organisation(conn, batch, models)
    project_fostering(conn, batch, models)
    project_case_documents(conn, batch, models)
    return cases


def project_cases(
    conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels
) -> dict[str, dict[str, Any]]:
    """Cases, the pipeline per office (now and per day) and the designation register."""
    relevant = [e for e in batch if e.stream_type == CANDIDACY_STREAM]
    if not relevant:
        return {}
    table = models.candidacies
    ids = list(dict.fromkeys(e.stream_id for e in relevant))
    found = conn.execute(_cases_by_id(table), {"ids": ids}).mappings()
    before = {row["id"]: dict(row) for row in found}
    rows = dict(before)
    tally = Tally()
    for recorded in relevant:
        rows[recorded.stream_id] = tally.apply(rows.get(recorded.stream_id), recorded)
    _write_cases(conn, table, [rows[i] for i in ids], before)
    before_counts = add_to_pipeline_counts(conn, models, tally.counts)
    write_levels(conn, models, tally.changes, before_counts)
    write_daily_changes(conn, models, sorted(tally.changes.items()))
    insert_rows(conn, models.designations, tally.register)
    write_designation_days(conn, models, tally.designated_days)
    return {case_id: rows[case_id] for case_id in ids}


def _write_cases(
    conn: Connection, table: Table, rows: list[dict[str, Any]], before: dict[str, dict[str, Any]]
) -> None:
    """Update the cases that were there, then insert the new ones (a village released by one may be
    proposed again in the same batch). An update sets only the columns its events changed."""
    for row in rows:
        if row["id"] not in before:
            continue
        old = before[row["id"]]
        changed = {k: v for k, v in row.items() if k != "id" and old.get(k) != v}
        if changed:
            conn.execute(_update_case(table, tuple(changed)), {**changed, "case_id": row["id"]})
    insert_rows(conn, table, [row for row in rows if row["id"] not in before])


def add_to_pipeline_counts(
    conn: Connection, models: ReadModels, counts: Counter[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Add the counts to the pipeline counters; returns what each counter held before."""
    rows = [{"office_code": o, "stage": st, "cases": n} for (o, st), n in sorted(counts.items())]
    if not rows:
        return {}
    table = models.pipeline_counts
    returned = conn.execute(_counter_upsert(conn.dialect.name, table, "cases", returning=True), rows)
    return {(office, stage): cases - counts[(office, stage)] for office, stage, cases in returned}


def write_levels(
    conn: Connection,
    models: ReadModels,
    changes: Counter[tuple[str, str, str]],
    before: dict[tuple[str, str], int],
) -> None:
    """Each (office, stage) changed on a day gets that day's closing count: the count before the
    batch plus the day's changes, day after day."""
    level = dict(before)
    rows = []
    for (office, day, stage), delta in sorted(changes.items(), key=lambda item: item[0][1]):
        level[(office, stage)] += delta
        rows.append({"office_code": office, "stage": stage, "day": day, "cases": level[(office, stage)]})
    if rows:
        conn.execute(_replacing_upsert(conn.dialect.name, models.stage_levels, ("cases",)), rows)


def write_daily_changes(
    conn: Connection,
    models: ReadModels,
    changes: Iterable[tuple[tuple[str, str, str], int]],
    per_statement: int = 20_000,
) -> None:
    """Add ((office, day, stage), delta) changes, in key order, to the daily changes, and those of the
    closing stages, summed per year, to the closings. Written `per_statement` rows at a time, so that
    a rebuild's hundreds of thousands of keys never stand in memory as rows all at once. Keys that net
    to zero are written too, so that a rebuild leaves the rows the live path left one by one."""
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


def write_designation_days(
    conn: Connection, models: ReadModels, designated_days: dict[tuple[str, int, str], list[int]]
) -> None:
    """Merge the new days into each key's stored ones, kept in ascending order: the same row whether
    its designations came one command at a time or all at once in a rebuild."""
    if not designated_days:
        return
    table = models.designation_days
    offices = sorted({office for office, _year, _quarter in designated_days})
    found = conn.execute(
        select(table.c.office_code, table.c.decree_year, table.c.quarter, table.c.days).where(
            table.c.office_code.in_(offices)
        )
    )
    stored = {(office, year, quarter): days for office, year, quarter, days in found}
    rows = []
    for (office, year, quarter), new_days in sorted(designated_days.items()):
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
    conn.execute(_replacing_upsert(conn.dialect.name, table, ("designated", "days")), rows)


def project_targets(conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels) -> None:
    """Each office's current target per year, and its every change."""
    relevant = [e for e in batch if e.stream_type == TARGET_STREAM and e.type == TargetSet.type_name]
    if not relevant:
        return
    targets = models.targets
    keys = list(dict.fromkeys((e.data["office_code"], e.data["year"]) for e in relevant))
    existing = {
        (office_code, year)
        for office_code, year in conn.execute(
            select(targets.c.office_code, targets.c.year).where(
                tuple_(targets.c.office_code, targets.c.year).in_(keys)
            )
        )
    }
    current: dict[tuple[str, int], dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    for recorded in relevant:
        set_by = {
            "username": recorded.actor_username,
            "name": recorded.actor_name,
            "role": recorded.actor_role,
        }
        if recorded.actor_id is not None:
            set_by["id"] = recorded.actor_id
        office_code, year = key = (recorded.data["office_code"], recorded.data["year"])
        target, basis = recorded.data["target"], recorded.data["basis"]
        current[key] = {
            "office_code": office_code,
            "year": year,
            "target": target,
            "basis": basis,
            "version": recorded.version,
            "set_at": recorded.recorded_at,
            "set_by": set_by,
            "last_position": recorded.position,
        }
        history.append(
            {
                "position": recorded.position,
                "office_code": office_code,
                "year": year,
                "version": recorded.version,
                "target": target,
                "basis": basis,
                "set_at": recorded.recorded_at,
                "set_day": recorded_day(recorded),
                "set_by": set_by,
            }
        )
    for (office_code, year), row in current.items():
        if (office_code, year) in existing:
            changed = {k: v for k, v in row.items() if k not in ("office_code", "year")}
            conn.execute(
                update(targets)
                .where(targets.c.office_code == office_code, targets.c.year == year)
                .values(changed)
            )
    insert_rows(conn, targets, [row for key, row in current.items() if key not in existing])
    insert_rows(conn, models.target_history, history)


# What a change of these gives the user: a new authority to act (a rename alone does not).
_SCOPE_FIELDS = frozenset({"role", "office_code", "region_code"})


def project_users(conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels) -> None:
    """The accounts as they stand, and every grant of a role. Accounts change rarely: one statement
    per event. Token and password events change neither."""
    users, grants = models.users, models.role_grants
    for recorded in batch:
        if recorded.stream_type != USER_STREAM:
            continue
        data, user_id = recorded.data, recorded.stream_id
        match recorded.type:
            case UserCreated.type_name:
                conn.execute(
                    insert(users).values(
                        id=user_id,
                        username=data["username"],
                        name=data["name"],
                        role=data["role"],
                        office_code=data["office_code"],
                        region_code=data["region_code"],
                        active=True,
                        created_at=data.get("created_at") or recorded.recorded_at,
                        role_position=recorded.position,
                    )
                )
                _grant(conn, grants, recorded, data["username"], imported=data.get("imported", False))
            case UserChanged.type_name:
                scope = {k: data[k] for k in ("name", "role", "office_code", "region_code")}
                if _SCOPE_FIELDS & set(data["changed"]):
                    scope["role_position"] = recorded.position
                    username = conn.execute(
                        select(users.c.username).where(users.c.id == user_id)
                    ).scalar_one()
                    _grant(conn, grants, recorded, username, imported=False)
                conn.execute(update(users).where(users.c.id == user_id).values(scope))
            case UserDeactivated.type_name | UserReactivated.type_name:
                active = recorded.type == UserReactivated.type_name
                conn.execute(update(users).where(users.c.id == user_id).values(active=active))


def project_organisation(conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels) -> None:
    """Regions and offices as they stand, every name of every region and every state of every office.
    A statement or two per event: the organisation changes a few times a year."""
    for recorded in batch:
        data = recorded.data
        if recorded.stream_type == REGION_STREAM:
            code = recorded.stream_id.removeprefix("region:")
            if recorded.type == RegionAdded.type_name:
                conn.execute(insert(models.regions).values(code=code, name=data["name"]))
                held_from = None
            elif recorded.type == RegionRenamed.type_name:
                regions = models.regions
                conn.execute(update(regions).where(regions.c.code == code).values(name=data["name"]))
                held_from = recorded_day(recorded)
            else:
                continue
            conn.execute(
                insert(models.region_history).values(
                    position=recorded.position, code=code, name=data["name"], effective_on=held_from
                )
            )
        elif recorded.stream_type == OFFICE_STREAM and recorded.type in _OFFICE_STATES:
            code = recorded.stream_id.removeprefix("office:")
            state = {
                "name": data["name"],
                "unit_type": data["unit_type"],
                "region_code": data["region_code"],
                "regencies": data["regencies"],
                "effective_on": data["effective_on"],
            }
            if recorded.type == OfficeOpened.type_name:
                conn.execute(insert(models.offices).values(code=code, **state))
            else:
                offices = models.offices
                conn.execute(update(offices).where(offices.c.code == code).values(state))
            conn.execute(
                insert(models.office_history).values(
                    position=recorded.position,
                    code=code,
                    changed=data.get("changed", ["opened"]),
                    taken_by=data.get("taken_by"),
                    recorded_at=recorded.recorded_at,
                    **state,
                )
            )


_OFFICE_STATES = (OfficeOpened.type_name, OfficeChanged.type_name)


def _grant(
    conn: Connection, grants: Table, recorded: RecordedEvent, username: str, *, imported: bool
) -> None:
    data = recorded.data
    conn.execute(
        insert(grants).values(
            position=recorded.position,
            user_id=recorded.stream_id,
            username=username,
            role=data["role"],
            office_code=data["office_code"],
            region_code=data["region_code"],
            imported=imported,
        )
    )


def project_fostering(conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels) -> None:
    """A fostered village's officers, activities, residents' reports and evaluations, in log order: a
    report's steps update the row its receipt inserted (in the same batch, or an earlier one)."""
    for recorded in batch:
        if recorded.type not in _FOSTERING_WRITES:
            continue
        _FOSTERING_WRITES[recorded.type](conn, models, recorded, stamp_of(recorded))


def _officers_assigned(
    conn: Connection, models: ReadModels, recorded: RecordedEvent, _: dict[str, Any]
) -> None:
    table = models.fostering_officers
    conn.execute(delete(table).where(table.c.candidacy_id == recorded.stream_id))
    officers = [
        {"candidacy_id": recorded.stream_id, "username": o["username"]} for o in recorded.data["officers"]
    ]
    insert_rows(conn, table, officers)
    assignment = {
        "position": recorded.position,
        "candidacy_id": recorded.stream_id,
        "officers": recorded.data["officers"],
        "decree_number": recorded.data["decree_number"],
        "decree_date": recorded.data["decree_date"],
        "recorded_at": recorded.recorded_at,
    }
    insert_rows(conn, models.officer_assignments, [assignment])


def _activity(conn: Connection, models: ReadModels, recorded: RecordedEvent, stamp: dict[str, Any]) -> None:
    data = recorded.data
    row = {
        "id": data["activity_id"],
        "candidacy_id": recorded.stream_id,
        "position": recorded.position,
        "kind": data["kind"],
        "held_on": data["held_on"],
        "participants": data["participants"],
        "summary": data["summary"],
        "topics": data["topics"],
        "recorded": stamp,
        "documents": data["documents"],
    }
    insert_rows(conn, models.activities, [row])


def _report_received(
    conn: Connection, models: ReadModels, recorded: RecordedEvent, stamp: dict[str, Any]
) -> None:
    data = recorded.data
    row = {
        "id": data["report_id"],
        "candidacy_id": recorded.stream_id,
        "position": recorded.position,
        "received_at": data["received_at"],
        "channel": data["channel"],
        "category": data["category"],
        "summary": data["summary"],
        "verify_by": data["verify_by"],
        "recorded_at": recorded.recorded_at,
        "received": stamp,
        "documents": data["documents"],
    }
    insert_rows(conn, models.village_reports, [row])


def _report_verified(
    conn: Connection, models: ReadModels, recorded: RecordedEvent, stamp: dict[str, Any]
) -> None:
    data = recorded.data
    step = {
        "verified_at": data["verified_at"],
        "close_by": data["close_by"],
        "verified": {**stamp, "notes": data["notes"], "documents": data["documents"]},
    }
    table = models.village_reports
    conn.execute(update(table).where(table.c.id == data["report_id"]).values(step))


def _report_closed(
    conn: Connection, models: ReadModels, recorded: RecordedEvent, stamp: dict[str, Any]
) -> None:
    data = recorded.data
    closed = {
        **stamp,
        "outcome": data["outcome"],
        "notes": data["notes"],
        "referred_to": data.get("referred_to"),
        "documents": data["documents"],
    }
    table = models.village_reports
    conn.execute(
        update(table)
        .where(table.c.id == data["report_id"])
        .values(closed_at=data["closed_at"], closed=closed)
    )


def _evaluated(conn: Connection, models: ReadModels, recorded: RecordedEvent, stamp: dict[str, Any]) -> None:
    data = recorded.data
    row = {
        "position": recorded.position,
        "candidacy_id": recorded.stream_id,
        "period": data["period"],
        "rating": data["rating"],
        "notes": data["notes"],
        "recorded": stamp,
        "documents": data["documents"],
    }
    insert_rows(conn, models.evaluations, [row])


def project_case_documents(conn: Connection, batch: Sequence[RecordedEvent], models: ReadModels) -> None:
    """Which case's event names which document: whoever may read the case may read its documents."""
    rows = [
        {"position": recorded.position, "sha256": sha256, "candidacy_id": recorded.stream_id}
        for recorded in batch
        if recorded.stream_type == CANDIDACY_STREAM
        for sha256 in recorded.data.get("documents", ())
    ]
    insert_rows(conn, models.case_documents, rows)


_FOSTERING_WRITES = {
    FosteringOfficersAssigned.type_name: _officers_assigned,
    ActivityRecorded.type_name: _activity,
    VillageReportReceived.type_name: _report_received,
    VillageReportVerified.type_name: _report_verified,
    VillageReportClosed.type_name: _report_closed,
    VillageEvaluated.type_name: _evaluated,
}


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert(table), rows)


def _add_to_counters(conn: Connection, table: Table, column: str, rows: list[dict[str, Any]]) -> None:
    """Add each row's count to the stored one (insert if new)."""
    if rows:
        conn.execute(_counter_upsert(conn.dialect.name, table, column), rows)


def _dialect_insert(dialect_name: str, table: Table) -> Any:
    return (sqlite if dialect_name == "sqlite" else postgresql).insert(table)


# Statements built once per table (live or scratch) and columns, not on every command; scratch tables
# come and go with `projections verify`, hence the bounded caches.
@functools.lru_cache(maxsize=64)
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.lru_cache(maxsize=64)
def _cases_by_id(table: Table) -> Select[Any]:
    return select(table).where(table.c.id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=256)  # a few column sets per kind of step
def _update_case(table: Table, columns: tuple[str, ...]) -> Update:
    return update(table).where(table.c.id == bindparam("case_id")).values({c: bindparam(c) for c in columns})


@functools.lru_cache(maxsize=64)
def _replacing_upsert(dialect_name: str, table: Table, columns: tuple[str, ...]) -> Insert:
    """The row's `columns` replace what is stored under its key."""
    statement = _dialect_insert(dialect_name, table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={column: statement.excluded[column] for column in columns},
    )


@functools.lru_cache(maxsize=64)
def _counter_upsert(dialect_name: str, table: Table, column: str, *, returning: bool = False) -> Insert:
    """Each row's `column` is added to the stored count (inserted if new); with `returning`, the
    statement gives back each key's new count."""
    statement = _dialect_insert(dialect_name, table)
    upsert = statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={column: table.c[column] + statement.excluded[column]},
    )
    if returning:
        return upsert.returning(*table.primary_key.columns, table.c[column])
    return upsert
