"""The designation register: every designated village with who took it there, as JSON pages or CSV."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select

from domain.actors import Actor
from domain.errors import InvalidInput
from events.schema import designations, role_grants
from service.organisation import visible_offices
from service.pagination import MAX_POSITION, Page, decode_cursor, encode_cursor
from service.representations import village_as_dict

PEOPLE = ("proposed_by", "coordinated_by", "socialized_by", "assessed_by", "approved_by")


@dataclass(frozen=True, slots=True)
class RegisterFilters:
    year: int | None = None
    office: str | None = None
    region: str | None = None


class Authorities:
    """Each signer's authority: the newest grant of a role to that person (`role_grants`) before the
    act they signed. An act recorded before accounts were events has no grant before it; it rests on
    the account's imported opening, which records the role the person held when it was imported."""

    def __init__(self, conn: Connection, usernames: set[str] | None = None) -> None:
        query = select(
            role_grants.c.user_id, role_grants.c.username, role_grants.c.position, role_grants.c.imported
        )
        if usernames is not None:
            query = query.where(role_grants.c.username.in_(sorted(usernames)))
        self._by_id: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self._by_username: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for user_id, username, position, imported in conn.execute(query.order_by(role_grants.c.position)):
            self._by_id[user_id].append((position, imported))
            self._by_username[username].append((position, imported))

    def of(self, signer: dict[str, Any]) -> dict[str, Any] | None:
        """`{position}` of the grant the signer acted on, or None if the log holds none."""
        grants = (
            self._by_id.get(signer["id"], []) if signer.get("id") else self._by_username[signer["username"]]
        )
        before = [position for position, _ in grants if position < signer["position"]]
        if before:
            return {"position": before[-1]}
        if grants and grants[0][1]:
            return {"position": grants[0][0]}
        return None


def _signers(row: Any) -> set[str]:
    return {row[person]["username"] for person in PEOPLE}


def designation_as_dict(row: Any, authorities: Authorities) -> dict[str, Any]:
    return {
        "candidacy_id": row["candidacy_id"],
        "village": village_as_dict(row),
        "office_code": row["office_code"],
        "region_code": row["region_code"],
        "decree_number": row["decree_number"],
        "decree_date": row["decree_date"],
        "quarter": row["quarter"],
        "fostering_officers": row["fostering_officers"],
        **{person: {**row[person], "authority": authorities.of(row[person])} for person in PEOPLE},
        "days_to_designation": row["days_to_designation"],
    }


def designation_register(
    conn: Connection, actor: Actor, filters: RegisterFilters, limit: int, cursor: str | None
) -> Page:
    """A page of designated villages in decree order."""
    query = _register_query(conn, actor, filters, select(designations))
    if cursor:
        after_date, after_position = _register_cursor(cursor)
        query = query.where(
            or_(
                designations.c.decree_date > after_date,
                and_(designations.c.decree_date == after_date, designations.c.position > after_position),
            )
        )
    rows = conn.execute(query.limit(limit + 1)).mappings().all()
    shown = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = shown[-1]
        next_cursor = encode_cursor("d", f"{last['decree_date']}/{last['position']}")
    authorities = Authorities(conn, set().union(*map(_signers, shown)))
    return Page(items=[designation_as_dict(r, authorities) for r in shown], next_cursor=next_cursor)


def _register_query(
    conn: Connection, actor: Actor, filters: RegisterFilters, query: Select[Any]
) -> Select[Any]:
    offices = [o.code for o in visible_offices(conn, actor, filters.region)]
    query = query.where(designations.c.office_code.in_(offices)).order_by(
        designations.c.decree_date, designations.c.position
    )
    if filters.year is not None:
        query = query.where(designations.c.decree_year == filters.year)
    if filters.office:
        query = query.where(designations.c.office_code == filters.office)
    return query


def _register_cursor(cursor: str) -> tuple[str, int]:
    after_date, _, after_position = decode_cursor("d", cursor).partition("/")
    try:
        day = dt.date.fromisoformat(after_date).isoformat()
    except ValueError:
        day = ""
    if not day or not after_position.isdigit() or int(after_position) > MAX_POSITION:
        raise InvalidInput.field("cursor", "not a cursor this API gave out for this list")
    return day, int(after_position)


SIGNER_PARTS = ("username", "name", "role", "at", "authority_position")

REGISTER_CSV_COLUMNS = [
    "candidacy_id",
    "village_code",
    "village_name",
    "district",
    "regency",
    "province",
    "office_code",
    "region_code",
    "decree_number",
    "decree_date",
    "quarter",
    "fostering_officers",
    *[f"{person}_{part}" for person in PEOPLE for part in SIGNER_PARTS],
    "days_to_designation",
]


_REGISTER_CSV_SOURCE = select(
    designations.c.candidacy_id,
    designations.c.village_code,
    designations.c.village_name,
    designations.c.district_name,
    designations.c.regency_name,
    designations.c.province_name,
    designations.c.office_code,
    designations.c.region_code,
    designations.c.decree_number,
    designations.c.decree_date,
    designations.c.quarter,
    designations.c.fostering_officers,
    *[designations.c[person] for person in PEOPLE],
    designations.c.days_to_designation,
)


def register_csv_rows(conn: Connection, actor: Actor, filters: RegisterFilters) -> list[list[Any]]:
    """Every designated village in decree order, as cells in REGISTER_CSV_COLUMNS order."""
    authorities = Authorities(conn)

    def cells(signer: dict[str, Any]) -> list[Any]:
        authority = authorities.of(signer)
        return [*(signer[part] for part in SIGNER_PARTS[:4]), authority["position"] if authority else ""]

    return [
        [
            *place_and_decree,
            "; ".join(fostering_officers),
            *[cell for signer in row[12:17] for cell in cells(signer)],
            row[17],
        ]
        for row in conn.execute(_register_query(conn, actor, filters, _REGISTER_CSV_SOURCE))
        for *place_and_decree, fostering_officers in [row[:12]]
    ]
