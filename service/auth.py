"""Bearer tokens: random, 32 bytes of entropy, stored only as a SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from sqlalchemy import Connection, bindparam, select

from domain.actors import Actor, Role
from events.prepared import Precondition, Prepared
from service.tables import api_tokens, users

TOKEN_BYTES = 32
# The SQLSTATE `confirm_live_token` fails with (invalid_authorization_specification): migration 0007.
TOKEN_NOT_LIVE = "28000"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Built once: every request looks its token up.
_LIVE_TOKEN = Prepared(
    select(
        api_tokens.c.token_hash,
        users.c.username,
        users.c.name,
        users.c.role,
        users.c.office_code,
        users.c.region_code,
    )
    .join(users, users.c.username == api_tokens.c.username)
    .where(api_tokens.c.token_hash == bindparam("digest"), api_tokens.c.revoked_at.is_(None), users.c.active)
)


def actor_for_token(conn: Connection, token: str) -> Actor | None:
    """The active user a live token belongs to, or None."""
    return actor_for_digest(conn, hash_token(token))


def actor_for_digest(conn: Connection, digest: str) -> Actor | None:
    """`actor_for_token`, given the token's digest."""
    row = _LIVE_TOKEN.execute(conn, {"digest": digest}).one_or_none()
    # The lookup is by digest; comparing the digests again in constant time keeps a timing side
    # channel out of whatever the database's index comparison does.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Actor(
        username=row.username,
        name=row.name,
        role=Role(row.role),
        office_code=row.office_code,
        region_code=row.region_code,
    )


def live_token_precondition(digest: str, actor: Actor) -> Precondition:
    """For a write transaction on PostgreSQL: it fails unless the token is live and still `actor`'s
    (`Database.require_in_writes`)."""
    return Precondition(
        "CALL confirm_live_token(%s, %s, %s, %s, %s)",
        (digest, actor.username, actor.role.value, actor.office_code, actor.region_code),
        TOKEN_NOT_LIVE,
    )


class KnownTokens:
    """The actors of tokens a process has looked up, by digest, for a while. Knowing the actor lets a
    write request be checked against its role before anything is sent to the database; the token
    itself must still be confirmed live, in the write's own transaction (`live_token_precondition`)
    or, where the request wrote nothing, by a lookup before it is answered. So a revoked token is
    refused as before: this spares the lookup's round trip, never the check."""

    def __init__(self, capacity: int = 1024, seconds: float = 300.0) -> None:
        self.capacity = capacity
        self.seconds = seconds
        self._known: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()  # a threaded server's requests share it

    def get(self, digest: str) -> Actor | None:
        with self._lock:
            found = self._known.get(digest)
            if found is None:
                return None
            until, actor = found
            if time.monotonic() >= until:
                del self._known[digest]
                return None
            self._known.move_to_end(digest)
            return actor

    def remember(self, digest: str, actor: Actor) -> None:
        with self._lock:
            self._known[digest] = (time.monotonic() + self.seconds, actor)
            self._known.move_to_end(digest)
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._known.pop(digest, None)
