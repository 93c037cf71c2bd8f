"""The year's fostering per office, region and nation, as of the end of a day: villages fostered,
officers, activities, residents' reports against their deadlines, evaluations and revocations.

Everything counted carries the time it was recorded, so "as of" keeps what had been recorded by the
end of that day (WIB) and judges each report's deadlines at that moment: a filter, never a replay.
A village counts with the office that holds its case.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, select

from domain import rules
from domain.actors import Actor
from domain.calendar import parse_timestamp
from domain.fostering import ActivityKind, Rating, quarter_bounds
from domain.lifecycle import Stage
from domain.performance import QUARTERS, AsOf, AsOfBasis
from events.schema import activities, candidacies, evaluations, officer_assignments, village_reports
from service import organisation
from service.fostering import report_of
from service.organisation import OfficeHeading, visible_offices
from service.performance_report import (
    STAMP_COLUMNS,
    UNIT_COLUMNS,
    end_of_day,
    ledger_at,
    regions_read_whole,
    report_stamp,
    rows_by_level,
)

KINDS = [kind.value for kind in ActivityKind]
# The stages of a case that was designated: fostered, or revoked since.
DESIGNATED_STAGES = [Stage.DESIGNATED.value, Stage.REVOKED.value]
RATINGS = [rating.value for rating in Rating]


@dataclass(slots=True)
class Tally:
    """The figures of one office, or the sum of several."""

    villages: int = 0
    officers: set[str] = field(default_factory=set)
    by_kind: Counter[str] = field(default_factory=Counter)
    by_quarter: Counter[str] = field(default_factory=Counter)
    participants: int = 0
    without_activity: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(QUARTERS, 0))
    received: int = 0
    closed: int = 0
    closed_in_time: int = 0
    still_open: int = 0
    overdue: int = 0
    ratings: Counter[str] = field(default_factory=Counter)
    revoked: int = 0

    @classmethod
    def total(cls, parts: list[Tally], begun: list[str]) -> Tally:
        total = cls()
        for part in parts:
            total.villages += part.villages
            total.officers |= part.officers
            total.by_kind += part.by_kind
            total.by_quarter += part.by_quarter
            total.participants += part.participants
            for quarter in begun:
                total.without_activity[quarter] = (total.without_activity[quarter] or 0) + (
                    part.without_activity[quarter] or 0
                )
            total.received += part.received
            total.closed += part.closed
            total.closed_in_time += part.closed_in_time
            total.still_open += part.still_open
            total.overdue += part.overdue
            total.ratings += part.ratings
            total.revoked += part.revoked
        total.without_activity |= {q: None for q in QUARTERS if q not in begun}
        return total

    def figures(self) -> dict[str, Any]:
        return {
            "villages_fostered": self.villages,
            "officers_assigned": len(self.officers),
            "activities": {
                "total": sum(self.by_kind.values()),
                "by_kind": {kind: self.by_kind[kind] for kind in KINDS},
                "by_quarter": {quarter: self.by_quarter[quarter] for quarter in QUARTERS},
            },
            "participants": self.participants,
            "villages_without_activity": dict(self.without_activity),
            "village_reports": {
                "received": self.received,
                "closed": self.closed,
                "closed_within_deadline_pct": _pct(self.closed_in_time, self.closed),
                "open": self.still_open,
                "overdue": self.overdue,
            },
            "evaluations": {rating: self.ratings[rating] for rating in RATINGS},
            "revoked": self.revoked,
        }


def _pct(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _quarter_of(day: str) -> str:
    return QUARTERS[(int(day[5:7]) - 1) // 3]


def fostering_report(
    conn: Connection, actor: Actor, year: int, region: str | None, when: AsOf
) -> dict[str, Any]:
    """The report of `year` as of the end of `when.day`."""
    as_of = None if when.basis is AsOfBasis.TODAY else when.day
    until = end_of_day(when.day)  # recorded before this instant
    moment = parse_timestamp(until) - dt.timedelta(microseconds=1)  # the end of the day itself
    all_offices = organisation.list_office_headings(conn, as_of)
    offices = visible_offices(conn, actor, region, all_offices)
    tallies = {office.code: Tally() for office in offices}
    year_start, year_end = dt.date(year, 1, 1).isoformat(), dt.date(year, 12, 31).isoformat()
    begun = [q for q in QUARTERS if quarter_bounds(f"{year}-{q}")[0] <= when.day]

    # The villages fostered in the year: designated by the end of it, not revoked before it began.
    fostered: dict[str, tuple[str, str]] = {}  # case -> (office, decree date)
    rows = conn.execute(
        select(
            candidacies.c.id, candidacies.c.office_code, candidacies.c.designated, candidacies.c.revoked
        ).where(candidacies.c.stage.in_(DESIGNATED_STAGES), candidacies.c.office_code.in_(list(tallies)))
    )
    revoked_on: dict[str, str] = {}
    for case_id, office, designated, revoked in rows:
        if designated["at"] >= until or designated["decree_date"] > year_end:
            continue
        if revoked is not None and revoked["at"] < until:
            if revoked["decree_date"] < year_start:
                continue
            revoked_on[case_id] = revoked["decree_date"]
            if revoked["decree_date"] <= year_end:
                tallies[office].revoked += 1
        fostered[case_id] = (office, designated["decree_date"])
        tallies[office].villages += 1
    ids = list(fostered)

    newest: dict[str, list[dict[str, str]]] = {}
    for case_id, officers in conn.execute(
        select(officer_assignments.c.candidacy_id, officer_assignments.c.officers)
        .where(officer_assignments.c.candidacy_id.in_(ids), officer_assignments.c.recorded_at < until)
        .order_by(officer_assignments.c.position)
    ):
        newest[case_id] = officers
    for case_id, officers in newest.items():
        tallies[fostered[case_id][0]].officers |= {o["username"] for o in officers}

    active_in: set[tuple[str, str]] = set()
    for case_id, kind, held_on, participants, recorded in conn.execute(
        select(
            activities.c.candidacy_id,
            activities.c.kind,
            activities.c.held_on,
            activities.c.participants,
            activities.c.recorded,
        ).where(activities.c.candidacy_id.in_(ids), activities.c.held_on.between(year_start, year_end))
    ):
        if recorded["at"] >= until:
            continue
        tally = tallies[fostered[case_id][0]]
        quarter = _quarter_of(held_on)
        tally.by_kind[kind] += 1
        tally.by_quarter[quarter] += 1
        tally.participants += participants
        active_in.add((case_id, quarter))
    # A quarter begun by the report's day counts the villages fostered in it that held no activity.
    for quarter in begun:
        first, last = (day.isoformat() for day in quarter_bounds(f"{year}-{quarter}"))
        for case_id, (office, decree_date) in fostered.items():
            fostered_then = decree_date <= last and revoked_on.get(case_id, "9999-12-31") >= first
            if fostered_then and (case_id, quarter) not in active_in:
                tallies[office].without_activity[quarter] = (
                    tallies[office].without_activity[quarter] or 0
                ) + 1

    for row in conn.execute(
        select(village_reports).where(
            village_reports.c.candidacy_id.in_(ids),
            village_reports.c.recorded_at < until,
            # Received in the year, by days in WIB.
            village_reports.c.received_at >= end_of_day(dt.date(year - 1, 12, 31)),
            # (Anything received after the report's day was recorded after it too.)
            village_reports.c.received_at < end_of_day(min(dt.date(year, 12, 31), when.day)),
        )
    ).mappings():
        tally = tallies[fostered[row["candidacy_id"]][0]]
        report = report_of(row)
        tally.received += 1
        if report.status_at(moment).value == "closed":
            tally.closed += 1
            tally.closed_in_time += report.closed_in_time()
        else:
            tally.still_open += 1
            tally.overdue += report.overdue_at(moment)

    latest: dict[tuple[str, str], str] = {}
    for case_id, period, rating, recorded in conn.execute(
        select(evaluations.c.candidacy_id, evaluations.c.period, evaluations.c.rating, evaluations.c.recorded)
        .where(evaluations.c.candidacy_id.in_(ids), evaluations.c.period.like(f"{year}-Q_"))
        .order_by(evaluations.c.position)
    ):
        if recorded["at"] < until:
            latest[(case_id, period)] = rating
    for (case_id, _period), rating in latest.items():
        tallies[fostered[case_id][0]].ratings[rating] += 1

    for tally in tallies.values():
        tally.without_activity |= {q: None for q in QUARTERS if q not in begun}
    return {
        "year": year,
        "as_of": when.day.isoformat(),
        "as_of_basis": when.basis.value,
        "ledger": ledger_at(conn, as_of),
        "offices": [
            {
                "office_code": o.code,
                "office_name": o.name,
                "region_code": o.region_code,
                "region_name": o.region_name,
                **tallies[o.code].figures(),
            }
            for o in offices
        ],
        "regions": _region_rows(actor, all_offices, offices, tallies, begun),
        "national": (
            {"offices": len(tallies), **Tally.total(list(tallies.values()), begun).figures()}
            if region is None and rules.may_read_everything(actor)
            else None
        ),
    }


def _region_rows(
    actor: Actor,
    all_offices: list[OfficeHeading],
    offices: list[OfficeHeading],
    tallies: dict[str, Tally],
    begun: list[str],
) -> list[dict[str, Any]]:
    """Each region the actor reads whole, its offices' figures summed."""
    rows = []
    for region_code, members in regions_read_whole(actor, all_offices, offices):
        total = Tally.total([tallies[o.code] for o in members if o.code in tallies], begun)
        rows.append(
            {
                "region_code": region_code,
                "region_name": members[0].region_name,
                "offices": len(members),
                **total.figures(),
            }
        )
    return rows


FOSTERING_CSV_COLUMNS = [
    *UNIT_COLUMNS,
    "villages_fostered",
    "officers_assigned",
    "activities",
    *(f"activities_{kind}" for kind in KINDS),
    *(f"activities_{quarter}" for quarter in QUARTERS),
    "participants",
    *(f"without_activity_{quarter}" for quarter in QUARTERS),
    "reports_received",
    "reports_closed",
    "reports_closed_within_deadline_pct",
    "reports_open",
    "reports_overdue",
    *(f"evaluated_{rating}" for rating in RATINGS),
    "revoked",
    *STAMP_COLUMNS,
]


def fostering_csv_rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    """One row per office, then per region, then the nation, in FOSTERING_CSV_COLUMNS order."""
    stamp = report_stamp(report)

    def flat(level: str, code: str, name: str, region_code: str | None, f: dict[str, Any]) -> dict[str, Any]:
        reports = f["village_reports"]
        return {
            "level": level,
            "code": code,
            "name": name,
            "region_code": region_code,
            "villages_fostered": f["villages_fostered"],
            "officers_assigned": f["officers_assigned"],
            "activities": f["activities"]["total"],
            **{f"activities_{k}": n for k, n in f["activities"]["by_kind"].items()},
            **{f"activities_{q}": n for q, n in f["activities"]["by_quarter"].items()},
            "participants": f["participants"],
            **{f"without_activity_{q}": n for q, n in f["villages_without_activity"].items()},
            "reports_received": reports["received"],
            "reports_closed": reports["closed"],
            "reports_closed_within_deadline_pct": reports["closed_within_deadline_pct"],
            "reports_open": reports["open"],
            "reports_overdue": reports["overdue"],
            **{f"evaluated_{r}": n for r, n in f["evaluations"].items()},
            "revoked": f["revoked"],
            **stamp,
        }

    return ([row[column] for column in FOSTERING_CSV_COLUMNS] for row in rows_by_level(report, flat))
