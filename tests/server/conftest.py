"""Fixtures of the server tier: a migrated database with offices, users and villages, served by a
real gunicorn process, on SQLite and on PostgreSQL. One deployment per test module and database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from events.database import Database
from service.application import Application
from service.config import system_clock
from service.migrate import upgrade
from tests.conftest import BACKENDS, World, build_world, scratch_database_url
from tests.server.harness import Client, Server, load_villages

# `make soak` raises this; CI runs the same tests at 1.
SOAK = max(1, int(os.environ.get("SOAK_FACTOR", "1")))
VILLAGES_PER_REGENCY = 1500 * SOAK
REGENCIES = {"32.01": "Kabupaten Bogor", "32.71": "Kota Bogor", "32.02": "Kabupaten Sukabumi"}


@dataclass
class Deployment:
    """What a test drives (the server) and what it checks behind the server's back (the database)."""

    server: Server
    application: Application
    world: World
    villages: Iterator[str]  # each BOGOR village handed out once per deployment
    sukabumi_villages: Iterator[str]

    def client(self, **options: object) -> Client:
        return Client(self.server.url, self.world.tokens, **options)  # type: ignore[arg-type]


def assert_no_secret_in(log_path: Path, tokens: dict[str, str]) -> None:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    leaked = [username for username, token in tokens.items() if token in text]
    assert not leaked, f"tokens of {leaked} appear in {log_path.name}"
    assert "Bearer " not in text, f"an Authorization header appears in {log_path.name}"


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    directory = tmp_path_factory.mktemp(f"server-{request.param}")
    with scratch_database_url(request.param, directory) as url:
        application = Application(Database(url), system_clock)
        upgrade(application.db)
        world = build_world(application)
        codes = load_villages(application, REGENCIES, VILLAGES_PER_REGENCY)
        server = Server(url, directory / "server.log")
        server.start()
        try:
            yield Deployment(
                server,
                application,
                world,
                iter(codes["32.01"] + codes["32.71"]),
                iter(codes["32.02"]),
            )
        finally:
            server.stop()
            application.db.dispose()
        # Every line the server wrote, whatever the tests sent it, is free of tokens.
        assert_no_secret_in(server.log_path, world.tokens)
