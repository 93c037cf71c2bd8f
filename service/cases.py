"""Cases as people read them: one case, its history from the log, and lists, from the read models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, func, select, text

from domain import rules
from domain.actors import OFFICE_ROLES, Actor, Role
from domain.candidacy import AWAITED_ACTIONS, awaited_actions
from domain.errors import NotFound
from domain.lifecycle import LIVE_STAGES, Action, Stage
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


def in_scope(query: Select[Any], actor: Actor) -> Select[Any]:
    """Only the cases the actor reads: an office's, a region's, or all of them."""
    if actor.role in OFFICE_ROLES:
        return query.where(candidacies.c.office_code == actor.office_code)
    if actor.role is Role.REGIONAL_SUPERVISOR:
        return query.where(candidacies.c.region_code == actor.region_code)
    return query


def list_cases(conn: Connection, actor: Actor, filters: CaseFilters, limit: int, cursor: str | None) -> Page:
    """The cases the actor may read, newest proposal first."""
    rules.check_may_read_cases(actor)
    query = in_scope(select(candidacies).order_by(candidacies.c.proposed_position.desc()), actor)
    query = query.limit(limit + 1)
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


class MyWork(NamedTuple):
    waiting: list[dict[str, Any]]  # cases, each with `awaited_actions`, the longest waiting first
    by_stage: dict[str, int]  # every stage, with how many cases of the actor's scope it holds


_LIVE = sorted(stage.value for stage in LIVE_STAGES)


def my_work(conn: Connection, actor: Actor) -> MyWork:
    """The live cases waiting for something the actor may do now, the one unchanged longest first
    (its last change is when it started waiting), and how many cases each stage holds in the scope."""
    rules.check_may_read_cases(actor)
    waiting = []
    if any(rules.may_perform(actor.role, action) for action in AWAITED_ACTIONS):
        live = in_scope(select(candidacies).where(candidacies.c.stage.in_(_LIVE)), actor)
        for row in conn.execute(live.order_by(candidacies.c.updated_at)).mappings():
            case = case_as_dict(row, actor)
            awaited = awaited_actions([Action(a) for a in case["allowed_actions"]])
            if awaited:
                waiting.append({**case, "awaited_actions": [a.value for a in awaited]})
    counted = in_scope(select(candidacies.c.stage, func.count()).group_by(candidacies.c.stage), actor)
    by_stage = {stage.value: 0 for stage in Stage} | dict(conn.execute(counted).all())
    return MyWork(waiting, by_stage)


def _readable_row(conn: Connection, actor: Actor, candidacy_id: str) -> Any:
    rules.check_may_read_cases(actor)
    row = conn.execute(_CASE_BY_ID, {"candidacy_id": candidacy_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"no candidacy {candidacy_id}")
    rules.check_may_read_case(actor, row["office_code"], row["region_code"], candidacy_id)
    return row
