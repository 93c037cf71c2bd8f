"""User accounts, their events decided by `domain.accounts`: who may act, and where."""

from __future__ import annotations

import datetime as dt
import getpass
import hmac
import os
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from domain import accounts as account_rules
from domain.accounts import Account, AccountChange, AccountDraft
from domain.actors import Actor, Role
from domain.errors import Message, NotFound, RuleBroken
from domain.events import REGISTRY, USER_STREAM
from events.schema import users
from events.store import EventMetadata, format_timestamp
from events.unit_of_work import UnitOfWork, WriteTransaction
from service import organisation
from service.auth import DEFAULT_TOKEN_DAYS, hash_token, new_token
from service.passwords import hash_password, verify_password
from service.tables import api_tokens, password_links, passwords

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


def _scope_exists(conn: Connection, office_code: str | None, region_code: str | None) -> dict[str, bool]:
    return {
        "office_exists": bool(office_code) and organisation.get_office(conn, office_code or "") is not None,
        "region_exists": bool(region_code) and region_code in organisation.region_names(conn),
    }


def create_user(tx: WriteTransaction, actor: Actor, draft: AccountDraft) -> UserListing:
    """Open an account (without a token: `issue_token`)."""
    if user_exists(tx.conn, draft.username):
        raise RuleBroken(
            Message("user {username} exists already", username=draft.username), rule="duplicate_user"
        )
    user_id = str(uuid.uuid4())
    scope = _scope_exists(tx.conn, draft.office_code, draft.region_code)
    event = account_rules.open_account(actor, user_id, draft, **scope)
    tx.append(USER_STREAM, user_id, 0, [event])
    return listed_user(tx.conn, draft.username)


def add_user(
    tx: WriteTransaction, actor: Actor, draft: AccountDraft, token_days: int = DEFAULT_TOKEN_DAYS
) -> IssuedToken:
    """Open an account and issue its first token: shown once, stored only as a hash."""
    create_user(tx, actor, draft)
    return issue_token(tx, actor, draft.username, token_days)


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
    """Keep a salted hash of the password (argon2id); the log records only that it was set."""
    account = _account(tx, username)
    event = account_rules.set_password(actor, account, password)
    tx.append(USER_STREAM, account.id, account.version, [event])
    _keep_password(tx, account.id, password)


def _keep_password(tx: WriteTransaction, user_id: str, password: str) -> None:
    row = {"user_id": user_id, "password_hash": hash_password(password), "set_at": format_timestamp(tx.now)}
    if tx.conn.execute(update(passwords).where(passwords.c.user_id == user_id).values(row)).rowcount == 0:
        tx.conn.execute(insert(passwords).values(row))


_ACTIVE_USER = select(
    users.c.id, users.c.username, users.c.name, users.c.role, users.c.office_code, users.c.region_code
).where(users.c.active)
_SIGN_IN = _ACTIVE_USER.add_columns(passwords.c.password_hash).outerjoin(
    passwords, passwords.c.user_id == users.c.id
)


def _actor_of(row: Any) -> Actor:
    return Actor(row.username, row.name, Role(row.role), row.office_code, row.region_code, row.id)


def signed_in(conn: Connection, username: str, password: str) -> Actor | None:
    """The active user with this username and password; None otherwise, in about the same time
    whether the user exists or not (a hash is checked either way)."""
    row = conn.execute(_SIGN_IN.where(users.c.username == username)).one_or_none()
    if not verify_password(row.password_hash if row else None, password) or row is None:
        return None
    return _actor_of(row)


def active_actor(conn: Connection, user_id: str) -> Actor | None:
    """The user of a session as they stand now (role and scope may have changed since they signed
    in); None once deactivated."""
    row = conn.execute(_ACTIVE_USER.where(users.c.id == user_id)).one_or_none()
    return _actor_of(row) if row else None


PASSWORD_LINK_HOURS = 72


class IssuedLink(NamedTuple):
    secret: str  # the link's last part: shown once, stored only as a hash
    link_id: str
    expires_at: str


def issue_password_link(tx: WriteTransaction, actor: Actor, username: str) -> IssuedLink:
    """A one-time link for the user to set their own password, for PASSWORD_LINK_HOURS: its id and
    expiry go in the log, a hash of its secret beside it."""
    account = _account(tx, username)
    link_id = str(uuid.uuid4())
    expires_at = format_timestamp(tx.now + dt.timedelta(hours=PASSWORD_LINK_HOURS))
    event = account_rules.issue_password_link(actor, account, link_id, expires_at)
    tx.append(USER_STREAM, account.id, account.version, [event])
    secret = new_token()
    tx.conn.execute(
        insert(password_links).values(
            link_id=link_id,
            token_hash=hash_token(secret),
            user_id=account.id,
            created_at=format_timestamp(tx.now),
            expires_at=expires_at,
        )
    )
    return IssuedLink(secret, link_id, expires_at)


class LinkHolder(NamedTuple):
    actor: Actor
    link_id: str


_LIVE_LINK = (
    select(password_links.c.link_id, password_links.c.token_hash, *_ACTIVE_USER.selected_columns)
    .join(users, users.c.id == password_links.c.user_id)
    .where(
        password_links.c.token_hash == bindparam("digest"),
        password_links.c.used_at.is_(None),
        password_links.c.expires_at > bindparam("now"),
        users.c.active,
    )
)


def holder_of_link(conn: Connection, secret: str, now: dt.datetime) -> LinkHolder | None:
    """The active user a live link (unused, unexpired) was issued to; None for any other."""
    digest = hash_token(secret)
    row = conn.execute(_LIVE_LINK, {"digest": digest, "now": format_timestamp(now)}).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return LinkHolder(_actor_of(row), row.link_id)


def set_password_with_link(tx: WriteTransaction, secret: str, password: str) -> Actor:
    """The user of a live link sets their password: recorded with the user as actor; the link serves
    no more. Checked again here, under the log's write lock, so a link cannot serve twice."""
    holder = holder_of_link(tx.conn, secret, tx.now)
    if holder is None:
        raise NotFound("the link is unknown, used or expired")
    account = _account(tx, holder.actor.username)
    event = account_rules.set_password_with_link(account, holder.link_id, password)
    tx.append(USER_STREAM, account.id, account.version, [event])
    _keep_password(tx, account.id, password)
    tx.conn.execute(
        update(password_links)
        .where(password_links.c.link_id == holder.link_id)
        .values(used_at=format_timestamp(tx.now))
    )
    return holder.actor


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
