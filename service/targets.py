"""Each office's yearly targets, with every change of them, as people read them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from domain.actors import Actor
from domain.errors import InvalidInput
from domain.places import Office
from events.schema import target_history, targets
from service.organisation import OfficeHeading, visible_offices
from service.pagination import Page, decode_cursor, encode_cursor


def target_as_dict(row: Any, office: Office | OfficeHeading, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "office_code": office.code,
        "office_name": office.name,
        "region_code": office.region_code,
        "year": row["year"],
        "target": row["target"],
        "basis": row["basis"],
        "version": row["version"],
        "set_at": row["set_at"],
        "set_by": row["set_by"],
        "history": history,
    }


def _history(
    conn: Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    keys = list(keys)
    found: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    if not keys:
        return found
    offices_wanted = {k[0] for k in keys}
    years_wanted = {k[1] for k in keys}
    rows = conn.execute(
        select(target_history)
        .where(target_history.c.office_code.in_(offices_wanted), target_history.c.year.in_(years_wanted))
        .order_by(target_history.c.position)
    ).mappings()
    for row in rows:
        found[(row["office_code"], row["year"])].append(
            {
                "version": row["version"],
                "target": row["target"],
                "basis": row["basis"],
                "at": row["set_at"],
                "by": row["set_by"],
            }
        )
    return found


def target_of(conn: Connection, office: Office, year: int) -> dict[str, Any]:
    row = (
        conn.execute(select(targets).where(targets.c.office_code == office.code, targets.c.year == year))
        .mappings()
        .one()
    )
    return target_as_dict(row, office, _history(conn, [(office.code, year)])[(office.code, year)])


def list_targets(conn: Connection, actor: Actor, year: int | None, limit: int, cursor: str | None) -> Page:
    offices = {o.code: o for o in visible_offices(conn, actor)}
    query = (
        select(targets)
        .where(targets.c.office_code.in_(offices))
        .order_by(targets.c.year, targets.c.office_code)
        .limit(limit + 1)
    )
    if year is not None:
        query = query.where(targets.c.year == year)
    if cursor:
        after_year, _, after_office = decode_cursor("t", cursor).partition("/")
        if not after_year.isdigit() or not after_office:
            raise InvalidInput.field("cursor", "not a cursor this API gave out for this list")
        query = query.where(
            or_(
                targets.c.year > int(after_year),
                and_(targets.c.year == int(after_year), targets.c.office_code > after_office),
            )
        )
    rows = conn.execute(query).mappings().all()
    shown = rows[:limit]
    history = _history(conn, [(r["office_code"], r["year"]) for r in shown])
    items = [
        target_as_dict(r, offices[r["office_code"]], history[(r["office_code"], r["year"])]) for r in shown
    ]
    last = shown[-1] if shown else None
    next_cursor = (
        encode_cursor("t", f"{last['year']}/{last['office_code']}") if last and len(rows) > limit else None
    )
    return Page(items=items, next_cursor=next_cursor)
