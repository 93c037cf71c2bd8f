"""Regions (Kanwil) and offices: read as they stand or as they stood on a day, and changed through
`domain.organisation`, each change an event in the log."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, Subquery, Table, bindparam, func, or_, select

from domain import organisation as rules_of
from domain import rules
from domain.actors import Actor
from domain.calendar import day_of, latest_today
from domain.errors import NotFound
from domain.events import (
    CANDIDACY_STREAM,
    OFFICE_STREAM,
    REGION_STREAM,
    CandidacyTransferred,
    OfficeChanged,
    OfficeOpened,
    RegionAdded,
)
from domain.lifecycle import CLOSING_STAGES, Stage
from domain.organisation import Days, OfficeRequest, Organisation, office_stream_id, region_stream_id
from domain.places import Office
from events.schema import candidacies, office_history, offices, region_history, regions
from events.unit_of_work import WriteTransaction
from service import registry
from service.schemas import CODE_PATTERN

_OFFICES = select(
    offices.c.code,
    offices.c.name,
    offices.c.region_code,
    regions.c.name.label("region_name"),
    offices.c.regencies,
    offices.c.unit_type,
).join(regions, regions.c.code == offices.c.region_code)


def _office_from_row(row: Any) -> Office:
    return Office(
        code=row.code,
        name=row.name,
        region_code=row.region_code,
        region_name=row.region_name,
        regencies=frozenset(row.regencies),
        unit_type=row.unit_type,
    )


def checked_office_code(code: str) -> str:
    """A path that is no office code names no office; say so before the database sees it (a NUL in
    it is an error on PostgreSQL)."""
    if not re.fullmatch(CODE_PATTERN, code):
        raise NotFound(f"no office {code}")
    return code


def office_request(code: str, data: dict[str, Any]) -> OfficeRequest:
    """The office a validated body asks for (the API's, the pages' and `offices add`'s)."""
    return OfficeRequest(
        code=code,
        name=data.get("name"),
        unit_type=data.get("unit_type"),
        region_code=data.get("region_code"),
        region_name=data.get("region_name"),
        regencies=frozenset(data["regencies"]) if "regencies" in data else None,
        effective_on=data.get("effective_on"),
        take_over=data["take_over"],
    )


def office_as_dict(office: Office) -> dict[str, Any]:
    return {
        "code": office.code,
        "name": office.name,
        "unit_type": office.unit_type,
        "region_code": office.region_code,
        "region_name": office.region_name,
        "regencies": sorted(office.regencies),
        "active": office.active,
    }


_OFFICE_BY_CODE = _OFFICES.where(offices.c.code == bindparam("code"))


def get_office(conn: Connection, code: str) -> Office | None:
    row = conn.execute(_OFFICE_BY_CODE, {"code": code}).one_or_none()
    return _office_from_row(row) if row else None


def list_offices(
    conn: Connection, *, limit: int | None = None, after_code: str | None = None
) -> list[Office]:
    """Offices by code, `limit` of them after `after_code` when given."""
    query = _OFFICES.order_by(offices.c.code)
    if after_code is not None:
        query = query.where(offices.c.code > after_code)
    if limit is not None:
        query = query.limit(limit)
    return [_office_from_row(row) for row in conn.execute(query)]


class OfficeHeading(NamedTuple):
    """What lists and reports name an office by; an office's regencies are for deciding cases."""

    code: str
    name: str
    region_code: str
    region_name: str


def _held_on(history: Table, as_of: dt.date) -> ColumnElement[bool]:
    return or_(history.c.effective_on.is_(None), history.c.effective_on <= as_of.isoformat())


def _as_it_stood(history: Table, as_of: dt.date) -> Subquery:
    """Per code, the position of the newest state of `history` held at the end of `as_of`."""
    return (
        select(history.c.code, func.max(history.c.position).label("position"))
        .where(_held_on(history, as_of))
        .group_by(history.c.code)
        .subquery()
    )


def list_office_headings(conn: Connection, as_of: dt.date | None = None) -> list[OfficeHeading]:
    """Every office by code, without the regencies it serves: as it stands, or as it stood at the end
    of `as_of` (an office opened later is left out), its region by the name it had that day."""
    if as_of is None:
        query: Select[Any] = select(offices.c.code, offices.c.name, offices.c.region_code, regions.c.name)
        query = query.join(regions, regions.c.code == offices.c.region_code).order_by(offices.c.code)
        return [OfficeHeading._make(row) for row in conn.execute(query)]
    office_state, region_state = _as_it_stood(office_history, as_of), _as_it_stood(region_history, as_of)
    query = (
        select(
            office_history.c.code,
            office_history.c.name,
            office_history.c.region_code,
            region_history.c.name.label("region_name"),
        )
        .join(office_state, office_state.c.position == office_history.c.position)
        # Every region has a name held on any day: the one it was added with holds since before records.
        .join(region_state, region_state.c.code == office_history.c.region_code)
        .join(region_history, region_history.c.position == region_state.c.position)
        .order_by(office_history.c.code)
    )
    return [OfficeHeading._make(row) for row in conn.execute(query)]


class Region(NamedTuple):
    code: str
    name: str
    offices: list[str]  # the codes of its offices


def list_regions(conn: Connection) -> list[Region]:
    """Every region (Kanwil) by code, with its offices' codes."""
    found = {
        code: Region(code, name, []) for code, name in conn.execute(select(regions).order_by(regions.c.code))
    }
    for office in list_office_headings(conn):
        found[office.region_code].offices.append(office.code)
    return list(found.values())


def get_region(conn: Connection, code: str) -> Region | None:
    return next((region for region in list_regions(conn) if region.code == code), None)


def region_names(conn: Connection) -> dict[str, str]:
    return {code: name for code, name in conn.execute(select(regions.c.code, regions.c.name))}


def visible_offices(
    conn: Connection,
    actor: Actor,
    region: str | None = None,
    all_offices: list[OfficeHeading] | None = None,
) -> list[OfficeHeading]:
    """The offices whose figures the actor may read, by code; `region` narrows them further."""
    rules.check_may_read_reports(actor)
    return [
        office
        for office in (all_offices if all_offices is not None else list_office_headings(conn))
        if rules.may_read_office(actor, office.code, office.region_code)
        and (region is None or office.region_code == region)
    ]


def office_history_of(conn: Connection, code: str) -> list[dict[str, Any]]:
    """Every state of the office, oldest first, with the day it held from and where the log has it."""
    if get_office(conn, code) is None:
        raise NotFound(f"no office {code}")
    names = region_names(conn)
    rows = conn.execute(
        select(office_history).where(office_history.c.code == code).order_by(office_history.c.position)
    ).mappings()
    return [
        {
            "position": row["position"],
            "effective_on": row["effective_on"],
            "recorded_at": row["recorded_at"],
            "changed": row["changed"],
            "taken_by": row["taken_by"],
            "office": office_as_dict(
                Office(
                    code=code,
                    name=row["name"],
                    region_code=row["region_code"],
                    region_name=names.get(row["region_code"], ""),
                    regencies=frozenset(row["regencies"]),
                    unit_type=row["unit_type"],
                )
            ),
        }
        for row in rows
    ]


def _organisation(conn: Connection, regencies: frozenset[str]) -> Organisation:
    return Organisation(
        offices={office.code: office for office in list_offices(conn)},
        last_effective={
            code: dt.date.fromisoformat(day) if day else None
            for code, day in conn.execute(select(offices.c.code, offices.c.effective_on))
        },
        regions=region_names(conn),
        regency_names=registry.regency_names(conn, regencies),
    )


def _days(tx: WriteTransaction) -> Days:
    return Days(today=day_of(tx.now), latest=latest_today(tx.now))


def _append_all(tx: WriteTransaction, code: str, recorded: rules_of.Recorded) -> None:
    """Append the organisation's events; then pass the cases of every regency taken over to the office
    `code` that took it, and every case of an office that moved to another region to that region,
    each by an event on the case naming the cause's position."""
    cause = 0
    for stream_id, event in recorded:
        stream_type = REGION_STREAM if stream_id.startswith("region:") else OFFICE_STREAM
        before = (
            get_office(tx.conn, stream_id.removeprefix("office:")) if stream_type == OFFICE_STREAM else None
        )
        appended = tx.append(stream_type, stream_id, tx.stream_version(stream_id), [event])
        if stream_id == office_stream_id(code):
            cause = appended.events[-1].position
        if not isinstance(event, OfficeChanged) or before is None:
            continue
        if event.taken_by is not None:
            taking = get_office(tx.conn, event.taken_by)
            assert taking is not None
            lost = before.regencies - set(event.regencies)
            _transfer_cases(
                tx, before, taking, event.effective_on, cause, regencies=lost, stages=_MOVING_STAGES
            )
        elif event.region_code != before.region_code:
            # The office's cases, closed ones too, belong to the region it now belongs to.
            moved = get_office(tx.conn, before.code)
            assert moved is not None
            _transfer_cases(tx, before, moved, event.effective_on, cause, regencies=None, stages=_ALL_STAGES)


# A case that holds its village (live or designated) goes with its regency; a closed one stays.
_MOVING_STAGES = [stage.value for stage in Stage if stage not in CLOSING_STAGES]


_ALL_STAGES = [stage.value for stage in Stage]


def _transfer_cases(
    tx: WriteTransaction,
    source: Office,
    target: Office,
    effective_on: dt.date,
    cause: int,
    *,
    regencies: set[str] | None,
    stages: list[str],
) -> None:
    """Pass the source office's cases in `stages` (of `regencies`, or all) to the target office as it
    now stands (the same office, for one that moved to another region)."""
    query = select(candidacies.c.id, candidacies.c.version).where(
        candidacies.c.office_code == source.code, candidacies.c.stage.in_(stages)
    )
    if regencies is not None:
        query = query.where(func.substr(candidacies.c.village_code, 1, 5).in_(sorted(regencies)))
    found = tx.conn.execute(query.order_by(candidacies.c.proposed_position)).all()
    for case_id, version in found:
        moved = CandidacyTransferred(
            from_office=source.code,
            to_office=target.code,
            region_code=target.region_code,
            effective_on=effective_on,
            cause_position=cause,
        )
        tx.append(CANDIDACY_STREAM, case_id, version, [moved])


def open_office(tx: WriteTransaction, actor: Actor, request: OfficeRequest) -> Office:
    """Open an office (with its region, if new), taking over the regencies it is given to serve."""
    org = _organisation(tx.conn, request.regencies or frozenset())
    _append_all(tx, request.code, rules_of.open_office(actor, request, org, _days(tx)))
    office = get_office(tx.conn, request.code)
    assert office is not None
    return office


def change_office(tx: WriteTransaction, actor: Actor, request: OfficeRequest) -> Office:
    """Change an office from `effective_on` on, taking over the regencies it is given to serve."""
    current = get_office(tx.conn, request.code)
    org = _organisation(
        tx.conn, (request.regencies or frozenset()) | (current.regencies if current else frozenset())
    )
    _append_all(tx, request.code, rules_of.change_office(actor, request, org, _days(tx)))
    office = get_office(tx.conn, request.code)
    if office is None:
        raise NotFound(f"no office {request.code}")
    return office


def add_region(tx: WriteTransaction, actor: Actor, code: str, name: str) -> Region:
    event = rules_of.add_region(actor, code, name, region_names(tx.conn))
    tx.append(REGION_STREAM, region_stream_id(code), 0, [event])
    return Region(code, name, [])


def rename_region(tx: WriteTransaction, actor: Actor, code: str, name: str) -> Region:
    event = rules_of.rename_region(actor, code, name, region_names(tx.conn))
    if event is not None:
        stream_id = region_stream_id(code)
        tx.append(REGION_STREAM, stream_id, tx.stream_version(stream_id), [event])
    region = get_region(tx.conn, code)
    assert region is not None
    return region


def import_office(tx: WriteTransaction, actor: Actor, office: Office) -> None:
    """Record an office as it stands, since before the records (and its region, if new), without the
    registry's checks: for set-up (the demo, tests) and for upgrades of databases that had it already.
    Offices opened through the API or `offices add` go through every rule."""
    rules.check_may_manage_accounts(actor)
    if office.region_code not in region_names(tx.conn):
        added = RegionAdded(code=office.region_code, name=office.region_name, imported=True)
        tx.append(REGION_STREAM, region_stream_id(office.region_code), 0, [added])
    opened = OfficeOpened(
        code=office.code,
        name=office.name,
        unit_type=office.unit_type,
        region_code=office.region_code,
        regencies=tuple(sorted(office.regencies)),
        effective_on=None,
        imported=True,
    )
    tx.append(OFFICE_STREAM, office_stream_id(office.code), 0, [opened])
