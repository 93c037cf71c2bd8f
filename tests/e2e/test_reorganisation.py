"""The 2026 reorganisation as a scenario: on 26 January 2026 a new office (Cibinong) takes over two
regencies of Bogor. Its live and designated cases move with them, Bogor loses them, Cibinong acts on
them; reports as of the day before read the same before and after; the register's authority
positions lead to the grants in the log. On both databases. (`pytest -s` prints the figures.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.app import Application
from tests.conftest import ACTION_BODIES, FakeClock, load_areas
from tests.e2e.conftest import API, CASES, Api, assert_problem

pytestmark = pytest.mark.usefixtures("registry")

DATED = {
    "coordinate": {**ACTION_BODIES["coordinate"], "held_on": "2025-02-10"},
    "socialize": {**ACTION_BODIES["socialize"], "held_on": "2025-02-20"},
    "assess": {**ACTION_BODIES["assess"], "assessed_on": "2025-03-20"},
    "designate": {**ACTION_BODIES["designate"], "decree_date": "2025-04-16"},
}
CIBINONG = {
    "code": "CIBINONG",
    "name": "Kantor Imigrasi Kelas II Non TPI Cibinong",
    "region_code": "JABAR",
    "regencies": ["32.01", "32.03"],
    "effective_on": "2026-01-26",
    "take_over": True,
}


def admin(api: Api, method: str, path: str, body: Any = None) -> Any:
    response = api.client.open(f"{API}{path}", method=method, json=body, headers=api.world.headers("admin"))
    assert response.status_code < 300, response.get_data(as_text=True)
    return response.get_json() if response.data else None


def reports(api: Api) -> dict[str, Any]:
    """The 2025 and 2026 reports as of 25 January 2026, as the auditor and the region's supervisor
    read them, and the register."""
    found = {}
    for who in ("auditor", "supervisor"):
        for year in (2025, 2026):
            response = api.get(who, f"{API}/reports/performance", year=year, as_of="2026-01-25")
            assert response.status_code == 200, response.get_data(as_text=True)
            found[f"{who} {year}"] = response.get_json()
    return found


def test_a_new_office_takes_over_two_regencies(api: Api, clock: FakeClock) -> None:
    clock.set("2025-02-03T03:00:00Z")
    admin(
        api, "PUT", "/offices/BOGOR", {"regencies": ["32.01", "32.03", "32.71"], "effective_on": "2025-02-03"}
    )
    for year, target in ((2025, 3), (2026, 2)):
        body = {"target": target, "basis": f"Surat Kanwil {year}"}
        assert (
            api.client.put(
                f"{API}/targets/BOGOR/{year}", json=body, headers=api.world.headers("supervisor")
            ).status_code
            == 200
        )

    clock.set("2025-04-16T03:00:00Z")
    designated = api.proposed("officer", village_code="32.01.25.2006")  # Tugu Selatan
    for action in ("coordinate", "socialize", "assess"):
        designated = api.acted("section_head", designated["id"], action, DATED[action])
    designated = api.acted("head", designated["id"], "designate", DATED["designate"])
    live = api.acted(
        "section_head",
        api.proposed("officer", village_code="32.01.25.2007")["id"],
        "coordinate",
        DATED["coordinate"],
    )
    stays = api.proposed("officer", village_code="32.71.01.1001")  # Batu Tulis, Kota Bogor
    closed = api.acted(
        "section_head",
        api.proposed("officer", village_code="32.01.25.2008")["id"],
        "withdraw",
        ACTION_BODIES["withdraw"],
    )

    clock.set("2026-01-26T01:00:00Z")  # 08:00 WIB, the day Cibinong opens
    before = reports(api)
    head_before = api.get("auditor", f"{API}/ledger").get_json()["position"]

    opened = admin(api, "POST", "/offices", CIBINONG)
    assert (opened["regencies"], opened["active"]) == (["32.01", "32.03"], True)
    assert admin(api, "GET", "/offices/BOGOR")["regencies"] == ["32.71"]
    admin(
        api,
        "POST",
        "/users",
        {
            "username": "kakan.cibinong",
            "name": "Kakan Cibinong",
            "role": "head_of_office",
            "office_code": "CIBINONG",
        },
    )
    admin(
        api,
        "POST",
        "/users",
        {
            "username": "kasi.cibinong",
            "name": "Kasi Cibinong",
            "role": "section_head",
            "office_code": "CIBINONG",
        },
    )
    cibinong = {
        u: admin(api, "POST", f"/users/{u}/tokens", {})["token"] for u in ("kakan.cibinong", "kasi.cibinong")
    }

    # What the log holds: the office, the office it took from, and each moving case's transfer.
    feed = api.get("auditor", f"{API}/events", after=head_before, limit=50).get_json()["items"]
    moves = [e for e in feed if e["type"] == "CandidacyTransferred"]
    assert [(e["stream_id"], e["type"]) for e in feed[:2]] == [
        ("office:CIBINONG", "OfficeOpened"),
        ("office:BOGOR", "OfficeChanged"),
    ]
    assert sorted(e["stream_id"] for e in moves) == sorted([designated["id"], live["id"]])
    assert {e["data"]["cause_position"] for e in moves} == {feed[0]["position"]}
    assert {(e["data"]["from_office"], e["data"]["to_office"], e["data"]["effective_on"]) for e in moves} == {
        ("BOGOR", "CIBINONG", "2026-01-26")
    }

    # Bogor reads the moved cases no more (404, as for any case out of scope); what stayed, it reads.
    for case in (designated, live):
        assert_problem(api.get("officer", f"{CASES}/{case['id']}"), 404)
        assert_problem(api.act("section_head", case["id"], "socialize", DATED["socialize"]), 404)
    assert api.case("officer", stays["id"])["office_code"] == "BOGOR"
    assert api.case("auditor", closed["id"])["office_code"] == "BOGOR"
    # Cibinong reads and acts.
    as_kasi = {"Authorization": f"Bearer {cibinong['kasi.cibinong']}"}
    moved = api.client.post(f"{CASES}/{live['id']}/socialize", json=DATED["socialize"], headers=as_kasi)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert (moved.get_json()["office_code"], moved.get_json()["stage"]) == ("CIBINONG", "socialized")
    as_kakan = {"Authorization": f"Bearer {cibinong['kakan.cibinong']}"}
    assert api.client.get(f"{CASES}/{designated['id']}", headers=as_kakan).get_json()["stage"] == "designated"

    # As of the day before, nothing changed; the register keeps the designation with Bogor.
    after = reports(api)
    assert after == before
    today = api.get("auditor", f"{API}/reports/performance", year=2026).get_json()
    rows = {row["office_code"]: row for row in today["offices"]}
    assert rows["CIBINONG"]["pipeline"]["socialized"] == 1 and rows["BOGOR"]["pipeline"]["socialized"] == 0
    assert "CIBINONG" not in {row["office_code"] for row in before["auditor 2026"]["offices"]}
    [row] = api.get("auditor", f"{API}/designations").get_json()["items"]
    assert (row["candidacy_id"], row["office_code"]) == (designated["id"], "BOGOR")

    # The authority chain of the designation, from the feed alone.
    events = {e["position"]: e for e in api.get("auditor", f"{API}/events", limit=500).get_json()["items"]}
    chain = []
    for signer in ("proposed_by", "assessed_by", "approved_by"):
        person = row[signer]
        act, grant = events[person["position"]], events[person["authority"]["position"]]
        assert act["actor"]["id"] == grant["stream_id"] == person["id"]
        assert grant["type"] in ("UserCreated", "UserChanged") and grant["data"]["role"] == person["role"]
        assert grant["position"] < act["position"]
        chain.append(
            f"{signer}: {act['type']} at {act['position']} by {act['actor']['username']}"
            f" ({act['actor']['role']}) <- {grant['type']} at {grant['position']}"
            f" by {grant['actor']['username']}:"
            f" role {grant['data']['role']}, office {grant['data']['office_code']}"
        )
    figures = {
        key: [
            (o["office_code"], o["region_code"], o["target"], o["designated"], o["pipeline"])
            for o in report["offices"]
        ]
        for key, report in before.items()
    }
    print("\nreports as of 2026-01-25 (office, region, target, designated, pipeline), before = after:")
    for key, offices in figures.items():
        print(f"  {key}: {json.dumps(offices)}")
    print("2026 report today:", json.dumps({c: r["pipeline"] for c, r in rows.items()}))
    print("authority chain of", row["village"]["name"], row["decree_number"], *chain, sep="\n  ")


def test_an_office_moved_to_another_region_takes_its_cases(api: Api) -> None:
    case = api.proposed("sukabumi_officer", village_code="32.02.01.2002", office_code="SUKABUMI")  # Tonjong
    assert api.get("supervisor", f"{CASES}/{case['id']}").status_code == 200
    moved = admin(api, "PUT", "/offices/SUKABUMI", {"region_code": "JATIM"})
    assert moved["region_name"] == "Kanwil Jawa Timur"

    assert_problem(api.get("supervisor", f"{CASES}/{case['id']}"), 404)
    assert api.case("jatim_supervisor", case["id"])["region_code"] == "JATIM"
    assert api.case("sukabumi_officer", case["id"])["office_code"] == "SUKABUMI"
    [transfer] = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"][1:]
    assert (transfer["type"], transfer["data"]["from_office"], transfer["data"]["to_office"]) == (
        "CandidacyTransferred",
        "SUKABUMI",
        "SUKABUMI",
    )


def test_a_region_counts_the_designations_made_while_the_office_belonged_to_it(
    api: Api, application: Application, clock: FakeClock
) -> None:
    """Sukabumi moves from Jawa Barat to Jawa Timur on 1 July 2025. Its designations count for it
    wherever it is; for the regions, by the decree date: a decree of 20 June recorded after the move
    still counts in Jawa Barat."""
    load_areas(application, [("32.02.01.2003", "Citepus"), ("32.02.01.2004", "Buniwangi")])
    clock.set("2025-02-03T03:00:00Z")
    admin(
        api,
        "POST",
        "/users",
        {
            "username": "kasi.sukabumi",
            "name": "Kasi Sukabumi",
            "role": "section_head",
            "office_code": "SUKABUMI",
        },
    )
    issued = admin(api, "POST", "/users/kasi.sukabumi/tokens", {"expires_in_days": 365})
    kasi = {"Authorization": f"Bearer {issued['token']}"}

    def designated(village_code: str, decree_date: str) -> None:
        case = api.proposed("sukabumi_officer", village_code=village_code, office_code="SUKABUMI")
        for action in ("coordinate", "socialize", "assess"):
            response = api.client.post(f"{CASES}/{case['id']}/{action}", json=DATED[action], headers=kasi)
            assert response.status_code == 200, response.get_data(as_text=True)
        api.acted(
            "sukabumi_head", case["id"], "designate", {**DATED["designate"], "decree_date": decree_date}
        )

    clock.set("2025-04-16T03:00:00Z")
    designated("32.02.01.2002", "2025-04-16")
    clock.set("2025-07-01T03:00:00Z")
    admin(api, "PUT", "/offices/SUKABUMI", {"region_code": "JATIM", "effective_on": "2025-07-01"})
    clock.set("2025-07-10T03:00:00Z")
    designated("32.02.01.2003", "2025-06-20")  # decreed in Jawa Barat, recorded in Jawa Timur
    clock.set("2025-08-01T03:00:00Z")
    designated("32.02.01.2004", "2025-08-01")

    def figures(who: str, as_of: str | None = None) -> dict[str, Any]:
        params = {"year": 2025} | ({"as_of": as_of} if as_of else {})
        response = api.get(who, f"{API}/reports/performance", **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        report = response.get_json()
        return {
            "offices": {o["office_code"]: (o["region_code"], o["designated"]) for o in report["offices"]},
            "regions": {
                r["region_code"]: (
                    r["offices"],
                    r["designated"],
                    r["by_quarter"],
                    r["median_days_to_designation"],
                )
                for r in report["regions"]
            },
            "national": report["national"] and report["national"]["designated"],
        }

    clock.set("2025-08-02T03:00:00Z")
    days = api.get("auditor", f"{API}/designations").get_json()["items"]
    days_by_village = {row["village"]["code"]: row["days_to_designation"] for row in days}
    jabar_days = sorted(days_by_village[v] for v in ("32.02.01.2002", "32.02.01.2003"))
    now = figures("auditor")
    assert now["offices"]["SUKABUMI"] == ("JATIM", 3)
    assert now["regions"]["JABAR"] == (1, 2, {"Q1": 0, "Q2": 2, "Q3": 0, "Q4": 0}, sum(jabar_days) / 2)
    assert now["regions"]["JATIM"] == (
        2,
        1,
        {"Q1": 0, "Q2": 0, "Q3": 1, "Q4": 0},
        days_by_village["32.02.01.2004"],
    )
    assert now["national"] == 3
    # As of the day of the last decree, from the register rather than the live counters: the same.
    assert figures("auditor", "2025-08-01") == now
    # As of the day before the move, Sukabumi was in Jawa Barat with one designation.
    before_move = figures("auditor", "2025-06-30")
    assert before_move["offices"]["SUKABUMI"] == ("JABAR", 1)
    assert before_move["regions"]["JABAR"][:2] == (2, 1) and before_move["regions"]["JATIM"][:2] == (1, 0)
    # Jawa Barat's supervisor no longer reads Sukabumi, but reads the region's two designations.
    supervisor = figures("supervisor")
    assert "SUKABUMI" not in supervisor["offices"]
    assert supervisor["regions"] == {"JABAR": now["regions"]["JABAR"]} and supervisor["national"] is None


def test_a_report_as_of_a_past_day_names_regions_as_they_were_named_that_day(
    api: Api, clock: FakeClock
) -> None:
    """In 2025 the Kanwil became the immigration service's own: a report as of a day before the
    rename keeps the old name, for the region and for its offices."""
    old_name = admin(api, "GET", "/offices/BOGOR")["region_name"]
    clock.set("2025-03-01T03:00:00Z")
    admin(api, "PUT", "/regions/JABAR", {"name": "Kanwil Ditjen Imigrasi Jawa Barat"})

    def names(as_of: str) -> set[str]:
        report = api.get("auditor", f"{API}/reports/performance", year=2025, as_of=as_of).get_json()
        return {r["region_name"] for r in report["regions"] if r["region_code"] == "JABAR"} | {
            o["region_name"] for o in report["offices"] if o["region_code"] == "JABAR"
        }

    assert names("2025-02-28") == {old_name} != {"Kanwil Ditjen Imigrasi Jawa Barat"}
    assert names("2025-03-01") == {"Kanwil Ditjen Imigrasi Jawa Barat"}
    assert admin(api, "GET", "/offices/BOGOR")["region_name"] == "Kanwil Ditjen Imigrasi Jawa Barat"
