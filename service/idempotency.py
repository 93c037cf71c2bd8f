"""Idempotency keys: a retried request gets the first reply back and records nothing new.

The reply is kept in the same transaction as the work it answers, so it exists exactly when that work
was committed: a retry of a write whose commit failed finds nothing, and is done afresh.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from events.store import canonical_json
from service.tables import idempotency_keys


class IdempotencyKeyReused(Exception):
    """The key was used before by the same user for a different request."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP reply as it is kept: status, JSON body text, headers."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(body, ensure_ascii=False), headers)

    @classmethod
    def empty(cls, status: int = 204) -> Reply:
        return cls(status, "")


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    key: str
    fingerprint: str


def fingerprint(method: str, path: str, body: object) -> str:
    """What makes two requests "the same": method, path and the JSON body, key order aside."""
    return hashlib.sha256(canonical_json([method, path, body]).encode("utf-8")).hexdigest()


_FIND = select(idempotency_keys).where(
    idempotency_keys.c.username == bindparam("username"), idempotency_keys.c.key == bindparam("key")
)


def find(conn: Connection, username: str, request: IdempotencyRequest) -> Reply | None:
    row = conn.execute(_FIND, {"username": username, "key": request.key}).one_or_none()
    if row is None:
        return None
    if row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    return Reply(status=row.status, body=row.body, headers=dict(row.headers))


def keep(conn: Connection, username: str, request: IdempotencyRequest, reply: Reply, created_at: str) -> None:
    conn.execute(
        insert(idempotency_keys),
        {
            "username": username,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "status": reply.status,
            "body": reply.body,
            "headers": reply.headers,
            "created_at": created_at,
        },
    )
