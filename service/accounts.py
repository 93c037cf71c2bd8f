"""Offices and user accounts: reference data that says who may act, and where."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain import rules
from domain.actors import Actor, Role, scope_problem
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.places import Office
from events.store import format_timestamp
from events.unit_of_work import Clock
from service import registry
from service.auth import DEFAULT_TOKEN_DAYS, hash_token, new_token
from service.tables import api_tokens, offices, users


def _office_from_row(row: Any) -> Office:
    return Office(
        code=row.code,
        name=row.name,
        region_code=row.region_code,
        region_name=row.region_name,
        regencies=frozenset(row.regencies),
    )


def office_as_dict(office: Office) -> dict[str, Any]:
    return {
        "code": office.code,
        "name": office.name,
        "region_code": office.region_code,
        "region_name": office.region_name,
        "regencies": sorted(office.regencies),
    }


_OFFICE_BY_CODE = select(offices).where(offices.c.code == bindparam("code"))


def get_office(conn: Connection, code: str) -> Office | None:
    row = conn.execute(_OFFICE_BY_CODE, {"code": code}).one_or_none()
    return _office_from_row(row) if row else None


def list_offices(
    conn: Connection, *, limit: int | None = None, after_code: str | None = None
) -> list[Office]:
    """Offices by code, `limit` of them after `after_code` when given."""
    query = select(offices).order_by(offices.c.code)
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


_OFFICE_HEADINGS = select(
    offices.c.code, offices.c.name, offices.c.region_code, offices.c.region_name
).order_by(offices.c.code)


def list_office_headings(conn: Connection) -> list[OfficeHeading]:
    """Every office by code, without the regencies it serves."""
    return [OfficeHeading._make(row) for row in conn.execute(_OFFICE_HEADINGS)]


class Region(NamedTuple):
    code: str
    name: str
    offices: list[str]  # the codes of its offices


def list_regions(conn: Connection) -> list[Region]:
    """Every region (Kanwil) that has offices, by code, with its offices' codes."""
    regions: dict[str, Region] = {}
    for office in list_office_headings(conn):
        region = regions.setdefault(office.region_code, Region(office.region_code, office.region_name, []))
        region.offices.append(office.code)
    return [regions[code] for code in sorted(regions)]


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


def add_office(conn: Connection, office: Office) -> Office:
    try:
        with conn.begin_nested():
            conn.execute(insert(offices).values(**office_as_dict(office)))
    except IntegrityError as error:
        raise RuleBroken(f"office {office.code} exists already", rule="duplicate_office") from error
    return office


def replace_office(conn: Connection, office: Office) -> Office:
    fields = office_as_dict(office)
    del fields["code"]
    if conn.execute(update(offices).where(offices.c.code == office.code).values(**fields)).rowcount == 0:
        raise NotFound(f"no office {office.code}")
    return office


@dataclass(frozen=True, slots=True)
class OfficeChange:
    """An office as an admin asks for it (`POST`/`PUT /offices`, `offices add`): `region_name` may be
    left out for an existing region; `take_over` moves regencies another office serves to this one."""

    code: str
    name: str
    region_code: str
    region_name: str | None
    regencies: frozenset[str]
    take_over: bool = False


def create_office(conn: Connection, change: OfficeChange) -> Office:
    """Add an office; a code in use is refused before anything else is looked at."""
    if get_office(conn, change.code) is not None:
        raise RuleBroken(f"office {change.code} exists already", rule="duplicate_office")
    return add_office(conn, _settle(conn, change))


def change_office(conn: Connection, change: OfficeChange) -> Office:
    """Replace an office's name, region and working area."""
    if get_office(conn, change.code) is None:
        raise NotFound(f"no office {change.code}")
    return replace_office(conn, _settle(conn, change))


def _settle(conn: Connection, change: OfficeChange) -> Office:
    """The office to store, by the rules of the working area and the region, in the caller's
    transaction: every regency is one of the registry's; each is served by one office only, so one
    served by another moves only when `take_over` says so (its live cases stay with their office:
    moving them comes with organisation events); a new region needs a name, and an existing region
    keeps the one it has (renaming regions comes later)."""
    everyone = list_offices(conn)
    errors: dict[str, list[str]] = {}
    known = registry.regency_names(conn, change.regencies)
    if unknown := sorted(change.regencies - known.keys()):
        errors["regencies"] = [f"not a regency or city of the village registry: {', '.join(unknown)}"]
    region_name = change.region_name
    named = [o.region_name for o in everyone if o.region_code == change.region_code]
    if not named and region_name is None:
        errors["region_name"] = [f"region {change.region_code} is new: give its name"]
    elif named and region_name not in (None, named[0]):
        errors["region_name"] = [
            f"region {change.region_code} is named {named[0]!r}: send that name or none"
            " (renaming a region is not possible yet)"
        ]
    if errors:
        raise InvalidInput(errors)

    others = [o for o in everyone if o.code != change.code and o.regencies & change.regencies]
    if others and not change.take_over:
        served = sorted((r, o.code) for o in others for r in o.regencies & change.regencies)
        listed = ", ".join(f"{regency} ({known[regency]}) by {code}" for regency, code in served)
        raise RuleBroken(
            f"served by another office: {listed}; send take_over: true to move them to {change.code}",
            rule="regency_served",
        )
    for other in others:
        replace_office(conn, replace(other, regencies=other.regencies - change.regencies))
    return Office(
        code=change.code,
        name=change.name,
        region_code=change.region_code,
        region_name=region_name if region_name is not None else named[0],
        regencies=change.regencies,
    )


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    name: str
    role: Role
    office_code: str | None
    region_code: str | None


def add_user(conn: Connection, user: NewUser, clock: Clock, token_days: int = DEFAULT_TOKEN_DAYS) -> str:
    """Create the user and return its first token: shown once, stored only as a hash."""
    errors = scope_problem(user.role, user.office_code, user.region_code)
    if user.office_code and get_office(conn, user.office_code) is None:
        errors.setdefault("office", []).append(f"no office {user.office_code}")
    if user.region_code and not _region_has_offices(conn, user.region_code):
        errors.setdefault("region", []).append(
            f"no office belongs to region {user.region_code}: add the region's offices first"
        )
    if errors:
        raise InvalidInput(errors)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(users).values(
                    username=user.username,
                    name=user.name,
                    role=user.role.value,
                    office_code=user.office_code,
                    region_code=user.region_code,
                    active=True,
                    created_at=format_timestamp(clock()),
                    id=str(uuid.uuid4()),
                )
            )
    except IntegrityError as error:
        raise RuleBroken(f"user {user.username} exists already", rule="duplicate_user") from error
    return issue_token(conn, user.username, clock, token_days)


def _region_has_offices(conn: Connection, region_code: str) -> bool:
    return (
        conn.execute(select(offices.c.code).where(offices.c.region_code == region_code).limit(1)).first()
        is not None
    )


def token_expiry(clock: Clock, days: int) -> dt.datetime:
    return clock() + dt.timedelta(days=days)


def issue_token(conn: Connection, username: str, clock: Clock, days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A new token for an active user, living `days` days; shown once, stored only as a hash."""
    active = conn.execute(select(users.c.active).where(users.c.username == username)).scalar_one_or_none()
    if active is None:
        raise NotFound(f"no user {username}")
    if not active:
        raise RuleBroken(
            f"user {username} is deactivated: reactivate the account first", rule="user_deactivated"
        )
    token = new_token()
    conn.execute(
        insert(api_tokens).values(
            token_hash=hash_token(token),
            username=username,
            created_at=format_timestamp(clock()),
            expires_at=format_timestamp(token_expiry(clock, days)),
        )
    )
    return token


def revoke_user(conn: Connection, username: str, clock: Clock) -> int:
    """End every live token of the user and deactivate the account; returns the tokens ended.

    Both, so that the account stays shut even for a token issued afterwards (`demo seed` issues fresh
    ones to existing users). Revoking again ends nothing and is not an error. The last active
    administrator is not revoked (409)."""
    found = conn.execute(select(users.c.role, users.c.active).where(users.c.username == username)).first()
    if found is None:
        raise NotFound(f"no user {username}")
    # The active administrators' rows stay locked to the end of the transaction (PostgreSQL): two
    # administrators revoking each other at once cannot both succeed.
    active_admins = conn.execute(
        select(users.c.username).where(users.c.role == Role.ADMIN.value, users.c.active).with_for_update()
    ).scalars()
    rules.check_not_last_admin(Role(found.role), found.active, len(set(active_admins) - {username}))
    ended = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.username == username, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=format_timestamp(clock()))
    ).rowcount
    conn.execute(update(users).where(users.c.username == username).values(active=False))
    return ended


def user_exists(conn: Connection, username: str) -> bool:
    return conn.execute(select(users.c.username).where(users.c.username == username)).first() is not None


def reactivate_user(conn: Connection, username: str) -> bool:
    """Open a deactivated account again; returns whether it was deactivated. The tokens its
    deactivation ended stay ended (one of them may be why it was revoked): issue a new one."""
    if not user_exists(conn, username):
        raise NotFound(f"no user {username}")
    return (
        conn.execute(
            update(users).where(users.c.username == username, users.c.active.is_(False)).values(active=True)
        ).rowcount
        == 1
    )


class UserListing(NamedTuple):
    id: str
    username: str
    name: str
    role: str
    office_code: str | None
    region_code: str | None
    active: bool
    created_at: str
    token_expires_at: str | None  # the latest expiry of the user's unrevoked tokens


def _users_with_token_expiry() -> Select[Any]:
    latest = (
        select(api_tokens.c.username, func.max(api_tokens.c.expires_at).label("expires_at"))
        .where(api_tokens.c.revoked_at.is_(None))
        .group_by(api_tokens.c.username)
        .subquery()
    )
    return select(
        users.c.id,
        users.c.username,
        users.c.name,
        users.c.role,
        users.c.office_code,
        users.c.region_code,
        users.c.active,
        users.c.created_at,
        latest.c.expires_at,
    ).outerjoin(latest, latest.c.username == users.c.username)


def list_users(
    conn: Connection,
    *,
    role: str | None = None,
    office_code: str | None = None,
    region_code: str | None = None,
    active: bool | None = None,
    after_username: str | None = None,
    limit: int | None = None,
) -> list[UserListing]:
    """Users by username, filtered by what is given, with the latest expiry among each one's
    unrevoked tokens (None: none left)."""
    query = _users_with_token_expiry().order_by(users.c.username)
    for column, wanted in (
        (users.c.role, role),
        (users.c.office_code, office_code),
        (users.c.region_code, region_code),
        (users.c.active, active),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    if after_username is not None:
        query = query.where(users.c.username > after_username)
    if limit is not None:
        query = query.limit(limit)
    return [UserListing._make(row) for row in conn.execute(query)]


def get_user(conn: Connection, username: str) -> UserListing | None:
    row = conn.execute(_users_with_token_expiry().where(users.c.username == username)).one_or_none()
    return UserListing._make(row) if row else None


def user_as_dict(user: UserListing) -> dict[str, Any]:
    """A user as the API shows it: never a token, nor anything of one but when the newest expires."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "office_code": user.office_code,
        "region_code": user.region_code,
        "active": user.active,
        "created_at": user.created_at,
        "token_expires_at": user.token_expires_at,
    }
