"""`/api/v1/targets` over HTTP, on both databases: who may set which office's target, validation, every
change an event with its history, versions, If-Match, Idempotency-Key, and who reads which targets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from domain.actors import Role
from events.schema import target_history, targets
from service.application import Application
from tests.conftest import FakeClock
from tests.e2e.conftest import Api, assert_problem, snapshot
from tests.e2e.dated import TARGETS, add_user, put_target, target_set

BASIS = "Keputusan Menteri Hukum dan HAM M.HH-01.OT.01.01 Tahun 2024"
SET_AT = "2024-06-01T03:00:00.000000Z"
SUPERVISOR = {"username": "supervisor", "name": "Supervisor", "role": "regional_supervisor"}


def set_by(api: Api, username: str, named: dict[str, str]) -> dict[str, str]:
    """Who set a target, as the read model names them: `named` and the user's stable id."""
    user_id = api.world.actors[username].id
    assert user_id
    return {**named, "id": user_id}


NOT_SUPERVISORS = [
    "officer",
    "section_head",
    "head",
    "acting_head",
    "auditor",
    "admin",
    "sukabumi_officer",
    "sukabumi_head",
    "surabaya_section_head",
]


def state(application: Application) -> dict[str, list[dict[str, Any]]]:
    """The log, its head, the idempotency keys and the target read models."""
    with application.db.read() as conn:
        read_models = {
            "targets": [dict(r) for r in conn.execute(select(targets)).mappings()],
            "target_history": [dict(r) for r in conn.execute(select(target_history)).mappings()],
        }
    return {**snapshot(application), **read_models}


def target_events(application: Application) -> list[dict[str, Any]]:
    return [e for e in snapshot(application)["events"] if e["stream_type"] == "target"]


def listed(api: Api, username: str, **params: Any) -> list[tuple[str, int]]:
    response = api.get(username, TARGETS, limit=500, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_json()
    assert page["next_cursor"] is None
    return [(item["office_code"], item["year"]) for item in page["items"]]


# ---- PUT: who may set which office's target ----------------------------------------------------


def test_the_supervisor_sets_a_target_of_an_office_of_its_region(api: Api, application: Application) -> None:
    supervisor = set_by(api, "supervisor", SUPERVISOR)
    response = put_target(api, "supervisor", "BOGOR", 2024, {"target": 3, "basis": BASIS})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["ETag"] == '"1"'
    assert response.get_json() == {
        "office_code": "BOGOR",
        "office_name": "Kantor Imigrasi Kelas I Non TPI Bogor",
        "region_code": "JABAR",
        "year": 2024,
        "target": 3,
        "basis": BASIS,
        "version": 1,
        "set_at": SET_AT,
        "set_by": supervisor,
        "history": [{"version": 1, "target": 3, "basis": BASIS, "at": SET_AT, "by": supervisor}],
    }
    [event] = target_events(application)
    assert event["type"] == "TargetSet"
    assert event["stream_id"] == "target:BOGOR:2024"
    assert event["version"] == 1
    assert json.loads(event["data"]) == {"office_code": "BOGOR", "year": 2024, "target": 3, "basis": BASIS}
    assert (event["actor_username"], event["actor_role"]) == ("supervisor", "regional_supervisor")
    assert event["actor_id"] == supervisor["id"]
    assert event["recorded_at"] == SET_AT

    # Every office of the region, and a target of 0 is a target too.
    other = put_target(api, "supervisor", "SUKABUMI", 2024, {"target": 0, "basis": BASIS})
    assert other.status_code == 200
    assert (other.get_json()["office_code"], other.get_json()["target"]) == ("SUKABUMI", 0)
    assert api.get("jatim_supervisor", TARGETS).get_json()["items"] == []
    assert put_target(api, "jatim_supervisor", "SURABAYA", 2024).status_code == 200


def test_an_office_outside_the_callers_region_is_unknown(
    api: Api, application: Application, subtests: pytest.Subtests
) -> None:
    before = state(application)
    for username, office_code in [
        ("jatim_supervisor", "BOGOR"),
        ("jatim_supervisor", "SUKABUMI"),
        ("supervisor", "SURABAYA"),
        ("supervisor", "NOWHERE"),
        ("supervisor", "bogor"),
        ("supervisor", "BOGOR%0A"),
    ]:
        with subtests.test(username=username, office_code=office_code):
            assert_problem(put_target(api, username, office_code, 2024), 404)
    assert state(application) == before


def test_no_other_role_sets_a_target_even_with_a_bad_body(
    api: Api, application: Application, subtests: pytest.Subtests
) -> None:
    before = state(application)
    for username in NOT_SUPERVISORS:
        with subtests.test(username=username):
            for office_code, body in [
                ("BOGOR", {"target": 3, "basis": BASIS}),
                ("BOGOR", {"target": -1, "basis": "", "surprise": True}),
                ("BOGOR", {}),
                ("NOWHERE", {"target": 3, "basis": BASIS}),
                ("SURABAYA", {"target": "three"}),
            ]:
                assert_problem(put_target(api, username, office_code, 2024, body), 403)
                assert_problem(put_target(api, username, office_code, 1900, body), 403)
    assert state(application) == before


def test_without_a_token_no_target_is_set(api: Api, application: Application) -> None:
    before = state(application)
    response = api.client.put(f"{TARGETS}/BOGOR/2024", json={"target": 3, "basis": BASIS})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert state(application) == before


@pytest.mark.parametrize(
    ("year", "allowed"), [(1999, False), (2000, True), (2025, True), (2026, False), (-2024, False)]
)
def test_a_target_year_lies_between_2000_and_next_year(
    api: Api, application: Application, clock: FakeClock, year: int, allowed: bool
) -> None:
    # The clock says 1 June 2024 (WIB): next year is 2025.
    before = state(application)
    response = put_target(api, "supervisor", "BOGOR", year)
    if allowed:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["year"] == year
    else:
        assert_problem(response, 422, "year")
        assert state(application) == before


def test_next_year_follows_the_calendar_of_the_clock(api: Api, clock: FakeClock) -> None:
    clock.set("2024-12-31T14:00:00Z")  # 31 December everywhere in Indonesia: 2026 is two years away
    assert_problem(put_target(api, "supervisor", "BOGOR", 2026), 422, "year")
    clock.set("2024-12-31T17:00:00Z")  # 1 January 2025 in Jakarta
    assert put_target(api, "supervisor", "BOGOR", 2026).status_code == 200


BAD_BODIES = [
    ({"target": -1, "basis": BASIS}, "target"),
    ({"target": 2.5, "basis": BASIS}, "target"),
    ({"target": 3.0, "basis": BASIS}, "target"),
    ({"target": "3", "basis": BASIS}, "target"),
    ({"target": True, "basis": BASIS}, "target"),
    ({"target": None, "basis": BASIS}, "target"),
    ({"target": 100_001, "basis": BASIS}, "target"),
    ({"basis": BASIS}, "target"),
    ({"target": 3}, "basis"),
    ({"target": 3, "basis": ""}, "basis"),
    ({"target": 3, "basis": "   "}, "basis"),
    ({"target": 3, "basis": 42}, "basis"),
    ({"target": 3, "basis": "x" * 501}, "basis"),
    ({"target": 3, "basis": "SK\u0000"}, "basis"),
    ({"target": 3, "basis": BASIS, "note": "unknown field"}, "note"),
    ({"target": 3, "basis": BASIS, "year": 2024}, "year"),
]


def test_a_bad_body_is_a_422_naming_the_field(
    api: Api, application: Application, subtests: pytest.Subtests
) -> None:
    before = state(application)
    for body, field in BAD_BODIES:
        with subtests.test(body=repr(body)[:60]):
            assert_problem(put_target(api, "supervisor", "BOGOR", 2024, body), 422, field)
    assert state(application) == before


def test_a_body_that_is_no_json_object_is_refused(api: Api, application: Application) -> None:
    before = state(application)
    not_json = api.client.put(
        f"{TARGETS}/BOGOR/2024",
        data="target=3",
        headers=api.world.headers("supervisor", **{"Content-Type": "application/x-www-form-urlencoded"}),
    )
    assert_problem(not_json, 400)
    assert_problem(put_target(api, "supervisor", "BOGOR", 2024, [3, BASIS]), 422)
    assert state(application) == before


def test_the_largest_target_is_accepted(api: Api) -> None:
    assert target_set(api, "supervisor", "BOGOR", 2024, 100_000, BASIS)["target"] == 100_000


# ---- every change an event, with its history ---------------------------------------------------


def test_every_change_is_an_event_and_the_history_lists_them_newest_last(
    api: Api, application: Application, clock: FakeClock
) -> None:
    add_user(api, application, "supervisor_two", Role.REGIONAL_SUPERVISOR, None, "JABAR")

    first = target_set(api, "supervisor", "BOGOR", 2024, 3, BASIS)
    clock.set("2024-06-03T02:00:00Z")
    second = put_target(
        api, "supervisor_two", "BOGOR", 2024, {"target": 5, "basis": "Revisi Perjanjian Kinerja"}
    )
    assert second.status_code == 200
    assert second.headers["ETag"] == '"2"'
    clock.set("2024-06-10T09:30:00Z")
    third = put_target(api, "supervisor", "BOGOR", 2024, {"target": 4, "basis": "Revisi kedua"})
    assert third.headers["ETag"] == '"3"'
    # The same figure again is still a change of record: a new basis, a new event.
    clock.set("2024-06-11T01:00:00Z")
    fourth = target_set(api, "supervisor", "BOGOR", 2024, 4, "Penegasan Kakanwil")

    assert first["version"] == 1
    assert fourth["version"] == 4
    assert (fourth["target"], fourth["basis"]) == (4, "Penegasan Kakanwil")
    assert fourth["set_at"] == "2024-06-11T01:00:00.000000Z"
    supervisor = set_by(api, "supervisor", SUPERVISOR)
    supervisor_two = set_by(
        api,
        "supervisor_two",
        {"username": "supervisor_two", "name": "Supervisor Two", "role": "regional_supervisor"},
    )
    assert supervisor_two["id"] != supervisor["id"]
    expected_history = [
        {"version": 1, "target": 3, "basis": BASIS, "at": "2024-06-01T03:00:00.000000Z", "by": supervisor},
        {
            "version": 2,
            "target": 5,
            "basis": "Revisi Perjanjian Kinerja",
            "at": "2024-06-03T02:00:00.000000Z",
            "by": supervisor_two,
        },
        {
            "version": 3,
            "target": 4,
            "basis": "Revisi kedua",
            "at": "2024-06-10T09:30:00.000000Z",
            "by": supervisor,
        },
        {
            "version": 4,
            "target": 4,
            "basis": "Penegasan Kakanwil",
            "at": "2024-06-11T01:00:00.000000Z",
            "by": supervisor,
        },
    ]
    assert fourth["history"] == expected_history

    # The auditor sees the same history; each change is one event of the target's stream.
    [seen] = api.get("auditor", TARGETS).get_json()["items"]
    assert seen == fourth
    logged = target_events(application)
    assert [
        (e["stream_id"], e["version"], e["actor_username"], e["actor_id"], e["recorded_at"]) for e in logged
    ] == [
        ("target:BOGOR:2024", h["version"], h["by"]["username"], h["by"]["id"], h["at"])
        for h in expected_history
    ]
    assert [json.loads(e["data"])["target"] for e in logged] == [3, 5, 4, 4]

    # Another year of the same office is a target of its own, with its own versions.
    other_year = target_set(api, "supervisor", "BOGOR", 2025, 7, "Rencana 2025")
    assert other_year["version"] == 1
    assert [h["target"] for h in other_year["history"]] == [7]
    assert api.get("auditor", TARGETS, year=2024).get_json()["items"] == [fourth]


def test_if_match_guards_against_a_lost_update(api: Api, application: Application) -> None:
    # No target yet: a client that believes it is at version 1 is stale.
    before = state(application)
    body = assert_problem(put_target(api, "supervisor", "BOGOR", 2024, **{"If-Match": '"1"'}), 412)
    assert body["current_version"] == 0
    assert state(application) == before

    created = put_target(api, "supervisor", "BOGOR", 2024, {"target": 3, "basis": BASIS}, **{"If-Match": "*"})
    assert created.headers["ETag"] == '"1"'
    changed = put_target(
        api,
        "supervisor",
        "BOGOR",
        2024,
        {"target": 4, "basis": BASIS},
        **{"If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'

    before = state(application)
    for stale in ['"1"', '"3"']:
        refused = put_target(
            api, "supervisor", "BOGOR", 2024, {"target": 9, "basis": BASIS}, **{"If-Match": stale}
        )
        problem = assert_problem(refused, 412)
        assert problem["current_version"] == 2
        assert refused.headers["ETag"] == '"2"'
    for malformed in ['W/"2"', "garbage"]:
        refused = put_target(
            api, "supervisor", "BOGOR", 2024, {"target": 9, "basis": BASIS}, **{"If-Match": malformed}
        )
        assert '"3"' in assert_problem(refused, 400)["detail"]
    assert state(application) == before
    [current] = api.get("auditor", TARGETS).get_json()["items"]
    assert (current["target"], current["version"]) == (4, 2)


def test_an_idempotency_key_replays_the_first_answer_and_records_nothing_new(
    api: Api, application: Application, clock: FakeClock
) -> None:
    key = {"Idempotency-Key": "target-bogor-2024"}
    first = put_target(api, "supervisor", "BOGOR", 2024, {"target": 3, "basis": BASIS}, **key)
    assert first.status_code == 200
    after_first = state(application)
    assert len(target_events(application)) == 1

    # Later, the same request again (a retry after a timeout): the same answer, nothing recorded.
    clock.set("2024-06-02T03:00:00Z")
    again = put_target(api, "supervisor", "BOGOR", 2024, {"target": 3, "basis": BASIS}, **key)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert state(application) == after_first

    # The same key with another body is a conflict, and changes nothing either.
    assert_problem(put_target(api, "supervisor", "BOGOR", 2024, {"target": 4, "basis": BASIS}, **key), 409)
    assert_problem(put_target(api, "supervisor", "SUKABUMI", 2024, {"target": 3, "basis": BASIS}, **key), 409)
    assert state(application) == after_first

    # Keys belong to their user: another supervisor's same key is a request of its own.
    add_user(api, application, "supervisor_two", Role.REGIONAL_SUPERVISOR, None, "JABAR")
    other = put_target(api, "supervisor_two", "BOGOR", 2024, {"target": 3, "basis": BASIS}, **key)
    assert other.status_code == 200
    assert other.headers["ETag"] == '"2"'
    assert len(target_events(application)) == 2

    # A refused request stores no answer under its key: once it may succeed, it does.
    refused_key = {"Idempotency-Key": "stale-then-fresh"}
    assert_problem(
        put_target(
            api,
            "supervisor",
            "BOGOR",
            2024,
            {"target": 5, "basis": BASIS},
            **refused_key,
            **{"If-Match": '"1"'},
        ),
        412,
    )
    retried = put_target(
        api, "supervisor", "BOGOR", 2024, {"target": 5, "basis": BASIS}, **refused_key, **{"If-Match": '"2"'}
    )
    assert retried.status_code == 200, retried.get_data(as_text=True)
    assert retried.get_json()["target"] == 5


# ---- GET: who reads which targets --------------------------------------------------------------


@pytest.fixture
def four_targets(api: Api, clock: FakeClock) -> None:
    target_set(api, "supervisor", "BOGOR", 2024, 3, BASIS)
    target_set(api, "supervisor", "SUKABUMI", 2024, 2, BASIS)
    target_set(api, "supervisor", "BOGOR", 2025, 4, "Rencana 2025")
    target_set(api, "jatim_supervisor", "SURABAYA", 2024, 5, "Surat Kakanwil Jatim")


@pytest.mark.usefixtures("four_targets")
@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("officer", [("BOGOR", 2024), ("BOGOR", 2025)]),
        ("section_head", [("BOGOR", 2024), ("BOGOR", 2025)]),
        ("head", [("BOGOR", 2024), ("BOGOR", 2025)]),
        ("sukabumi_officer", [("SUKABUMI", 2024)]),
        ("surabaya_section_head", [("SURABAYA", 2024)]),
        ("supervisor", [("BOGOR", 2024), ("SUKABUMI", 2024), ("BOGOR", 2025)]),
        ("jatim_supervisor", [("SURABAYA", 2024)]),
        ("auditor", [("BOGOR", 2024), ("SUKABUMI", 2024), ("SURABAYA", 2024), ("BOGOR", 2025)]),
    ],
)
def test_each_reader_sees_the_targets_of_its_scope_by_year_then_office(
    api: Api, username: str, visible: list[tuple[str, int]]
) -> None:
    assert listed(api, username) == visible
    assert listed(api, username, year=2024) == [v for v in visible if v[1] == 2024]
    assert listed(api, username, year=2025) == [v for v in visible if v[1] == 2025]
    assert listed(api, username, year=2023) == []


@pytest.mark.usefixtures("four_targets")
def test_the_listed_target_is_the_one_set(api: Api) -> None:
    items = api.get("auditor", TARGETS, year=2024).get_json()["items"]
    surabaya = next(i for i in items if i["office_code"] == "SURABAYA")
    assert surabaya["office_name"] == "Kantor Imigrasi Kelas I TPI Surabaya"
    assert surabaya["region_code"] == "JATIM"
    assert (surabaya["target"], surabaya["basis"], surabaya["version"]) == (5, "Surat Kakanwil Jatim", 1)
    assert surabaya["set_by"]["username"] == "jatim_supervisor"
    assert [h["by"]["username"] for h in surabaya["history"]] == ["jatim_supervisor"]


@pytest.mark.usefixtures("four_targets")
def test_the_admin_reads_no_targets_and_a_stranger_nothing_at_all(api: Api) -> None:
    assert_problem(api.get("admin", TARGETS), 403)
    assert_problem(api.get("admin", TARGETS, year=2024), 403)
    assert_problem(api.client.get(TARGETS), 401)
    assert_problem(api.client.get(TARGETS, headers={"Authorization": "Bearer not-a-token"}), 401)


@pytest.mark.parametrize(
    "params",
    [
        {"year": "last"},
        {"year": 1800},
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"cursor": "not-a-cursor"},
    ],
)
def test_a_bad_query_is_a_422(api: Api, params: dict[str, Any]) -> None:
    assert_problem(api.get("auditor", TARGETS, **params), 422, *params)


def test_the_pages_walk_every_target_once(api: Api) -> None:
    expected = []
    for year in range(2019, 2026):
        for office_code in ("BOGOR", "SUKABUMI"):
            target_set(api, "supervisor", office_code, year, year - 2018, f"Perjanjian Kinerja {year}")
        target_set(api, "jatim_supervisor", "SURABAYA", year, 1, f"Perjanjian Kinerja {year}")
        expected += [("BOGOR", year), ("SUKABUMI", year), ("SURABAYA", year)]

    for limit in (1, 4, 21, 22):
        walked: list[tuple[str, int]] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = api.get("auditor", TARGETS, **params).get_json()
            assert len(page["items"]) <= limit
            walked += [(i["office_code"], i["year"]) for i in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert isinstance(cursor, str) and cursor
            assert pages <= len(expected), "the pages go round in a circle"
        assert walked == expected, limit
        assert pages == -(-len(expected) // limit), limit

    # The supervisor's pages hold its region only; the year filter holds across pages.
    walked = []
    cursor = None
    while True:
        params = {"limit": 2, "year": 2022, **({"cursor": cursor} if cursor else {})}
        page = api.get("supervisor", TARGETS, **params).get_json()
        walked += [(i["office_code"], i["year"], i["target"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(walked) <= 2, walked
    assert walked == [("BOGOR", 2022, 4), ("SUKABUMI", 2022, 4)]
