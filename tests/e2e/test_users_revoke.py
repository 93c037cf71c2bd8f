"""`users revoke USERNAME`: every token of the user ends at once, the account is shut, nobody else is
touched, and no token is ever printed; on both databases."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from events.schema import users
from events.store import EventStore, RecordedEvent, format_timestamp
from service import accounts
from service.application import Application
from service.auth import hash_token
from service.tables import api_tokens
from tests.conftest import FakeClock, World
from tests.e2e.conftest import API, CASES, assert_problem, snapshot

OFFICES = f"{API}/offices"


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def revoke(app: Flask, username: str, world: World | None = None) -> Result:
    result = run(app, "users", "revoke", username)
    if world is not None:
        assert_no_token_in(result, world.tokens.values())
    return result


def assert_no_token_in(result: Result, tokens: Iterable[str]) -> None:
    """Neither a token nor its stored digest appears in anything the command printed."""
    printed = result.stdout + result.stderr
    for token in tokens:
        assert token not in printed
        assert hash_token(token) not in printed


def status(client: FlaskClient, token: str, path: str = OFFICES) -> int:
    return client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code


def token_rows(application: Application, username: str) -> list[dict[str, object]]:
    """The user's tokens as stored (by id and user id), oldest first."""
    query = (
        select(api_tokens)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(users.c.username == username)
        .order_by(api_tokens.c.created_at, api_tokens.c.token_id)
    )
    with application.db.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def account_events(application: Application, username: str) -> list[RecordedEvent]:
    """The user's stream in the log."""
    with application.db.read() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        return EventStore().load_stream(conn, user_id)


def is_active(application: Application, username: str) -> bool:
    with application.db.read() as conn:
        return conn.execute(select(users.c.active).where(users.c.username == username)).scalar_one()


def test_the_next_request_with_a_revoked_token_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    token = world.tokens["officer"]
    assert status(client, token) == 200

    result = revoke(app, "officer", world)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "user officer revoked: 1 token ended"
    refused = client.get(OFFICES, headers=world.headers("officer"))
    body = assert_problem(refused, 401)
    assert body["detail"] == "the token is unknown or revoked"
    assert status(client, token, CASES) == 401


def test_every_token_of_the_user_ends_and_the_account_is_shut(
    app: Flask, application: Application, client: FlaskClient, world: World, clock: FakeClock
) -> None:
    with accounts.as_command_line(application.uow, "test") as tx:
        operator = accounts.command_line_actor()
        more = [accounts.issue_token(tx, operator, "section_head").token for _ in range(2)]
    tokens = [world.tokens["section_head"], *more]
    assert all(status(client, t) == 200 for t in tokens)
    clock.set("2024-06-02T08:30:00Z")

    result = revoke(app, "section_head", world)

    assert result.exit_code == 0, result.output
    assert "3 tokens ended" in result.stdout
    assert_no_token_in(result, more)
    assert [status(client, t) for t in tokens] == [401, 401, 401]
    rows = token_rows(application, "section_head")
    assert len(rows) == 3
    assert {row["revoked_at"] for row in rows} == {format_timestamp(clock())}
    assert not is_active(application, "section_head")
    # The log records the deactivation, the reason given by default, and which tokens it ended: every
    # one the account was issued, in the order they were.
    stream = account_events(application, "section_head")
    shut = stream[-1]
    issued = [e.data["token_id"] for e in stream if e.type == "TokenIssued"]
    assert sorted(issued) == sorted(row["token_id"] for row in rows)
    assert (shut.type, shut.actor_username) == ("UserDeactivated", "cli")
    assert shut.recorded_at == format_timestamp(clock())
    assert shut.data == {"reason": "revoked from the command line", "tokens_ended": issued}


def test_other_users_are_unaffected(
    app: Flask, application: Application, client: FlaskClient, world: World
) -> None:
    others = {u: t for u, t in world.tokens.items() if u != "head"}
    before = {u: token_rows(application, u) for u in others}

    assert revoke(app, "head", world).exit_code == 0

    assert status(client, world.tokens["head"]) == 401
    for username, token in others.items():
        expected = 403 if username == "admin" else 200  # the admin reads no cases, as before
        assert status(client, token, CASES) == expected, username
        assert token_rows(application, username) == before[username]
        assert is_active(application, username)


def test_revoking_twice_is_fine_and_keeps_the_first_time(
    app: Flask, application: Application, client: FlaskClient, world: World, clock: FakeClock
) -> None:
    assert revoke(app, "auditor", world).exit_code == 0
    first = token_rows(application, "auditor")
    history = account_events(application, "auditor")
    clock.advance(hours=1)

    again = revoke(app, "auditor", world)

    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "user auditor revoked: 0 tokens ended"
    assert token_rows(application, "auditor") == first
    assert account_events(application, "auditor") == history  # nothing more recorded
    assert status(client, world.tokens["auditor"]) == 401


def test_an_unknown_user_is_exit_2_and_changes_nothing(
    app: Flask, application: Application, world: World
) -> None:
    before = snapshot(application)

    result = revoke(app, "ghost", world)

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no user ghost"
    assert result.stdout == ""
    assert snapshot(application) == before


def test_adding_a_revoked_username_again_is_refused(
    app: Flask, application: Application, client: FlaskClient, world: World
) -> None:
    """A revoked account is still an account: `users add` of its name is a duplicate, and it does not
    bring the account back nor print a token."""
    assert revoke(app, "supervisor", world).exit_code == 0
    tokens_before = token_rows(application, "supervisor")

    result = run(app, "users", "add", "supervisor", "--name", "Kadiv", "--role", "auditor")

    assert result.exit_code == 2
    assert "exists" in result.stderr
    assert "token" not in result.stdout
    assert token_rows(application, "supervisor") == tokens_before
    assert not is_active(application, "supervisor")
    assert status(client, world.tokens["supervisor"]) == 401


def test_a_revoked_demo_user_stays_revoked_when_the_demo_is_seeded_again(
    app: Flask, application: Application, client: FlaskClient
) -> None:
    """`demo seed` issues fresh tokens to the existing demo users, but none to a revoked one."""
    assert run(app, "demo", "seed").exit_code == 0
    assert revoke(app, "kakan.bogor").exit_code == 0
    revoked_tokens = token_rows(application, "kakan.bogor")

    again = run(app, "demo", "seed")

    assert again.exit_code == 0, again.output
    lines = {line.split()[0]: line for line in again.stdout.splitlines() if line.startswith("  ")}
    assert lines["kakan.bogor"].endswith("(revoked: no token)")
    assert token_rows(application, "kakan.bogor") == revoked_tokens
    fresh_section_head = lines["kasi.bogor"].split()[-1]
    assert status(client, fresh_section_head) == 200
    assert not is_active(application, "kakan.bogor")


@pytest.mark.parametrize("args", [[], ["officer", "auditor"]])
def test_exactly_one_username_is_required(app: Flask, world: World, args: list[str]) -> None:
    result = run(app, "users", "revoke", *args)
    assert result.exit_code == 2  # click's usage error
    assert is_active(app.extensions["desa_binaan"], "officer")


def test_the_last_active_admin_is_not_revoked(app: Flask, client: FlaskClient, world: World) -> None:
    refused = revoke(app, "admin", world)
    assert refused.exit_code == 2
    assert "the last active administrator cannot be deactivated" in refused.stderr
    assert status(client, world.tokens["admin"]) == 200  # nothing was ended

    added = run(app, "users", "add", "admin2", "--name", "Admin Dua", "--role", "admin")
    assert added.exit_code == 0, added.output
    assert revoke(app, "admin", world).exit_code == 0
    assert status(client, world.tokens["admin"]) == 401
    # admin2 is now the last one; revoking the revoked admin again changes nothing.
    assert revoke(app, "admin2").exit_code == 2
    again = revoke(app, "admin", world)
    assert again.exit_code == 0 and "0 tokens ended" in again.stdout
