"""`/api/v1/candidacies` over HTTP, on both databases: propose, list, read, history and the seven actions."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import pytest
import sqlalchemy
from flask.testing import FlaskClient

from service.application import Application
from tests.conftest import ACTION_BODIES, FakeClock, by, proposal
from tests.e2e.conftest import API, CASES, Api, assert_problem, etag, snapshot, unknown_id

TUGU_SELATAN = "32.01.25.2006"
BOGOR_VILLAGES = ["32.01.25.2001", "32.01.25.2005", "32.01.25.2006", "32.01.25.2007", "32.01.25.2008"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")
UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

# action: (the stage it starts from, the users whose role may do it, the stage it leads to)
ACTIONS: dict[str, tuple[str, list[str], str]] = {
    "coordinate": ("proposed", ["section_head", "head"], "coordinated"),
    "socialize": ("coordinated", ["section_head", "head"], "socialized"),
    "assess": ("socialized", ["section_head", "head"], "assessed"),
    "designate": ("assessed", ["head"], "designated"),
    "reject": ("assessed", ["head"], "rejected"),
    "return": ("assessed", ["head"], "socialized"),
    "withdraw": ("proposed", ["section_head", "head"], "withdrawn"),
}
USERS_OF_EVERY_ROLE = ["officer", "section_head", "head", "supervisor", "auditor", "admin"]
EVENT_TYPE = {
    "coordinate": "CandidacyCoordinated",
    "socialize": "CandidacySocialized",
    "assess": "CandidacyAssessed",
    "designate": "CandidacyDesignated",
    "reject": "CandidacyRejected",
    "return": "CandidacyReturned",
    "withdraw": "CandidacyWithdrawn",
}


def event_count(application: Application) -> int:
    """Every event of the log, the world's accounts included: compare it with a count taken before."""
    return len(snapshot(application)["events"])


def ledger(api: Api) -> dict[str, Any]:
    """The head of the log (position and digest) as the auditor reads it."""
    response = api.get("auditor", f"{API}/ledger")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---- propose ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_propose_answers_201_with_location_etag_and_the_case(api: Api, client: FlaskClient) -> None:
    opened = ledger(api)
    response = api.propose("officer", rationale="Kantong PMI di Cisarua.")

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    case = response.get_json()
    assert uuid.UUID(case["id"])
    assert response.headers["Location"] == f"{CASES}/{case['id']}"
    assert response.headers["ETag"] == '"1"'
    assert case["stage"] == "proposed"
    assert case["version"] == 1
    assert case["village"] == {
        "code": TUGU_SELATAN,
        "name": "Tugu Selatan",
        "district": "Cisarua",
        "regency": "Kabupaten Bogor",
        "province": "Jawa Barat",
    }
    assert case["office_code"] == "BOGOR"
    assert case["region_code"] == "JABAR"
    # An officer may propose, nothing more.
    assert case["allowed_actions"] == []
    assert case["proposed"] == {
        "at": "2024-06-01T03:00:00.000000Z",
        "by": {
            "username": "officer",
            "name": "Officer",
            "role": "officer",
            "id": api.world.actors["officer"].id,
        },
        "position": opened["position"] + 1,  # the proposal is the newest event of the log
    }
    [recorded] = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert recorded["position"] == case["proposed"]["position"]
    for stage in ("coordinated", "socialized", "assessed", "designated", "closed"):
        assert case[stage] is None
    assert case["indicators"] == {
        "migrant_workers": 412,
        "prospective_migrant_workers": 160,
        "trafficking_cases": 3,
        "border_area": False,
    }
    assert case["rationale"] == "Kantong PMI di Cisarua."
    assert UTC_TIMESTAMP.match(case["updated_at"])

    # The Location names the case; reading it gives the same case.
    again = client.get(response.headers["Location"], headers=api.world.headers("officer"))
    assert again.status_code == 200
    assert again.get_json() == case


@pytest.mark.usefixtures("registry")
def test_allowed_actions_depend_on_the_callers_role(api: Api, subtests: pytest.Subtests) -> None:
    case = api.proposed("officer")
    for username, allowed in [
        ("officer", []),
        ("section_head", ["coordinate", "withdraw"]),
        ("head", ["coordinate", "withdraw"]),
        ("acting_head", ["coordinate", "withdraw"]),
        ("supervisor", []),
        ("auditor", []),
    ]:
        with subtests.test(username=username):
            assert api.case(username, case["id"])["allowed_actions"] == allowed


@pytest.mark.usefixtures("registry")
def test_allowed_actions_of_an_assessed_case(api: Api) -> None:
    case = api.case_at("assessed")
    assert api.case("section_head", case["id"])["allowed_actions"] == ["withdraw"]
    assert api.case("head", case["id"])["allowed_actions"] == ["designate", "reject", "return", "withdraw"]


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("username", ["section_head", "head"])
def test_supervisors_of_an_office_may_propose_too(api: Api, username: str) -> None:
    response = api.propose(username)
    assert response.status_code == 201
    case = response.get_json()
    assert case["proposed"]["by"]["username"] == username
    assert case["allowed_actions"] == ["coordinate", "withdraw"]


def test_without_registry_the_proposer_names_the_village(api: Api) -> None:
    missing = api.propose("officer")
    assert_problem(missing, 422, "village_name")

    case = api.proposed("officer", village_name="Tugu Selatan")
    assert case["village"] == {
        "code": TUGU_SELATAN,
        "name": "Tugu Selatan",
        "district": None,
        "regency": None,
        "province": None,
    }


BAD_VILLAGE_CODES = [
    "32.01.25.4006",
    "3201252006",
    "32.01.25.206",
    "32.1.25.2006",
    "32.01.25.2006\n",
    "AB.01.25.2006",
]


def test_without_registry_only_the_shape_of_the_code_is_checked(api: Api, subtests: pytest.Subtests) -> None:
    for code in BAD_VILLAGE_CODES:
        with subtests.test(code=code):
            assert_problem(api.propose("officer", village_code=code, village_name="X"), 422, "village_code")


def test_without_registry_any_well_shaped_code_of_the_working_area_is_accepted(api: Api) -> None:
    # Nobody can check that 32.01.99.2999 exists until the registry is loaded.
    case = api.proposed("officer", village_code="32.01.99.2999", village_name="Desa Baru")
    assert case["village"]["code"] == "32.01.99.2999"
    assert case["village"]["name"] == "Desa Baru"


@pytest.mark.usefixtures("registry")
def test_with_registry_the_names_come_from_it(api: Api) -> None:
    case = api.proposed("officer")
    assert case["village"]["name"] == "Tugu Selatan"
    assert case["village"]["district"] == "Cisarua"
    # The same name given beside the code, letter case and spacing aside, is the same village.
    again = api.proposed("officer", village_code="32.01.25.2007", village_name="  leuwimalang ")
    assert again["village"]["name"] == "Leuwimalang"


@pytest.mark.usefixtures("registry")
def test_with_registry_a_name_that_disagrees_with_it_is_refused_naming_both(
    api: Api, application: Application
) -> None:
    before = snapshot(application)
    body = assert_problem(api.propose("officer", village_name="Some Other Name"), 422, "village_name")
    [message] = body["errors"]["village_name"]
    assert "'Tugu Selatan'" in message and "'Some Other Name'" in message
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
def test_with_registry_an_unknown_code_is_refused(api: Api, application: Application) -> None:
    before = snapshot(application)
    assert_problem(
        api.propose("officer", village_code="32.01.25.2999", village_name="X"), 422, "village_code"
    )
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("code", ["35.78.01.1001", "32.02.01.2002"])
def test_a_village_outside_the_working_area_is_refused(api: Api, code: str) -> None:
    body = assert_problem(api.propose("officer", village_code=code), 422, "village_code")
    assert "working area" in " ".join(body["errors"]["village_code"])


@pytest.mark.usefixtures("registry")
def test_proposing_for_another_office_is_forbidden(api: Api, application: Application) -> None:
    before = snapshot(application)
    assert_problem(api.propose("officer", village_code="32.02.01.2002", office_code="SUKABUMI"), 403)
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
def test_a_second_live_candidacy_for_a_village_is_a_conflict(api: Api, application: Application) -> None:
    api.case_at("coordinated")
    before = snapshot(application)
    body = assert_problem(api.propose("section_head"), 409)
    assert "live candidacy" in body["detail"]
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
def test_a_designated_village_cannot_be_proposed_again(api: Api, application: Application) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    before = snapshot(application)
    body = assert_problem(api.propose("officer"), 409)
    assert "designated" in body["detail"]
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(("stage", "action"), [("assessed", "reject"), ("proposed", "withdraw")])
def test_a_rejected_or_withdrawn_village_can_be_proposed_again(api: Api, stage: str, action: str) -> None:
    first = api.case_at(stage)
    api.acted("head", first["id"], action)

    response = api.propose("officer")
    assert response.status_code == 201
    second = response.get_json()
    assert second["id"] != first["id"]
    assert second["village"]["code"] == TUGU_SELATAN
    assert api.case("officer", first["id"])["stage"] == ("rejected" if action == "reject" else "withdrawn")


# ---- list --------------------------------------------------------------------------------------


@pytest.fixture
def spread(api: Api, clock: FakeClock, registry: None) -> dict[str, str]:
    """Cases in three offices of two regions, one proposed in 2023; name -> id."""
    ids: dict[str, str] = {}
    clock.set("2023-11-01T03:00:00Z")
    ids["batulayang"] = api.proposed("officer", village_code="32.01.25.2001")["id"]
    # 18:00 UTC on 31 December is already 1 January in WIB: the proposal counts for 2024.
    clock.set("2023-12-31T18:00:00Z")
    ids["citeko"] = api.proposed("officer", village_code="32.01.25.2005")["id"]
    clock.set("2024-06-01T03:00:00Z")
    ids["tugu"] = api.proposed("officer", village_code=TUGU_SELATAN)["id"]
    ids["batu_tulis"] = api.proposed("officer", village_code="32.71.01.1001")["id"]
    ids["tonjong"] = api.proposed("sukabumi_officer", village_code="32.02.01.2002", office_code="SUKABUMI")[
        "id"
    ]
    ids["warugunung"] = api.proposed(
        "surabaya_section_head", village_code="35.78.01.1001", office_code="SURABAYA"
    )["id"]
    api.acted("section_head", ids["tugu"], "coordinate")
    return ids


def listed(api: Api, username: str, **params: Any) -> list[str]:
    response = api.get(username, CASES, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["next_cursor"] is None
    return [item["id"] for item in body["items"]]


def test_list_scope_follows_the_role(api: Api, spread: dict[str, str]) -> None:
    bogor = {spread[n] for n in ("batulayang", "citeko", "tugu", "batu_tulis")}
    assert set(listed(api, "officer")) == bogor
    assert set(listed(api, "head")) == bogor
    assert set(listed(api, "sukabumi_officer")) == {spread["tonjong"]}
    assert set(listed(api, "supervisor")) == bogor | {spread["tonjong"]}
    assert set(listed(api, "jatim_supervisor")) == {spread["warugunung"]}
    assert set(listed(api, "auditor")) == set(spread.values())
    assert_problem(api.get("admin", CASES), 403)


def test_list_is_newest_proposal_first(api: Api, spread: dict[str, str]) -> None:
    order = ["warugunung", "tonjong", "batu_tulis", "tugu", "citeko", "batulayang"]
    assert listed(api, "auditor") == [spread[n] for n in order]


def test_list_items_are_cases_with_allowed_actions_of_the_caller(api: Api, spread: dict[str, str]) -> None:
    items = {i["id"]: i for i in api.get("section_head", CASES).get_json()["items"]}
    assert items[spread["tugu"]]["stage"] == "coordinated"
    assert items[spread["tugu"]]["allowed_actions"] == ["socialize", "withdraw"]
    assert items[spread["citeko"]]["allowed_actions"] == ["coordinate", "withdraw"]
    assert items[spread["tugu"]]["village"]["name"] == "Tugu Selatan"
    officer_items = api.get("officer", CASES).get_json()["items"]
    assert all(item["allowed_actions"] == [] for item in officer_items)


LIST_FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"office": "SUKABUMI"}, ["tonjong"]),
    ({"office": "BOGOR", "stage": "coordinated"}, ["tugu"]),
    ({"region": "JATIM"}, ["warugunung"]),
    ({"region": "JABAR", "year": 2023}, ["batulayang"]),
    ({"year": 2024, "office": "BOGOR"}, ["batu_tulis", "tugu", "citeko"]),
    ({"stage": "proposed", "region": "JABAR"}, ["tonjong", "batu_tulis", "citeko", "batulayang"]),
    ({"q": "tugu"}, ["tugu"]),
    ({"q": "BATU"}, ["batu_tulis", "batulayang"]),
    ({"q": "%"}, []),
    ({"q": "_"}, []),
    ({"year": 2022}, []),
    ({"stage": "designated"}, []),
]


def test_list_filters(api: Api, spread: dict[str, str], subtests: pytest.Subtests) -> None:
    for params, expected in LIST_FILTERS:
        with subtests.test(**params):
            assert listed(api, "auditor", **params) == [spread[n] for n in expected]


def test_filters_never_widen_the_callers_scope(api: Api, spread: dict[str, str]) -> None:
    assert listed(api, "officer", office="SUKABUMI") == []
    assert listed(api, "supervisor", region="JATIM") == []
    assert listed(api, "jatim_supervisor", office="BOGOR") == []


@pytest.mark.usefixtures("registry")
def test_cursor_pagination_walks_every_case_once(api: Api) -> None:
    created = [api.proposed("officer", village_code=code)["id"] for code in BOGOR_VILLAGES]
    seen: list[str] = []
    page_sizes: list[int] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = api.get("officer", CASES, **params)
        assert response.status_code == 200
        body = response.get_json()
        page_sizes.append(len(body["items"]))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
    assert cursor is None
    assert page_sizes == [2, 2, 1]
    assert len(seen) == len(set(seen))
    assert seen == list(reversed(created))


@pytest.mark.usefixtures("registry")
def test_a_full_last_page_has_no_next_cursor(api: Api) -> None:
    for code in BOGOR_VILLAGES[:4]:
        api.proposed("officer", village_code=code)
    first = api.get("officer", CASES, limit=2).get_json()
    second = api.get("officer", CASES, limit=2, cursor=first["next_cursor"]).get_json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


def test_default_limit_is_50(api: Api) -> None:
    # Without a registry any well-shaped code of the working area will do.
    for number in range(51):
        api.proposed("officer", village_code=f"32.01.99.{2001 + number}", village_name=f"Desa {number}")
    first = api.get("officer", CASES).get_json()
    assert len(first["items"]) == 50
    assert first["items"][0]["village"]["name"] == "Desa 50"
    rest = api.get("officer", CASES, cursor=first["next_cursor"]).get_json()
    assert [item["village"]["name"] for item in rest["items"]] == ["Desa 0"]
    assert rest["next_cursor"] is None


BAD_CURSORS = [
    "garbage!",
    "eDEy",  # base64 of "x12": not one of ours
    base64.urlsafe_b64encode(b"p-1").decode(),
    base64.urlsafe_b64encode(b"p" + b"9" * 30).decode(),  # beyond any BIGINT position
    "p" * 101,
]


def test_a_cursor_the_api_never_gave_out_is_422(api: Api, subtests: pytest.Subtests) -> None:
    for cursor in BAD_CURSORS:
        with subtests.test(cursor=cursor):
            assert_problem(api.get("officer", CASES, cursor=cursor), 422, "cursor")


BAD_LIST_PARAMETERS: list[tuple[dict[str, Any], str]] = [
    ({"limit": 501}, "limit"),
    ({"limit": 0}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"stage": "archived"}, "stage"),
    ({"year": "last"}, "year"),
    ({"office": "bogor"}, "office"),
    ({"office": "BOGOR\n"}, "office"),
    # A NUL reaching PostgreSQL is a DataError there: it must be refused before.
    ({"q": "\x00"}, "q"),
    ({"q": "Tugu\x00"}, "q"),
    ({"q": "x" * 101}, "q"),
]


def test_bad_list_parameters_are_422(api: Api, subtests: pytest.Subtests) -> None:
    for params, field in BAD_LIST_PARAMETERS:
        with subtests.test(**params):
            assert_problem(api.get("officer", CASES, **params), 422, field)


def test_limit_500_is_allowed(api: Api) -> None:
    assert api.get("officer", CASES, limit=500).status_code == 200


# ---- one case and its events ---------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_get_one_case_carries_its_version_as_etag(api: Api) -> None:
    case = api.proposed("officer")
    response = api.get("officer", f"{CASES}/{case['id']}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    api.acted("section_head", case["id"], "coordinate")
    response = api.get("supervisor", f"{CASES}/{case['id']}")
    assert response.headers["ETag"] == '"2"'
    assert response.get_json()["version"] == 2


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("username", ["sukabumi_officer", "sukabumi_head", "jatim_supervisor"])
def test_a_case_of_an_office_out_of_scope_is_404(api: Api, username: str) -> None:
    case = api.proposed("officer")
    unknown = assert_problem(api.get(username, f"{CASES}/{unknown_id()}"), 404)
    hidden = assert_problem(api.get(username, f"{CASES}/{case['id']}"), 404)
    # Indistinguishable from an unknown case: same type and title.
    assert (hidden["type"], hidden["title"]) == (unknown["type"], unknown["title"])
    assert_problem(api.get(username, f"{CASES}/{case['id']}/events"), 404)


def test_a_path_that_is_no_uuid_is_404(api: Api, subtests: pytest.Subtests) -> None:
    for path in ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g"]:
        with subtests.test(path=path):
            assert_problem(api.get("officer", f"{CASES}/{path}"), 404)
            assert_problem(api.get("officer", f"{CASES}/{path}/events"), 404)
            assert_problem(api.act("section_head", path, "coordinate"), 404)


def test_an_unknown_case_is_404(api: Api) -> None:
    assert_problem(api.get("auditor", f"{CASES}/{unknown_id()}"), 404)
    assert_problem(api.get("auditor", f"{CASES}/{unknown_id()}/events"), 404)
    assert_problem(api.act("section_head", unknown_id(), "coordinate"), 404)


@pytest.mark.usefixtures("registry")
def test_admin_reads_no_case(api: Api) -> None:
    case = api.proposed("officer")
    assert_problem(api.get("admin", f"{CASES}/{case['id']}"), 403)
    assert_problem(api.get("admin", f"{CASES}/{case['id']}/events"), 403)


@pytest.mark.usefixtures("registry")
def test_events_of_a_case_in_order_with_actor_and_hash(api: Api) -> None:
    opened = ledger(api)
    case = api.case_at("socialized")
    other = api.proposed("officer", village_code="32.01.25.2001")
    api.acted("section_head", other["id"], "coordinate")

    response = api.get("auditor", f"{CASES}/{case['id']}/events")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [e["type"] for e in items] == ["CandidacyProposed", "CandidacyCoordinated", "CandidacySocialized"]
    assert [e["version"] for e in items] == [1, 2, 3]
    positions = [e["position"] for e in items]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert {e["stream_id"] for e in items} == {case["id"]}
    assert positions == [opened["position"] + 1, opened["position"] + 2, opened["position"] + 3]
    assert [case[s]["position"] for s in ("proposed", "coordinated", "socialized")] == positions
    assert items[0]["actor"] == {
        "username": "officer",
        "name": "Officer",
        "role": "officer",
        "office_code": "BOGOR",
        "id": api.world.actors["officer"].id,
    }
    assert items[1]["actor"] == {
        "username": "section_head",
        "name": "Section Head",
        "role": "section_head",
        "office_code": "BOGOR",
        "id": api.world.actors["section_head"].id,
    }
    assert items[1]["data"]["agencies"] == ACTION_BODIES["coordinate"]["agencies"]
    assert items[1]["data"]["held_on"] == "2024-02-19"
    assert items[0]["data"]["village"]["code"] == TUGU_SELATAN
    for event in items:
        assert HEX64.match(event["hash"])
        assert HEX64.match(event["prev_hash"])
        assert UTC_TIMESTAMP.match(event["recorded_at"])
    assert len({e["hash"] for e in items}) == 3
    # No other case's event is in this list, but the chain runs through the whole log: the first
    # links to the newest event before it (the world's accounts come first).
    assert items[0]["prev_hash"] == opened["digest"]
    assert items[1]["prev_hash"] == items[0]["hash"]


# ---- actions and roles ---------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("action", "username"), [(a, u) for a, (_, users, _) in ACTIONS.items() for u in users]
)
def test_each_action_by_a_role_that_may(api: Api, action: str, username: str) -> None:
    start, _, end = ACTIONS[action]
    case = api.case_at(start)

    response = api.act(username, case["id"], action)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ETag"] == etag(case["version"] + 1)
    after = response.get_json()
    assert after["stage"] == end
    assert after["version"] == case["version"] + 1
    assert after["id"] == case["id"]
    record = {
        "coordinate": "coordinated",
        "socialize": "socialized",
        "assess": "assessed",
        "designate": "designated",
        "reject": "closed",
        "withdraw": "closed",
        "return": "returned",
    }[action]
    stamp = after[record]
    assert stamp["by"] == by(api.world.actors[username])
    assert stamp["at"] == "2024-06-01T03:00:00.000000Z"
    for name, value in ACTION_BODIES[action].items():
        assert stamp[name] == value
    if action in ("reject", "withdraw"):
        assert stamp["outcome"] == end
    if action == "return":
        assert after["assessed"] is None
        assert stamp["assessment"]["score"] == ACTION_BODIES["assess"]["score"]
    events = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert events[-1]["type"] == EVENT_TYPE[action]
    assert events[-1]["actor"]["username"] == username
    assert stamp["position"] == events[-1]["position"]
    assert api.case("auditor", case["id"]) == {**after, "allowed_actions": []}


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_is_forbidden_to_other_roles(api: Api, application: Application, action: str) -> None:
    start, users, _ = ACTIONS[action]
    case = api.case_at(start)
    before = snapshot(application)
    refused = [u for u in USERS_OF_EVERY_ROLE if u not in users]
    assert refused
    for username in refused:
        body = assert_problem(api.act(username, case["id"], action), 403)
        assert action in body["detail"]
        # The role is refused before the body is looked at.
        assert_problem(api.act(username, case["id"], action, {"nonsense": True}), 403)
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("stage", "username", "action", "allowed"),
    [
        ("coordinated", "section_head", "coordinate", ["socialize", "withdraw"]),
        ("proposed", "section_head", "socialize", ["coordinate", "withdraw"]),
        ("proposed", "head", "designate", ["coordinate", "withdraw"]),
        ("socialized", "head", "return", ["assess", "withdraw"]),
        ("socialized", "head", "reject", ["assess", "withdraw"]),
        ("assessed", "section_head", "assess", ["withdraw"]),
    ],
)
def test_an_action_the_stage_does_not_allow_is_409_with_allowed_actions(
    api: Api, application: Application, stage: str, username: str, action: str, allowed: list[str]
) -> None:
    case = api.case_at(stage)
    before = snapshot(application)
    body = assert_problem(api.act(username, case["id"], action), 409)
    assert body["allowed_actions"] == allowed
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("final_action", "final_user", "left"), [("designate", "head", ["revoke"]), ("reject", "head", [])]
)
def test_no_step_of_the_lifecycle_is_allowed_after_a_final_stage(
    api: Api, final_action: str, final_user: str, left: list[str]
) -> None:
    case = api.case_at("assessed")
    api.acted(final_user, case["id"], final_action)
    for action in ACTIONS:
        body = assert_problem(api.act("head", case["id"], action), 409)
        assert body["allowed_actions"] == left  # a designated village may only be revoked


@pytest.mark.usefixtures("registry")
def test_withdrawn_case_cannot_be_withdrawn_again(api: Api) -> None:
    case = api.proposed("officer")
    api.acted("section_head", case["id"], "withdraw")
    body = assert_problem(api.act("head", case["id"], "withdraw"), 409)
    assert body["allowed_actions"] == []


@pytest.mark.usefixtures("registry")
def test_return_sends_the_case_back_for_a_new_assessment(api: Api) -> None:
    case = api.case_at("assessed")
    returned = api.acted("head", case["id"], "return")
    assert returned["stage"] == "socialized"
    assert api.case("section_head", case["id"])["allowed_actions"] == ["assess", "withdraw"]
    reassessed = api.acted("section_head", case["id"], "assess", {**ACTION_BODIES["assess"], "score": 91})
    assert reassessed["assessed"]["score"] == 91
    designated = api.acted("head", case["id"], "designate")
    assert designated["stage"] == "designated"
    assert designated["version"] == 7


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("closing", [("reject", "head"), ("withdraw", "section_head")])
def test_each_answer_is_the_case_as_reading_it_gives_it_byte_for_byte(
    api: Api, closing: tuple[str, str]
) -> None:
    """A command answers with the row it projected, not one read back: the two must not differ."""
    proposed = api.propose("officer")
    assert proposed.status_code == 201
    case_id = proposed.get_json()["id"]
    assert proposed.get_data() == api.get("officer", f"{CASES}/{case_id}").get_data()
    answers = [("officer", proposed)]
    steps = [("coordinate", "section_head"), ("socialize", "section_head"), ("assess", "section_head")]
    steps += [("return", "head"), ("assess", "section_head"), closing]
    for action, username in steps:
        response = api.act(username, case_id, action)
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append((username, response))
        read = api.get(username, f"{CASES}/{case_id}")
        assert response.get_data() == read.get_data(), action
        assert response.headers["ETag"] == read.headers["ETag"]
    assert answers[0][1].get_json()["version"] == 1
    assert answers[-1][1].get_json()["closed"]["outcome"] in ("rejected", "withdrawn")


# ---- If-Match -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_if_match_with_a_stale_version_is_412(api: Api, application: Application) -> None:
    case = api.case_at("coordinated")
    before = snapshot(application)
    response = api.act("section_head", case["id"], "socialize", **{"If-Match": '"1"'})
    body = assert_problem(response, 412)
    assert response.headers["ETag"] == '"2"'
    assert body["current_version"] == 2
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
def test_if_match_naming_no_current_version_is_412(api: Api) -> None:
    case = api.case_at("coordinated")
    assert_problem(api.act("section_head", case["id"], "socialize", **{"If-Match": '"7"'}), 412)
    assert api.case("section_head", case["id"])["version"] == 2


@pytest.mark.usefixtures("registry")
def test_if_match_that_is_not_a_quoted_version_is_400_naming_the_form(
    api: Api, application: Application, subtests: pytest.Subtests
) -> None:
    case = api.case_at("coordinated")
    before = snapshot(application)
    for tag in ["2", 'W/"2"', '"two"', '""', '"2", "3"', "'2'"]:
        with subtests.test(tag=tag):
            body = assert_problem(api.act("section_head", case["id"], "socialize", **{"If-Match": tag}), 400)
            assert '"3"' in body["detail"] and "version" in body["detail"]
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("tag", ['"2"', "*", ' "2" '])
def test_if_match_with_the_current_version_succeeds(api: Api, tag: str) -> None:
    case = api.case_at("coordinated")
    response = api.act("section_head", case["id"], "socialize", **{"If-Match": tag})
    assert response.status_code == 200
    assert response.headers["ETag"] == '"3"'


@pytest.mark.usefixtures("registry")
def test_two_clients_with_the_same_etag_one_wins(api: Api) -> None:
    case = api.case_at("assessed")
    tag = api.get("head", f"{CASES}/{case['id']}").headers["ETag"]
    first = api.act("head", case["id"], "return", **{"If-Match": tag})
    second = api.act("section_head", case["id"], "withdraw", **{"If-Match": tag})
    assert first.status_code == 200
    assert_problem(second, 412)
    assert api.case("head", case["id"])["stage"] == "socialized"


# ---- Idempotency-Key ------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_a_retried_proposal_returns_the_first_answer_and_records_nothing(
    api: Api, application: Application
) -> None:
    before = snapshot(application)
    first = api.propose("officer", idempotency_key="retry-1")
    assert first.status_code == 201
    after_first = snapshot(application)

    second = api.propose("officer", idempotency_key="retry-1")

    assert second.status_code == 201
    assert second.get_data() == first.get_data()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert snapshot(application) == after_first
    assert after_first["events"][: len(before["events"])] == before["events"]
    [recorded] = after_first["events"][len(before["events"]) :]
    assert (recorded["type"], recorded["stream_id"]) == ("CandidacyProposed", first.get_json()["id"])
    assert len(listed(api, "officer")) == 1


@pytest.mark.usefixtures("registry")
def test_a_retried_action_returns_the_first_answer_and_records_nothing(
    api: Api, application: Application
) -> None:
    case = api.proposed("officer")
    first = api.act("section_head", case["id"], "coordinate", **{"Idempotency-Key": "coord-1"})
    assert first.status_code == 200
    after_first = snapshot(application)
    second = api.act("section_head", case["id"], "coordinate", **{"Idempotency-Key": "coord-1"})
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == '"2"'
    assert snapshot(application) == after_first
    types = [e["type"] for e in api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]]
    assert types == ["CandidacyProposed", "CandidacyCoordinated"]


@pytest.mark.usefixtures("registry")
def test_key_order_of_the_body_does_not_make_another_request(api: Api, client: FlaskClient) -> None:
    body = proposal()
    headers = api.world.headers("officer", **{"Idempotency-Key": "order"})
    first = client.post(CASES, json=body, headers=headers)
    second = client.post(CASES, json=dict(reversed(list(body.items()))), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()


@pytest.mark.usefixtures("registry")
def test_the_same_key_with_another_body_is_409(api: Api, application: Application) -> None:
    assert api.propose("officer", idempotency_key="k1").status_code == 201
    before = snapshot(application)
    body = assert_problem(api.propose("officer", idempotency_key="k1", village_code="32.01.25.2001"), 409)
    assert "Idempotency-Key" in body["detail"]
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
def test_the_same_key_on_another_path_is_409(api: Api) -> None:
    case = api.proposed("officer")
    assert api.act("section_head", case["id"], "coordinate", **{"Idempotency-Key": "k"}).status_code == 200
    assert_problem(api.act("section_head", case["id"], "withdraw", **{"Idempotency-Key": "k"}), 409)


@pytest.mark.usefixtures("registry")
def test_keys_belong_to_their_user(api: Api) -> None:
    first = api.propose("officer", idempotency_key="shared")
    second = api.propose("section_head", idempotency_key="shared", village_code="32.01.25.2001")
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]


@pytest.mark.usefixtures("registry")
def test_a_commit_that_fails_answers_503_stops_the_process_and_is_never_replayed_as_success(
    api: Api, app: Any, application: Application
) -> None:
    """The database does not confirm the commit (a failed fsync, a lost connection): the client is
    told to retry, the process is asked to stop, nothing of the write is visible, and the retry with
    the same key is done afresh: the one proposal in the log is the retry's."""
    stops: list[bool] = []
    app.config["STOP_PROCESS"] = lambda: stops.append(True)

    def fail_once(_conn: Any) -> None:
        sqlalchemy.event.remove(application.db.engine, "commit", fail_once)
        raise OSError(5, "Input/output error")

    before = event_count(application)  # the world's accounts
    sqlalchemy.event.listen(application.db.engine, "commit", fail_once)
    failed = api.propose("officer", idempotency_key="unconfirmed")
    failed.close()  # as a server does once the answer is sent
    body = assert_problem(failed, 503)
    assert body["type"].endswith("unavailable")
    assert failed.headers["Retry-After"]
    assert stops == [True]
    assert event_count(application) == before

    retried = api.propose("officer", idempotency_key="unconfirmed")
    assert retried.status_code == 201
    assert event_count(application) == before + 1
    assert api.case("officer", retried.get_json()["id"])["stage"] == "proposed"
    assert stops == [True]


@pytest.mark.usefixtures("registry")
def test_a_failed_request_does_not_spend_its_key(api: Api) -> None:
    case = api.proposed("officer")
    refused = api.act("section_head", case["id"], "socialize", **{"Idempotency-Key": "again"})
    assert_problem(refused, 409)
    accepted = api.act("section_head", case["id"], "coordinate", **{"Idempotency-Key": "again"})
    assert accepted.status_code == 200


@pytest.mark.usefixtures("registry")
def test_idempotency_key_length(api: Api, application: Application) -> None:
    before = snapshot(application)
    body = assert_problem(api.propose("officer", idempotency_key="k" * 201), 400)
    assert "Idempotency-Key" in body["detail"]
    assert_problem(api.propose("officer", idempotency_key=""), 400)
    assert snapshot(application) == before
    assert api.propose("officer", idempotency_key="k" * 200).status_code == 201


# ---- four eyes and criteria -----------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_the_head_who_assessed_cannot_designate_but_the_acting_head_can(
    api: Api, application: Application
) -> None:
    case = api.case_at("socialized")
    assessed = api.acted("head", case["id"], "assess")
    # Each is offered what they may do: the head who assessed is not offered designate.
    assert assessed["allowed_actions"] == ["reject", "return", "withdraw"]
    assert api.case("acting_head", case["id"])["allowed_actions"] == [
        "designate",
        "reject",
        "return",
        "withdraw",
    ]
    before = snapshot(application)
    body = assert_problem(api.act("head", case["id"], "designate"), 409)
    assert "four eyes" in body["detail"]
    assert snapshot(application) == before

    designated = api.acted("acting_head", case["id"], "designate")
    assert designated["stage"] == "designated"
    assert designated["designated"]["by"]["username"] == "acting_head"
    assert designated["assessed"]["by"]["username"] == "head"


@pytest.mark.usefixtures("registry")
def test_the_head_who_proposed_cannot_designate(api: Api) -> None:
    case = api.proposed("head")
    for action in ("coordinate", "socialize", "assess"):
        api.acted("section_head", case["id"], action)
    body = assert_problem(api.act("head", case["id"], "designate"), 409)
    assert "four eyes" in body["detail"]
    assert api.acted("acting_head", case["id"], "designate")["stage"] == "designated"


@pytest.mark.usefixtures("registry")
def test_designation_needs_an_assessment_that_met_the_criteria(api: Api, application: Application) -> None:
    case = api.case_at("socialized")
    api.acted("section_head", case["id"], "assess", {**ACTION_BODIES["assess"], "meets_criteria": False})
    assert api.case("head", case["id"])["allowed_actions"] == ["reject", "return", "withdraw"]
    before = snapshot(application)
    body = assert_problem(api.act("head", case["id"], "designate"), 409)
    assert body["allowed_actions"] == ["reject", "return", "withdraw"]
    assert snapshot(application) == before
    assert api.acted("head", case["id"], "reject")["stage"] == "rejected"


# ---- the assessment criteria ----------------------------------------------------------------------

CRITERIA = [
    "migrant_worker_base",
    "trafficking_vulnerability",
    "border_or_port",
    "poverty",
    "village_commitment",
]


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    "criteria",
    [
        {name: True for name in CRITERIA},
        {"poverty": False},
        {"border_or_port": True, "village_commitment": False},
    ],
)
def test_an_assessment_records_any_of_the_fixed_criteria(api: Api, criteria: dict[str, bool]) -> None:
    case = api.case_at("socialized")
    assessed = api.acted(
        "section_head", case["id"], "assess", {**ACTION_BODIES["assess"], "criteria": criteria}
    )
    assert assessed["assessed"]["criteria"] == criteria
    events = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert events[-1]["data"]["criteria"] == criteria


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"banyak_pmi": True}, "criteria.banyak_pmi"),
        ({"poverty": True, "kemiskinan": True}, "criteria.kemiskinan"),
        ({"Poverty": True}, "criteria.Poverty"),
        ({"poverty": "ya"}, "criteria.poverty"),
        ({"poverty": 1}, "criteria.poverty"),
        ({"poverty": None}, "criteria.poverty"),
        ({}, "criteria"),
        (["poverty"], "criteria"),
    ],
)
def test_criteria_outside_the_set_or_not_booleans_are_422(
    api: Api, application: Application, criteria: Any, field: str
) -> None:
    case = api.case_at("socialized")
    before = snapshot(application)
    body = {**ACTION_BODIES["assess"], "criteria": criteria}
    problem = assert_problem(api.act("section_head", case["id"], "assess", body), 422, field)
    if isinstance(criteria, dict) and field != "criteria.poverty":
        # A name outside the set, or none: the answer says which names there are.
        assert all(name in " ".join(problem["errors"][field]) for name in CRITERIA), problem
    assert snapshot(application) == before


def test_the_api_document_lists_the_criteria(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    field = schemas["Assess"]["properties"]["criteria"]
    assert field["minProperties"] == 1
    [reference] = field["allOf"]
    criteria = schemas[reference["$ref"].rsplit("/", 1)[-1]]
    assert list(criteria["properties"]) == CRITERIA
    assert {p["type"] for p in criteria["properties"].values()} == {"boolean"}
    assert criteria["additionalProperties"] is False


# ---- when a case starts -------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_a_proposal_may_give_the_day_the_case_began(api: Api) -> None:
    response = api.propose("officer", proposed_on="2024-01-08")
    assert response.status_code == 201, response.get_data(as_text=True)
    case = response.get_json()
    assert (case["proposed_on"], case["started_on"]) == ("2024-01-08", "2024-01-08")
    assert api.case("auditor", case["id"]) == {**case, "allowed_actions": []}
    [proposed] = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert (proposed["schema_version"], proposed["data"]["proposed_on"]) == (2, "2024-01-08")


@pytest.mark.usefixtures("registry")
def test_without_proposed_on_a_case_starts_on_the_day_it_was_recorded(api: Api) -> None:
    case = api.proposed("officer")
    assert (case["proposed_on"], case["started_on"]) == (None, "2024-06-01")
    assert api.proposed("officer", village_code="32.01.25.2001", proposed_on=None)["proposed_on"] is None


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("proposed_on", "says"),
    [("2024-06-02", "future"), ("2024-02-30", "YYYY-MM-DD"), ("8 Jan 2024", "YYYY-MM-DD")],
)
def test_a_proposed_on_in_the_future_or_no_date_is_422(
    api: Api, application: Application, proposed_on: str, says: str
) -> None:
    before = snapshot(application)
    # 03:00 UTC on 1 June is noon in eastern Indonesia (UTC+9): 2 June has not begun anywhere.
    problem = assert_problem(api.propose("officer", proposed_on=proposed_on), 422, "proposed_on")
    assert says in " ".join(problem["errors"]["proposed_on"])
    assert snapshot(application) == before


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("stage", "action", "field"),
    [
        ("proposed", "coordinate", "held_on"),
        ("coordinated", "socialize", "held_on"),
        ("socialized", "assess", "assessed_on"),
        ("assessed", "designate", "decree_date"),
    ],
)
def test_no_stage_is_dated_before_the_day_the_case_began(
    api: Api, application: Application, stage: str, action: str, field: str
) -> None:
    """Begun on 19 February, the day of the coordination in ACTION_BODIES: every stage may be dated that
    day, none the day before."""
    case = api.case_at(stage, proposed_on="2024-02-19")
    user = "head" if action == "designate" else "section_head"
    before = snapshot(application)
    too_early = {**ACTION_BODIES[action], field: "2024-02-18"}
    problem = assert_problem(api.act(user, case["id"], action, too_early), 422, field)
    assert "before the" in " ".join(problem["errors"][field])
    assert snapshot(application) == before
    on_the_day = {**ACTION_BODIES[action], field: "2024-02-19"}
    if action != "coordinate":  # each later stage is also on or after the one before it
        on_the_day[field] = {"socialize": "2024-02-19", "assess": "2024-02-21", "designate": "2024-03-20"}[
            action
        ]
    assert api.act(user, case["id"], action, on_the_day).status_code == 200


@pytest.mark.usefixtures("registry")
def test_a_coordination_before_the_day_the_case_began_names_it(api: Api) -> None:
    case = api.proposed("officer", proposed_on="2024-02-20")
    problem = assert_problem(api.act("section_head", case["id"], "coordinate"), 422, "held_on")
    assert problem["errors"]["held_on"] == ["2024-02-19 is before the proposal date (2024-02-20)"]


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("proposed_on", "started_on", "days"), [(None, "2024-02-19", 57), ("2024-01-08", "2024-01-08", 99)]
)
def test_a_case_entered_after_the_fact_never_takes_negative_days(
    api: Api, proposed_on: str | None, started_on: str, days: int
) -> None:
    """Recorded on 1 June; coordinated on 19 February and decreed on 16 April (ACTION_BODIES). Counted
    from the recording, the days to designation were -46; counted from the case's start, they are the
    decree date minus that start."""
    case = api.case_at("assessed", proposed_on=proposed_on)
    designated = api.acted("head", case["id"], "designate")
    assert (designated["proposed_on"], designated["started_on"]) == (proposed_on, started_on)
    [row] = api.get("auditor", f"{API}/designations").get_json()["items"]
    assert row["days_to_designation"] == days
    report = api.get("auditor", f"{API}/reports/performance", year=2024).get_json()
    [bogor] = [office for office in report["offices"] if office["office_code"] == "BOGOR"]
    assert bogor["median_days_to_designation"] == days


# ---- dates ----------------------------------------------------------------------------------------

DATE_FIELDS = [
    ("proposed", "coordinate", "held_on"),
    ("coordinated", "socialize", "held_on"),
    ("socialized", "assess", "assessed_on"),
    ("assessed", "designate", "decree_date"),
]


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(("stage", "action", "field"), DATE_FIELDS)
def test_a_date_in_the_future_is_422_naming_the_field(
    api: Api, application: Application, clock: FakeClock, stage: str, action: str, field: str
) -> None:
    case = api.case_at(stage)
    before = snapshot(application)
    # 03:00 UTC is noon in eastern Indonesia (UTC+9): 2 June has not begun anywhere in the country.
    body = {**ACTION_BODIES[action], field: "2024-06-02"}
    problem = assert_problem(
        api.act("head" if action == "designate" else "section_head", case["id"], action, body), 422, field
    )
    assert "future" in " ".join(problem["errors"][field])
    assert snapshot(application) == before
    # Today is not the future.
    body[field] = "2024-06-01"
    assert (
        api.act("head" if action == "designate" else "section_head", case["id"], action, body).status_code
        == 200
    )


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("stage", "action", "field", "too_early", "same_day"),
    [
        ("coordinated", "socialize", "held_on", "2024-02-18", "2024-02-19"),
        ("socialized", "assess", "assessed_on", "2024-02-20", "2024-02-21"),
        ("assessed", "designate", "decree_date", "2024-03-19", "2024-03-20"),
    ],
)
def test_a_date_before_the_previous_stage_is_422(
    api: Api,
    application: Application,
    stage: str,
    action: str,
    field: str,
    too_early: str,
    same_day: str,
) -> None:
    case = api.case_at(stage)
    user = "head" if action == "designate" else "section_head"
    before = snapshot(application)
    problem = assert_problem(
        api.act(user, case["id"], action, {**ACTION_BODIES[action], field: too_early}), 422, field
    )
    assert "before" in " ".join(problem["errors"][field])
    assert snapshot(application) == before
    assert api.act(user, case["id"], action, {**ACTION_BODIES[action], field: same_day}).status_code == 200


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("coordinate", {**ACTION_BODIES["coordinate"], "held_on": "2024-02-30"}, "held_on"),
        ("coordinate", {**ACTION_BODIES["coordinate"], "held_on": "19-02-2024"}, "held_on"),
        ("coordinate", {**ACTION_BODIES["coordinate"], "agencies": []}, "agencies"),
        ("coordinate", {k: v for k, v in ACTION_BODIES["coordinate"].items() if k != "venue"}, "venue"),
        ("coordinate", {**ACTION_BODIES["coordinate"], "venue": "   "}, "venue"),
        ("withdraw", {"reason": ""}, "reason"),
        ("withdraw", {"reason": "x" * 2001}, "reason"),
    ],
)
def test_malformed_action_bodies_are_422(api: Api, action: str, body: dict[str, Any], field: str) -> None:
    case = api.proposed("officer")
    assert_problem(api.act("section_head", case["id"], action, body), 422, field)
    assert api.case("section_head", case["id"])["version"] == 1


@pytest.mark.usefixtures("registry")
def test_the_actor_role_and_office_are_recorded_with_every_event(api: Api, application: Application) -> None:
    before = event_count(application)  # the world's accounts
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    assert event_count(application) == before + 5
    events = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert [(e["actor"]["username"], e["actor"]["role"]) for e in events] == [
        ("officer", "officer"),
        ("section_head", "section_head"),
        ("section_head", "section_head"),
        ("section_head", "section_head"),
        ("head", "head_of_office"),
    ]
    assert {e["actor"]["office_code"] for e in events} == {"BOGOR"}
    assert [e["actor"]["id"] for e in events] == [
        api.world.actors[u].id for u in ("officer", "section_head", "section_head", "section_head", "head")
    ]
