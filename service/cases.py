"""Cases as people read them: one case, its history from the log, and lists, from the read models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from domain import rules
from domain.actors import OFFICE_ROLES, Actor, Role
from domain.errors import NotFound
from domain.lifecycle import Stage
from events.schema import HOLDS_VILLAGE, candidacies
from events.store import EventStore
from service.pagination import Page, decode_position_cursor, encode_cursor
from service.representations import case_as_dict, event_as_dict

_CASE_BY_ID = select(candidacies).where(candidacies.c.id == bindparam("candidacy_id"))
# The partial unique index's own condition, so that the database looks the village up in it.
_STAGE_HOLDING_VILLAGE = select(candidacies.c.stage).where(
    candidacies.c.village_code == bindparam("village_code"), text(HOLDS_VILLAGE)
)


@dataclass(frozen=True, slots=True)
class CaseFilters:
    office: str | None = None
    region: str | None = None
    stage: str | None = None
    year: int | None = None
    q: str | None = None


def stage_holding_village(conn: Connection, village_code: str) -> Stage | None:
    """The stage of the live or designated case that holds the village, if any."""
    stage = conn.execute(_STAGE_HOLDING_VILLAGE, {"village_code": village_code}).scalar_one_or_none()
    return Stage(stage) if stage else None


def get_case(conn: Connection, actor: Actor, candidacy_id: str) -> dict[str, Any]:
    return case_as_dict(_readable_row(conn, actor, candidacy_id), actor)


def case_events(conn: Connection, actor: Actor, candidacy_id: str) -> list[dict[str, Any]]:
    """The case's history straight from the log (its own index), upcast to today's schemas."""
    _readable_row(conn, actor, candidacy_id)
    return [event_as_dict(e) for e in EventStore().load_stream(conn, candidacy_id)]


def list_cases(conn: Connection, actor: Actor, filters: CaseFilters, limit: int, cursor: str | None) -> Page:
    """The cases the actor may read, newest proposal first."""
    rules.check_may_read_cases(actor)
    query = select(candidacies).order_by(candidacies.c.proposed_position.desc()).limit(limit + 1)
    if actor.role in OFFICE_ROLES:
        query = query.where(candidacies.c.office_code == actor.office_code)
    elif actor.role is Role.REGIONAL_SUPERVISOR:
        query = query.where(candidacies.c.region_code == actor.region_code)
    if filters.office:
        query = query.where(candidacies.c.office_code == filters.office)
    if filters.region:
        query = query.where(candidacies.c.region_code == filters.region)
    if filters.stage:
        query = query.where(candidacies.c.stage == filters.stage)
    if filters.year:
        query = query.where(candidacies.c.proposed_year == filters.year)
    if filters.q:
        query = query.where(
            func.lower(candidacies.c.village_name).contains(filters.q.lower(), autoescape=True)
        )
    if cursor:
        query = query.where(candidacies.c.proposed_position < decode_position_cursor(cursor))
    rows = conn.execute(query).mappings().all()
    items = [case_as_dict(row, actor) for row in rows[:limit]]
    next_cursor = encode_cursor("p", rows[limit - 1]["proposed_position"]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _readable_row(conn: Connection, actor: Actor, candidacy_id: str) -> Any:
    rules.check_may_read_cases(actor)
    row = conn.execute(_CASE_BY_ID, {"candidacy_id": candidacy_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"no candidacy {candidacy_id}")
    rules.check_may_read_case(actor, row["office_code"], row["region_code"], candidacy_id)
    return row
