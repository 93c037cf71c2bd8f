"""Bearer tokens: random, 32 bytes of entropy, stored only as a SHA-256, compared in constant time;
each expires (`TOKEN_DAYS` after its issue unless given otherwise)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select

from domain.actors import Actor, Role
from events.schema import users
from events.store import parse_timestamp
from service.tables import api_tokens

TOKEN_BYTES = 32
DEFAULT_TOKEN_DAYS = 90
MIN_TOKEN_DAYS = 1
MAX_TOKEN_DAYS = 365


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_LIVE_TOKEN = (
    select(
        api_tokens.c.token_hash,
        api_tokens.c.expires_at,
        users.c.id,
        users.c.username,
        users.c.name,
        users.c.role,
        users.c.office_code,
        users.c.region_code,
    )
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.token_hash == bindparam("digest"), api_tokens.c.revoked_at.is_(None), users.c.active)
)


class TokenHolder(NamedTuple):
    actor: Actor
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at


def holder_of_digest(conn: Connection, digest: str) -> TokenHolder | None:
    """The active user whose unrevoked token has this digest (`hash_token`), with the token's expiry;
    None for an unknown or revoked token, or a deactivated user."""
    row = conn.execute(_LIVE_TOKEN, {"digest": digest}).one_or_none()
    # The lookup is by digest; comparing the digests again in constant time keeps a timing side
    # channel out of whatever the database's index comparison does.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    actor = Actor(
        username=row.username,
        name=row.name,
        role=Role(row.role),
        office_code=row.office_code,
        region_code=row.region_code,
        id=row.id,
    )
    return TokenHolder(actor, parse_timestamp(row.expires_at))
