"""A commit the database does not confirm, against the real server on both databases: the client gets
a 503 problem, the worker that saw it stops and gunicorn starts a fresh one, nothing of the write is
visible, and a retry with the same Idempotency-Key is recorded afresh, exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from events.database import Database
from events.store import EventStore
from service.application import Application
from service.config import system_clock
from service.migrate import upgrade
from tests.conftest import BACKENDS, build_world, load_areas, proposal, scratch_database_url
from tests.server.harness import Server

HOOKS = Path(__file__).with_name("failing_commit.conf.py")


class FailingCommitServer(Server):
    def command(self) -> list[str]:
        return [*super().command(), "--config", str(HOOKS)]


def workers_of(master: int) -> set[int]:
    """The pids of the master's children, from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.add(int(entry.name))
    return children


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_commit_stops_its_worker_and_is_never_answered_as_success(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "fail-next-commit"
    monkeypatch.setenv("FAIL_NEXT_COMMIT", str(marker))
    with scratch_database_url(backend, tmp_path) as url:
        application = Application(Database(url), system_clock)
        upgrade(application.db)
        world = build_world(application)
        load_areas(application)
        server = FailingCommitServer(url, tmp_path / "server.log")
        server.start()
        try:
            assert server.process is not None
            before = workers_of(server.process.pid)
            with application.db.read() as conn:
                opened = EventStore().head(conn).position  # the world's accounts
            marker.touch()
            headers = {**world.headers("officer"), "Idempotency-Key": "one-proposal"}
            url_of_cases = f"{server.url}/api/v1/candidacies"

            failed = requests.post(url_of_cases, json=proposal(), headers=headers, timeout=30)
            assert failed.status_code == 503
            assert failed.headers["Content-Type"] == "application/problem+json"
            assert failed.headers["Retry-After"]
            assert not marker.exists()
            with application.db.read() as conn:
                assert EventStore().head(conn).position == opened

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                now = workers_of(server.process.pid)
                if len(now) == len(before) and now != before:
                    break
                time.sleep(0.1)
            assert len(now & before) == len(before) - 1, (before, now)  # one worker stopped...
            assert len(now) == len(before)  # ...and gunicorn started another in its place

            retried = requests.post(url_of_cases, json=proposal(), headers=headers, timeout=30)
            assert retried.status_code == 201
            again = requests.post(url_of_cases, json=proposal(), headers=headers, timeout=30)
            assert (again.status_code, again.json()) == (201, retried.json())
            with application.db.read() as conn:
                store = EventStore()
                assert [e.stream_id for e in store.read_all(conn)][opened:] == [retried.json()["id"]]
                assert store.verify(conn).ok
        finally:
            server.stop()
            application.db.dispose()
        log = server.log_path.read_text()
        assert "a commit failed; this process stops" in log
