"""Idempotency keys against a real database: a key gives back its first reply, for its own user,
and only for the same request; it outlives the process that kept it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from events.database import Database
from service import idempotency
from service.idempotency import IdempotencyKeyReused, IdempotencyRequest, Reply

AT, LATER = "2024-06-01T03:00:00.000000Z", "2024-06-01T03:00:01.000000Z"
RESPONSE = Reply(
    status=201,
    body=json.dumps({"id": "c-1", "stage": "proposed", "village": "Tugu Selatan"}),
    headers={"ETag": '"1"', "Location": "/api/v1/candidacies/c-1"},
)


def test_idempotency_key_returns_the_stored_response(database: Database) -> None:
    key_print = idempotency.fingerprint("POST", "/api/v1/candidacies", {"b": 1, "a": [1, 2]})
    with database.write() as conn:
        assert idempotency.find(conn, "officer", IdempotencyRequest("key-1", key_print)) is None
        idempotency.keep(
            conn, "officer", IdempotencyRequest("key-1", key_print), RESPONSE, "2024-06-01T03:00:00.000000Z"
        )

    # Key order in the body does not make another request.
    same = idempotency.fingerprint("POST", "/api/v1/candidacies", {"a": [1, 2], "b": 1})
    assert same == key_print
    with database.read() as conn:
        assert idempotency.find(conn, "officer", IdempotencyRequest("key-1", same)) == RESPONSE
        # Keys belong to a user: another user's identical key is another request.
        assert idempotency.find(conn, "head", IdempotencyRequest("key-1", same)) is None
        assert idempotency.find(conn, "officer", IdempotencyRequest("key-2", same)) is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/candidacies", {"b": 2, "a": [1, 2]}),
        ("POST", "/api/v1/candidacies", {"b": 1, "a": [2, 1]}),
        ("POST", "/api/v1/candidacies/c-1/coordinate", {"b": 1, "a": [1, 2]}),
        ("PUT", "/api/v1/candidacies", {"b": 1, "a": [1, 2]}),
    ],
)
def test_idempotency_key_reused_for_another_request(
    database: Database, method: str, path: str, body: dict[str, Any]
) -> None:
    first = idempotency.fingerprint("POST", "/api/v1/candidacies", {"b": 1, "a": [1, 2]})
    with database.write() as conn:
        idempotency.keep(
            conn, "officer", IdempotencyRequest("key-1", first), RESPONSE, "2024-06-01T03:00:00.000000Z"
        )
    other = idempotency.fingerprint(method, path, body)
    assert other != first
    with database.read() as conn, pytest.raises(IdempotencyKeyReused):
        idempotency.find(conn, "officer", IdempotencyRequest("key-1", other))


def test_idempotency_key_is_unique_per_user(database: Database) -> None:
    key_print = idempotency.fingerprint("POST", "/p", {})
    with database.write() as conn:
        idempotency.keep(
            conn, "officer", IdempotencyRequest("key-1", key_print), RESPONSE, "2024-06-01T03:00:00.000000Z"
        )
        idempotency.keep(
            conn, "head", IdempotencyRequest("key-1", key_print), RESPONSE, "2024-06-01T03:00:00.000000Z"
        )
    with pytest.raises(IntegrityError), database.write() as conn:
        idempotency.keep(
            conn, "officer", IdempotencyRequest("key-1", key_print), RESPONSE, "2024-06-01T03:00:01.000000Z"
        )


def test_idempotency_key_survives_a_new_database_object(database: Database, database_url: str) -> None:
    key_print = idempotency.fingerprint("POST", "/api/v1/candidacies", {"village_code": "32.01.25.2006"})
    with database.write() as conn:
        idempotency.keep(
            conn, "officer", IdempotencyRequest("key-1", key_print), RESPONSE, "2024-06-01T03:00:00.000000Z"
        )
    database.dispose()

    reopened = Database(database_url)
    try:
        with reopened.read() as conn:
            assert idempotency.find(conn, "officer", IdempotencyRequest("key-1", key_print)) == RESPONSE
    finally:
        reopened.dispose()
