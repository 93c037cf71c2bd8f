"""`backup PATH` and `restore PATH` through the command line, on both databases: a round trip, the
refusals, and a backup taken while a write is under way."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.events import CandidacyRejected
from events.database import Database
from events.schema import events
from events.store import EventStore
from events.verification import verify as verify_read_models
from service import backup
from service.application import Application
from tests.e2e.conftest import API, Api, snapshot
from tests.integration.support import METADATA, T0

VILLAGES = ["32.01.25.2001", "32.01.25.2005", "32.01.25.2006", "32.01.25.2007", "32.01.25.2008"]


@pytest.fixture
def api(api: Api, registry: None) -> Api:
    """The contract's client, with the villages its cases are proposed in."""
    return api


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def cases(api: Api, villages: list[str]) -> list[dict[str, Any]]:
    """A case of Bogor in each village, proposed and coordinated: two events each."""
    return [api.case_at("coordinated", village_code=code) for code in villages]


def head(api: Api) -> dict[str, Any]:
    return api.get("auditor", f"{API}/ledger").get_json()


def empty_the_database(application: Application, database_url: str) -> None:
    """Nothing left, not even the schema: a database as a new server has it."""
    application.db.dispose()
    if application.db.is_sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{application.db.url.database}{suffix}").unlink(missing_ok=True)
        return
    schema = backup._schema_of(make_url(database_url)) or "public"
    with application.db.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    application.db.dispose()


def test_a_restore_brings_back_the_database_as_backed_up(
    app: Flask, application: Application, api: Api, tmp_path: Path
) -> None:
    start = head(api)["position"]  # the world's accounts
    before = cases(api, VILLAGES[:2])  # positions start+1..start+4
    kept = head(api)
    assert kept["position"] == start + 4
    path = tmp_path / "backup.db"

    written = run(app, "backup", str(path))

    assert written.exit_code == 0, written.output
    assert f"backup written to {path}: " in written.stdout
    assert f"ledger at backup time: position {start + 4}, digest {kept['digest']}" in written.stdout
    backed_up = snapshot(application)
    later = cases(api, VILLAGES[2:4])  # positions start+5..start+8, lost by the restore
    assert head(api)["position"] == start + 8

    restored = run(app, "restore", "--force", str(path))

    assert restored.exit_code == 0, restored.output
    assert f"ledger at position {start + 4}, digest {kept['digest']}" in restored.stdout
    assert f"ledger intact: {start + 4} events verified" in restored.stdout
    assert f"read models match the log: {start + 4} events replayed" in restored.stdout
    assert snapshot(application) == backed_up
    assert head(api) == kept
    assert api.get("officer", f"{API}/candidacies/{before[0]['id']}").status_code == 200
    assert api.get("officer", f"{API}/candidacies/{later[0]['id']}").status_code == 404
    # The service goes on from the backup's head.
    cases(api, VILLAGES[2:3])
    assert head(api)["position"] == start + 6
    assert run(app, "ledger", "verify").exit_code == 0


def test_a_backup_restores_into_an_empty_database_without_force(
    app: Flask, application: Application, api: Api, database_url: str, tmp_path: Path
) -> None:
    start = head(api)["position"]
    cases(api, VILLAGES[:1])
    path = tmp_path / "backup.db"
    assert run(app, "backup", str(path)).exit_code == 0
    backed_up = snapshot(application)
    empty_the_database(application, database_url)

    restored = run(app, "restore", str(path))

    assert restored.exit_code == 0, restored.output
    assert f"ledger intact: {start + 2} events verified" in restored.stdout
    assert snapshot(application) == backed_up


def test_a_backup_never_overwrites_a_file_unless_forced(app: Flask, api: Api, tmp_path: Path) -> None:
    (tmp_path / "backups").mkdir()
    path = tmp_path / "backups" / "backup.db"
    path.write_bytes(b"an older backup")

    refused = run(app, "backup", str(path))

    assert refused.exit_code == 2
    assert "exists" in refused.stderr and "--force" in refused.stderr
    assert path.read_bytes() == b"an older backup"
    assert [p.name for p in path.parent.iterdir()] == ["backup.db"]  # nothing half-written beside it

    forced = run(app, "backup", "--force", str(path))

    assert forced.exit_code == 0, forced.output
    assert path.read_bytes() != b"an older backup"
    assert [p.name for p in path.parent.iterdir()] == ["backup.db"]


def test_a_restore_over_a_database_with_events_needs_force(
    app: Flask, application: Application, api: Api, tmp_path: Path
) -> None:
    start = head(api)["position"]
    cases(api, VILLAGES[:1])
    path = tmp_path / "backup.db"
    assert run(app, "backup", str(path)).exit_code == 0
    cases(api, VILLAGES[1:2])
    before = snapshot(application)

    refused = run(app, "restore", str(path))

    assert refused.exit_code == 2
    assert f"holds {start + 4} events" in refused.stderr and "--force" in refused.stderr
    assert "restored" not in refused.stdout
    assert snapshot(application) == before


def test_a_restore_of_something_else_is_refused(
    app: Flask, application: Application, api: Api, tmp_path: Path
) -> None:
    cases(api, VILLAGES[:1])
    before = snapshot(application)
    path = tmp_path / "not-a-backup.db"
    path.write_bytes(b"nothing of ours" * 100)

    refused = run(app, "restore", "--force", str(path))

    assert refused.exit_code == 2
    assert "error:" in refused.stderr
    assert snapshot(application) == before


def test_a_restore_that_does_not_verify_exits_1(
    app: Flask, application: Application, api: Api, tmp_path: Path
) -> None:
    """A backup of a log someone has edited: restored as it is, and said to be broken."""
    start = head(api)["position"]
    cases(api, VILLAGES[:2])
    forged = start + 3  # the second case's proposal
    with application.db.engine.begin() as conn:  # the trigger refuses the edit: out of its way
        if application.db.is_sqlite:
            conn.execute(text("DROP TRIGGER events_no_update"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update_or_delete ON events"))
        edited = conn.execute(text(f"UPDATE events SET request_id = 'forged' WHERE position = {forged}"))
        assert edited.rowcount == 1
    path = tmp_path / "backup.db"
    assert run(app, "backup", str(path)).exit_code == 0

    restored = run(app, "restore", "--force", str(path))

    assert restored.exit_code == 1
    assert f"ledger BROKEN at position {forged}" in restored.stderr
    assert "read models match the log" in restored.stdout


def test_a_backup_taken_during_a_write_holds_what_was_committed(
    app: Flask, application: Application, api: Api, tmp_path: Path
) -> None:
    start = head(api)["position"]
    cases(api, VILLAGES[:2])  # positions start+1..start+4, committed
    path = tmp_path / "backup.db"
    store = EventStore()

    with application.db.write() as conn:  # another writer, the log's lock held, its event not committed
        store.append(
            conn,
            store.lock_head(conn),
            stream_type="candidacy",
            stream_id="in-flight",
            expected_version=0,
            new_events=[CandidacyRejected(reason="in flight")],
            metadata=METADATA,
            now=T0,
        )
        written = run(app, "backup", str(path))
    assert head(api)["position"] == start + 5  # the write did commit, after the backup

    assert written.exit_code == 0, written.output
    assert f"ledger at backup time: position {start + 4}," in written.stdout
    if application.db.is_sqlite:
        assert not Path(f"{path}-wal").exists()  # one self-contained file
        copy = Database(f"sqlite:///{path}")
        try:
            with copy.read() as conn:
                assert store.head(conn).position == start + 4
                assert conn.execute(events.select().where(events.c.stream_id == "in-flight")).first() is None
                assert store.verify(conn).ok
                assert verify_read_models(conn, store).ok
        finally:
            copy.dispose()
    restored = run(app, "restore", "--force", str(path))
    assert restored.exit_code == 0, restored.output
    assert f"ledger intact: {start + 4} events verified" in restored.stdout
    assert "read models match the log" in restored.stdout


def test_the_postgresql_tools_are_of_the_servers_version(application: Application) -> None:
    if application.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    with application.db.read() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
    for program in ("pg_dump", "pg_restore"):
        found = backup.postgres_program(application.db, program)
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
        assert re.search(rf"\b{major}\.", version), version


def test_the_password_goes_to_the_tools_in_their_environment_not_their_arguments() -> None:
    url = make_url("postgresql+psycopg://ops:s3cret@db.example:5433/desa?options=-csearch_path%3Dtest_x")

    conninfo, env = backup._libpq(url)

    assert "s3cret" not in conninfo
    assert env["PGPASSWORD"] == "s3cret"
    assert conninfo.startswith("postgresql://ops@db.example:5433/desa?options=")
    assert make_url(conninfo).query["options"] == "-csearch_path=test_x"
    assert backup._schema_of(url) == "test_x"
    assert backup._schema_of(make_url("postgresql+psycopg://ops@db/desa")) is None
