"""Tokens expire (and the 401 says so), `users token`, `users reactivate`, `users list`, and the 429 an
address earns by sending bad tokens; on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from events.database import Database
from service import accounts
from service.app import create_app
from service.application import Application
from service.migrate import upgrade
from service.tables import api_tokens
from tests.conftest import WORLD_OPENED, WORLD_TOKEN_DAYS, FakeClock, World, build_world
from tests.e2e.conftest import API, assert_problem

OFFICES = f"{API}/offices"


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def get(client: FlaskClient, token: str, address: str = "192.0.2.10") -> object:
    return client.get(
        OFFICES, headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": address}
    )


def token_printed(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


# ---- expiry --------------------------------------------------------------------------------------


def test_a_token_works_until_its_last_moment_and_then_the_401_says_it_expired(
    app: Flask, client: FlaskClient, world: World, clock: FakeClock
) -> None:
    token = token_printed(run(app, "users", "token", "officer", "--days", "2"))
    assert get(client, token).status_code == 200
    clock.advance(days=2, seconds=-1)
    assert get(client, token).status_code == 200
    clock.advance(seconds=1)

    body = assert_problem(get(client, token), 401)
    assert "expired on 2024-06-03 03:00 UTC" in body["detail"]
    assert "users token" in body["detail"]
    # The user's other tokens (issued for a year) are not touched.
    assert get(client, world.tokens["officer"]).status_code == 200


def test_tokens_live_token_days_by_default(database_url: str, clock: FakeClock) -> None:
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True, "TOKEN_DAYS": 30})
    application: Application = app.extensions["desa_binaan"]
    build_world(application)
    result = run(app, "users", "token", "officer")
    assert "valid until 2024-07-01 03:00 UTC" in result.stdout
    token = token_printed(result)
    client = app.test_client()
    clock.advance(days=30)
    assert "expired" in assert_problem(get(client, token), 401)["detail"]
    application.db.dispose()


@pytest.mark.parametrize("days", ["0", "366", "soon"])
def test_a_lifetime_out_of_range_is_refused(app: Flask, world: World, days: str) -> None:
    result = run(app, "users", "token", "officer", "--days", days)
    assert result.exit_code == 2
    assert "--days" in result.output


@pytest.mark.parametrize("days", [0, 366])
def test_token_days_out_of_range_stops_the_app_from_starting(database_url: str, days: int) -> None:
    with pytest.raises(ValueError, match="TOKEN_DAYS must be 1 to 365"):
        create_app({"DATABASE_URL": database_url, "TOKEN_DAYS": days})


# ---- users token / reactivate / list --------------------------------------------------------------


def test_users_token_prints_a_working_token_last_and_keeps_only_its_hash(
    app: Flask, client: FlaskClient, application: Application, world: World
) -> None:
    token = token_printed(run(app, "users", "token", "section_head"))
    assert get(client, token).status_code == 200
    with application.db.read() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert token not in stored
    assert get(client, world.tokens["section_head"]).status_code == 200  # the earlier one still works


def test_users_token_for_nobody_or_a_deactivated_user_is_refused(app: Flask, world: World) -> None:
    result = run(app, "users", "token", "nobody")
    assert result.exit_code == 2 and "no user nobody" in result.stderr

    assert run(app, "users", "revoke", "officer").exit_code == 0
    result = run(app, "users", "token", "officer")
    assert result.exit_code == 2
    assert "deactivated" in result.stderr and "reactivate" in result.stderr


def test_reactivate_undoes_a_revocation_but_not_the_tokens_it_ended(
    app: Flask, client: FlaskClient, world: World
) -> None:
    old = world.tokens["officer"]
    assert run(app, "users", "revoke", "officer").exit_code == 0
    assert get(client, old).status_code == 401

    result = run(app, "users", "reactivate", "officer")
    assert result.exit_code == 0
    assert "reactivated" in result.stdout and "users token officer" in result.stdout
    assert get(client, old).status_code == 401  # ended with the revocation, for good
    assert get(client, token_printed(run(app, "users", "token", "officer"))).status_code == 200

    again = run(app, "users", "reactivate", "officer")
    assert again.exit_code == 0 and "active already" in again.stdout
    missing = run(app, "users", "reactivate", "nobody")
    assert missing.exit_code == 2 and "no user nobody" in missing.stderr


def test_users_list_shows_role_scope_activity_and_newest_expiry(
    app: Flask, application: Application, world: World
) -> None:
    # The officer's world token ends (the account stays active) and a year's token follows it; the
    # section head gets a two days' token beside the world's, which lives longer.
    with accounts.as_command_line(application.uow, "test") as tx:
        assert accounts.revoke_tokens(tx, accounts.command_line_actor(), "officer") == 1
    assert run(app, "users", "token", "officer", "--days", "365").exit_code == 0
    assert run(app, "users", "token", "section_head", "--days", "2").exit_code == 0
    assert run(app, "users", "revoke", "auditor").exit_code == 0
    result = run(app, "users", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:6] == ["USERNAME", "ROLE", "SCOPE", "ACTIVE", "TOKEN", "EXPIRES"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    line_of = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(world.tokens)
    assert rows["officer"][1:5] == ["officer", "BOGOR", "yes", "2025-06-01"]
    assert " 2025-06-01 03:00" in line_of["officer"]
    world_expiry = WORLD_OPENED + dt.timedelta(days=WORLD_TOKEN_DAYS)
    assert rows["section_head"][3:5] == ["yes", f"{world_expiry:%Y-%m-%d}"]
    assert f" {world_expiry:%Y-%m-%d %H:%M}" in line_of["section_head"]
    assert rows["supervisor"][1:3] == ["regional_supervisor", "JABAR"]
    assert rows["admin"][2] == "national"
    # A revoked user has no live token left to expire.
    assert rows["auditor"][3:5] == ["no", "-"]
    for token in world.tokens.values():
        assert token not in result.output


# ---- the failed-token limit ------------------------------------------------------------------------


@pytest.fixture
def strict_app(database_url: str, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(
        {"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True, "FAILED_TOKENS_PER_MINUTE": 3}
    )
    yield app
    app.extensions["desa_binaan"].db.dispose()


def test_an_address_past_the_failed_token_limit_gets_429_with_retry_after(strict_app: Flask) -> None:
    world = build_world(strict_app.extensions["desa_binaan"])
    client = strict_app.test_client()
    for _ in range(3):
        assert get(client, "not-a-token").status_code == 401

    refused = get(client, "not-a-token")
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "try again" in body["detail"]
    # The address is told to wait, whatever it sends meanwhile.
    assert get(client, world.tokens["officer"]).status_code == 429
    # Other addresses are not.
    assert get(client, world.tokens["officer"], address="192.0.2.99").status_code == 200
    assert get(client, "not-a-token", address="192.0.2.99").status_code == 401


def test_good_tokens_and_missing_headers_do_not_count(strict_app: Flask) -> None:
    world = build_world(strict_app.extensions["desa_binaan"])
    client = strict_app.test_client()
    for _ in range(10):
        assert get(client, world.tokens["officer"]).status_code == 200
        no_header = client.get(OFFICES, environ_base={"REMOTE_ADDR": "192.0.2.10"})
        assert no_header.status_code == 401
    assert get(client, "not-a-token").status_code == 401


def test_behind_a_proxy_the_limit_counts_the_forwarded_client(database_url: str, clock: FakeClock) -> None:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "CLOCK": clock,
            "TESTING": True,
            "FAILED_TOKENS_PER_MINUTE": 1,
            "PROXIES": 1,
        }
    )
    client = app.test_client()

    def from_client(address: str) -> int:
        headers = {"Authorization": "Bearer bad", "X-Forwarded-For": address}
        return client.get(OFFICES, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code

    assert from_client("198.51.100.1") == 401
    assert from_client("198.51.100.1") == 429
    assert from_client("198.51.100.2") == 401  # same proxy, another client
    app.extensions["desa_binaan"].db.dispose()


# ---- the upgrade that brought expiry ----------------------------------------------------------------


def test_tokens_issued_before_expiry_existed_get_90_days_from_the_upgrade(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    upgrade(database, "0008")
    with database.write() as conn:
        conn.execute(text("INSERT INTO offices VALUES ('BOGOR', 'Bogor', 'JABAR', 'Jawa Barat', '[]')"))
        # The users table as it stood at 0008 (the code's table is today's read model).
        conn.execute(
            text(
                "INSERT INTO users (username, name, role, office_code, region_code, active, created_at)"
                " VALUES ('officer', 'Officer', 'officer', 'BOGOR', NULL, :active,"
                " '2020-01-01T00:00:00.000000Z')"
            ),
            {"active": True},
        )
        conn.execute(
            text(
                "INSERT INTO api_tokens (token_hash, username, created_at) "
                "VALUES ('ab', 'officer', '2020-01-01T00:00:00.000000Z')"
            )
        )
    before = dt.datetime.now(dt.UTC)
    upgrade(database)
    with database.read() as conn:
        expires = conn.execute(select(api_tokens.c.expires_at)).scalar_one()
    expires_at = dt.datetime.fromisoformat(expires)
    assert before + dt.timedelta(days=90) <= expires_at <= dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    database.dispose()
