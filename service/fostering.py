"""A fostered village as people read it: its activities, residents' reports (with their status and
whether they are overdue at a moment) and evaluations, from the read models; and the staff an
assignment of officers names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from domain import rules
from domain.actors import Actor
from domain.calendar import parse_timestamp
from domain.fostering import ReportCategory, ReportStatus, StaffMember, VillageReport
from events.schema import activities, candidacies, evaluations, fostering_officers, users, village_reports
from service import cases
from service.pagination import Page, decode_position_cursor, encode_cursor
from service.representations import village_as_dict


def staff(conn: Connection, usernames: tuple[str, ...]) -> dict[str, StaffMember]:
    """The users an assignment names, as the rule needs them (an unknown username is left out)."""
    found = conn.execute(
        select(users.c.username, users.c.name, users.c.office_code, users.c.active).where(
            users.c.username.in_(sorted(set(usernames)))
        )
    )
    return {row.username: StaffMember(row.username, row.name, row.office_code, row.active) for row in found}


# ---- activities -------------------------------------------------------------------------------------


def activity_as_dict(row: Any) -> dict[str, Any]:
    recorded = row["recorded"]
    return {
        "id": row["id"],
        "kind": row["kind"],
        "held_on": row["held_on"],
        "participants": row["participants"],
        "summary": row["summary"],
        "topics": row["topics"],
        "documents": row["documents"],
        "by": recorded["by"],
        "recorded_at": recorded["at"],
        "position": row["position"],
    }


def get_activity(conn: Connection, activity_id: str) -> dict[str, Any]:
    row = conn.execute(select(activities).where(activities.c.id == activity_id)).mappings().one()
    return activity_as_dict(row)


def list_activities(
    conn: Connection, actor: Actor, candidacy_id: str, limit: int, cursor: str | None
) -> Page:
    """The village's activities, newest recorded first."""
    cases.get_case(conn, actor, candidacy_id)  # the case's readers read its activities
    query = (
        select(activities)
        .where(activities.c.candidacy_id == candidacy_id)
        .order_by(activities.c.position.desc())
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(activities.c.position < decode_position_cursor(cursor))
    rows = conn.execute(query).mappings().all()
    next_cursor = encode_cursor("p", rows[limit - 1]["position"]) if len(rows) > limit else None
    return Page(items=[activity_as_dict(row) for row in rows[:limit]], next_cursor=next_cursor)


# ---- residents' reports -----------------------------------------------------------------------------


def _instant(text: str | None) -> dt.datetime | None:
    return parse_timestamp(text) if text else None


def report_of(row: Any) -> VillageReport:
    return VillageReport(
        id=row["id"],
        category=ReportCategory(row["category"]),
        received_at=parse_timestamp(row["received_at"]),
        verify_by=parse_timestamp(row["verify_by"]),
        verified_at=_instant(row["verified_at"]),
        close_by=_instant(row["close_by"]),
        closed_at=_instant(row["closed_at"]),
    )


def report_as_dict(row: Any, moment: dt.datetime) -> dict[str, Any]:
    """The report as it stands at `moment` (now, for the API)."""
    report = report_of(row)
    closed = row["closed"] or {}
    return {
        "id": row["id"],
        "status": report.status_at(moment).value,
        "overdue": report.overdue_at(moment),
        "received_at": row["received_at"],
        "channel": row["channel"],
        "category": row["category"],
        "summary": row["summary"],
        "verify_by": row["verify_by"],
        "close_by": row["close_by"],
        "outcome": closed.get("outcome"),
        "closed_in_time": report.closed_in_time() if row["closed_at"] else None,
        "received": row["received"],
        "verified": row["verified"],
        "closed": row["closed"],
        "documents": row["documents"],
    }


def get_report(conn: Connection, report_id: str, moment: dt.datetime) -> dict[str, Any]:
    row = conn.execute(select(village_reports).where(village_reports.c.id == report_id)).mappings().one()
    return report_as_dict(row, moment)


def list_village_reports(
    conn: Connection,
    actor: Actor,
    candidacy_id: str,
    moment: dt.datetime,
    status: str | None = None,
    overdue: bool | None = None,
) -> list[dict[str, Any]]:
    """The village's reports, newest received first, as they stand at `moment`, filtered by status and
    by whether they are overdue."""
    cases.get_case(conn, actor, candidacy_id)
    rows = conn.execute(
        select(village_reports)
        .where(village_reports.c.candidacy_id == candidacy_id)
        .order_by(village_reports.c.received_at.desc(), village_reports.c.position.desc())
    ).mappings()
    shown = [report_as_dict(row, moment) for row in rows]
    return [
        r
        for r in shown
        if (status is None or r["status"] == status) and (overdue is None or r["overdue"] is overdue)
    ]


# ---- evaluations ------------------------------------------------------------------------------------


def evaluation_as_dict(row: Any) -> dict[str, Any]:
    recorded = row["recorded"]
    return {
        "period": row["period"],
        "rating": row["rating"],
        "notes": row["notes"],
        "documents": row["documents"],
        "by": recorded["by"],
        "recorded_at": recorded["at"],
        "position": row["position"],
    }


def get_evaluation(conn: Connection, position: int) -> dict[str, Any]:
    row = conn.execute(select(evaluations).where(evaluations.c.position == position)).mappings().one()
    return evaluation_as_dict(row)


def list_evaluations(conn: Connection, actor: Actor, candidacy_id: str) -> list[dict[str, Any]]:
    """Every evaluation of the village, newest quarter first; of a quarter evaluated twice, the newer
    one first (it is the one that counts)."""
    cases.get_case(conn, actor, candidacy_id)
    rows = conn.execute(
        select(evaluations)
        .where(evaluations.c.candidacy_id == candidacy_id)
        .order_by(evaluations.c.period.desc(), evaluations.c.position.desc())
    ).mappings()
    return [evaluation_as_dict(row) for row in rows]


# ---- an officer's villages --------------------------------------------------------------------------


def my_villages(conn: Connection, actor: Actor, moment: dt.datetime) -> list[dict[str, Any]]:
    """The fostered villages the caller is assigned to, by name, each with its open and overdue
    reports."""
    rules.check_may_read_cases(actor)
    assigned = (
        select(candidacies.c.id)
        .join(fostering_officers, fostering_officers.c.candidacy_id == candidacies.c.id)
        .where(fostering_officers.c.username == actor.username, candidacies.c.stage == "designated")
    )
    rows = conn.execute(
        select(candidacies)
        .where(candidacies.c.id.in_(assigned))
        .order_by(candidacies.c.village_name, candidacies.c.id)
    ).mappings()
    # Assigned before the office or the user moved: no longer theirs to read.
    villages = [r for r in rows if rules.may_read_office(actor, r["office_code"], r["region_code"])]
    pending: dict[str, list[VillageReport]] = {}
    unclosed = select(village_reports).where(
        village_reports.c.candidacy_id.in_(assigned), village_reports.c.closed_at.is_(None)
    )
    for report in conn.execute(unclosed).mappings():
        pending.setdefault(report["candidacy_id"], []).append(report_of(report))
    return [
        {
            "candidacy_id": row["id"],
            "village": village_as_dict(row),
            "office_code": row["office_code"],
            "since": row["fostering"]["since"],
            "open_reports": sum(
                r.status_at(moment) is not ReportStatus.CLOSED for r in pending.get(row["id"], [])
            ),
            "overdue_reports": sum(r.overdue_at(moment) for r in pending.get(row["id"], [])),
        }
        for row in villages
    ]


def overdue_reports(conn: Connection, actor: Actor, moment: dt.datetime) -> list[dict[str, Any]]:
    """The residents' reports of the actor's scope past their next deadline at `moment`, the one due
    longest ago first, each with its village."""
    rules.check_may_read_cases(actor)
    query = cases.in_scope(
        select(village_reports, candidacies.c.village_name, candidacies.c.office_code)
        .join(candidacies, candidacies.c.id == village_reports.c.candidacy_id)
        .where(village_reports.c.closed_at.is_(None)),
        actor,
    )
    found = []
    for row in conn.execute(query).mappings():
        report = report_of(row)
        if report.overdue_at(moment):
            due = report.close_by if report.status_at(moment).value == "verified" else report.verify_by
            found.append(
                {
                    **report_as_dict(row, moment),
                    "candidacy_id": row["candidacy_id"],
                    "village_name": row["village_name"],
                    "due": due,
                }
            )
    return sorted(found, key=lambda r: r["due"])


def office_staff(conn: Connection, office_code: str) -> list[tuple[str, str]]:
    """The active users of an office, by name: whom a head of office may assign."""
    rows = conn.execute(
        select(users.c.username, users.c.name)
        .where(users.c.office_code == office_code, users.c.active)
        .order_by(users.c.name, users.c.username)
    )
    return [(row.username, row.name) for row in rows]
