"""`GET /me` for everyone signed in, and the accounts read by administrators and auditors: stable ids,
filters, pages, and nothing of a token; on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from events.store import format_timestamp
from service.application import Application
from tests.conftest import WORLD_OPENED, WORLD_TOKEN_DAYS, FakeClock, World
from tests.e2e.conftest import API, assert_problem, snapshot

FIELDS = {
    "id",
    "username",
    "name",
    "role",
    "office_code",
    "region_code",
    "active",
    "created_at",
    "token_expires_at",
}


def get(client: FlaskClient, world: World, username: str, path: str, **params: Any):
    return client.get(f"{API}{path}", query_string=params, headers=world.headers(username))


def test_me_is_the_callers_own_account(client: FlaskClient, world: World) -> None:
    for username, actor in world.actors.items():
        response = get(client, world, username, "/me")
        assert response.status_code == 200, response.get_data(as_text=True)
        me = response.get_json()
        assert set(me) == FIELDS
        assert (me["username"], me["role"], me["office_code"], me["region_code"]) == (
            actor.username,
            actor.role.value,
            actor.office_code,
            actor.region_code,
        )
        assert me["active"] is True
        uuid.UUID(me["id"])
        assert me["id"] == actor.id
        # The world's accounts and tokens were opened on WORLD_OPENED, the tokens for WORLD_TOKEN_DAYS.
        assert me["created_at"] == format_timestamp(WORLD_OPENED)
        assert me["token_expires_at"] == format_timestamp(WORLD_OPENED + dt.timedelta(days=WORLD_TOKEN_DAYS))


def test_me_needs_a_token(client: FlaskClient) -> None:
    assert_problem(client.get(f"{API}/me"), 401)


def test_ids_are_stable_and_distinct(client: FlaskClient, world: World) -> None:
    first = {u["username"]: u["id"] for u in get(client, world, "admin", "/users").get_json()["items"]}
    again = {u["username"]: u["id"] for u in get(client, world, "auditor", "/users").get_json()["items"]}
    assert first == again
    assert len(set(first.values())) == len(first)


@pytest.mark.parametrize("reader", ["admin", "auditor"])
def test_admins_and_auditors_list_every_user_by_username(
    client: FlaskClient, world: World, application: Application, reader: str
) -> None:
    before = snapshot(application)
    body = get(client, world, reader, "/users").get_json()
    assert [u["username"] for u in body["items"]] == sorted(world.actors)
    assert body["next_cursor"] is None
    for user in body["items"]:
        assert set(user) == FIELDS
        assert not any(token in str(user) for token in world.tokens.values())
    assert snapshot(application) == before


@pytest.mark.parametrize("username", ["officer", "section_head", "head", "supervisor"])
def test_nobody_else_reads_accounts(client: FlaskClient, world: World, username: str) -> None:
    for path in ("/users", "/users/officer", "/users?role=nonsense"):
        body = assert_problem(client.get(f"{API}{path}", headers=world.headers(username)), 403)
        assert "only an admin or an auditor reads accounts" in body["detail"]


def test_filters_narrow_the_list(client: FlaskClient, world: World, app: Flask) -> None:
    assert app.test_cli_runner().invoke(args=["users", "revoke", "officer"]).exit_code == 0

    def listed(**params: Any) -> list[str]:
        response = get(client, world, "auditor", "/users", **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [u["username"] for u in response.get_json()["items"]]

    office = sorted(u for u, a in world.actors.items() if a.office_code == "BOGOR")
    assert listed(office="BOGOR") == office
    assert listed(role="regional_supervisor") == sorted(
        u for u, a in world.actors.items() if a.role.value == "regional_supervisor"
    )
    assert listed(region="JABAR") == sorted(u for u, a in world.actors.items() if a.region_code == "JABAR")
    assert listed(active="false") == ["officer"]
    assert "officer" not in listed(active="true")
    assert listed(office="BOGOR", role="officer") == ["officer"]
    officer = get(client, world, "auditor", "/users/officer").get_json()
    assert (officer["active"], officer["token_expires_at"]) == (False, None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "boss"}, "role"),
        ({"active": "maybe"}, "active"),
        ({"limit": 0}, "limit"),
        ({"cursor": "x"}, "cursor"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    client: FlaskClient, world: World, params: dict[str, Any], field: str
) -> None:
    assert_problem(get(client, world, "admin", "/users", **params), 422, field)


def test_pages_follow_each_other_without_gaps(client: FlaskClient, world: World) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = get(client, world, "admin", "/users", **params).get_json()
        assert len(body["items"]) <= 2
        seen += [u["username"] for u in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == sorted(world.actors)


def test_one_user_by_username(client: FlaskClient, world: World, clock: FakeClock) -> None:
    user = get(client, world, "auditor", "/users/supervisor").get_json()
    assert (user["username"], user["role"], user["region_code"], user["office_code"]) == (
        "supervisor",
        "regional_supervisor",
        "JABAR",
        None,
    )
    assert user["created_at"] == format_timestamp(WORLD_OPENED)  # when the world opened the account
    assert user["id"] == world.actors["supervisor"].id
    assert get(client, world, "admin", "/users/supervisor").get_json() == user


@pytest.mark.parametrize("username", ["nobody", "x" * 65, "%00"])
def test_an_unknown_user_is_404(client: FlaskClient, world: World, username: str) -> None:
    assert_problem(client.get(f"{API}/users/{username}", headers=world.headers("admin")), 404)
