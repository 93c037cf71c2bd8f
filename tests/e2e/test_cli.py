"""The command line of the contract, through Flask's CLI runner, on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from domain.places import Office
from events.schema import candidacies, events, office_history, offices, regions, users
from events.store import EventStore, RecordedEvent
from service import organisation
from service.application import Application
from service.demo import USERS as DEMO_USERS
from service.passwords import verify_password
from service.tables import api_tokens, areas, passwords
from tests.conftest import AREAS, World
from tests.e2e.conftest import API, CASES, Api, snapshot

INDICATORS = {
    "migrant_workers": 1,
    "prospective_migrant_workers": 1,
    "trafficking_cases": 0,
    "border_area": False,
}
DEPOK = ["offices", "add", "DEPOK", "--name", "Kantor Imigrasi Depok", "--region", "JABAR"]


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def count(application: Application, table: Any) -> int:
    with application.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def head_position(application: Application) -> int:
    with application.db.read() as conn:
        return EventStore().head(conn).position


@pytest.fixture
def world_events(application: Application, world: World) -> int:
    """What the test world records before a test acts (its regions and offices, then each account's
    opening and token): the log's head once the world is built."""
    return head_position(application)


# ---- db upgrade -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_db_upgrade_is_idempotent_and_keeps_the_data(
    app: Flask, application: Application, database_url: str
) -> None:
    """The schema is current already (the fixture migrated it); the empty registry gets the national
    list shipped with the package, once; nothing else changes."""
    before = snapshot(application)
    outputs = []
    for _ in range(2):
        result = run(app, "db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "schema is current" in result.stdout
        assert ("sqlite" if database_url.startswith("sqlite") else "postgresql") in result.stdout
        outputs.append(result.stdout)
    assert "village registry: 91599 areas" in outputs[0]
    assert "village registry" not in outputs[1]
    after = snapshot(application)
    assert {name: rows for name, rows in after.items() if name != "areas"} == {
        name: rows for name, rows in before.items() if name != "areas"
    }
    assert count(application, areas) == 91_599
    assert count(application, offices) == 3


def test_db_upgrade_of_a_brand_new_database_says_it_was_created(tmp_path: Path) -> None:
    from service.app import create_app

    fresh = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"})
    result = run(fresh, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "schema created" in result.stdout
    assert "village registry: 91599 areas" in result.stdout
    fresh.extensions["desa_binaan"].db.dispose()


@pytest.mark.usefixtures("world")
def test_db_upgrade_leaves_an_imported_registry_alone(
    app: Flask, application: Application, tmp_path: Path
) -> None:
    assert run(app, "villages", "import", str(write_csv(tmp_path / "w.csv", AREAS))).exit_code == 0
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "village registry" not in result.stdout
    assert count(application, areas) == len(AREAS)


# ---- offices add ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_offices_add(app: Flask, application: Application) -> None:
    """The office (a kanim, from today: 1 June 2024 in WIB on the test's clock) and its new region
    are events, recorded by the command line as POST /offices would record them."""
    result = run(app, *DEPOK, "--region-name", "Kanwil Jawa Barat", "--regencies", "32.76, 32.01")
    assert result.exit_code == 0, result.output
    assert "DEPOK" in result.stdout
    with application.db.read() as conn:
        office = organisation.get_office(conn, "DEPOK")
        row = conn.execute(select(offices).where(offices.c.code == "DEPOK")).one()
        region = conn.execute(select(regions)).one()
        logged = EventStore().read_all(conn)
        history = organisation.office_history_of(conn, "DEPOK")
    assert office == Office(
        "DEPOK", "Kantor Imigrasi Depok", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01", "32.76"}), "kanim"
    )
    assert (row.unit_type, row.region_code, row.regencies, row.effective_on) == (
        "kanim",
        "JABAR",
        ["32.01", "32.76"],
        "2024-06-01",
    )
    assert tuple(region) == ("JABAR", "Kanwil Jawa Barat")
    assert [(e.position, e.stream_type, e.stream_id, e.version, e.type) for e in logged] == [
        (1, "region", "region:JABAR", 1, "RegionAdded"),
        (2, "office", "office:DEPOK", 1, "OfficeOpened"),
    ]
    assert {(e.actor_username, e.actor_role) for e in logged} == {("cli", "admin")}
    added, opened = logged
    assert added.data == {"code": "JABAR", "name": "Kanwil Jawa Barat", "imported": False}
    assert opened.data == {
        "code": "DEPOK",
        "name": "Kantor Imigrasi Depok",
        "unit_type": "kanim",
        "region_code": "JABAR",
        "regencies": ["32.01", "32.76"],
        "effective_on": "2024-06-01",
        "imported": False,
    }
    assert [(h["position"], h["effective_on"], h["changed"], h["taken_by"]) for h in history] == [
        (2, "2024-06-01", ["opened"], None)
    ]
    assert run(app, "projections", "verify").exit_code == 0


@pytest.mark.usefixtures("registry")
def test_offices_add_a_detention_centre_from_a_past_day(app: Flask, application: Application) -> None:
    result = run(
        app,
        *DEPOK,
        "--region-name",
        "Kanwil Jawa Barat",
        "--regencies",
        "32.76",
        "--unit-type",
        "rudenim",
        "--effective-on",
        "2024-01-02",
    )
    assert result.exit_code == 0, result.output
    with application.db.read() as conn:
        office = organisation.get_office(conn, "DEPOK")
        row = (
            conn.execute(select(offices.c.effective_on)).scalar_one(),
            conn.execute(select(office_history.c.effective_on)).scalar_one(),
        )
        [opened] = EventStore().read_all(conn, after=1)
    assert office is not None and office.unit_type == "rudenim"
    assert tuple(row) == ("2024-01-02", "2024-01-02")
    assert (opened.type, opened.data["unit_type"], opened.data["effective_on"]) == (
        "OfficeOpened",
        "rudenim",
        "2024-01-02",
    )


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--unit-type", "kanwil"], "unit_type: Must be one of: kanim, rudenim"),
        (["--effective-on", "2024-06-02"], "effective_on: 2024-06-02 lies in the future"),
        (["--effective-on", "1 June 2024"], "effective_on"),
    ],
)
def test_offices_add_with_a_bad_type_or_day_is_exit_2(
    app: Flask, application: Application, options: list[str], said: str
) -> None:
    """The day is checked against the latest day anywhere in Indonesia: 12:00 on 1 June in WIT."""
    before = snapshot(application)
    result = run(app, *DEPOK, "--region-name", "Kanwil Jawa Barat", "--regencies", "32.76", *options)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert snapshot(application) == before
    assert count(application, regions) == count(application, office_history) == 0


@pytest.mark.usefixtures("registry")
def test_offices_add_keeps_the_rules_of_the_api(app: Flask, application: Application) -> None:
    """A new region needs its name, every regency is the registry's, and one another office serves
    moves only with --take-over."""
    new_region = run(app, *DEPOK, "--regencies", "32.76")
    assert new_region.exit_code == 2
    assert "region_name: region JABAR is new" in new_region.stderr
    unknown = run(app, *DEPOK, "--region-name", "Kanwil Jawa Barat", "--regencies", "32.76,32.99")
    assert unknown.exit_code == 2
    assert "regencies: not a regency or city of the village registry: 32.99" in unknown.stderr
    assert count(application, offices) == 0

    bogor = ["offices", "add", "BOGOR", "--name", "Kantor Imigrasi Bogor", "--region", "JABAR"]
    assert run(app, *bogor, "--region-name", "Kanwil Jawa Barat", "--regencies", "32.01,32.71").exit_code == 0
    served = run(app, *DEPOK, "--regencies", "32.76,32.01")
    assert served.exit_code == 2
    assert "32.01 (Kabupaten Bogor) by BOGOR" in served.stderr
    assert count(application, offices) == 1
    taken = run(app, *DEPOK, "--regencies", "32.76,32.01", "--take-over")
    assert taken.exit_code == 0, taken.output
    with application.db.read() as conn:
        rows = dict(conn.execute(select(offices.c.code, offices.c.regencies)).all())
    assert {code: sorted(regencies) for code, regencies in rows.items()} == {
        "BOGOR": ["32.71"],
        "DEPOK": ["32.01", "32.76"],
    }


@pytest.mark.usefixtures("registry")
def test_offices_add_twice_is_exit_2(app: Flask, application: Application) -> None:
    assert run(app, *DEPOK, "--region-name", "Kanwil Jawa Barat", "--regencies", "32.76").exit_code == 0
    result = run(app, *DEPOK, "--regencies", "32.01")
    assert result.exit_code == 2
    assert "exists" in result.stderr
    with application.db.read() as conn:
        assert conn.execute(select(offices.c.regencies).where(offices.c.code == "DEPOK")).scalar_one() == [
            "32.76"
        ]


@pytest.mark.parametrize("regencies", ["3276", "32.76,32", "32.76.01", ",", "\u0663\u0662.\u0667\u0666"])
def test_offices_add_with_bad_regencies_is_exit_2(
    app: Flask, application: Application, regencies: str
) -> None:
    result = run(app, *DEPOK, "--regencies", regencies)
    assert result.exit_code == 2
    assert "regencies" in result.stderr
    assert count(application, offices) == 0


def test_offices_add_with_a_bad_code_is_exit_2(app: Flask, application: Application) -> None:
    result = run(app, "offices", "add", "depok", "--name", "X", "--region", "JABAR", "--regencies", "32.76")
    assert result.exit_code == 2
    assert "code" in result.stderr
    assert count(application, offices) == 0


# ---- users add ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_users_add_prints_a_working_token_last(app: Flask, client: FlaskClient, registry: None) -> None:
    result = run(
        app, "users", "add", "rina", "--name", "Rina Marlina", "--role", "officer", "--office", "BOGOR"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2
    token = lines[-1].strip()
    assert len(token) >= 40 and " " not in token

    assert client.get(f"{API}/offices", headers=bearer(token)).status_code == 200
    proposed = client.post(
        CASES,
        json={
            "village_code": "32.01.25.2006",
            "office_code": "BOGOR",
            "rationale": "Kantong PMI.",
            "indicators": INDICATORS,
        },
        headers=bearer(token),
    )
    assert proposed.status_code == 201
    with app.extensions["desa_binaan"].db.read() as conn:
        rina = conn.execute(select(users).where(users.c.username == "rina")).one()
    assert (rina.name, rina.role, rina.office_code, rina.active) == ("Rina Marlina", "officer", "BOGOR", True)
    assert proposed.get_json()["proposed"]["by"] == {
        "username": "rina",
        "name": "Rina Marlina",
        "role": "officer",
        "id": rina.id,
    }
    # The token is shown once and kept only as a hash.
    with app.extensions["desa_binaan"].db.read() as conn:
        assert token not in str(conn.execute(text("SELECT * FROM api_tokens")).all())


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    "args",
    [
        ["--role", "officer"],
        ["--role", "section_head", "--region", "JABAR"],
        ["--role", "officer", "--office", "NOPE"],
        ["--role", "auditor", "--office", "BOGOR"],
        ["--role", "admin", "--region", "JABAR"],
        ["--role", "regional_supervisor"],
        ["--role", "regional_supervisor", "--region", "JABAR", "--office", "BOGOR"],
        ["--role", "regional_supervisor", "--region", "NOWHERE"],
        ["--role", "superuser"],
    ],
)
def test_users_add_with_a_bad_role_scope_is_exit_2(
    app: Flask, application: Application, args: list[str]
) -> None:
    before = snapshot(application)
    result = run(app, "users", "add", "newbie", "--name", "New Bie", *args)
    assert result.exit_code == 2, result.output
    assert snapshot(application) == before  # no account, no token, nothing in the log
    if "NOWHERE" in args:
        assert "error: region_code: no region NOWHERE" in result.stderr
    # No token line: nothing that looks like a token is printed.
    assert "token" not in result.stdout


@pytest.mark.usefixtures("world")
def test_users_add_an_existing_username_is_exit_2(app: Flask, application: Application) -> None:
    result = run(app, "users", "add", "officer", "--name", "Someone", "--role", "auditor")
    assert result.exit_code == 2
    assert "exists" in result.stderr
    with application.db.read() as conn:
        assert (
            conn.execute(select(users.c.role).where(users.c.username == "officer")).scalar_one() == "officer"
        )


@pytest.mark.usefixtures("world")
def test_users_add_a_supervisor_and_an_auditor(app: Flask, client: FlaskClient) -> None:
    supervisor = run(
        app, "users", "add", "kadiv", "--name", "Kadiv", "--role", "regional_supervisor", "--region", "JABAR"
    )
    auditor = run(app, "users", "add", "itjen", "--name", "Itjen", "--role", "auditor")
    assert supervisor.exit_code == auditor.exit_code == 0
    for result in (supervisor, auditor):
        token = result.stdout.strip().splitlines()[-1]
        assert client.get(CASES, headers=bearer(token)).status_code == 200


# ---- users set-password ---------------------------------------------------------------------------


def test_users_set_password_reads_it_from_stdin_and_keeps_only_a_salted_hash(
    app: Flask, application: Application, world_events: int
) -> None:
    password = "kata sandi panjang 2024"
    result = app.test_cli_runner().invoke(args=["users", "set-password", "officer"], input=password + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "password of officer set"
    assert password not in result.output
    with application.db.read() as conn:
        officer_id = conn.execute(select(users.c.id).where(users.c.username == "officer")).scalar_one()
        [kept] = conn.execute(select(passwords)).all()
        [last] = EventStore().read_all(conn, after=world_events)
    assert (kept.user_id, kept.set_at) == (officer_id, "2024-06-01T03:00:00.000000Z")
    assert password not in kept.password_hash
    assert kept.password_hash.startswith("$argon2id$") and verify_password(kept.password_hash, password)
    # The log records that it was set, by whom, and nothing of the password.
    assert (last.stream_id, last.type, last.data, last.actor_username) == (
        officer_id,
        "PasswordSet",
        {},
        "cli",
    )


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    ("username", "password", "said"),
    [
        ("officer", "too short", "password: at least 12 characters"),
        ("ghost", "long enough password", "no user ghost"),
    ],
)
def test_users_set_password_refused_changes_nothing(
    app: Flask, application: Application, username: str, password: str, said: str
) -> None:
    before = snapshot(application)
    result = app.test_cli_runner().invoke(args=["users", "set-password", username], input=password + "\n")
    assert result.exit_code == 2
    assert said in result.stderr
    assert snapshot(application) == before
    assert count(application, passwords) == 0


# ---- villages import ------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "code,name") -> Path:
    path.write_text(header + "\n" + "".join(f"{code},{name}\n" for code, name in rows), encoding="utf-8")
    return path


def test_villages_import_counts_and_is_repeatable(
    app: Flask, application: Application, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "wilayah.csv", AREAS)
    first = run(app, "villages", "import", str(csv_path))
    assert first.exit_code == 0, first.output
    assert f"{len(AREAS)} areas imported" in first.stdout
    assert count(application, areas) == len(AREAS)

    renamed = [(c, "Tugu Selatan Baru" if c == "32.01.25.2006" else n) for c, n in AREAS]
    second = run(app, "villages", "import", str(write_csv(tmp_path / "again.csv", renamed)))
    assert second.exit_code == 0
    assert f"{len(AREAS)} areas imported" in second.stdout
    assert count(application, areas) == len(AREAS)
    with application.db.read() as conn:
        rows = dict(conn.execute(select(areas.c.code, areas.c.name)).all())
        levels = dict(conn.execute(select(areas.c.code, areas.c.level)).all())
    assert rows["32.01.25.2006"] == "Tugu Selatan Baru"
    assert (levels["32"], levels["32.01"], levels["32.01.25"], levels["32.01.25.2006"]) == (1, 2, 3, 4)


@pytest.mark.usefixtures("world")
def test_imported_villages_name_the_proposed_village(app: Flask, api: Api, tmp_path: Path) -> None:
    assert run(app, "villages", "import", str(write_csv(tmp_path / "w.csv", AREAS))).exit_code == 0
    case = api.proposed("officer", village_code="32.71.01.1001")
    assert case["village"] == {
        "code": "32.71.01.1001",
        "name": "Batu Tulis",
        "district": "Bogor Selatan",
        "regency": "Kota Bogor",
        "province": "Jawa Barat",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,name\n32,Jawa Barat\n32.01,Kabupaten Bogor\n32.01.25.20X6,Tugu Selatan\n", "line 4"),
        ("code,name\n32,Jawa Barat\n32.01,\n", "line 3"),
        ("code,name\n32,Jawa Barat\n32.01.2,Nowhere\n", "line 3"),
        ("code,name\n32,Jawa Barat\n\u0663\u0662.\u0660\u0661,Kabupaten Bogor\n", "line 3"),
        ("kode,nama\n32,Jawa Barat\n", "header"),
        ("", "header"),
    ],
)
def test_a_malformed_csv_is_exit_2_and_imports_nothing(
    app: Flask, application: Application, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = run(app, "villages", "import", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert count(application, areas) == 0


def test_importing_a_missing_file_is_a_usage_error(app: Flask, tmp_path: Path) -> None:
    result = run(app, "villages", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


# ---- projections rebuild --------------------------------------------------------------------------


def read_model(application: Application) -> list[dict[str, Any]]:
    with application.db.read() as conn:
        return [dict(row) for row in conn.execute(select(candidacies).order_by(candidacies.c.id)).mappings()]


ORGANISATION = (regions, offices, office_history)


def organisation_read_model(application: Application) -> dict[str, list[dict[str, Any]]]:
    """The regions, the offices and every state of each office, as the read models hold them."""
    with application.db.read() as conn:
        return {
            table.name: [
                dict(row) for row in conn.execute(select(table).order_by(*table.primary_key)).mappings()
            ]
            for table in ORGANISATION
        }


@pytest.fixture
def history(api: Api, clock: Any, registry: None, application: Application, world_events: int) -> int:
    """Cases in every stage, including a returned one and a village proposed again, recorded after the
    world's events; the number of events they are."""
    designated = api.case_at("assessed")
    api.acted("head", designated["id"], "return")
    api.acted("section_head", designated["id"], "assess")
    api.acted("head", designated["id"], "designate")
    rejected = api.case_at("assessed", village_code="32.01.25.2001")
    api.acted("head", rejected["id"], "reject")
    api.case_at("socialized", village_code="32.01.25.2001")
    withdrawn = api.case_at("coordinated", village_code="32.01.25.2005")
    api.acted("section_head", withdrawn["id"], "withdraw")
    api.proposed("sukabumi_officer", village_code="32.02.01.2002", office_code="SUKABUMI")
    clock.advance(days=1)
    api.proposed("officer", village_code="32.01.25.2005")
    recorded = 7 + 5 + 3 + 3 + 1 + 1
    assert head_position(application) == world_events + recorded
    return recorded


def test_projections_rebuild_gives_the_same_read_model(
    app: Flask, application: Application, history: int, world_events: int
) -> None:
    live = read_model(application)
    assert len(live) == 6
    organised = organisation_read_model(application)
    assert [len(organised[table.name]) for table in ORGANISATION] == [2, 3, 3]

    result = run(app, "projections", "rebuild")

    assert result.exit_code == 0, result.output
    assert f"rebuilt from {world_events + history} events" in result.stdout
    assert read_model(application) == live
    assert organisation_read_model(application) == organised


def test_projections_rebuild_repairs_a_damaged_read_model(
    app: Flask, application: Application, api: Api, history: int
) -> None:
    live = read_model(application)
    organised = organisation_read_model(application)
    with application.db.write() as conn:
        conn.execute(candidacies.delete().where(candidacies.c.stage == "designated"))
        conn.execute(candidacies.update().values(version=99, rationale="?"))
        conn.execute(regions.update().where(regions.c.code == "JATIM").values(name="?"))
        conn.execute(offices.delete().where(offices.c.code == "SUKABUMI"))
        conn.execute(offices.update().where(offices.c.code == "BOGOR").values(regencies=["32.76"]))
        conn.execute(office_history.delete().where(office_history.c.code == "SURABAYA"))
    assert read_model(application) != live
    damaged = organisation_read_model(application)
    assert all(damaged[table.name] != organised[table.name] for table in ORGANISATION)
    assert run(app, "projections", "verify").exit_code == 1

    assert run(app, "projections", "rebuild").exit_code == 0

    assert read_model(application) == live
    assert organisation_read_model(application) == organised
    assert run(app, "projections", "verify").exit_code == 0
    designated = api.get("auditor", CASES, stage="designated").get_json()["items"]
    assert [c["village"]["code"] for c in designated] == ["32.01.25.2006"]


def test_projections_rebuild_of_an_empty_log(app: Flask, application: Application) -> None:
    result = run(app, "projections", "rebuild")
    assert result.exit_code == 0
    assert "rebuilt from 0 events" in result.stdout
    assert read_model(application) == []


# ---- ledger verify --------------------------------------------------------------------------------


def drop_append_only_triggers(application: Application) -> None:
    statements = (
        ["DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"]
        if application.db.is_sqlite
        else ["DROP TRIGGER events_no_update_or_delete ON events"]
    )
    with application.db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@dataclass(frozen=True)
class CaseLog:
    """Where a case's five events lie in the log, after the world's: its proposal (`first`) to its
    designation (`last`, the head)."""

    first: int
    last: int


@pytest.fixture
def five_events(api: Api, registry: None, application: Application, world_events: int) -> CaseLog:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    logged = CaseLog(world_events + 1, world_events + 5)
    assert head_position(application) == logged.last
    return logged


def test_ledger_verify_on_a_good_log(app: Flask, five_events: CaseLog) -> None:
    result = run(app, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.stdout
    assert f"{five_events.last} events" in result.stdout


def test_ledger_verify_on_an_empty_log(app: Flask) -> None:
    result = run(app, "ledger", "verify")
    assert result.exit_code == 0
    assert "0 events" in result.stdout


def test_the_log_refuses_updates_and_deletes(application: Application, five_events: CaseLog) -> None:
    for statement in (
        "UPDATE events SET actor_name = 'Someone Else' WHERE position = 2",
        f"UPDATE events SET actor_name = 'Someone Else' WHERE position = {five_events.first + 1}",
        "DELETE FROM events",
    ):
        with pytest.raises(DBAPIError), application.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert count(application, events) == five_events.last


Locate = Callable[[CaseLog, list[RecordedEvent]], int]


def opening_of(type_name: str, key: str, value: str) -> Locate:
    """The position of the world's event of that type whose data has that value at that key."""
    return lambda _, log: next(e.position for e in log if e.type == type_name and e.data[key] == value)


def of_the_case(offset: int) -> Locate:
    return lambda logged, _: logged.first + offset


@pytest.mark.parametrize(
    ("tampering", "locate"),
    [
        pytest.param(
            "UPDATE events SET actor_name = 'Someone Else' WHERE position = {at}",
            lambda *_: 2,
            id="the-worlds-second-event",
        ),
        pytest.param(
            """UPDATE events SET data = replace(data, '"role":"officer"', '"role":"admin"')"""
            " WHERE position = {at}",
            opening_of("UserCreated", "username", "officer"),
            id="the-officer-made-an-admin",
        ),
        pytest.param(
            """UPDATE events SET data = replace(data, '"32.71"', '"32.76"') WHERE position = {at}""",
            opening_of("OfficeOpened", "code", "BOGOR"),
            id="bogor-given-another-regency",
        ),
        pytest.param(
            "UPDATE events SET data = replace(data, 'Jawa Timur', 'Jawa Tengah') WHERE position = {at}",
            opening_of("RegionAdded", "code", "JATIM"),
            id="a-region-renamed",
        ),
        pytest.param(
            "UPDATE events SET actor_name = 'Someone Else' WHERE position = {at}",
            of_the_case(1),
            id="an-act-by-someone-else",
        ),
        pytest.param(
            "UPDATE events SET data = replace(data, 'Polres Bogor', 'Polres Depok') WHERE position = {at}",
            of_the_case(1),
            id="another-agency",
        ),
        pytest.param(
            "UPDATE events SET recorded_at = '2024-01-01T00:00:00.000000Z' WHERE position = {at}",
            of_the_case(3),
            id="another-time",
        ),
        pytest.param("DELETE FROM events WHERE position = {at}", of_the_case(2), id="an-act-deleted"),
        pytest.param("DELETE FROM events WHERE position = {at}", of_the_case(4), id="the-head-deleted"),
    ],
)
def test_ledger_verify_names_the_first_tampered_position(
    app: Flask, application: Application, five_events: CaseLog, tampering: str, locate: Locate
) -> None:
    with application.db.read() as conn:
        bad_position = locate(five_events, EventStore().read_all(conn))
    drop_append_only_triggers(application)
    with application.db.engine.begin() as conn:
        assert conn.execute(text(tampering.format(at=bad_position))).rowcount == 1

    result = run(app, "ledger", "verify")

    assert result.exit_code == 1
    assert f"position {bad_position}" in result.output
    assert "BROKEN" in result.output


def digest_at(application: Application, position: int) -> str:
    with application.db.read() as conn:
        return conn.execute(select(events.c.hash).where(events.c.position == position)).scalar_one()


def test_ledger_verify_from_a_kept_digest(app: Flask, application: Application, five_events: CaseLog) -> None:
    kept, last = five_events.first + 2, five_events.last
    result = run(app, "ledger", "verify", "--position", str(kept), "--digest", digest_at(application, kept))

    assert result.exit_code == 0, result.output
    assert f"ledger intact: 2 events verified from position {kept} (digest matches)" in result.stdout
    assert f"head: position {last}, digest {digest_at(application, last)}" in result.stdout


def test_ledger_verify_prints_the_head_to_keep(
    app: Flask, application: Application, five_events: CaseLog
) -> None:
    last = five_events.last
    result = run(app, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert f"ledger intact: {last} events verified\n" in result.stdout
    assert f"head: position {last}, digest {digest_at(application, last)}" in result.stdout


@pytest.mark.parametrize(
    ("position", "digest_of", "said"),
    [
        # Positions counted from the case's proposal; its designation, the head, is at 4.
        (2, 1, "event {position} has another digest"),
        (5, 4, "the log ends at {last}"),
    ],
)
def test_ledger_verify_from_a_digest_that_does_not_hold(
    app: Flask, application: Application, five_events: CaseLog, position: int, digest_of: int, said: str
) -> None:
    position += five_events.first
    digest = digest_at(application, five_events.first + digest_of)

    result = run(app, "ledger", "verify", "--position", str(position), "--digest", digest)

    assert result.exit_code == 1
    assert f"ledger BROKEN at position {position}: " in result.stderr
    assert said.format(position=position, last=five_events.last) in result.stderr


def test_ledger_verify_from_a_kept_digest_finds_a_later_change(
    app: Flask, application: Application, five_events: CaseLog
) -> None:
    kept = digest_at(application, five_events.first + 1)
    changed = five_events.first + 3
    drop_append_only_triggers(application)
    with application.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE events SET actor_name = 'Someone Else' WHERE position = {changed}"))

    result = run(app, "ledger", "verify", "--position", str(five_events.first + 1), "--digest", kept)

    assert result.exit_code == 1
    assert f"ledger BROKEN at position {changed}: event {changed} does not match its hash" in result.stderr
    assert "(1 events verified before it)" in result.stderr


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--position", "2"], "--position and --digest together"),
        (["--digest", "a" * 64], "--position and --digest together"),
        (["--position", "0", "--digest", "a" * 64], "--position"),
        (["--position", "x", "--digest", "a" * 64], "--position"),
        (["--position", "2", "--digest", "A" * 64], "--digest"),
        (["--position", "2", "--digest", "a" * 63], "--digest"),
    ],
)
def test_ledger_verify_with_bad_options_is_exit_2(app: Flask, options: list[str], said: str) -> None:
    result = run(app, "ledger", "verify", *options)
    assert result.exit_code == 2
    assert said in result.stderr
    assert "intact" not in result.stdout


# ---- demo seed ------------------------------------------------------------------------------------


def demo_lines(result: Result) -> dict[str, list[str]]:
    """username -> [role, scope, password, token], from the lines `  username role scope password
    token` of the users that got both."""
    found = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) == 5 and parts[0] in {u.username for u in DEMO_USERS}:
            found[parts[0]] = parts[1:]
    return found


def demo_tokens(result: Result) -> dict[str, str]:
    return {username: columns[3] for username, columns in demo_lines(result).items()}


def test_demo_seed_twice(app: Flask, application: Application, client: FlaskClient) -> None:
    first = run(app, "demo", "seed")
    assert first.exit_code == 0, first.output
    tokens = demo_tokens(first)
    assert set(tokens) == {u.username for u in DEMO_USERS}
    curl = [line for line in first.stdout.splitlines() if "curl" in line]
    assert len(curl) == 1
    assert f"Bearer {tokens['kakan.bogor']}" in curl[0]
    assert "/api/v1/candidacies" in curl[0]
    # The web application's address, and a password per user that signs in there.
    assert re.search(r"^Web: +http://127\.0\.0\.1:8000/ ", first.stdout, re.MULTILINE)
    password = demo_lines(first)["kasi.bogor"][2]
    page = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    signed_in = client.post("/", data={"username": "kasi.bogor", "password": password, "csrf_token": csrf[1]})
    assert (signed_in.status_code, signed_in.headers["Location"]) == (303, "/tugas")
    events_after_first = count(application, events)
    assert events_after_first > 5
    # The accounts open the day before the story's first act (15 January 2024); their first tokens are
    # issued afterwards, on the clock of the day the demo is seeded.
    with application.db.read() as conn:
        opened = dict(conn.execute(select(users.c.username, users.c.created_at)).all())
        logged = EventStore().read_all(conn)
    assert set(opened) == {u.username for u in DEMO_USERS}
    assert set(opened.values()) == {"2024-01-14T02:00:00.000000Z"}
    # Its offices (and their region) are imported first, on the day the accounts open.
    organised = [e for e in logged if e.stream_type in ("region", "office")]
    assert [(e.stream_id, e.type) for e in organised] == [
        ("region:JABAR", "RegionAdded"),
        ("office:BOGOR", "OfficeOpened"),
        ("office:SUKABUMI", "OfficeOpened"),
    ]
    assert logged[: len(organised)] == organised
    assert all(e.data["imported"] for e in organised)
    assert {e.recorded_at for e in organised} == {"2024-01-14T02:00:00.000000Z"}
    first_act = next(e for e in logged if e.stream_type in ("candidacy", "target"))
    assert first_act.recorded_at == "2024-01-15T02:00:00.000000Z"
    assert all(e.recorded_at < first_act.recorded_at for e in logged if e.type == "UserCreated")
    issued = [e for e in logged if e.type == "TokenIssued"]
    assert len(issued) == len(DEMO_USERS)
    assert {e.recorded_at for e in issued} == {"2024-06-01T03:00:00.000000Z"}  # the app's clock

    for username, token in tokens.items():
        expected = 403 if username == "admin" else 200
        assert client.get(CASES, headers=bearer(token)).status_code == expected, username

    second = run(app, "demo", "seed", "--base-url", "http://demo.example:9000")
    assert second.exit_code == 0, second.output
    new_tokens = demo_tokens(second)
    assert set(new_tokens) == set(tokens)
    assert all(new_tokens[u] != tokens[u] for u in tokens)
    assert "http://demo.example:9000/api/v1/candidacies" in second.stdout
    assert "already there" in second.stdout
    # The story is recorded once: the second run records only the new tokens and passwords.
    with application.db.read() as conn:
        added = EventStore().read_all(conn, after=events_after_first)
    assert [(e.stream_type, e.type) for e in added] == [
        ("user", "TokenIssued"),
        ("user", "PasswordSet"),
    ] * len(DEMO_USERS)
    assert len({e.stream_id for e in added}) == len(DEMO_USERS)
    # New tokens work and the old ones keep working.
    for token in (*tokens.values(), *new_tokens.values()):
        assert client.get(f"{API}/offices", headers=bearer(token)).status_code == 200

    auditor = bearer(new_tokens["auditor"])
    found = client.get(CASES, query_string={"q": "Tugu Selatan"}, headers=auditor).get_json()["items"]
    assert len(found) == 1
    tugu = found[0]
    assert tugu["stage"] == "designated"
    assert tugu["village"]["code"] == "32.01.25.2006"
    assert tugu["office_code"] == "BOGOR"
    assert tugu["designated"]["by"]["username"] == "kakan.bogor"
    assert tugu["assessed"]["by"]["username"] == "kasi.bogor"
    assert tugu["proposed"]["by"]["username"] == "petugas.bogor"
    assert tugu["designated"]["decree_date"] == "2024-04-16"
    history = client.get(f"{CASES}/{tugu['id']}/events", headers=auditor).get_json()["items"]
    assert [(e["recorded_at"][:10], e["type"]) for e in history] == [
        ("2024-02-12", "CandidacyProposed"),
        ("2024-02-19", "CandidacyCoordinated"),
        ("2024-02-21", "CandidacySocialized"),
        ("2024-03-20", "CandidacyAssessed"),
        ("2024-04-16", "CandidacyDesignated"),
        # Its fostering: an officer assigned, a counseling held, a resident's report received.
        ("2024-05-02", "FosteringOfficersAssigned"),
        ("2024-05-20", "ActivityRecorded"),
        ("2024-05-21", "VillageReportReceived"),
    ]
    assert tugu["fostering"]["officers"] == [{"username": "petugas.bogor", "name": "Rina Marlina (PIMPASA)"}]
    # The counseling carries its photo and its attendance list, which its readers read.
    (counseling,) = client.get(f"{CASES}/{tugu['id']}/activities", headers=auditor).get_json()["items"]
    photo, attendance = counseling["documents"]
    assert client.get(f"{API}/documents/{photo}", headers=auditor).mimetype == "image/jpeg"
    assert client.get(f"{API}/documents/{attendance}", headers=auditor).mimetype == "application/pdf"
    verified = run(app, "ledger", "verify")
    assert verified.exit_code == 0 and "documents intact: 2 stored, 2 named" in verified.output
    assert run(app, "projections", "verify").exit_code == 0


def test_demo_seed_after_the_registry_is_imported(
    app: Flask, application: Application, tmp_path: Path
) -> None:
    """The demo's villages are real: with the registry they are named from it."""
    demo_areas = [
        *AREAS,
        ("32.71.01.1003", "Empang"),
    ]
    assert run(app, "villages", "import", str(write_csv(tmp_path / "w.csv", demo_areas))).exit_code == 0
    result = run(app, "demo", "seed")
    assert result.exit_code == 0, result.output
    with application.db.read() as conn:
        row = (
            conn.execute(select(candidacies).where(candidacies.c.village_code == "32.01.25.2006"))
            .mappings()
            .one()
        )
    assert (row["district_name"], row["regency_name"], row["province_name"]) == (
        "Cisarua",
        "Kabupaten Bogor",
        "Jawa Barat",
    )


@pytest.mark.usefixtures("world")
def test_demo_seed_refuses_a_database_with_other_users(app: Flask, application: Application) -> None:
    before = snapshot(application)
    result = run(app, "demo", "seed")
    assert result.exit_code == 2
    assert "users who are not the demo's" in result.stderr and "--force" in result.stderr
    assert "token" not in result.stdout
    assert snapshot(application) == before


@pytest.mark.usefixtures("world")
def test_demo_seed_forced_beside_other_users_leaves_their_accounts_alone(
    app: Flask, application: Application, client: FlaskClient
) -> None:
    """With --force the demo's users get tokens; a real account that holds one of the demo's usernames
    (here "admin" and "auditor") gets none, and its tokens stay as they were."""
    admin_id = select(users.c.id).where(users.c.username == "admin").scalar_subquery()
    admin_tokens_query = select(api_tokens).where(api_tokens.c.user_id == admin_id)
    with application.db.read() as conn:
        admin_tokens = conn.execute(admin_tokens_query).all()
        admin_account = conn.execute(select(users).where(users.c.username == "admin")).one()
    assert len(admin_tokens) == 1
    result = run(app, "demo", "seed", "--force")
    assert result.exit_code == 0, result.output
    tokens = demo_tokens(result)
    assert "admin" not in tokens and "somebody else's" in result.stdout
    assert set(tokens) == {u.username for u in DEMO_USERS} - {"admin", "auditor"}
    with application.db.read() as conn:
        assert conn.execute(admin_tokens_query).all() == admin_tokens
        assert conn.execute(select(users).where(users.c.username == "admin")).one() == admin_account
    assert count(application, candidacies) > 0  # the story's people are all the demo's
    assert client.get(f"{API}/offices", headers=bearer(tokens["kakan.bogor"])).status_code == 200


def test_demo_seed_records_no_story_behind_the_logs_head(
    app: Flask, application: Application, client: FlaskClient
) -> None:
    """The log's times never go back: once it holds an event later than the story's first day (here
    an account added on the clock's day, June 2024), the story is not recorded; the demo's users still
    get their accounts and tokens."""
    added = run(app, "users", "add", "rina", "--name", "Rina Marlina", "--role", "auditor")
    assert added.exit_code == 0, added.output

    result = run(app, "demo", "seed", "--force")

    assert result.exit_code == 0, result.output
    assert "story is not recorded" in result.stdout and "after its first day (2024-01-15)" in result.stdout
    assert count(application, candidacies) == 0
    with application.db.read() as conn:
        # The demo's offices and accounts, and nothing of its story (cases, targets).
        assert {e.stream_type for e in EventStore().read_all(conn)} == {"region", "office", "user"}
    assert count(application, offices) == 2
    tokens = demo_tokens(result)
    assert set(tokens) == {u.username for u in DEMO_USERS}
    assert client.get(CASES, headers=bearer(tokens["kakan.bogor"])).status_code == 200
    assert run(app, "ledger", "verify").exit_code == 0


@pytest.mark.usefixtures("registry")
def test_demo_seed_refuses_offices_whose_regencies_another_office_serves(
    app: Flask, application: Application
) -> None:
    """An office of this database serves Kabupaten Bogor: the demo's BOGOR would serve it too."""
    added = run(
        app,
        "offices",
        "add",
        "CIBINONG",
        "--name",
        "Kanim Cibinong",
        "--region",
        "JABAR2",
        "--region-name",
        "Kanwil Dua",
        "--regencies",
        "32.01",
    )
    assert added.exit_code == 0, added.output
    with application.db.read() as conn:
        before = EventStore().head(conn)

    result = run(app, "demo", "seed", "--force")

    assert result.exit_code != 0
    assert "32.01 by CIBINONG" in result.output
    with application.db.read() as conn:
        assert EventStore().head(conn) == before


# ---- the desa-binaan command -----------------------------------------------------------------------


def test_the_desa_binaan_command_runs_the_same_commands(
    database_url: str, world_events: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from service.cli import command_line

    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(command_line(), ["ledger", "verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"ledger intact: {world_events} events verified" in result.output
    listed = CliRunner().invoke(command_line(), ["--help"])
    assert all(group in listed.output for group in ("db", "users", "villages", "projections", "ledger"))
