"""`/api/v1/events`, `/api/v1/ledger` and `/api/v1/ledger/verify` over HTTP, on both databases."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from events.schema import GENESIS_HASH
from events.store import EventStore, RecordedEvent
from service.app import create_app
from service.application import Application
from tests.conftest import FakeClock, World
from tests.e2e.conftest import API, Api, assert_problem, snapshot
from tests.integration.support import drop_append_only_triggers
from tests.integration.test_store import TAMPER_CASES

pytestmark = pytest.mark.usefixtures("registry")

AUDIT_PATHS = [f"{API}/events", f"{API}/ledger", f"{API}/ledger/verify"]
NOT_AUDITORS = ["officer", "section_head", "head", "supervisor", "admin"]


def history(api: Api, cases: int = 3) -> list[dict[str, Any]]:
    """`cases` cases of Bogor, each proposed and coordinated: 2 events per case."""
    villages = ["32.01.25.2001", "32.01.25.2005", "32.01.25.2006", "32.01.25.2007", "32.01.25.2008"]
    return [api.case_at("coordinated", village_code=code) for code in villages[:cases]]


def feed(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("auditor", f"{API}/events", **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ledger(api: Api) -> dict[str, Any]:
    """The head of the log: where the events a test records begin (the world's organisation and
    accounts come first)."""
    response = api.get("auditor", f"{API}/ledger")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def head(api: Api) -> int:
    return ledger(api)["position"]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_the_feed_is_the_whole_log_in_position_order(api: Api) -> None:
    opened = ledger(api)
    cases = history(api)

    page = feed(api)

    start = opened["position"]
    assert start > 0
    assert [e["position"] for e in page["items"]] == list(range(1, start + 7))
    world, ours = page["items"][:start], page["items"][start:]
    # The world, recorded by the command line before anything the test records: its regions and
    # offices (imported as they stood), then its accounts.
    assert {e["actor"]["username"] for e in world} == {"cli"}
    organised = [e for e in world if e["stream_type"] in ("region", "office")]
    accounts = world[len(organised) :]
    assert [(e["stream_id"], e["type"]) for e in organised] == [
        ("region:JABAR", "RegionAdded"),
        ("office:BOGOR", "OfficeOpened"),
        ("office:SUKABUMI", "OfficeOpened"),
        ("region:JATIM", "RegionAdded"),
        ("office:SURABAYA", "OfficeOpened"),
    ]
    assert all(e["data"]["imported"] for e in organised)
    assert {e["data"]["effective_on"] for e in organised if e["type"] == "OfficeOpened"} == {None}
    assert {e["stream_type"] for e in accounts} == {"user"}
    assert {e["type"] for e in accounts} == {"UserCreated", "TokenIssued"}
    assert {e["data"]["username"] for e in accounts if e["type"] == "UserCreated"} == set(api.world.actors)
    assert world[-1]["hash"] == opened["digest"]
    # And then the test's own events.
    assert [e["stream_type"] for e in ours] == ["candidacy"] * 6
    assert [e["stream_id"] for e in ours] == [c["id"] for c in cases for _ in range(2)]
    assert {e["type"] for e in ours} == {"CandidacyProposed", "CandidacyCoordinated"}
    assert page["next_cursor"] is None
    assert page["ledger"]["position"] == start + 6
    assert page["ledger"]["digest"] == page["items"][-1]["hash"]
    assert ours[0]["actor"] == {
        "username": "officer",
        "name": "Officer",
        "role": "officer",
        "office_code": "BOGOR",
        "id": api.world.actors["officer"].id,
    }
    assert page["items"][0]["prev_hash"] == GENESIS_HASH
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(page["items"], page["items"][1:], strict=False))


def test_a_downstream_system_can_check_the_chain_from_the_feed_alone(api: Api) -> None:
    history(api)

    for event in feed(api)["items"]:
        content = {name: value for name, value in event.items() if name != "hash"}
        assert hashlib.sha256(canonical(content).encode()).hexdigest() == event["hash"]


def test_after_tails_the_feed_and_the_cursor_pages_it(api: Api) -> None:
    start = head(api)
    history(api, cases=5)  # positions start+1..start+10

    assert [e["position"] for e in feed(api, after=start + 7)["items"]] == [start + 8, start + 9, start + 10]
    assert feed(api, after=start + 10)["items"] == []

    seen: list[int] = []
    page = feed(api, limit=4)
    while True:
        assert len(page["items"]) <= 4
        seen += [e["position"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        page = feed(api, limit=4, cursor=page["next_cursor"])
    assert seen == list(range(1, start + 11))

    tail: list[int] = []
    page = feed(api, after=start, limit=4)
    while True:
        tail += [e["position"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        page = feed(api, limit=4, cursor=page["next_cursor"])
    assert tail == list(range(start + 1, start + 11))


def test_a_consumer_ahead_of_the_ledger_is_told_so(api: Api) -> None:
    """After a restore from an older backup, a consumer's last position lies beyond the head: an
    empty page would have it wait for positions that other events will take."""
    start = head(api)
    history(api, cases=5)  # positions start+1..start+10
    for after in (start + 11, start + 99):
        response = api.get("auditor", f"{API}/events", after=after)
        body = assert_problem(response, 409)
        assert body["type"].endswith("ledger-behind")
        assert "the ledger is behind your position" in body["detail"] and str(start + 10) in body["detail"]


def test_a_full_last_page_says_there_is_no_more(api: Api) -> None:
    start = head(api)
    history(api, cases=2)  # positions start+1..start+4

    assert feed(api, after=start, limit=4)["next_cursor"] is None
    assert feed(api, after=start, limit=3)["next_cursor"] is not None
    assert feed(api, limit=start + 4)["next_cursor"] is None
    assert feed(api, limit=start + 3)["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": -1}, "after"),
        ({"after": "x"}, "after"),
        ({"after": 2**63}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"after": 1, "cursor": "cDox"}, "cursor"),
    ],
)
def test_bad_feed_parameters_are_422_naming_the_field(api: Api, params: dict[str, Any], field: str) -> None:
    assert_problem(api.get("auditor", f"{API}/events", **params), 422, field)


def test_the_ledger_names_the_newest_position_and_digest(api: Api) -> None:
    # Before the test records anything, the head is the newest of the world's account events.
    opening = feed(api)["items"]
    assert opening and opening[-1]["stream_type"] == "user"
    assert ledger(api) == {
        "position": len(opening),
        "digest": opening[-1]["hash"],
        "recorded_at": "2023-01-01T00:00:00.000000Z",
    }
    history(api, cases=2)

    head_now = ledger(api)

    newest = feed(api)["items"][-1]
    assert newest["stream_type"] == "candidacy"
    assert head_now == {
        "position": len(opening) + 4,
        "digest": newest["hash"],
        "recorded_at": newest["recorded_at"],
    }


def verified(checked: int, verified_to: int, verified_from: int = 0) -> dict[str, Any]:
    """A complete, intact answer."""
    return {
        "ok": True,
        "checked": checked,
        "first_bad_position": None,
        "reason": None,
        "complete": True,
        "verified_from": verified_from,
        "verified_to": verified_to,
        "continue_from": None,
    }


def test_verify_says_ok_over_an_intact_chain(api: Api) -> None:
    start = head(api)
    assert api.get("auditor", f"{API}/ledger/verify").get_json() == verified(start, start)
    history(api)

    assert api.get("auditor", f"{API}/ledger/verify").get_json() == verified(start + 6, start + 6)


@dataclass
class _ShiftedStore:
    """The store as the integration tier's tamperings read it: their position 1 is `start + 1`."""

    start: int
    store: EventStore = field(default_factory=EventStore)

    def read_all(self, conn: Connection, *, after: int = 0, **options: Any) -> list[RecordedEvent]:
        return self.store.read_all(conn, after=self.start + after, **options)


def shifted_tampering(application: Application, tamper: Any, start: int) -> list[str]:
    """The integration tier's tampering (written for a log of 6 events) aimed at the test's own 6
    events after the world's (its organisation and accounts): every position it names moves on by `start`."""
    statements = tamper(application.db, _ShiftedStore(start))
    return [
        re.sub(r"position = (\d+)", lambda m: f"position = {start + int(m.group(1))}", statement)
        for statement in statements
    ]


@pytest.mark.parametrize(("tamper", "first_bad", "checked"), TAMPER_CASES.values(), ids=TAMPER_CASES.keys())
def test_verify_names_the_first_bad_position_whatever_was_done(
    api: Api, application: Application, tamper: Any, first_bad: int, checked: int
) -> None:
    start = head(api)
    history(api)  # positions start+1..start+6
    assert head(api) == start + 6
    first_bad, checked = start + first_bad, start + checked
    drop_append_only_triggers(application.db)
    with application.db.engine.begin() as conn:
        for statement in shifted_tampering(application, tamper, start):
            assert conn.execute(text(statement)).rowcount == 1

    response = api.get("auditor", f"{API}/ledger/verify")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["ok"], body["checked"], body["first_bad_position"]) == (False, checked, first_bad)
    assert str(first_bad) in body["reason"]
    assert (body["complete"], body["verified_to"], body["continue_from"]) == (True, checked, None)


# ---- verify from a digest kept elsewhere ---------------------------------------------------------


def test_verify_from_a_kept_digest_checks_the_events_after_it(api: Api) -> None:
    history(api, cases=2)  # 4 events after the world's
    kept = ledger(api)
    for code in ("32.01.25.2006", "32.01.25.2007"):  # and 4 more
        api.case_at("coordinated", village_code=code)

    response = api.get("auditor", f"{API}/ledger/verify", position=kept["position"], digest=kept["digest"])

    assert response.status_code == 200
    assert response.get_json() == verified(4, kept["position"] + 4, verified_from=kept["position"])


def test_verify_from_a_digest_that_differs_names_its_position(api: Api) -> None:
    start = head(api)
    history(api, cases=2)
    other = feed(api, after=start)["items"][0]["hash"]

    body = api.get("auditor", f"{API}/ledger/verify", position=start + 3, digest=other).get_json()

    assert (body["ok"], body["first_bad_position"], body["checked"]) == (False, start + 3, 0)
    assert body["reason"] == f"event {start + 3} has another digest"


def test_verify_from_beyond_the_head_names_that_position(api: Api) -> None:
    """A digest kept from a log that has since lost its tail (a restore from an older backup)."""
    history(api, cases=2)
    end = head(api)

    body = api.get("auditor", f"{API}/ledger/verify", position=end + 5, digest="a" * 64).get_json()

    assert (body["ok"], body["first_bad_position"], body["reason"]) == (
        False,
        end + 5,
        f"the log ends at {end}",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"position": 0, "digest": "a" * 64}, "position"),
        ({"position": -1, "digest": "a" * 64}, "position"),
        ({"position": "x", "digest": "a" * 64}, "position"),
        ({"position": 2**63, "digest": "a" * 64}, "position"),
        ({"position": 1, "digest": "A" * 64}, "digest"),
        ({"position": 1, "digest": "a" * 63}, "digest"),
        ({"position": 1, "digest": "g" * 64}, "digest"),
        ({"position": 1, "digest": "a" * 64 + "\n"}, "digest"),
        ({"position": 1}, "digest"),
        ({"digest": "a" * 64}, "position"),
    ],
)
def test_bad_verify_parameters_are_422_naming_the_field(api: Api, params: dict[str, Any], field: str) -> None:
    history(api, cases=1)
    assert_problem(api.get("auditor", f"{API}/ledger/verify", **params), 422, field)


@pytest.mark.parametrize("username", NOT_AUDITORS)
def test_who_may_not_verify_is_told_so_before_the_query_is_read(api: Api, username: str) -> None:
    assert_problem(api.get(username, f"{API}/ledger/verify", position="x"), 403)


# ---- a walk under a time limit -------------------------------------------------------------------


@pytest.fixture
def hurried(database_url: str, clock: FakeClock, world: World) -> Iterator[Api]:
    """The same service with no time to spare: each verification checks one event and answers."""
    settings = {"DATABASE_URL": database_url, "CLOCK": clock, "TESTING": True, "LEDGER_VERIFY_SECONDS": 0}
    app = create_app({**settings, "STOP_PROCESS": lambda: None})
    yield Api(app.test_client(), world)
    app.extensions["desa_binaan"].db.dispose()


def test_out_of_time_the_answer_says_how_far_it_got_and_where_to_go_on(api: Api, hurried: Api) -> None:
    history(api)  # the world's account events, then 6 more
    hashes = [e["hash"] for e in feed(api)["items"]]
    end = len(hashes)
    assert end == head(api)

    first = hurried.get("auditor", f"{API}/ledger/verify").get_json()

    assert first == {
        "ok": True,
        "checked": 1,
        "first_bad_position": None,
        "reason": None,
        "complete": False,
        "verified_from": 0,
        "verified_to": 1,
        "continue_from": {"position": 1, "digest": hashes[0]},
    }
    answers = [first]
    while not answers[-1]["complete"]:
        answers.append(
            hurried.get("auditor", f"{API}/ledger/verify", **answers[-1]["continue_from"]).get_json()
        )
    assert [a["verified_to"] for a in answers] == list(range(1, end + 1))
    assert all(a["ok"] and a["checked"] == 1 for a in answers)
    assert answers[-1] == verified(1, end, verified_from=end - 1)
    assert [a["continue_from"]["digest"] for a in answers[:-1]] == hashes[: end - 1]


def test_the_time_allowed_is_a_setting(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    assert create_app({"DATABASE_URL": database_url}).config["LEDGER_VERIFY_SECONDS"] == 10
    monkeypatch.setenv("LEDGER_VERIFY_SECONDS", "2.5")
    assert create_app({"DATABASE_URL": database_url}).config["LEDGER_VERIFY_SECONDS"] == 2.5


@pytest.mark.parametrize("path", AUDIT_PATHS)
@pytest.mark.parametrize("username", NOT_AUDITORS)
def test_only_an_auditor_reads_the_log(api: Api, application: Application, path: str, username: str) -> None:
    history(api, cases=1)
    before = snapshot(application)

    assert_problem(api.get(username, path), 403)

    assert snapshot(application) == before


@pytest.mark.parametrize("path", AUDIT_PATHS)
def test_the_log_needs_a_token(client: FlaskClient, world: World, path: str) -> None:
    response = client.get(path)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_audit_operation_is_documented(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in AUDIT_PATHS:
        operation = paths[path]["get"]
        assert {"200", "401", "403"} <= set(operation["responses"])
