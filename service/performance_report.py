"""Performance against target per office, region and nation, now or as of the end of any past day.

Every figure is a query over read models kept by the projections: the current pipeline from
per-office counters, a past one from per-day levels; designations and target changes carry the day
they were recorded, so "as of" is a filter, never a replay.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, String, bindparam, cast, func, select

from domain import rules
from domain.actors import Actor
from domain.calendar import SYSTEM_TIMEZONE
from domain.lifecycle import CLOSING_STAGES, LIVE_STAGES, Stage
from domain.organisation import OfficeState, region_on
from domain.performance import QUARTERS, AsOf, AsOfBasis, achievement_pct, median_of_ascending, rating
from events.schema import (
    GENESIS_HASH,
    closings,
    designation_days,
    designations,
    events,
    ledger_head,
    office_history,
    pipeline_counts,
    stage_changes,
    stage_levels,
    target_history,
    targets,
)
from events.store import format_timestamp
from service import organisation
from service.organisation import OfficeHeading, visible_offices

PIPELINE_STAGES = [s.value for s in Stage if s in LIVE_STAGES]


def end_of_day(day: dt.date) -> str:
    """The first instant after `day` in system time, as stored timestamps are written."""
    start_of_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), SYSTEM_TIMEZONE)
    return format_timestamp(start_of_next)


def ledger_at(conn: Connection, as_of: dt.date | None) -> dict[str, Any]:
    """The newest position and hash of the log, now or at the end of `as_of`."""
    if as_of is None:
        row = conn.execute(select(ledger_head.c.position, ledger_head.c.hash)).one()
    else:
        # Recorded times never go backwards along the log, so the newest event of the day is found
        # through the time index; ordering by position alone walks every later event.
        row = conn.execute(
            select(events.c.position, events.c.hash)
            .where(events.c.recorded_at < end_of_day(as_of))
            .order_by(events.c.recorded_at.desc(), events.c.position.desc())
            .limit(1)
        ).one_or_none()
    return {"position": row.position, "digest": row.hash} if row else {"position": 0, "digest": GENESIS_HASH}


# What a tally counts, in one list: an office's is a handful of additions, and a region's or the
# nation's a column sum over its offices' lists.
REJECTED, WITHDRAWN = Stage.REJECTED.value, Stage.WITHDRAWN.value
COUNTED = ("designated", *QUARTERS, *PIPELINE_STAGES, REJECTED, WITHDRAWN)
_AT = {name: index for index, name in enumerate(COUNTED)}
_DESIGNATED = _AT["designated"]
_QUARTERS = slice(_AT[QUARTERS[0]], _AT[QUARTERS[-1]] + 1)
_PIPELINE = slice(_AT[PIPELINE_STAGES[0]], _AT[PIPELINE_STAGES[-1]] + 1)


@dataclass(slots=True)
class Tally:
    """The figures of one office, or the sum of several."""

    target: int | None = None
    counts: list[int] = field(default_factory=lambda: [0] * len(COUNTED))
    days: list[int] = field(default_factory=list)  # ascending, once the office's are all in

    def count(self, name: str, how_many: int) -> None:
        self.counts[_AT[name]] += how_many

    def without_designations(self) -> Tally:
        counts = list(self.counts)
        counts[_DESIGNATED] = 0
        counts[_QUARTERS] = [0] * len(QUARTERS)
        return Tally(target=self.target, counts=counts)

    @classmethod
    def total(cls, tallies: list[Tally]) -> Tally:
        targets = [t.target for t in tallies if t.target is not None]
        return cls(
            target=sum(targets) if targets else None,
            counts=[sum(column) for column in zip(*(t.counts for t in tallies), strict=True)]
            or [0] * len(COUNTED),
            # Runs already ascending: sorting merges them.
            days=sorted(chain.from_iterable(t.days for t in tallies)),
        )

    def figures(self) -> dict[str, Any]:
        counts = self.counts
        pct = achievement_pct(counts[_DESIGNATED], self.target)
        return {
            "target": self.target,
            "designated": counts[_DESIGNATED],
            "achievement_pct": pct,
            "rating": rating(pct),
            "by_quarter": dict(zip(QUARTERS, counts[_QUARTERS], strict=True)),
            "pipeline": dict(zip(PIPELINE_STAGES, counts[_PIPELINE], strict=True)),
            "rejected": counts[_AT[REJECTED]],
            "withdrawn": counts[_AT[WITHDRAWN]],
            "median_days_to_designation": median_of_ascending(self.days),
        }


def _in_scope(office_column: ColumnElement[str], everything: bool) -> list[ColumnElement[bool]]:
    """The offices of a report, as the parameter `offices`. All of them needs no filter: on
    PostgreSQL, a national IN list of every office code cost more to send than some of the figures
    it selects."""
    return [] if everything else [office_column.in_(bindparam("offices", expanding=True))]


def _level_at(day: BindParameter[str]) -> ColumnElement[int]:
    """Per counter row (office and stage), how many cases the stage held at the end of `day`: its
    newest level up to that day, one index seek however long the history (none yet: NULL)."""
    return (
        select(stage_levels.c.cases)
        .where(
            stage_levels.c.office_code == pipeline_counts.c.office_code,
            stage_levels.c.stage == pipeline_counts.c.stage,
            stage_levels.c.day <= day,
        )
        .order_by(stage_levels.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )


class _ReportQueries(NamedTuple):
    targets: Select[Any]
    designated: Select[Any]
    pipeline: Select[Any]
    closed: Select[Any]


@functools.cache
def _report_queries(everything: bool, past: bool) -> _ReportQueries:
    """The report's statements, built once per kind (all offices or some; now or as of a day) with
    the year, the day and the offices as parameters: building them each time cost a tenth of a
    national report. `past`: as of the end of the day `day`."""
    day = bindparam("day", type_=String)
    if past:
        # The last change recorded by the end of the day; the history is a handful of rows per office.
        targets_query = (
            select(target_history.c.office_code, target_history.c.target)
            .where(
                *_in_scope(target_history.c.office_code, everything),
                target_history.c.year == bindparam("year"),
                target_history.c.set_day <= day,
            )
            .order_by(target_history.c.position)
        )
    else:
        targets_query = select(targets.c.office_code, targets.c.target).where(
            *_in_scope(targets.c.office_code, everything), targets.c.year == bindparam("year")
        )

    # Per office and quarter: how many were designated, and their days joined in one string. Now, a
    # row the projection keeps per office and quarter; as of a past day, the register's designations
    # recorded by then, grouped in SQL, since rows through the driver cost more than the medians.
    if past:
        designated = (
            select(
                designations.c.office_code,
                designations.c.quarter,
                func.count(),
                func.aggregate_strings(cast(designations.c.days_to_designation, String), ","),
            )
            .where(
                *_in_scope(designations.c.office_code, everything),
                designations.c.decree_year == bindparam("year"),
                designations.c.recorded_day <= day,
            )
            .group_by(designations.c.office_code, designations.c.quarter)
        )
    else:
        designated = select(
            designation_days.c.office_code,
            designation_days.c.quarter,
            designation_days.c.designated,
            designation_days.c.days,
        ).where(
            *_in_scope(designation_days.c.office_code, everything),
            designation_days.c.decree_year == bindparam("year"),
        )

    # Every (office, stage) that ever held a case has a counter row.
    pipeline = select(
        pipeline_counts.c.office_code,
        pipeline_counts.c.stage,
        _level_at(day) if past else pipeline_counts.c.cases,
    ).where(
        *_in_scope(pipeline_counts.c.office_code, everything), pipeline_counts.c.stage.in_(PIPELINE_STAGES)
    )

    # Cases rejected and withdrawn in the year: now, the projection's yearly sums; as of a day, the
    # daily changes of the year up to it, from their covering index. (The level at the span's end
    # less the level before it reads less on SQLite, but its two subqueries per office and stage cost
    # PostgreSQL twice the time of this scan.)
    if past:
        closed = (
            select(stage_changes.c.office_code, stage_changes.c.stage, func.sum(stage_changes.c.delta))
            .where(
                *_in_scope(stage_changes.c.office_code, everything),
                stage_changes.c.stage.in_(sorted(stage.value for stage in CLOSING_STAGES)),
                stage_changes.c.day >= bindparam("year_start", type_=String),
                stage_changes.c.day <= bindparam("closed_until", type_=String),
            )
            .group_by(stage_changes.c.office_code, stage_changes.c.stage)
        )
    else:
        closed = select(closings.c.office_code, closings.c.stage, closings.c.cases).where(
            *_in_scope(closings.c.office_code, everything), closings.c.year == bindparam("year")
        )
    return _ReportQueries(targets_query, designated, pipeline, closed)


def performance_report(
    conn: Connection, actor: Actor, year: int, region: str | None, when: AsOf
) -> dict[str, Any]:
    """The report of `year` as of `when.day`; as of today it reads the live counters (the same
    figures, fewer rows), as of any other day the history, for the offices and regions as the
    organisation stood that day (by the days its changes held from)."""
    as_of = None if when.basis is AsOfBasis.TODAY else when.day
    all_offices = organisation.list_office_headings(conn, as_of)
    offices = visible_offices(conn, actor, region, all_offices)
    codes = [o.code for o in offices]
    tallies = {code: Tally() for code in codes}
    queries = _report_queries(len(codes) == len(all_offices), as_of is not None)
    params: dict[str, Any] = {"year": year, "offices": codes}
    if as_of is not None:
        params["day"] = as_of.isoformat()

    for code, target in conn.execute(queries.targets, params):
        tallies[code].target = target
    designated = conn.execute(queries.designated, params).all()
    # Every row's comma-joined days in one parse: int by int in Python, they cost more than all the
    # rest of the loop.
    days_of_rows = json.loads("[[" + "],[".join(row[3] for row in designated) + "]]") if designated else []
    for (office_code, quarter, count, _days), days in zip(designated, days_of_rows, strict=True):
        tally = tallies[office_code]
        tally.counts[_DESIGNATED] += count
        tally.count(quarter, count)
        tally.days += days
    for tally in tallies.values():
        tally.days.sort()  # its quarters' ascending runs, merged
    for office_code, stage, cases in conn.execute(queries.pipeline, params):
        if cases:
            tallies[office_code].count(stage, int(cases))

    if as_of is not None:
        year_end = dt.date(year, 12, 31)
        params["year_start"] = dt.date(year, 1, 1).isoformat()
        params["closed_until"] = min(year_end, as_of).isoformat()
    for office_code, stage, cases in conn.execute(queries.closed, params):
        tallies[office_code].count(stage, int(cases))

    moved_from = _designations_of_offices_that_changed_region(conn, params)
    office_rows = [
        {
            "office_code": office.code,
            "office_name": office.name,
            "region_code": office.region_code,
            "region_name": office.region_name,
            **tallies[office.code].figures(),
        }
        for office in offices
    ]
    return {
        "year": year,
        "as_of": when.day.isoformat(),
        "as_of_basis": when.basis.value,
        "ledger": ledger_at(conn, as_of),
        "offices": office_rows,
        "regions": _region_rows(actor, all_offices, offices, tallies, moved_from),
        # The whole country, only for whom reads all of it and asked for all of it.
        "national": _national(tallies) if region is None and rules.may_read_everything(actor) else None,
    }


class _MovedOffices(NamedTuple):
    """The offices that have ever changed region, and their designations of the report's year by the
    region each office belonged to on the decree date (designation figures only)."""

    codes: frozenset[str]
    designations_by_region: dict[str, Tally]


_STATES_OF_OFFICES_THAT_CHANGED_REGION = (
    select(office_history.c.code, office_history.c.effective_on, office_history.c.region_code)
    .where(
        office_history.c.code.in_(
            select(office_history.c.code)
            .group_by(office_history.c.code)
            .having(func.count(office_history.c.region_code.distinct()) > 1)
        )
    )
    .order_by(office_history.c.code, office_history.c.position)
)

_MOVED_DESIGNATIONS = select(
    designations.c.office_code,
    designations.c.decree_date,
    designations.c.quarter,
    designations.c.days_to_designation,
).where(
    designations.c.office_code.in_(bindparam("moved", expanding=True)),
    designations.c.decree_year == bindparam("year"),
)
_MOVED_DESIGNATIONS_BY_DAY = _MOVED_DESIGNATIONS.where(
    designations.c.recorded_day <= bindparam("day", type_=String)
)


def _designations_of_offices_that_changed_region(conn: Connection, params: dict[str, Any]) -> _MovedOffices:
    """A region counts a designation if the office belonged to it on the decree date, which for an
    office that never changed region is the region it is in; only the others' designations are read
    one by one. (Usually none: the check is one query over the offices' states.)"""
    states: dict[str, list[OfficeState]] = {}
    for code, effective_on, region_code in conn.execute(_STATES_OF_OFFICES_THAT_CHANGED_REGION):
        states.setdefault(code, []).append(OfficeState(effective_on, region_code))
    by_region: dict[str, Tally] = {}
    if not states:
        return _MovedOffices(frozenset(), by_region)
    query = _MOVED_DESIGNATIONS_BY_DAY if "day" in params else _MOVED_DESIGNATIONS
    for code, decree_date, quarter, days in conn.execute(query, {**params, "moved": sorted(states)}):
        tally = by_region.setdefault(region_on(states[code], decree_date), Tally())
        tally.count("designated", 1)
        tally.count(quarter, 1)
        tally.days.append(days)
    for tally in by_region.values():
        tally.days.sort()
    return _MovedOffices(frozenset(states), by_region)


def _region_rows(
    actor: Actor,
    all_offices: list[OfficeHeading],
    offices: list[OfficeHeading],
    tallies: dict[str, Tally],
    moved: _MovedOffices,
) -> list[dict[str, Any]]:
    """Each region the actor reads whole: its target, pipeline and closings are its offices' as the
    organisation stood on the report's day; its designations, those made by offices while they
    belonged to it."""
    rows = []
    for region_code, members in regions_read_whole(actor, all_offices, offices):
        parts = [
            tallies[o.code].without_designations() if o.code in moved.codes else tallies[o.code]
            for o in members
            if o.code in tallies
        ]
        if region_code in moved.designations_by_region:
            parts.append(moved.designations_by_region[region_code])
        total = Tally.total(parts)
        rows.append(
            {
                "region_code": region_code,
                "region_name": members[0].region_name,
                "offices": len(members),
                **total.figures(),
            }
        )
    return rows


def regions_read_whole(
    actor: Actor, all_offices: list[OfficeHeading], offices: list[OfficeHeading]
) -> Iterator[tuple[str, list[OfficeHeading]]]:
    """The regions of `offices` (with all their offices) of which the actor reads every office: a
    region's row is given only then, so that no partial sum looks whole."""
    members_of: dict[str, list[OfficeHeading]] = {}
    for office in all_offices:
        members_of.setdefault(office.region_code, []).append(office)
    for region_code in sorted({o.region_code for o in offices}):
        members = members_of[region_code]
        if all(rules.may_read_office(actor, o.code, o.region_code) for o in members):
            yield region_code, members


def _national(tallies: dict[str, Tally]) -> dict[str, Any]:
    return {"offices": len(tallies), **Tally.total(list(tallies.values())).figures()}


# What every row of a report's CSV begins with (the unit it is about) and ends with (which report,
# read at which ledger head); its figures lie between.
UNIT_COLUMNS = ["level", "code", "name", "region_code"]
STAMP_COLUMNS = ["year", "as_of", "as_of_basis", "ledger_position", "ledger_digest"]


def figure_columns(columns: list[str]) -> list[str]:
    """A report's figures, for its spreadsheet's year-end table."""
    return [c for c in columns if c not in UNIT_COLUMNS and c not in STAMP_COLUMNS]


def report_stamp(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "year": report["year"],
        "as_of": report["as_of"],
        "as_of_basis": report["as_of_basis"],
        "ledger_position": report["ledger"]["position"],
        "ledger_digest": report["ledger"]["digest"],
    }


Flatten = Callable[[str, str, str, str | None, dict[str, Any]], dict[str, Any]]


def rows_by_level(report: dict[str, Any], flat: Flatten) -> Iterator[dict[str, Any]]:
    """A report's rows for a CSV: each office, then each region, then the nation, flattened by `flat`
    from (level, code, name, region code, figures)."""
    for row in report["offices"]:
        yield flat("office", row["office_code"], row["office_name"], row["region_code"], row)
    for row in report["regions"]:
        yield flat("region", row["region_code"], row["region_name"], row["region_code"], row)
    if report["national"] is not None:
        yield flat("national", "ID", "Indonesia", None, report["national"])


PERFORMANCE_CSV_COLUMNS = [
    *UNIT_COLUMNS,
    "target",
    "designated",
    "achievement_pct",
    "rating",
    *QUARTERS,
    *PIPELINE_STAGES,
    "rejected",
    "withdrawn",
    "median_days_to_designation",
    *STAMP_COLUMNS,
]


def performance_csv_rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    """One row per office, then per region, then the nation, as cells in PERFORMANCE_CSV_COLUMNS
    order; each names the ledger it was read at."""
    stamp = report_stamp(report)

    def flat(
        level: str, code: str, name: str, region_code: str | None, figures: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "level": level,
            "code": code,
            "name": name,
            "region_code": region_code,
            **{k: figures[k] for k in ("target", "designated", "achievement_pct", "rating")},
            **figures["by_quarter"],
            **figures["pipeline"],
            **{k: figures[k] for k in ("rejected", "withdrawn", "median_days_to_designation")},
            **stamp,
        }

    return ([row[column] for column in PERFORMANCE_CSV_COLUMNS] for row in rows_by_level(report, flat))
