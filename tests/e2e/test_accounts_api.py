"""Accounts managed over HTTP by administrators: every change an event in the log (never a token),
the rules of who may change which account, and the register's signers traced to the grants they
acted on; on both databases."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from service.application import Application
from tests.conftest import ACTION_BODIES, World
from tests.e2e.conftest import API, CASES, Api, assert_problem, snapshot

NEW_OFFICER = {"username": "petugas.baru", "name": "Petugas Baru", "role": "officer", "office_code": "BOGOR"}


def send(client: FlaskClient, world: World, method: str, path: str, body: Any = None, who: str = "admin"):
    return client.open(f"{API}{path}", method=method, json=body, headers=world.headers(who))


def feed(client: FlaskClient, world: World, after: int = 0) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(
            f"{API}/events", query_string={"after": after, "limit": 500}, headers=world.headers("auditor")
        )
        assert page.status_code == 200, page.get_data(as_text=True)
        found = page.get_json()["items"]
        if not found:
            return items
        items.extend(found)
        after = found[-1]["position"]


def head(client: FlaskClient, world: World) -> int:
    return client.get(f"{API}/ledger", headers=world.headers("auditor")).get_json()["position"]


def test_an_admin_opens_an_account_and_issues_its_token(client: FlaskClient, world: World) -> None:
    before = head(client, world)
    created = send(client, world, "POST", "/users", NEW_OFFICER)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Location"] == f"{API}/users/petugas.baru"
    user = created.get_json()
    assert (user["role"], user["office_code"], user["active"], user["token_expires_at"]) == (
        "officer",
        "BOGOR",
        True,
        None,
    )

    issued = send(client, world, "POST", "/users/petugas.baru/tokens", {"expires_in_days": 30})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    token = issued.get_json()
    assert set(token) == {"token", "token_id", "expires_at"}
    assert token["expires_at"] == "2024-07-01T03:00:00.000000Z"  # 30 days from the clock's 2024-06-01
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"]

    events = feed(client, world, before)
    assert [e["type"] for e in events] == ["UserCreated", "TokenIssued"]
    assert {e["stream_id"] for e in events} == {user["id"]}
    admin = world.actors["admin"]
    assert all(e["actor"]["username"] == "admin" and e["actor"]["id"] == admin.id for e in events)
    assert events[1]["data"] == {"token_id": token["token_id"], "expires_at": token["expires_at"]}
    assert token["token"] not in str(events)


def test_a_token_is_issued_for_1_to_365_days(client: FlaskClient, world: World) -> None:
    for days in (0, 366, "30", True):
        assert_problem(
            send(client, world, "POST", "/users/officer/tokens", {"expires_in_days": days}),
            422,
            "expires_in_days",
        )
    default = send(client, world, "POST", "/users/officer/tokens", {})
    assert default.get_json()["expires_at"] == "2024-08-30T03:00:00.000000Z"  # TOKEN_DAYS, 90


def test_bad_accounts_are_refused_and_change_nothing(
    client: FlaskClient, world: World, application: Application
) -> None:
    before = snapshot(application)
    assert_problem(send(client, world, "POST", "/users", {**NEW_OFFICER, "username": "officer"}), 409)
    no_office = {**NEW_OFFICER, "office_code": None}
    assert_problem(send(client, world, "POST", "/users", no_office), 422, "office_code")
    assert_problem(
        send(client, world, "POST", "/users", {**NEW_OFFICER, "office_code": "NOWHERE"}), 422, "office_code"
    )
    assert_problem(send(client, world, "POST", "/users", {**NEW_OFFICER, "username": "cli"}), 422, "username")
    assert_problem(send(client, world, "POST", "/users", {**NEW_OFFICER, "username": "a b"}), 422, "username")
    assert_problem(send(client, world, "POST", "/users", {**NEW_OFFICER, "role": "chief"}), 422, "role")
    assert_problem(send(client, world, "PATCH", "/users/officer", {}), 422)
    assert_problem(send(client, world, "PATCH", "/users/officer", {"role": "auditor"}), 422, "office_code")
    assert_problem(send(client, world, "PATCH", "/users/nobody", {"name": "X"}), 404)
    assert_problem(send(client, world, "POST", "/users/nobody/deactivate", {"reason": "x"}), 404)
    assert_problem(send(client, world, "POST", "/users/officer/deactivate", {}), 422, "reason")
    assert snapshot(application) == before


def test_only_an_admin_changes_accounts(client: FlaskClient, world: World, application: Application) -> None:
    before = snapshot(application)
    for who in ("auditor", "head", "supervisor", "officer"):
        assert_problem(send(client, world, "POST", "/users", NEW_OFFICER, who=who), 403)
        assert_problem(send(client, world, "PATCH", "/users/officer", {"name": "X"}, who=who), 403)
        assert_problem(
            send(client, world, "POST", "/users/officer/deactivate", {"reason": "x"}, who=who), 403
        )
        assert_problem(send(client, world, "POST", "/users/officer/tokens", {}, who=who), 403)
        assert_problem(send(client, world, "DELETE", "/users/officer/tokens", who=who), 403)
    assert snapshot(application) == before


def test_a_role_change_is_an_event_and_takes_effect(
    api: Api, client: FlaskClient, world: World, registry: None
) -> None:
    case = api.acted("head", api.case_at("socialized")["id"], "assess", ACTION_BODIES["assess"])
    assert "designate" not in api.case("section_head", case["id"])["allowed_actions"]
    before = head(client, world)
    changed = send(
        client, world, "PATCH", "/users/section_head", {"role": "head_of_office", "name": "Kasi Plh"}
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["role"], changed.get_json()["name"]) == ("head_of_office", "Kasi Plh")
    [event] = feed(client, world, before)
    assert event["type"] == "UserChanged"
    assert event["data"]["changed"] == ["name", "role"]
    # The same token now acts as head of office (the head assessed this case: four eyes allow it).
    assert "designate" in api.case("section_head", case["id"])["allowed_actions"]
    again = send(client, world, "PATCH", "/users/section_head", {"role": "head_of_office"})
    assert again.status_code == 200
    assert feed(client, world, before)[-1]["position"] == event["position"]  # nothing changed: no event


def test_an_admin_may_not_give_themselves_a_case_role(client: FlaskClient, world: World) -> None:
    body = assert_problem(send(client, world, "PATCH", "/users/admin", {"role": "auditor"}), 409)
    assert body["rule"] == "own_case_role"


def test_the_last_active_admin_stays(client: FlaskClient, world: World) -> None:
    body = assert_problem(send(client, world, "POST", "/users/admin/deactivate", {"reason": "leaving"}), 409)
    assert body["rule"] == "last_admin"
    second = {"username": "admin2", "name": "Admin Dua", "role": "admin"}
    assert send(client, world, "POST", "/users", second).status_code == 201
    token = send(client, world, "POST", "/users/admin2/tokens", {}).get_json()["token"]
    # Another admin may take the role from the first, who is then the last and stays.
    as_second = {"Authorization": f"Bearer {token}"}
    demoted = client.patch(f"{API}/users/admin", json={"role": "auditor"}, headers=as_second)
    assert demoted.status_code == 200, demoted.get_data(as_text=True)
    last = client.post(f"{API}/users/admin2/deactivate", json={"reason": "x"}, headers=as_second)
    assert assert_problem(last, 409)["rule"] == "last_admin"


def test_deactivation_ends_every_token_and_reactivation_issues_none(
    client: FlaskClient, world: World
) -> None:
    extra = send(client, world, "POST", "/users/officer/tokens", {}).get_json()["token"]
    before = head(client, world)
    shut = send(client, world, "POST", "/users/officer/deactivate", {"reason": "pindah tugas"})
    assert shut.status_code == 200
    assert (shut.get_json()["active"], shut.get_json()["token_expires_at"]) == (False, None)
    for token in (world.tokens["officer"], extra):
        assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert_problem(send(client, world, "POST", "/users/officer/tokens", {}), 409)
    again = send(client, world, "POST", "/users/officer/deactivate", {"reason": "twice"})
    assert again.status_code == 200

    reopened = send(client, world, "POST", "/users/officer/reactivate", {"reason": "kembali"})
    assert reopened.get_json()["active"] is True
    assert client.get(f"{API}/me", headers=world.headers("officer")).status_code == 401
    events = feed(client, world, before)
    assert [e["type"] for e in events] == ["UserDeactivated", "UserReactivated"]
    assert len(events[0]["data"]["tokens_ended"]) == 2
    assert events[0]["data"]["reason"] == "pindah tugas"


def test_revoking_tokens_keeps_the_account(client: FlaskClient, world: World) -> None:
    revoked = send(client, world, "DELETE", "/users/officer/tokens")
    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    assert client.get(f"{API}/me", headers=world.headers("officer")).status_code == 401
    user = send(client, world, "GET", "/users/officer").get_json()
    assert (user["active"], user["token_expires_at"]) == (True, None)
    fresh = send(client, world, "POST", "/users/officer/tokens", {}).get_json()["token"]
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_the_register_traces_each_signature_to_the_grant_it_rested_on(
    api: Api, client: FlaskClient, world: World, registry: None
) -> None:
    # The head of office was appointed over HTTP: the designation rests on that grant.
    appointed = send(client, world, "PATCH", "/users/acting_head", {"name": "Plh. Kepala Kantor"})
    assert appointed.status_code == 200  # a new name grants nothing
    promoted = send(client, world, "PATCH", "/users/officer", {"role": "head_of_office"})
    assert promoted.status_code == 200
    grant = feed(client, world, head(client, world) - 1)[-1]
    case = api.case_at("assessed", username="head")
    designated = api.acted("officer", case["id"], "designate", ACTION_BODIES["designate"])
    assert designated["stage"] == "designated"

    [row] = client.get(f"{API}/designations", headers=world.headers("auditor")).get_json()["items"]
    assert row["approved_by"]["username"] == "officer"
    assert row["approved_by"]["authority"] == {"position": grant["position"]}
    events = {e["position"]: e for e in feed(client, world)}
    for signer in ("proposed_by", "coordinated_by", "socialized_by", "assessed_by", "approved_by"):
        person = row[signer]
        granted = events[person["authority"]["position"]]
        assert granted["type"] in ("UserCreated", "UserChanged")
        assert granted["stream_id"] == person["id"]
        assert granted["position"] < person["position"]
        assert granted["data"]["role"] == person["role"]
        assert events[person["position"]]["actor"]["id"] == person["id"]
    csv = client.get(f"{API}/designations", query_string={"format": "csv"}, headers=world.headers("auditor"))
    header, line = csv.get_data(as_text=True).splitlines()[:2]
    cells = dict(zip(header.split(","), line.split(","), strict=True))
    assert cells["approved_by_authority_position"] == str(grant["position"])


def test_an_account_change_touches_no_case(api: Api, world: World, registry: None) -> None:
    """An account change touches no case: the case reads as before (but for who may act)."""
    case = api.case_at("assessed")
    before = api.case("auditor", case["id"])
    assert (
        api.client.patch(
            f"{API}/users/officer", json={"name": "Renamed"}, headers=world.headers("admin")
        ).status_code
        == 200
    )
    assert api.case("auditor", case["id"]) == before
    assert api.get("officer", f"{CASES}/{case['id']}").status_code == 200
