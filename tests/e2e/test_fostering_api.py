"""Fostering a designated village over HTTP: officers by decree, activities, residents' reports with
their deadlines, evaluations, an officer's villages, revocation; who may do what, and bad input that
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.e2e.conftest import CASES, Api, assert_problem, etag, unknown_id

pytestmark = pytest.mark.usefixtures("registry")

OFFICERS = {"officers": ["officer"], "decree_number": "W11.IMI.4-UM.01.01-0502", "decree_date": "2024-05-02"}
ACTIVITY = {
    "kind": "counseling",
    "held_on": "2024-05-20",
    "participants": 60,
    "summary": "Penyuluhan bahaya TPPO bersama perangkat desa.",
    "topics": ["TPPO", "Paspor"],
}


def report(received_at: str, category: str = "foreign_national") -> dict[str, Any]:
    return {
        "received_at": received_at,
        "channel": "whatsapp",
        "category": category,
        "summary": "Laporan warga.",
    }


def post(api: Api, username: str, path: str, body: dict[str, Any], **headers: str):
    return api.client.post(f"{CASES}/{path}", json=body, headers=api.world.headers(username, **headers))


def designated(api: Api, **overrides: Any) -> dict[str, Any]:
    case = api.case_at("assessed", **overrides)
    return api.acted("head", case["id"], "designate")


def fostered(api: Api) -> dict[str, Any]:
    """A designated village of BOGOR with the officer assigned to it."""
    case = designated(api)
    response = api.client.put(
        f"{CASES}/{case['id']}/officers", json=OFFICERS, headers=api.world.headers("head")
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_head_assigns_officers_and_the_case_says_who_fosters_it_since_when(api: Api) -> None:
    case = fostered(api)
    assert case["fostering"]["since"] == "2024-04-16"
    assert case["fostering"]["officers"] == [{"username": "officer", "name": "Officer"}]
    assert case["fostering"]["assigned"]["decree_number"] == OFFICERS["decree_number"]
    assert case["fostering"]["assigned"]["by"]["username"] == "head"
    assert case["fostering"]["revoked"] is None
    assert (case["stage"], case["version"]) == ("designated", 6)
    mine = api.get("officer", "/api/v1/me/villages").get_json()["items"]
    assert [(v["candidacy_id"], v["since"]) for v in mine] == [(case["id"], "2024-04-16")]
    assert api.get("section_head", "/api/v1/me/villages").get_json()["items"] == []

    again = api.client.put(
        f"{CASES}/{case['id']}/officers",
        json={**OFFICERS, "officers": ["section_head"]},
        headers=api.world.headers("head"),
    )
    assert again.get_json()["fostering"]["officers"] == [{"username": "section_head", "name": "Section Head"}]
    assert api.get("officer", "/api/v1/me/villages").get_json()["items"] == []  # replaced


def test_an_activity_is_recorded_by_the_assigned_officer_and_listed(api: Api) -> None:
    case = fostered(api)
    created = post(api, "officer", f"{case['id']}/activities", ACTIVITY)
    assert created.status_code == 201, created.get_data(as_text=True)
    activity = created.get_json()
    assert {k: activity[k] for k in ACTIVITY} == ACTIVITY
    assert activity["by"]["username"] == "officer"
    listed = api.get("auditor", f"{CASES}/{case['id']}/activities").get_json()
    assert listed == {"items": [activity], "next_cursor": None}
    events = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert [e["type"] for e in events][-2:] == ["FosteringOfficersAssigned", "ActivityRecorded"]
    assert events[-1]["position"] == activity["position"]


def test_who_may_record_an_activity(api: Api, world: Any) -> None:
    case = fostered(api)
    assert post(api, "section_head", f"{case['id']}/activities", ACTIVITY).status_code == 201
    assert post(api, "head", f"{case['id']}/activities", ACTIVITY).status_code == 201
    assert_problem(post(api, "supervisor", f"{case['id']}/activities", ACTIVITY), 403)
    assert_problem(post(api, "auditor", f"{case['id']}/activities", ACTIVITY), 403)
    assert_problem(post(api, "sukabumi_head", f"{case['id']}/activities", ACTIVITY), 404)
    api.client.put(
        f"{CASES}/{case['id']}/officers",
        json={**OFFICERS, "officers": ["section_head"]},
        headers=api.world.headers("head"),
    )
    assert_problem(post(api, "officer", f"{case['id']}/activities", ACTIVITY), 403)  # no longer assigned


def test_a_report_of_suspected_trafficking_is_verified_in_time_and_closed(api: Api, clock: FakeClock) -> None:
    case = fostered(api)
    clock.set("2024-06-01T03:00:00Z")
    received = post(
        api,
        "officer",
        f"{case['id']}/village-reports",
        report("2024-06-01T09:00:00+07:00", "suspected_trafficking"),
    )
    assert received.status_code == 201, received.get_data(as_text=True)
    r = received.get_json()
    assert (r["status"], r["overdue"]) == ("open", False)
    assert (r["received_at"], r["verify_by"]) == (
        "2024-06-01T02:00:00.000000Z",
        "2024-06-01T08:00:00.000000Z",
    )

    clock.set("2024-06-01T07:59:00Z")
    verified = post(api, "officer", f"{case['id']}/village-reports/{r['id']}/verify", {"notes": "Dicek."})
    assert verified.status_code == 200, verified.get_data(as_text=True)
    assert verified.get_json()["close_by"] == "2024-06-04T07:59:00.000000Z"

    clock.set("2024-06-03T03:00:00Z")
    body = {"outcome": "referred", "notes": "Diteruskan ke Polres.", "referred_to": "Polres Bogor"}
    closed = post(api, "section_head", f"{case['id']}/village-reports/{r['id']}/close", body).get_json()
    assert (closed["status"], closed["overdue"], closed["outcome"], closed["closed_in_time"]) == (
        "closed",
        False,
        "referred",
        True,
    )
    assert closed["closed"]["referred_to"] == "Polres Bogor"


def test_an_unverified_report_becomes_overdue_when_its_deadline_passes(api: Api, clock: FakeClock) -> None:
    case = fostered(api)
    clock.set("2024-06-01T03:00:00Z")
    r = post(api, "officer", f"{case['id']}/village-reports", report("2024-06-01T03:00:00Z")).get_json()
    path = f"{CASES}/{case['id']}/village-reports"
    clock.set("2024-06-03T03:00:00Z")  # exactly 48 hours: still in time
    assert api.get("auditor", path, overdue="true").get_json()["items"] == []
    clock.set("2024-06-03T03:00:01Z")
    overdue = api.get("auditor", path, overdue="true").get_json()["items"]
    assert [(x["id"], x["status"], x["overdue"]) for x in overdue] == [(r["id"], "open", True)]
    assert api.get("auditor", path, status="closed").get_json()["items"] == []
    mine = api.get("officer", "/api/v1/me/villages").get_json()["items"]
    assert (mine[0]["open_reports"], mine[0]["overdue_reports"]) == (1, 1)

    late = post(api, "officer", f"{case['id']}/village-reports/{r['id']}/verify", {"notes": "Terlambat."})
    assert late.get_json()["overdue"] is False  # the next deadline counts from the verification


def test_report_steps_come_in_order_and_a_report_of_another_case_is_unknown(api: Api) -> None:
    case = fostered(api)
    r = post(api, "officer", f"{case['id']}/village-reports", report("2024-06-01T01:00:00Z")).get_json()
    close = {"outcome": "resolved", "notes": "Selesai."}
    body = assert_problem(post(api, "officer", f"{case['id']}/village-reports/{r['id']}/close", close), 409)
    assert body["rule"] == "report_not_verified"
    assert (
        post(api, "officer", f"{case['id']}/village-reports/{r['id']}/verify", {"notes": "Ok."}).status_code
        == 200
    )
    body = assert_problem(
        post(api, "officer", f"{case['id']}/village-reports/{r['id']}/verify", {"notes": "?"}), 409
    )
    assert body["rule"] == "report_verified"
    assert_problem(
        post(api, "officer", f"{case['id']}/village-reports/{unknown_id()}/verify", {"notes": "?"}), 404
    )
    other = designated(api, village_code="32.01.25.2007")
    assert_problem(post(api, "head", f"{other['id']}/village-reports/{r['id']}/verify", {"notes": "?"}), 404)
    referred = {"outcome": "referred", "notes": "Diteruskan."}
    assert_problem(
        post(api, "officer", f"{case['id']}/village-reports/{r['id']}/close", referred), 422, "referred_to"
    )


def test_evaluations_by_quarter(api: Api) -> None:
    case = fostered(api)
    first = post(
        api,
        "supervisor",
        f"{case['id']}/evaluations",
        {"period": "2024-Q2", "rating": "needs_attention", "notes": "Kurang."},
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    second = post(
        api, "head", f"{case['id']}/evaluations", {"period": "2024-Q2", "rating": "active", "notes": "Aktif."}
    )
    listed = api.get("auditor", f"{CASES}/{case['id']}/evaluations").get_json()["items"]
    assert [(e["period"], e["rating"]) for e in listed] == [
        ("2024-Q2", "active"),
        ("2024-Q2", "needs_attention"),
    ]
    assert listed[0] == second.get_json()
    for period in ("2024-Q3", "2024-Q1", "2024-Q5"):
        assert_problem(
            post(
                api, "head", f"{case['id']}/evaluations", {"period": period, "rating": "active", "notes": "x"}
            ),
            422,
            "period",
        )
    assert_problem(
        post(
            api,
            "officer",
            f"{case['id']}/evaluations",
            {"period": "2024-Q2", "rating": "active", "notes": "x"},
        ),
        403,
    )


def test_bad_fostering_input_names_the_field_and_records_nothing(api: Api) -> None:
    case = fostered(api)
    before = api.case("auditor", case["id"])["version"]
    cases = [
        ("activities", {**ACTIVITY, "kind": "party"}, "kind"),
        ("activities", {**ACTIVITY, "participants": -1}, "participants"),
        ("activities", {**ACTIVITY, "held_on": "2024-04-15"}, "held_on"),  # before the designation
        ("activities", {**ACTIVITY, "held_on": "2024-06-02"}, "held_on"),  # in the future
        ("village-reports", report("2024-06-01T01:00:00"), "received_at"),  # no offset
        ("village-reports", report("2024-06-01T04:00:00Z"), "received_at"),  # in the future
        ("village-reports", {**report("2024-06-01T01:00:00Z"), "category": "gossip"}, "category"),
        ("village-reports", {**report("2024-06-01T01:00:00Z"), "extra": 1}, "extra"),
    ]
    for path, body, field in cases:
        assert_problem(post(api, "head", f"{case['id']}/{path}", body), 422, field)
    bad_officers = [
        {**OFFICERS, "officers": []},
        {**OFFICERS, "officers": ["sukabumi_officer"]},
        {**OFFICERS, "officers": ["nobody"]},
        {**OFFICERS, "decree_date": "2024-04-01"},
    ]
    for body in bad_officers:
        response = api.client.put(
            f"{CASES}/{case['id']}/officers", json=body, headers=api.world.headers("head")
        )
        assert_problem(response, 422)
    assert_problem(
        api.client.put(
            f"{CASES}/{case['id']}/officers", json=OFFICERS, headers=api.world.headers("section_head")
        ),
        403,
    )
    assert api.case("auditor", case["id"])["version"] == before
    assert api.get("auditor", f"{CASES}/{case['id']}/activities").get_json()["items"] == []


def test_a_stale_if_match_is_refused(api: Api) -> None:
    case = fostered(api)
    stale = post(
        api, "officer", f"{case['id']}/activities", ACTIVITY, **{"If-Match": etag(case["version"] - 1)}
    )
    assert_problem(stale, 412)
    fresh = post(api, "officer", f"{case['id']}/activities", ACTIVITY, **{"If-Match": etag(case["version"])})
    assert fresh.status_code == 201


def test_only_a_designated_village_is_fostered_and_a_revoked_one_no_more(api: Api) -> None:
    live = api.case_at("assessed", village_code="32.01.25.2007")
    body = assert_problem(post(api, "head", f"{live['id']}/activities", ACTIVITY), 409)
    assert body["rule"] == "not_designated"

    case = fostered(api)
    revoke = {"reason": "Desa tidak lagi aktif.", "decree_number": "W11-0531", "decree_date": "2024-05-31"}
    assert_problem(api.act("section_head", case["id"], "revoke", revoke), 403)
    revoked = api.acted("head", case["id"], "revoke", revoke)
    assert revoked["stage"] == "revoked" and revoked["allowed_actions"] == []
    assert revoked["fostering"]["revoked"]["decree_number"] == "W11-0531"
    body = assert_problem(post(api, "officer", f"{case['id']}/activities", ACTIVITY), 409)
    assert body["rule"] == "revoked"
    assert api.get("officer", "/api/v1/me/villages").get_json()["items"] == []
    # The village may be proposed again, from the start.
    again = api.proposed("officer", village_code=revoked["village"]["code"])
    assert again["stage"] == "proposed"
    # The register keeps the designation that was made.
    register = api.get("auditor", "/api/v1/designations").get_json()["items"]
    assert case["id"] in [row["candidacy_id"] for row in register]
