"""Offices, and user accounts (their events recorded through `domain.accounts`): who may act, and where."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from domain import accounts as account_rules
from domain import rules
from domain.accounts import Account, AccountChange, AccountDraft
from domain.actors import Actor, Role
from domain.errors import InvalidInput, NotFound, RuleBroken
from domain.events import REGISTRY, USER_STREAM
from domain.places import Office
from events.schema import users
from events.store import EventMetadata, format_timestamp
from events.unit_of_work import Clock, UnitOfWork, WriteTransaction
from service import registry
from service.auth import DEFAULT_TOKEN_DAYS, hash_token, new_token
from service.tables import api_tokens, offices, passwords


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


# The actor of what is done from the command line: `cli`, named by the operating-system user who ran
# it (`rules.RESERVED_USERNAMES`: no account takes this username).
COMMAND_LINE = "cli"


def command_line_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        who = f"uid {os.getuid()}"
    return Actor(username=COMMAND_LINE, name=who, role=Role.ADMIN)


def as_command_line(uow: UnitOfWork, label: str) -> AbstractContextManager[WriteTransaction]:
    """A unit of work whose events are recorded with the actor `cli` (commands, the demo, set-up)."""
    return uow.write(EventMetadata.of(command_line_actor(), label))


def _account(tx: WriteTransaction, username: str) -> Account:
    """The account as its events tell it, in the caller's unit of work."""
    user_id = tx.conn.execute(_USER_ID, {"username": username}).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"no user {username}")
    return Account.from_history(REGISTRY.decode(e.type, e.schema_version, e.data) for e in tx.load(user_id))


_USER_ID = select(users.c.id).where(users.c.username == bindparam("username"))


def _other_active_admins(conn: Connection, user_id: str) -> int:
    # Every account change holds the log's write lock: the count cannot change under it.
    return conn.execute(
        select(func.count())
        .select_from(users)
        .where(users.c.role == Role.ADMIN.value, users.c.active, users.c.id != user_id)
    ).scalar_one()


def _region_has_offices(conn: Connection, region_code: str) -> bool:
    return (
        conn.execute(select(offices.c.code).where(offices.c.region_code == region_code).limit(1)).first()
        is not None
    )


def _scope_exists(conn: Connection, office_code: str | None, region_code: str | None) -> dict[str, bool]:
    return {
        "office_exists": bool(office_code) and get_office(conn, office_code or "") is not None,
        "region_exists": bool(region_code) and _region_has_offices(conn, region_code or ""),
    }


def create_user(tx: WriteTransaction, actor: Actor, draft: AccountDraft) -> UserListing:
    """Open an account (without a token: `issue_token`)."""
    if user_exists(tx.conn, draft.username):
        raise RuleBroken(f"user {draft.username} exists already", rule="duplicate_user")
    user_id = str(uuid.uuid4())
    scope = _scope_exists(tx.conn, draft.office_code, draft.region_code)
    event = account_rules.open_account(actor, user_id, draft, **scope)
    tx.append(USER_STREAM, user_id, 0, [event])
    return listed_user(tx.conn, draft.username)


def add_user(
    tx: WriteTransaction, actor: Actor, draft: AccountDraft, token_days: int = DEFAULT_TOKEN_DAYS
) -> str:
    """Open an account and return its first token: shown once, stored only as a hash."""
    create_user(tx, actor, draft)
    return issue_token(tx, actor, draft.username, token_days).token


def change_user(tx: WriteTransaction, actor: Actor, username: str, change: AccountChange) -> UserListing:
    account = _account(tx, username)
    office = change.office_code or account.office_code
    region = change.region_code or account.region_code
    event = account_rules.change_account(
        actor,
        account,
        change,
        **_scope_exists(tx.conn, office, region),
        other_active_admins=_other_active_admins(tx.conn, account.id),
    )
    if event is not None:
        tx.append(USER_STREAM, account.id, account.version, [event])
    return listed_user(tx.conn, username)


class IssuedToken(NamedTuple):
    token: str  # shown once
    token_id: str
    expires_at: str


def token_expiry(clock: Clock, days: int) -> dt.datetime:
    return clock() + dt.timedelta(days=days)


def issue_token(
    tx: WriteTransaction, actor: Actor, username: str, days: int = DEFAULT_TOKEN_DAYS
) -> IssuedToken:
    """A new token for an active user, living `days` days: its id and expiry go in the log, its hash
    beside it, the token itself only to the caller."""
    account = _account(tx, username)
    token_id = str(uuid.uuid4())
    expires_at = format_timestamp(tx.now + dt.timedelta(days=days))
    event = account_rules.issue_token(actor, account, token_id, expires_at)
    tx.append(USER_STREAM, account.id, account.version, [event])
    token = new_token()
    tx.conn.execute(
        insert(api_tokens).values(
            token_id=token_id,
            token_hash=hash_token(token),
            user_id=account.id,
            created_at=format_timestamp(tx.now),
            expires_at=expires_at,
        )
    )
    return IssuedToken(token, token_id, expires_at)


def _end_tokens(tx: WriteTransaction, token_ids: Sequence[str]) -> None:
    if token_ids:
        tx.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_id.in_(token_ids), api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=format_timestamp(tx.now))
        )


def revoke_tokens(tx: WriteTransaction, actor: Actor, username: str) -> int:
    """End every token of the user (the account stays active); returns how many ended."""
    account = _account(tx, username)
    event = account_rules.revoke_tokens(actor, account)
    if event is None:
        return 0
    tx.append(USER_STREAM, account.id, account.version, [event])
    _end_tokens(tx, event.token_ids)
    return len(event.token_ids)


def deactivate_user(tx: WriteTransaction, actor: Actor, username: str, reason: str) -> int:
    """Shut the account and end every token it holds; returns the tokens ended. Shut already: nothing
    changes. The last active administrator is not deactivated (409)."""
    account = _account(tx, username)
    event = account_rules.deactivate(
        actor, account, reason, other_active_admins=_other_active_admins(tx.conn, account.id)
    )
    if event is None:
        return 0
    tx.append(USER_STREAM, account.id, account.version, [event])
    _end_tokens(tx, event.tokens_ended)
    return len(event.tokens_ended)


def reactivate_user(tx: WriteTransaction, actor: Actor, username: str, reason: str) -> bool:
    """Open a deactivated account again; returns whether it was deactivated. The tokens its
    deactivation ended stay ended (one of them may be why it was shut): issue a new one."""
    account = _account(tx, username)
    event = account_rules.reactivate(actor, account, reason)
    if event is not None:
        tx.append(USER_STREAM, account.id, account.version, [event])
    return event is not None


def set_password(tx: WriteTransaction, actor: Actor, username: str, password: str) -> None:
    """Keep a salted hash of the password (werkzeug's default scrypt); the log records only that it
    was set."""
    account = _account(tx, username)
    event = account_rules.set_password(actor, account, password)
    tx.append(USER_STREAM, account.id, account.version, [event])
    row = {
        "user_id": account.id,
        "password_hash": generate_password_hash(password),
        "set_at": format_timestamp(tx.now),
    }
    if tx.conn.execute(update(passwords).where(passwords.c.user_id == account.id).values(row)).rowcount == 0:
        tx.conn.execute(insert(passwords).values(row))


def user_exists(conn: Connection, username: str) -> bool:
    return conn.execute(_USER_ID, {"username": username}).first() is not None


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
        select(api_tokens.c.user_id, func.max(api_tokens.c.expires_at).label("expires_at"))
        .where(api_tokens.c.revoked_at.is_(None))
        .group_by(api_tokens.c.user_id)
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
    ).outerjoin(latest, latest.c.user_id == users.c.id)


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


def listed_user(conn: Connection, username: str) -> UserListing:
    found = get_user(conn, username)
    if found is None:  # the caller has just found or made it, in the same transaction
        raise NotFound(f"no user {username}")
    return found


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
