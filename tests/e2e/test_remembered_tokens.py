"""A write request whose token the server looked up before is not looked up again on PostgreSQL: its
transaction confirms the token with its first statements. A revoked token is refused all the same,
with a 401 and nothing recorded, whatever else would have been said of the request; on both
databases (SQLite looks every token up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from flask import Flask
from sqlalchemy import select, update

from service.application import Application
from service.tables import users
from tests.conftest import ProtocolTrace, waits_for_the_server
from tests.e2e.conftest import Api, assert_problem, snapshot

pytestmark = pytest.mark.usefixtures("registry")


def revoke(app: Flask, username: str) -> None:
    result = app.test_cli_runner().invoke(args=["users", "revoke", username])
    assert result.exit_code == 0, result.output


def assert_refused_token(response: Any) -> None:
    body = assert_problem(response, 401)
    assert body["detail"] == "the token is unknown or revoked"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_write_after_the_token_was_revoked_is_401_and_records_nothing(
    api: Api, app: Flask, application: Application
) -> None:
    case = api.proposed("officer")  # the officer's token is looked up, and remembered
    api.acted("section_head", case["id"], "coordinate")
    revoke(app, "section_head")
    before = snapshot(application)

    assert_refused_token(api.act("section_head", case["id"], "socialize"))
    assert_refused_token(api.act("section_head", case["id"], "socialize"))  # and forgotten: looked up
    assert snapshot(application) == before


def test_a_revoked_token_is_401_where_its_body_would_be_a_422(
    api: Api, app: Flask, application: Application
) -> None:
    case = api.proposed("officer")
    api.acted("section_head", case["id"], "coordinate")
    revoke(app, "section_head")
    before = snapshot(application)

    assert_refused_token(api.act("section_head", case["id"], "socialize", body={"held_on": "yesterday"}))
    assert snapshot(application) == before


def test_a_revoked_token_is_401_where_its_role_would_be_a_403(api: Api, app: Flask) -> None:
    case = api.proposed("officer")
    assert api.act("officer", case["id"], "coordinate").status_code == 403  # remembered meanwhile
    revoke(app, "officer")

    assert_refused_token(api.act("officer", case["id"], "coordinate"))
    assert_refused_token(api.propose("officer", village_code="32.71.01.1001"))


def test_a_retried_proposal_with_a_revoked_token_gets_no_stored_answer(
    api: Api, app: Flask, application: Application
) -> None:
    assert api.propose("officer", idempotency_key="k-1").status_code == 201
    revoke(app, "officer")
    before = snapshot(application)

    assert_refused_token(api.propose("officer", idempotency_key="k-1"))
    assert snapshot(application) == before


def test_a_remembered_actor_whose_user_changed_never_acts_as_before(
    api: Api, application: Application
) -> None:
    case = api.proposed("officer")
    api.acted("section_head", case["id"], "coordinate")
    with application.db.write() as conn:  # no command does this; a database administrator might
        conn.execute(update(users).where(users.c.username == "section_head").values(role="officer"))
    before = snapshot(application)

    refused = api.act("section_head", case["id"], "socialize")

    if application.db.is_sqlite:  # looked up: an officer, who may not socialize
        assert_problem(refused, 403)
    else:  # remembered as a section head: the confirmation in its transaction fails
        assert_refused_token(refused)
    assert snapshot(application) == before
    # Looked up afresh, the user is what the database now says: an officer, who may not socialize.
    assert_problem(api.act("section_head", case["id"], "socialize"), 403)


def test_the_request_over_its_token_no_longer_binds_other_writes(
    api: Api, app: Flask, application: Application
) -> None:
    case = api.proposed("officer")
    api.acted("section_head", case["id"], "coordinate")  # a request by a remembered token
    revoke(app, "section_head")

    with application.db.write() as conn:  # outside any request: not the section head's to confirm
        conn.execute(update(users).where(users.c.username == "auditor").values(name="Auditor Dua"))

    with application.db.read() as conn:
        names = conn.execute(select(users.c.name).where(users.c.username == "auditor")).scalars()
        assert list(names) == ["Auditor Dua"]


def test_on_postgresql_a_remembered_token_costs_an_action_no_lookup(
    api: Api, application: Application, tmp_path: Path
) -> None:
    """Three waits in all, on every connection: BEGIN, the token's confirmation and the stream's
    load together; the write lock; the writes with COMMIT. The token's lookup was a fourth."""
    if application.db.is_sqlite:
        pytest.skip("SQLite has no server to wait for; its lookup is a call into the library")
    case = api.proposed("officer")
    api.acted("section_head", case["id"], "coordinate")  # the section head's token is remembered
    trace = ProtocolTrace(tmp_path / "trace")

    def follow(dbapi_connection: Any, *_: Any) -> None:
        trace.follow(dbapi_connection.pgconn)

    engines = (application.db.engine, application.db.read_engine)
    for engine in engines:
        sqlalchemy.event.listen(engine, "checkout", follow)
    try:
        api.acted("section_head", case["id"], "socialize")
    finally:
        for engine in engines:
            sqlalchemy.event.remove(engine, "checkout", follow)
    sent = trace.sent()

    assert waits_for_the_server(sent) == 3
    statements = [message.split('"')[3] for message in sent if message.startswith("Parse")]
    assert statements[:2] == ["BEGIN", "CALL confirm_live_token($1, $2, $3, $4, $5)"]
    assert not any("api_tokens" in statement for statement in statements)
