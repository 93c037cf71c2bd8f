"""The headers of real answers, as gunicorn sends them: no sniffing anywhere, nothing of the API cached,
the docs page under its Content-Security-Policy, and no version of the server software."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from events.database import Database
from service.application import Application
from service.config import system_clock
from tests.conftest import World, build_world
from tests.server.harness import Server, running


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, World]]:
    application = Application(Database(database_url), system_clock)
    world = build_world(application)
    try:
        with running(database_url, tmp_path / "server.log") as server:
            yield server, world
    finally:
        application.db.dispose()


def test_every_answer_says_nosniff_and_api_answers_are_not_cached(served: tuple[Server, World]) -> None:
    server, world = served
    auditor = world.headers("auditor")
    answers = {
        "api 200": requests.get(f"{server.url}/api/v1/offices", headers=auditor, timeout=10),
        "api 404": requests.get(f"{server.url}/api/v1/nope", headers=auditor, timeout=10),
        "api 401": requests.get(f"{server.url}/api/v1/offices", timeout=10),
        "api 422": requests.post(
            f"{server.url}/api/v1/offices", json={}, headers=world.headers("admin"), timeout=10
        ),
        "healthz": requests.get(f"{server.url}/healthz", timeout=10),
        "404": requests.get(f"{server.url}/nope", timeout=10),
        "docs": requests.get(f"{server.url}/docs", timeout=10),
    }
    assert [answer.status_code for answer in answers.values()] == [200, 404, 401, 422, 200, 404, 200]
    for name, answer in answers.items():
        assert answer.headers["X-Content-Type-Options"] == "nosniff", name
        assert answer.headers["X-Request-ID"], name
        # gunicorn names itself and no version; it has no setting to leave the header out, which the
        # reverse proxy in front does (docs/operations.md).
        assert answer.headers["Server"] == "gunicorn", name
        if name.startswith("api"):
            assert answer.headers["Cache-Control"] == "no-store", name
        if name.endswith("404") or name.endswith("401") or name.endswith("422"):
            assert answer.headers["Content-Type"] == "application/problem+json", name
    csp = answers["docs"].headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
