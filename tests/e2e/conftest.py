"""Helpers for the end-to-end tests: a thin HTTP client for the contract, problem+json checks, and a
snapshot of the log and the read model to prove that a refused request changed nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from events.schema import candidacies, events, ledger_head, offices, users
from service.application import Application
from service.tables import api_tokens, areas, idempotency_keys
from tests.conftest import ACTION_BODIES, World, proposal

API = "/api/v1"
CASES = f"{API}/candidacies"
PROBLEM_JSON = "application/problem+json"

# Which stages a case walks through, and the action (with the role that does it) that leads to each.
PATH_TO: dict[str, list[tuple[str, str]]] = {
    "proposed": [],
    "coordinated": [("coordinate", "section_head")],
    "socialized": [("coordinate", "section_head"), ("socialize", "section_head")],
    "assessed": [("coordinate", "section_head"), ("socialize", "section_head"), ("assess", "section_head")],
}


def assert_problem(response: TestResponse, status: int, *fields: str) -> dict[str, Any]:
    """An RFC 9457 problem with the status; for a 422, `errors` names at least the given fields."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    if status == 422:
        errors = body["errors"]
        assert isinstance(errors, dict) and errors
        for name, messages in errors.items():
            assert isinstance(name, str)
            assert messages and all(isinstance(m, str) and m for m in messages)
        for name in fields:
            assert name in errors, errors
    return body


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass
class Api:
    """The contract's calls, as a client would make them."""

    client: FlaskClient
    world: World

    def propose(self, username: str = "officer", idempotency_key: str | None = None, **overrides: Any):
        body = proposal(**overrides)
        headers = self.world.headers(username)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self.client.post(CASES, json=body, headers=headers)

    def proposed(self, username: str = "officer", **overrides: Any) -> dict[str, Any]:
        """A new case that must succeed; returns its JSON."""
        response = self.propose(username, **overrides)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def act(
        self,
        username: str,
        case_id: str,
        action: str,
        body: dict[str, Any] | None = None,
        **headers: str,
    ):
        data = ACTION_BODIES[action] if body is None else body
        return self.client.post(
            f"{CASES}/{case_id}/{action}", json=data, headers=self.world.headers(username, **headers)
        )

    def acted(self, username: str, case_id: str, action: str, body: dict[str, Any] | None = None):
        response = self.act(username, case_id, action, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def get(self, username: str, path: str, **params: Any):
        return self.client.get(path, query_string=params, headers=self.world.headers(username))

    def case(self, username: str, case_id: str) -> dict[str, Any]:
        response = self.get(username, f"{CASES}/{case_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def case_at(self, stage: str, **overrides: Any) -> dict[str, Any]:
        """A case of BOGOR proposed by the officer and moved to `stage` by the section head."""
        case = self.proposed(**overrides)
        for action, username in PATH_TO[stage]:
            case = self.acted(username, case["id"], action)
        assert case["stage"] == stage
        return case


@pytest.fixture
def api(client: FlaskClient, world: World) -> Api:
    return Api(client, world)


def snapshot(application: Application) -> dict[str, list[dict[str, Any]]]:
    """Every row of the log, its head, the idempotency keys, the case read model and the reference
    tables: a refused request must leave all of them as they were."""
    tables = {
        "events": (events, events.c.position),
        "ledger_head": (ledger_head, ledger_head.c.id),
        "idempotency_keys": (idempotency_keys, idempotency_keys.c.key),
        "candidacies": (candidacies, candidacies.c.id),
        "offices": (offices, offices.c.code),
        "users": (users, users.c.username),
        "api_tokens": (api_tokens, api_tokens.c.token_hash),
        "areas": (areas, areas.c.code),
    }
    with application.db.read() as conn:
        return {
            name: [dict(row) for row in conn.execute(select(table).order_by(order)).mappings()]
            for name, (table, order) in tables.items()
        }


def unknown_id() -> str:
    return str(uuid.uuid4())
