"""Durable idempotency keys: a retried request gets the first answer and records nothing new."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select

from events.schema import idempotency_keys
from events.store import canonical_json


class IdempotencyKeyReused(Exception):
    """The key was used before by the same user for a different request."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: object) -> str:
    """What makes two requests "the same": method, path and the JSON body, key order aside."""
    return hashlib.sha256(canonical_json([method, path, body]).encode("utf-8")).hexdigest()


_FIND = select(idempotency_keys).where(
    idempotency_keys.c.username == bindparam("username"), idempotency_keys.c.key == bindparam("key")
)
_SAVE = insert(idempotency_keys)


def find(conn: Connection, username: str, key: str, request_fingerprint: str) -> StoredResponse | None:
    row = conn.execute(_FIND, {"username": username, "key": key}).one_or_none()
    if row is None:
        return None
    if row.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    return StoredResponse(status=row.status, body=row.body, headers=dict(row.headers))


def save(
    conn: Connection,
    username: str,
    key: str,
    request_fingerprint: str,
    response: StoredResponse,
    created_at: str,
) -> None:
    conn.execute(
        _SAVE,
        {
            "username": username,
            "key": key,
            "fingerprint": request_fingerprint,
            "status": response.status,
            "body": response.body,
            "headers": response.headers,
            "created_at": created_at,
        },
    )
