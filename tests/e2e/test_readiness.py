"""`/readyz` and bounded lock waits: an instance that cannot serve writes says so (503, naming the
check), and a request caught behind maintenance is answered 503 with Retry-After after a bounded
wait, recording nothing; on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from events.database import Database
from events.store import EventStore
from service.app import create_app
from service.application import Application
from service.migrate import head_revision, upgrade
from tests.conftest import FakeClock, build_world, load_areas, scratch_database_url
from tests.e2e.conftest import Api, assert_problem, snapshot


@contextmanager
def maintenance_running(database: Database) -> Iterator[None]:
    """Another process's `projections rebuild`, as far as the lock goes: the write lock held by
    maintenance (and the ledger head with it) until the block ends."""
    taken, done = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with database.maintenance() as conn:
                EventStore().lock_head(conn)
                taken.set()
                done.wait(30)
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            failure.append(error)
            taken.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10) and not failure, failure
    try:
        yield
    finally:
        done.set()
        holder.join(10)


def test_a_migrated_instance_is_ready(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["schema"] == {"ok": True, "revision": head_revision()}
    assert body["checks"]["write_lock"]["ok"] and body["checks"]["disk"]["ok"]


def test_readyz_and_healthz_need_no_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_schema_behind_the_code_is_not_ready(empty_database_url: str) -> None:
    upgrade(Database(empty_database_url), "0008")
    app = create_app({"DATABASE_URL": empty_database_url, "TESTING": True})
    response = app.test_client().get("/readyz")
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert body["detail"] == "not ready: schema"
    assert body["checks"]["schema"] == {
        "ok": False,
        "revision": "0008",
        "expected": head_revision(),
        "detail": "run db upgrade",
    }
    assert body["checks"]["write_lock"]["ok"]  # only what failed is named
    # Liveness is another question: the process is up and reaches its database.
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["desa_binaan"].db.dispose()


def test_a_write_lock_held_by_maintenance_is_not_ready_after_a_bounded_wait(app: Flask) -> None:
    database = app.extensions["desa_binaan"].db
    with maintenance_running(database):
        started = time.monotonic()
        response = app.test_client().get("/readyz")
        waited = time.monotonic() - started
    body = assert_problem(response, 503)
    assert body["detail"] == "not ready: write_lock"
    assert body["checks"]["write_lock"]["ok"] is False
    assert 1.5 <= waited < 10
    assert app.test_client().get("/readyz").status_code == 200  # once it is done


def test_a_disk_without_room_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(Database(url))
    app = create_app({"DATABASE_URL": url, "TESTING": True, "MIN_FREE_DISK_MB": 10**12})
    body = assert_problem(app.test_client().get("/readyz"), 503)
    assert body["detail"] == "not ready: disk"
    assert body["checks"]["disk"]["ok"] is False and body["checks"]["disk"]["free_bytes"] > 0


@pytest.mark.postgres
def test_a_read_only_postgresql_is_not_ready(tmp_path: Path) -> None:
    with scratch_database_url("postgres", tmp_path) as url:
        upgrade(Database(url))
        read_only = url.replace(
            "options=-csearch_path", "options=-cdefault_transaction_read_only%3Don%20-csearch_path"
        )
        app = create_app({"DATABASE_URL": read_only, "TESTING": True})
        body = assert_problem(app.test_client().get("/readyz"), 503)
        assert body["detail"] == "not ready: write_lock"
        assert "ReadOnlySqlTransaction" in body["checks"]["write_lock"]["detail"]
        app.extensions["desa_binaan"].db.dispose()


# ---- writers behind maintenance --------------------------------------------------------------------


@pytest.fixture
def impatient_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    settings = {"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True, "LOCK_WAIT_SECONDS": 0.5}
    app = create_app({**settings, "STOP_PROCESS": lambda: None})
    yield app
    app.extensions["desa_binaan"].db.dispose()


def test_a_writer_behind_maintenance_gets_503_with_retry_after_and_records_nothing(
    impatient_app: Flask,
) -> None:
    application: Application = impatient_app.extensions["desa_binaan"]
    api = Api(impatient_app.test_client(), build_world(application))
    load_areas(application)
    before = snapshot(application)
    with maintenance_running(application.db):
        started = time.monotonic()
        response = api.propose(idempotency_key="behind-maintenance")
        waited = time.monotonic() - started
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "maintenance" in body["detail"] and "nothing was recorded" in body["detail"]
    assert 0.4 <= waited < 5
    assert snapshot(application) == before

    retried = api.propose(idempotency_key="behind-maintenance")
    assert retried.status_code == 201, retried.get_data(as_text=True)


def test_rebuild_says_how_long_it_holds_the_write_lock(
    app: Flask, application: Application, api: Api, registry: None
) -> None:
    api.proposed()
    # The proposal, after the world's events (its regions, offices and accounts): the log's head.
    store = EventStore()
    with application.db.read() as conn:
        events = store.count(conn)
        [proposal] = store.read_all(conn, after=events - 1)
    assert proposal.type == "CandidacyProposed"
    result = app.test_cli_runner().invoke(args=["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    said = f"replaying {events} events into the read models: the write lock is held for about 1 s"
    assert said in result.stderr
    assert "writers meanwhile get 503 with Retry-After after a 10 s wait" in result.stderr
    assert f"read models rebuilt from {events} events (write lock held" in result.stdout
