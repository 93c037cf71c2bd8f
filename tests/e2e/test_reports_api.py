"""`/api/v1/reports/performance` and `/api/v1/designations` over HTTP, on both databases: the issue's
acceptance story, every figure of a report, who sees which rows, "as of" a past day, and CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from werkzeug.test import TestResponse

from domain.actors import Role
from events.schema import GENESIS_HASH
from service.application import Application
from tests.conftest import ACTION_BODIES, FakeClock
from tests.e2e.conftest import API, CASES, Api, assert_problem
from tests.e2e.dated import (
    DESIGNATIONS,
    PERFORMANCE,
    Desk,
    add_user,
    at,
    office_row,
    ok_json,
    parse_csv,
    register,
    report,
    start,
    target_set,
)

BASIS = "Keputusan Menteri Hukum dan HAM M.HH-01.OT.01.01 Tahun 2024"
DECREE = "W11.IMI.IMI.4-UM.01.01-0416"
OFFICE_FIELDS = {
    "office_code",
    "office_name",
    "region_code",
    "target",
    "designated",
    "achievement_pct",
    "rating",
    "by_quarter",
    "pipeline",
    "rejected",
    "withdrawn",
    "median_days_to_designation",
}
ZERO_QUARTERS = {"Q1": 0, "Q2": 0, "Q3": 0, "Q4": 0}
EMPTY_PIPELINE = {"proposed": 0, "coordinated": 0, "socialized": 0, "assessed": 0}
REPORT_CSV_COLUMNS = [
    "level",
    "code",
    "name",
    "region_code",
    "target",
    "designated",
    "achievement_pct",
    "rating",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "proposed",
    "coordinated",
    "socialized",
    "assessed",
    "rejected",
    "withdrawn",
    "median_days_to_designation",
    "year",
    "as_of",
    "as_of_basis",
    "ledger_position",
    "ledger_digest",
]
PEOPLE = ("proposed_by", "coordinated_by", "socialized_by", "assessed_by", "approved_by")
# The register's CSV: these columns, then each signer's (REGISTER_PEOPLE_PARTS, possibly followed by
# `<signer>_authority_position`), then `days_to_designation`.
REGISTER_CSV_LEADING_COLUMNS = [
    "candidacy_id",
    "village_code",
    "village_name",
    "district",
    "regency",
    "province",
    "office_code",
    "region_code",
    "decree_number",
    "decree_date",
    "quarter",
    "fostering_officers",
]
REGISTER_PEOPLE_PARTS = ("username", "name", "role", "at")


def person(api: Api, username: str, role: str, at: str, position: int) -> dict[str, Any]:
    """A signer of the register as it names them: who, with the user's stable id, when, and the
    position of the event they signed."""
    return {
        "username": username,
        "name": username.replace("_", " ").title(),
        "role": role,
        "id": api.world.actors[username].id,
        "at": at,
        "position": position,
    }


def signer(entry: dict[str, Any]) -> dict[str, Any]:
    """A signer of a register row without the authority they signed on (checked elsewhere)."""
    return {k: v for k, v in entry.items() if k != "authority"}


def without_as_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("as_of", "as_of_basis")}


def events_of(api: Api, case_id: str) -> list[dict[str, Any]]:
    return ok_json(api.get("auditor", f"{CASES}/{case_id}/events"))["items"]


# ---- the acceptance story ----------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_bogor_target_three_one_designation_in_q2(api: Api, clock: FakeClock) -> None:
    # The log opens with the accounts of the staff (1 January 2023).
    opened = ok_json(api.get("auditor", f"{API}/ledger"))
    assert opened["position"] > 0

    # January: the supervisor of Kanwil Jawa Barat sets Bogor's 2024 target.
    start(clock, dt.date(2024, 1, 10))
    target = target_set(api, "supervisor", "BOGOR", 2024, 3, BASIS)
    assert (target["target"], target["basis"]) == (3, BASIS)

    # February to April: Tugu Selatan from proposal to decree, each step on its own day.
    at(clock, dt.date(2024, 2, 12))
    case = api.proposed("officer")
    for day, username, action in [
        (dt.date(2024, 2, 19), "section_head", "coordinate"),
        (dt.date(2024, 2, 21), "section_head", "socialize"),
        (dt.date(2024, 3, 20), "section_head", "assess"),
        (dt.date(2024, 4, 16), "head", "designate"),
    ]:
        at(clock, day)
        case = api.acted(username, case["id"], action)
    assert case["stage"] == "designated"
    history = events_of(api, case["id"])
    assessed_event, designated_event = history[-2], history[-1]
    assert designated_event["type"] == "CandidacyDesignated"
    assert designated_event["recorded_at"] == "2024-04-16T03:00:00.000000Z"

    # The 2024 report: target 3, one designated in Q2, 33.3 %, Sangat Kurang.
    now = report(api, "supervisor", year=2024)
    assert now["year"] == 2024
    assert (now["as_of"], now["as_of_basis"]) == ("2024-04-16", "today")
    bogor = office_row(now, "BOGOR")
    assert bogor == {
        "office_code": "BOGOR",
        "office_name": "Kantor Imigrasi Kelas I Non TPI Bogor",
        "region_code": "JABAR",
        "region_name": "Kanwil Jawa Barat",
        "target": 3,
        "designated": 1,
        "achievement_pct": 33.3,
        "rating": "Sangat Kurang",
        "by_quarter": {"Q1": 0, "Q2": 1, "Q3": 0, "Q4": 0},
        "pipeline": EMPTY_PIPELINE,
        "rejected": 0,
        "withdrawn": 0,
        "median_days_to_designation": 64.0,  # 12 February to 16 April
    }
    # The report names the ledger it was read at: the designation, the newest event of the log.
    assert now["ledger"] == {"position": designated_event["position"], "digest": designated_event["hash"]}

    # The register names the approver, and everyone before.
    [row] = register(api, "supervisor", year=2024)
    assert row["candidacy_id"] == case["id"]
    assert row["village"] == {
        "code": "32.01.25.2006",
        "name": "Tugu Selatan",
        "district": "Cisarua",
        "regency": "Kabupaten Bogor",
        "province": "Jawa Barat",
    }
    assert (row["office_code"], row["region_code"]) == ("BOGOR", "JABAR")
    assert (row["decree_number"], row["decree_date"], row["quarter"]) == (DECREE, "2024-04-16", "Q2")
    assert row["fostering_officers"] == ["Rina Marlina"]
    positions = [e["position"] for e in history]
    assert signer(row["approved_by"]) == person(
        api, "head", "head_of_office", "2024-04-16T03:00:00.000000Z", positions[4]
    )
    assert signer(row["assessed_by"]) == person(
        api, "section_head", "section_head", "2024-03-20T03:00:00.000000Z", positions[3]
    )
    assert signer(row["socialized_by"]) == person(
        api, "section_head", "section_head", "2024-02-21T03:00:00.000000Z", positions[2]
    )
    assert signer(row["coordinated_by"]) == person(
        api, "section_head", "section_head", "2024-02-19T03:00:00.000000Z", positions[1]
    )
    assert signer(row["proposed_by"]) == person(
        api, "officer", "officer", "2024-02-12T03:00:00.000000Z", positions[0]
    )
    assert row["days_to_designation"] == 64

    # As of the day before the designation was recorded: nothing designated, the case assessed, and
    # the ledger as it stood that evening.
    before = report(api, "supervisor", year=2024, as_of="2024-04-15")
    assert before["as_of"] == "2024-04-15"
    assert before["ledger"] == {"position": assessed_event["position"], "digest": assessed_event["hash"]}
    bogor_before = office_row(before, "BOGOR")
    assert (bogor_before["target"], bogor_before["designated"]) == (3, 0)
    assert (bogor_before["achievement_pct"], bogor_before["rating"]) == (0.0, "Sangat Kurang")
    assert bogor_before["by_quarter"] == ZERO_QUARTERS
    assert bogor_before["pipeline"] == {**EMPTY_PIPELINE, "assessed": 1}
    assert bogor_before["median_days_to_designation"] is None

    # As of the day it was recorded: the report of now.
    that_day = report(api, "supervisor", year=2024, as_of="2024-04-16")
    assert (that_day["as_of"], that_day["as_of_basis"]) == ("2024-04-16", "requested")
    assert without_as_of(that_day) == without_as_of(now)

    # Before the target was set there was no target, and the ledger held the accounts alone; before
    # they were opened, it was empty.
    first_event = history[0]
    on_target_day = office_row(report(api, "supervisor", year=2024, as_of="2024-01-10"), "BOGOR")
    assert on_target_day["target"] == 3
    assert report(api, "supervisor", year=2024, as_of="2024-01-10")["ledger"] == {
        "position": first_event["position"] - 1,
        "digest": first_event["prev_hash"],
    }
    assert first_event["position"] - 1 == opened["position"] + 1  # the target, then the proposal
    accounts_only = report(api, "supervisor", year=2024, as_of="2024-01-09")
    assert accounts_only["ledger"] == {"position": opened["position"], "digest": opened["digest"]}
    assert office_row(accounts_only, "BOGOR")["target"] is None
    assert office_row(accounts_only, "BOGOR")["achievement_pct"] is None
    empty = report(api, "supervisor", year=2022, as_of="2022-12-31")
    assert empty["ledger"] == {"position": 0, "digest": GENESIS_HASH}
    assert office_row(empty, "BOGOR")["target"] is None


# ---- three offices, two regions ----------------------------------------------------------------


@pytest.fixture
def three_offices(api: Api, application: Application, clock: FakeClock) -> dict[str, Any]:
    """Targets for 2024 and a year of cases in BOGOR, SUKABUMI (JABAR) and SURABAYA (JATIM).

    Designated: BOGOR after 10 (Q1) and 40 days (Q2), SUKABUMI after 20 (Q1), SURABAYA after 40 (Q2).
    BOGOR's pipeline: 1 proposed, 1 coordinated, 2 socialized (one returned), 1 assessed; 1 rejected,
    1 withdrawn. SUKABUMI: 1 proposed. SURABAYA: 1 withdrawn.
    """
    add_user(api, application, "sukabumi_section_head", Role.SECTION_HEAD, "SUKABUMI", None)
    add_user(api, application, "surabaya_head", Role.HEAD_OF_OFFICE, "SURABAYA", None)
    desk = Desk(api, clock)

    start(clock, dt.date(2024, 1, 5))
    target_set(api, "supervisor", "BOGOR", 2024, 4, BASIS)
    target_set(api, "supervisor", "SUKABUMI", 2024, 1, BASIS)
    target_set(api, "jatim_supervisor", "SURABAYA", 2024, 5, "Perjanjian Kinerja Kanwil Jatim 2024")
    target_set(api, "supervisor", "BOGOR", 2023, 2, "Perjanjian Kinerja 2023")

    at(clock, dt.date(2024, 3, 1))
    bogor = [desk.propose("officer", "BOGOR", n)["id"] for n in range(1, 10)]
    sukabumi = [desk.propose("sukabumi_officer", "SUKABUMI", n)["id"] for n in (1, 2)]
    surabaya = [desk.propose("surabaya_section_head", "SURABAYA", n)["id"] for n in (1, 2)]

    def through(case_id: str, staff: str, head: str, stages: int = 3) -> None:
        for action in ("coordinate", "socialize", "assess")[:stages]:
            desk.act(staff, case_id, action)
        if head:
            desk.act(head, case_id, "designate")

    at(clock, dt.date(2024, 3, 11))
    through(bogor[0], "section_head", "head")
    at(clock, dt.date(2024, 3, 21))
    through(sukabumi[0], "sukabumi_section_head", "sukabumi_head")
    at(clock, dt.date(2024, 4, 10))
    through(bogor[1], "section_head", "head")
    through(surabaya[0], "surabaya_section_head", "surabaya_head")
    through(bogor[3], "section_head", "", stages=1)
    through(bogor[4], "section_head", "", stages=2)
    through(bogor[5], "section_head", "", stages=3)
    through(bogor[6], "section_head", "", stages=3)
    desk.act("head", bogor[6], "return")
    through(bogor[7], "section_head", "", stages=3)
    desk.act("head", bogor[7], "reject")
    desk.act("section_head", bogor[8], "withdraw")
    desk.act("surabaya_section_head", surabaya[1], "withdraw")
    return {"bogor": bogor, "sukabumi": sukabumi, "surabaya": surabaya, "last": surabaya[1]}


BOGOR_2024 = {
    "office_code": "BOGOR",
    "office_name": "Kantor Imigrasi Kelas I Non TPI Bogor",
    "region_code": "JABAR",
    "region_name": "Kanwil Jawa Barat",
    "target": 4,
    "designated": 2,
    "achievement_pct": 50.0,
    "rating": "Sangat Kurang",
    "by_quarter": {"Q1": 1, "Q2": 1, "Q3": 0, "Q4": 0},
    "pipeline": {"proposed": 1, "coordinated": 1, "socialized": 2, "assessed": 1},
    "rejected": 1,
    "withdrawn": 1,
    "median_days_to_designation": 25.0,
}
SUKABUMI_2024 = {
    "office_code": "SUKABUMI",
    "office_name": "Kantor Imigrasi Kelas II Non TPI Sukabumi",
    "region_code": "JABAR",
    "region_name": "Kanwil Jawa Barat",
    "target": 1,
    "designated": 1,
    "achievement_pct": 100.0,
    "rating": "Sangat Baik",
    "by_quarter": {"Q1": 1, "Q2": 0, "Q3": 0, "Q4": 0},
    "pipeline": {**EMPTY_PIPELINE, "proposed": 1},
    "rejected": 0,
    "withdrawn": 0,
    "median_days_to_designation": 20.0,
}
SURABAYA_2024 = {
    "office_code": "SURABAYA",
    "office_name": "Kantor Imigrasi Kelas I TPI Surabaya",
    "region_code": "JATIM",
    "region_name": "Kanwil Jawa Timur",
    "target": 5,
    "designated": 1,
    "achievement_pct": 20.0,
    "rating": "Sangat Kurang",
    "by_quarter": {"Q1": 0, "Q2": 1, "Q3": 0, "Q4": 0},
    "pipeline": EMPTY_PIPELINE,
    "rejected": 0,
    "withdrawn": 1,
    "median_days_to_designation": 40.0,
}
JABAR_2024 = {
    "region_code": "JABAR",
    "region_name": "Kanwil Jawa Barat",
    "offices": 2,
    "target": 5,
    "designated": 3,
    "achievement_pct": 60.0,
    "rating": "Kurang",
    "by_quarter": {"Q1": 2, "Q2": 1, "Q3": 0, "Q4": 0},
    "pipeline": {"proposed": 2, "coordinated": 1, "socialized": 2, "assessed": 1},
    "rejected": 1,
    "withdrawn": 1,
    # Of the region's three cases (10, 20 and 40 days), not a mean of the offices' medians.
    "median_days_to_designation": 20.0,
}
JATIM_2024 = {
    "region_code": "JATIM",
    "region_name": "Kanwil Jawa Timur",
    "offices": 1,
    "target": 5,
    "designated": 1,
    "achievement_pct": 20.0,
    "rating": "Sangat Kurang",
    "by_quarter": {"Q1": 0, "Q2": 1, "Q3": 0, "Q4": 0},
    "pipeline": EMPTY_PIPELINE,
    "rejected": 0,
    "withdrawn": 1,
    "median_days_to_designation": 40.0,
}
NATIONAL_2024 = {
    "offices": 3,
    "target": 10,
    "designated": 4,
    "achievement_pct": 40.0,
    "rating": "Sangat Kurang",
    "by_quarter": {"Q1": 2, "Q2": 2, "Q3": 0, "Q4": 0},
    "pipeline": {"proposed": 2, "coordinated": 1, "socialized": 2, "assessed": 1},
    "rejected": 1,
    "withdrawn": 2,
    "median_days_to_designation": 30.0,
}


@pytest.mark.usefixtures("three_offices")
def test_the_auditor_sees_every_office_region_and_the_nation(api: Api) -> None:
    body = report(api, "auditor", year=2024)
    assert body["offices"] == [BOGOR_2024, SUKABUMI_2024, SURABAYA_2024]
    assert body["regions"] == [JABAR_2024, JATIM_2024]
    assert body["national"] == NATIONAL_2024
    for row in body["offices"]:
        assert set(row) >= OFFICE_FIELDS


# (reader, query, the office rows, the region rows) of the 2024 report
SCOPES: list[tuple[str, dict[str, str], list[dict[str, Any]], list[dict[str, Any]]]] = [
    ("officer", {}, [BOGOR_2024], []),
    ("head", {"region": "JABAR"}, [BOGOR_2024], []),
    ("officer", {"region": "JATIM"}, [], []),
    ("sukabumi_officer", {}, [SUKABUMI_2024], []),
    # SURABAYA is the only office of JATIM: its staff read the whole region.
    ("surabaya_section_head", {}, [SURABAYA_2024], [JATIM_2024]),
    ("supervisor", {}, [BOGOR_2024, SUKABUMI_2024], [JABAR_2024]),
    ("supervisor", {"region": "JABAR"}, [BOGOR_2024, SUKABUMI_2024], [JABAR_2024]),
    ("supervisor", {"region": "JATIM"}, [], []),
    ("jatim_supervisor", {}, [SURABAYA_2024], [JATIM_2024]),
    ("auditor", {"region": "JABAR"}, [BOGOR_2024, SUKABUMI_2024], [JABAR_2024]),
    ("auditor", {"region": "JATIM"}, [SURABAYA_2024], [JATIM_2024]),
    ("auditor", {"region": "PAPUA"}, [], []),
]


@pytest.mark.usefixtures("three_offices")
def test_each_reader_sees_its_scope_and_only_whole_regions(api: Api, subtests: pytest.Subtests) -> None:
    ledger = report(api, "auditor", year=2024)["ledger"]
    for username, params, offices, regions in SCOPES:
        with subtests.test(username=username, **params):
            body = report(api, username, year=2024, **params)
            assert body["offices"] == offices
            assert body["regions"] == regions
            # The nation only for whom reads all of it and asked for all of it.
            assert body["national"] is None
            # Narrowing never changes the figures, and every reader reads the same ledger.
            assert body["ledger"] == ledger


@pytest.mark.usefixtures("three_offices")
def test_the_admin_reads_no_report_and_a_stranger_nothing(api: Api) -> None:
    for path in (PERFORMANCE, DESIGNATIONS):
        assert_problem(api.get("admin", path), 403)
        assert_problem(api.get("admin", path, format="csv"), 403)
        response = api.client.get(path)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.usefixtures("three_offices")
def test_an_office_without_a_target_has_no_achievement_and_no_rating(api: Api) -> None:
    # 2025: no target anywhere; nothing designated by a 2025 decree; the pipeline is today's.
    body = report(api, "auditor", year=2025)
    for row in body["offices"]:
        assert (row["target"], row["designated"], row["achievement_pct"], row["rating"]) == (
            None,
            0,
            None,
            None,
        )
        assert row["by_quarter"] == ZERO_QUARTERS
        assert row["median_days_to_designation"] is None
    assert office_row(body, "BOGOR")["pipeline"] == BOGOR_2024["pipeline"]
    assert body["national"]["target"] is None
    assert body["national"]["rating"] is None

    # 2023, as it closed: no target yet (the 2023 target was set on 5 January 2024).
    closed = report(api, "supervisor", year=2023)
    assert (closed["as_of"], closed["as_of_basis"]) == ("2023-12-31", "year_end")
    assert office_row(closed, "BOGOR")["target"] is None
    # 2023 as of today: BOGOR had a target, nothing was designated or closed that year.
    old = report(api, "supervisor", year=2023, as_of="2024-04-10")
    bogor = office_row(old, "BOGOR")
    assert (bogor["target"], bogor["designated"], bogor["achievement_pct"], bogor["rating"]) == (
        2,
        0,
        0.0,
        "Sangat Kurang",
    )
    assert (bogor["rejected"], bogor["withdrawn"]) == (0, 0)
    assert office_row(old, "SUKABUMI")["target"] is None
    # The region's target is the sum of the targets set.
    assert old["regions"][0]["target"] == 2


def test_a_target_of_zero_has_no_achievement(api: Api, clock: FakeClock) -> None:
    target_set(api, "supervisor", "BOGOR", 2024, 0, "Tidak ada target tahun ini")
    bogor = office_row(report(api, "supervisor", year=2024), "BOGOR")
    assert (bogor["target"], bogor["achievement_pct"], bogor["rating"]) == (0, None, None)


def test_the_current_target_is_the_last_one_set(api: Api, clock: FakeClock) -> None:
    start(clock, dt.date(2024, 1, 2))
    target_set(api, "supervisor", "BOGOR", 2024, 4, BASIS)
    at(clock, dt.date(2024, 2, 1))
    target_set(api, "supervisor", "BOGOR", 2024, 8, "Revisi")
    assert office_row(report(api, "officer", year=2024), "BOGOR")["target"] == 8
    assert office_row(report(api, "officer", year=2024, as_of="2024-01-31"), "BOGOR")["target"] == 4
    assert office_row(report(api, "officer", year=2024, as_of="2024-02-01"), "BOGOR")["target"] == 8


def test_the_median_takes_every_designation_of_an_office_in_one_quarter(api: Api, clock: FakeClock) -> None:
    desk = Desk(api, clock)
    proposed_on = [dt.date(2024, 1, 10), dt.date(2024, 1, 20), dt.date(2024, 2, 9), dt.date(2024, 2, 19)]
    start(clock, proposed_on[0])
    cases = []
    for number, day in enumerate(proposed_on, start=1):
        at(clock, day)
        cases.append(desk.propose("officer", "BOGOR", number)["id"])
    at(clock, dt.date(2024, 2, 29))
    for case_id in cases:
        for action in ("coordinate", "socialize", "assess"):
            desk.act("section_head", case_id, action)
        desk.act("head", case_id, "designate")

    bogor = office_row(report(api, "supervisor", year=2024), "BOGOR")
    # All four decreed on 29 February, in Q1: 50, 40, 20 and 10 days; the median of four is a mean.
    assert (bogor["designated"], bogor["by_quarter"]["Q1"]) == (4, 4)
    assert bogor["median_days_to_designation"] == 30.0
    early = office_row(report(api, "supervisor", year=2024, as_of="2024-02-28"), "BOGOR")
    assert (early["designated"], early["median_days_to_designation"]) == (0, None)


def test_closing_counts_by_the_wib_year_it_was_recorded_and_designation_by_decree_year(
    api: Api, application: Application, clock: FakeClock
) -> None:
    desk = Desk(api, clock)
    start(clock, dt.date(2023, 12, 20))
    cases = [desk.propose("officer", "BOGOR", n)["id"] for n in range(1, 6)]
    for case_id in cases[:2] + cases[4:]:
        for action in ("coordinate", "socialize", "assess"):
            desk.act("section_head", case_id, action)

    # 31 December, late evening in Jakarta.
    at(clock, dt.date(2023, 12, 31), hour=23, minute=30)
    desk.act("head", cases[0], "reject")
    desk.act("section_head", cases[2], "withdraw")
    # Ten past midnight in Jakarta, still 31 December in UTC: the new year.
    at(clock, dt.date(2024, 1, 1), hour=0, minute=10)
    assert clock.now.isoformat().startswith("2023-12-31T17:10")
    desk.act("head", cases[1], "reject")
    desk.act("section_head", cases[3], "withdraw")
    # 2 January: a designation by a decree dated the last working day of 2023.
    at(clock, dt.date(2024, 1, 2))
    desk.act("head", cases[4], "designate", decree_date="2023-12-29", decree_number="SK-2023-12-29")

    def closed(year: int, **params: str) -> tuple[int, int, int, dict[str, int]]:
        row = office_row(report(api, "officer", year=year, **params), "BOGOR")
        return row["rejected"], row["withdrawn"], row["designated"], row["by_quarter"]

    q4 = {**ZERO_QUARTERS, "Q4": 1}
    # 2023 by default as it closed: the decree of 29 December was recorded in 2024.
    assert closed(2023) == (1, 1, 0, ZERO_QUARTERS)
    assert closed(2023, as_of="2024-01-02") == (1, 1, 1, q4)
    assert closed(2024) == (1, 1, 0, ZERO_QUARTERS)
    # As it stood at the end of 2023: the late-evening closings, but not yet the decree.
    assert closed(2023, as_of="2023-12-31") == (1, 1, 0, ZERO_QUARTERS)
    assert closed(2024, as_of="2023-12-31") == (0, 0, 0, ZERO_QUARTERS)
    # As of a day before the year began, nothing was closed in it: not minus what was closed since.
    assert closed(2024, as_of="2023-12-30") == (0, 0, 0, ZERO_QUARTERS)
    assert closed(2024, as_of="2024-01-01") == (1, 1, 0, ZERO_QUARTERS)
    assert closed(2023, as_of="2024-01-02") == (1, 1, 1, q4)

    # The register files it under the decree's year.
    assert [r["decree_date"] for r in register(api, "officer", year=2023)] == ["2023-12-29"]
    assert register(api, "officer", year=2024) == []
    [row] = register(api, "officer")
    assert row["quarter"] == "Q4"
    assert row["days_to_designation"] == 9


@pytest.mark.usefixtures("three_offices")
def test_the_pipeline_as_of_a_past_day(api: Api) -> None:
    # 1 March: thirteen proposals; by 21 March BOGOR's first and SUKABUMI's first were designated.
    first = report(api, "auditor", year=2024, as_of="2024-03-01")
    assert office_row(first, "BOGOR")["pipeline"] == {**EMPTY_PIPELINE, "proposed": 9}
    assert office_row(first, "SURABAYA")["pipeline"] == {**EMPTY_PIPELINE, "proposed": 2}
    assert first["national"]["pipeline"] == {**EMPTY_PIPELINE, "proposed": 13}
    assert first["national"]["designated"] == 0

    march = report(api, "auditor", year=2024, as_of="2024-03-31")
    assert office_row(march, "BOGOR")["pipeline"] == {**EMPTY_PIPELINE, "proposed": 8}
    assert office_row(march, "BOGOR")["designated"] == 1
    assert office_row(march, "SUKABUMI")["designated"] == 1
    assert march["national"]["by_quarter"] == {**ZERO_QUARTERS, "Q1": 2}
    assert march["national"]["median_days_to_designation"] == 15.0
    assert march["national"]["withdrawn"] == 0


def the_log(api: Api) -> list[dict[str, Any]]:
    """Every event of the log, page after page, as the auditor reads it."""
    items: list[dict[str, Any]] = []
    page = ok_json(api.get("auditor", f"{API}/events", limit=500))
    while True:
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        page = ok_json(api.get("auditor", f"{API}/events", limit=500, cursor=page["next_cursor"]))


def test_a_report_names_the_newest_event_of_the_log(api: Api, three_offices: dict[str, Any]) -> None:
    newest = events_of(api, three_offices["last"])[-1]
    log = the_log(api)
    assert log[-1]["event_id"] == newest["event_id"]
    for username in ("officer", "supervisor", "auditor"):
        assert report(api, username, year=2024)["ledger"] == {
            "position": newest["position"],
            "digest": newest["hash"],
        }
    # The figures of a year to come read the same log; those of a past year the log as the year closed.
    assert report(api, "auditor", year=2025)["ledger"]["position"] == newest["position"]
    # 2023 closed (31 December, 24:00 WIB) with the world recorded in it (its regions, offices and
    # accounts, by the command line), and nothing else.
    closed_2023 = [e for e in log if e["recorded_at"] < "2023-12-31T17:00:00.000000Z"]
    assert closed_2023 and {e["stream_type"] for e in closed_2023} == {"region", "office", "user"}
    assert {e["actor"]["username"] for e in closed_2023} == {"cli"}
    assert closed_2023 == log[: len(closed_2023)]
    assert report(api, "auditor", year=2023)["ledger"] == {
        "position": closed_2023[-1]["position"],
        "digest": closed_2023[-1]["hash"],
    }


def test_the_year_defaults_to_this_year_or_that_of_as_of(api: Api, clock: FakeClock) -> None:
    clock.set("2024-06-01T03:00:00Z")
    target_set(api, "supervisor", "BOGOR", 2024, 3, BASIS)
    body = report(api, "officer")
    assert (body["year"], body["as_of"], body["as_of_basis"]) == (2024, "2024-06-01", "today")
    assert office_row(body, "BOGOR")["target"] == 3
    assert report(api, "officer", as_of="2023-07-01")["year"] == 2023


def test_a_past_year_reads_as_it_closed_on_31_december(api: Api, clock: FakeClock) -> None:
    """Without `as_of`, a past year's report is the one as of its last day: what happens in the new
    year (a proposal, a step, a closing, a late target) changes it no more."""
    desk = Desk(api, clock)
    start(clock, dt.date(2023, 11, 1))
    target_set(api, "supervisor", "BOGOR", 2023, 2, BASIS)
    designated, waiting = (desk.propose("officer", "BOGOR", n)["id"] for n in (1, 2))
    at(clock, dt.date(2023, 12, 11))
    for action in ("coordinate", "socialize", "assess"):
        desk.act("section_head", designated, action)
    desk.act("head", designated, "designate")
    desk.act("section_head", waiting, "coordinate")

    at(clock, dt.date(2024, 1, 15))
    desk.propose("officer", "BOGOR", 3)
    desk.act("section_head", waiting, "withdraw")
    target_set(api, "supervisor", "SUKABUMI", 2023, 5, BASIS)

    default = report(api, "auditor", year=2023)
    year_end = report(api, "auditor", year=2023, as_of="2023-12-31")
    assert (default["as_of"], default["as_of_basis"]) == ("2023-12-31", "year_end")
    assert year_end["as_of_basis"] == "requested"
    assert without_as_of(default) == without_as_of(year_end)
    bogor = office_row(default, "BOGOR")
    assert (bogor["target"], bogor["designated"], bogor["withdrawn"]) == (2, 1, 0)
    assert bogor["pipeline"] == {**EMPTY_PIPELINE, "coordinated": 1}
    assert office_row(default, "SUKABUMI")["target"] is None
    # As of today the same year reads differently: the pipeline and the late target are today's.
    today = report(api, "auditor", year=2023, as_of="2024-01-15")
    assert office_row(today, "BOGOR")["pipeline"] == {**EMPTY_PIPELINE, "proposed": 1}
    assert office_row(today, "SUKABUMI")["target"] == 5

    # The CSV alike, but for the basis it names.
    _, default_rows = parse_csv(api.get("auditor", PERFORMANCE, year=2023, format="csv"))
    _, year_end_rows = parse_csv(api.get("auditor", PERFORMANCE, year=2023, as_of="2023-12-31", format="csv"))
    assert {r["as_of_basis"] for r in default_rows} == {"year_end"}
    assert [{**r, "as_of_basis": ""} for r in default_rows] == [
        {**r, "as_of_basis": ""} for r in year_end_rows
    ]


def test_this_year_and_years_to_come_read_as_of_today(api: Api, clock: FakeClock) -> None:
    clock.set("2024-06-01T03:00:00Z")  # 10:00 in Jakarta
    target_set(api, "supervisor", "BOGOR", 2025, 6, BASIS)
    api.proposed("officer", village_code="32.01.25.2006", village_name="Tugu Selatan")
    for year in (2024, 2025):
        body = report(api, "supervisor", year=year)
        assert (body["as_of"], body["as_of_basis"]) == ("2024-06-01", "today")
        assert office_row(body, "BOGOR")["pipeline"] == {**EMPTY_PIPELINE, "proposed": 1}
    assert office_row(report(api, "supervisor", year=2025), "BOGOR")["target"] == 6


def test_the_report_document_names_the_basis(api: Api) -> None:
    spec = api.client.get("/openapi.json").get_json()
    schema = spec["components"]["schemas"]["PerformanceReport"]
    assert {"as_of", "as_of_basis"} <= set(schema["required"])
    assert schema["properties"]["as_of_basis"]["enum"] == ["requested", "year_end", "today"]


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xml"},
        {"format": "CSV "},
        {"as_of": "2024-06-02"},
        {"as_of": "2024-13-01"},
        {"as_of": "yesterday"},
        {"year": "this"},
        {"year": 1899},
        {"region": "jabar"},
        {"region": "JA BAR"},
    ],
)
def test_a_bad_report_query_is_a_422(api: Api, params: dict[str, str]) -> None:
    # The clock says 1 June 2024, 10:00 in Jakarta: 2 June lies in the future.
    body = assert_problem(api.get("auditor", PERFORMANCE, **params), 422, *params)
    assert body["type"].endswith("validation")


def test_as_of_today_is_allowed(api: Api) -> None:
    assert report(api, "auditor", as_of="2024-06-01")["as_of"] == "2024-06-01"


@pytest.mark.parametrize("params", [{"format": "xml"}, {"year": "this"}, {"cursor": "nope"}, {"limit": 0}])
def test_a_bad_register_query_is_a_422(api: Api, params: dict[str, str]) -> None:
    assert_problem(api.get("auditor", DESIGNATIONS, **params), 422, *params)


# ---- the register ------------------------------------------------------------------------------


# (reader, query, the offices of the rows in decree order)
REGISTER_SCOPES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("auditor", {}, ["BOGOR", "SUKABUMI", "BOGOR", "SURABAYA"]),
    ("auditor", {"year": 2024}, ["BOGOR", "SUKABUMI", "BOGOR", "SURABAYA"]),
    ("auditor", {"year": 2023}, []),
    ("auditor", {"office": "BOGOR"}, ["BOGOR", "BOGOR"]),
    ("auditor", {"region": "JATIM"}, ["SURABAYA"]),
    ("auditor", {"region": "JABAR", "office": "SURABAYA"}, []),
    ("supervisor", {}, ["BOGOR", "SUKABUMI", "BOGOR"]),
    ("supervisor", {"office": "SURABAYA"}, []),
    ("supervisor", {"region": "JATIM"}, []),
    ("jatim_supervisor", {}, ["SURABAYA"]),
    ("officer", {}, ["BOGOR", "BOGOR"]),
    ("officer", {"office": "SUKABUMI"}, []),
    ("sukabumi_head", {}, ["SUKABUMI"]),
]


@pytest.mark.usefixtures("three_offices")
def test_the_register_by_scope_and_filter_in_decree_order(api: Api, subtests: pytest.Subtests) -> None:
    for username, params, expected in REGISTER_SCOPES:
        with subtests.test(username=username, **params):
            rows = register(api, username, **params)
            assert [r["office_code"] for r in rows] == expected
            dates = [r["decree_date"] for r in rows]
            assert dates == sorted(dates)


def test_every_register_row_names_the_decree_and_five_signatures(api: Api, three_offices: dict) -> None:
    rows = register(api, "auditor")
    by_id = {r["candidacy_id"]: r for r in rows}
    assert set(by_id) == {
        three_offices["bogor"][0],
        three_offices["bogor"][1],
        three_offices["sukabumi"][0],
        three_offices["surabaya"][0],
    }
    surabaya = by_id[three_offices["surabaya"][0]]
    assert surabaya["village"]["code"] == "35.78.01.1001"
    assert surabaya["village"]["name"] == "Desa Surabaya 1"
    assert (surabaya["decree_date"], surabaya["quarter"], surabaya["days_to_designation"]) == (
        "2024-04-10",
        "Q2",
        40,
    )
    assert surabaya["decree_number"] == "W11.IMI.IMI.4-UM.01.01-2024-04-10"
    assert surabaya["fostering_officers"] == ["Rina Marlina", "Asep Saepudin"]
    signed = events_of(api, three_offices["surabaya"][0])
    assert [e["type"] for e in signed] == [
        "CandidacyProposed",
        "CandidacyCoordinated",
        "CandidacySocialized",
        "CandidacyAssessed",
        "CandidacyDesignated",
    ]
    assert signer(surabaya["proposed_by"]) == person(
        api, "surabaya_section_head", "section_head", "2024-03-01T03:00:00.000000Z", signed[0]["position"]
    )
    for step, event in zip(("coordinated_by", "socialized_by", "assessed_by"), signed[1:4], strict=True):
        assert surabaya[step]["username"] == "surabaya_section_head"
        assert surabaya[step]["id"] == api.world.actors["surabaya_section_head"].id
        assert surabaya[step]["at"].startswith("2024-04-10T03:00:00")
        assert surabaya[step]["position"] == event["position"]
    assert signer(surabaya["approved_by"]) == person(
        api, "surabaya_head", "head_of_office", "2024-04-10T03:00:00.000000Z", signed[4]["position"]
    )

    sukabumi = by_id[three_offices["sukabumi"][0]]
    assert sukabumi["approved_by"]["username"] == "sukabumi_head"
    assert sukabumi["assessed_by"]["username"] == "sukabumi_section_head"
    assert sukabumi["proposed_by"]["username"] == "sukabumi_officer"


@pytest.mark.usefixtures("three_offices")
def test_the_register_pages_walk_every_row_once(api: Api) -> None:
    everything = ok_json(api.get("auditor", DESIGNATIONS, limit=500))
    assert everything["next_cursor"] is None
    assert len(everything["items"]) == 4
    for limit in (1, 3, 4):
        assert register(api, "auditor", limit=limit) == everything["items"]
    first_page = ok_json(api.get("auditor", DESIGNATIONS, limit=3))
    assert len(first_page["items"]) == 3
    assert first_page["next_cursor"]


# ---- CSV ---------------------------------------------------------------------------------------


def number(text: str) -> int | float | None:
    if text == "":
        return None
    return float(text) if "." in text else int(text)


def csv_figures(row: dict[str, str]) -> dict[str, Any]:
    """The figures of a CSV row, shaped like the JSON's."""
    return {
        "target": number(row["target"]),
        "designated": number(row["designated"]),
        "achievement_pct": number(row["achievement_pct"]),
        "rating": row["rating"] or None,
        "by_quarter": {q: number(row[q]) for q in ("Q1", "Q2", "Q3", "Q4")},
        "pipeline": {s: number(row[s]) for s in EMPTY_PIPELINE},
        "rejected": number(row["rejected"]),
        "withdrawn": number(row["withdrawn"]),
        "median_days_to_designation": number(row["median_days_to_designation"]),
    }


def json_figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in csv_figures({c: "" for c in REPORT_CSV_COLUMNS})}


def assert_csv_matches_report(response: TestResponse, body: dict[str, Any]) -> None:
    header, rows = parse_csv(response)
    assert header == REPORT_CSV_COLUMNS
    expected = [("office", r["office_code"], r["office_name"], r["region_code"], r) for r in body["offices"]]
    expected += [("region", r["region_code"], r["region_name"], r["region_code"], r) for r in body["regions"]]
    if body["national"] is not None:
        expected.append(("national", "ID", "Indonesia", None, body["national"]))
    assert len(rows) == len(expected)
    for row, (level, code, name, region_code, figures) in zip(rows, expected, strict=True):
        assert (row["level"], row["code"], row["name"]) == (level, code, name)
        assert (row["region_code"] or None) == region_code
        assert csv_figures(row) == json_figures(figures)
        assert int(row["year"]) == body["year"]
        assert (row["as_of"], row["as_of_basis"]) == (body["as_of"], body["as_of_basis"])
        assert int(row["ledger_position"]) == body["ledger"]["position"]
        assert row["ledger_digest"] == body["ledger"]["digest"]


REPORT_CSV_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("auditor", {"year": 2024}),
    ("auditor", {"year": 2024, "as_of": "2024-03-31"}),
    ("auditor", {"year": 2024, "region": "JATIM"}),
    ("auditor", {"year": 2025}),
    ("supervisor", {"year": 2024}),
    ("officer", {"year": 2024, "as_of": "2024-04-09"}),
]


@pytest.mark.usefixtures("three_offices")
def test_the_report_as_csv_holds_the_same_rows_as_the_json(api: Api, subtests: pytest.Subtests) -> None:
    for username, params in REPORT_CSV_QUERIES:
        with subtests.test(username=username, **params):
            body = report(api, username, **params)
            response = api.get(username, PERFORMANCE, format="csv", **params)
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert_csv_matches_report(response, body)
            name = f"performance-{params['year']}-as-of-{body['as_of']}.csv"
            assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


@pytest.mark.usefixtures("three_offices")
def test_the_auditors_csv_has_offices_then_regions_then_the_nation(api: Api) -> None:
    _, rows = parse_csv(api.get("auditor", PERFORMANCE, year=2024, format="csv"))
    assert [(r["level"], r["code"]) for r in rows] == [
        ("office", "BOGOR"),
        ("office", "SUKABUMI"),
        ("office", "SURABAYA"),
        ("region", "JABAR"),
        ("region", "JATIM"),
        ("national", "ID"),
    ]
    bogor = rows[0]
    assert (bogor["target"], bogor["achievement_pct"], bogor["rating"]) == ("4", "50.0", "Sangat Kurang")


def test_csv_of_an_office_without_target_leaves_the_cells_empty(api: Api) -> None:
    _, rows = parse_csv(api.get("officer", PERFORMANCE, year=2024, format="csv"))
    [row] = rows
    assert (row["target"], row["achievement_pct"], row["rating"], row["median_days_to_designation"]) == (
        "",
        "",
        "",
        "",
    )
    assert (row["designated"], row["Q1"], row["as_of"], row["as_of_basis"]) == (
        "0",
        "0",
        "2024-06-01",
        "today",
    )


def assert_register_csv_header(header: list[str]) -> None:
    """The leading columns, each signer's in order (an authority column, if any, right after them),
    and `days_to_designation` last."""
    leading = len(REGISTER_CSV_LEADING_COLUMNS)
    assert header[:leading] == REGISTER_CSV_LEADING_COLUMNS
    assert header[-1] == "days_to_designation"
    expected: list[str] = []
    for who in PEOPLE:
        expected += [f"{who}_{part}" for part in REGISTER_PEOPLE_PARTS]
        if f"{who}_authority_position" in header:
            expected.append(f"{who}_authority_position")
    assert header[leading:-1] == expected


def assert_csv_matches_register(response: TestResponse, items: list[dict[str, Any]]) -> None:
    header, rows = parse_csv(response)
    assert_register_csv_header(header)
    assert len(rows) == len(items)
    for row, item in zip(rows, items, strict=True):
        assert row["candidacy_id"] == item["candidacy_id"]
        village = item["village"]
        assert (row["village_code"], row["village_name"]) == (village["code"], village["name"])
        for part in ("district", "regency", "province"):
            assert (row[part] or None) == village[part]
        for column in ("office_code", "region_code", "decree_number", "decree_date", "quarter"):
            assert row[column] == item[column]
        assert row["fostering_officers"].split("; ") == item["fostering_officers"]
        for who in PEOPLE:
            assert {part: row[f"{who}_{part}"] for part in REGISTER_PEOPLE_PARTS} == {
                part: item[who][part] for part in REGISTER_PEOPLE_PARTS
            }
            column = f"{who}_authority_position"
            assert (column in row) == ("authority" in item[who])
            if column in row:
                authority = item[who]["authority"]
                assert row[column] == ("" if authority is None else str(authority["position"]))
        assert int(row["days_to_designation"]) == item["days_to_designation"]


# (reader, query, the file name)
REGISTER_CSV_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("auditor", {}, "designations.csv"),
    ("auditor", {"year": 2024}, "designations-2024.csv"),
    ("auditor", {"year": 2023}, "designations-2023.csv"),
    ("auditor", {"region": "JABAR", "limit": 1}, "designations.csv"),
    ("supervisor", {"office": "BOGOR"}, "designations.csv"),
    ("sukabumi_officer", {"year": 2024}, "designations-2024.csv"),
]


@pytest.mark.usefixtures("three_offices")
def test_the_register_as_csv_holds_every_row_of_the_json(api: Api, subtests: pytest.Subtests) -> None:
    for username, params, filename in REGISTER_CSV_QUERIES:
        with subtests.test(username=username, **params):
            items = register(api, username, **params)
            # All rows, whatever the page size asked for.
            response = api.get(username, DESIGNATIONS, format="csv", **params)
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
            assert_csv_matches_register(response, items)


@pytest.mark.usefixtures("registry")
def test_the_register_csv_keeps_names_with_commas_quotes_and_non_ascii(api: Api, clock: FakeClock) -> None:
    case = api.case_at("assessed", village_code="32.01.25.2007")
    officers = ['Dra. Siti "Ecin" Nurhasanah, M.Si.', "Ni Luh Putu Ayu Widyastuti", "Raden Çandra"]
    api.acted("head", case["id"], "designate", {**ACTION_BODIES["designate"], "fostering_officers": officers})
    items = register(api, "officer")
    response = api.get("officer", DESIGNATIONS, format="csv")
    assert_csv_matches_register(response, items)
    _, [row] = parse_csv(response)
    assert row["fostering_officers"] == "; ".join(officers)
    assert row["village_name"] == "Leuwimalang"


@pytest.mark.usefixtures("three_offices")
def test_accept_text_csv_asks_for_csv_and_format_wins_over_accept(
    api: Api, subtests: pytest.Subtests
) -> None:
    for path in (PERFORMANCE, DESIGNATIONS):
        with subtests.test(path=path):
            accept_csv_on(api, path)


def accept_csv_on(api: Api, path: str) -> None:
    def get(accept: str, **params: str) -> TestResponse:
        headers = api.world.headers("supervisor", Accept=accept)
        return api.client.get(path, query_string={"year": 2024, **params}, headers=headers)

    as_csv = get("text/csv")
    assert as_csv.mimetype == "text/csv"
    # One URL, two representations: caches must key them by Accept.
    assert "Accept" in as_csv.vary
    assert "Accept" in get("application/json").vary
    assert as_csv.headers["Content-Disposition"].startswith("attachment; filename=")
    assert as_csv.get_data() == api.get("supervisor", path, year=2024, format="csv").get_data()
    for accept in ("text/csv, application/json;q=0.5", "text/csv, */*;q=0.8", "text/*"):
        assert get(accept).mimetype == "text/csv", accept

    for accept in ("application/json", "*/*", "text/csv;q=0.5, application/json", "text/html"):
        response = get(accept)
        assert response.status_code == 200
        assert response.mimetype == "application/json", accept
    assert get("text/csv", format="json").mimetype == "application/json"
    assert get("application/json", format="csv").mimetype == "text/csv"
    assert_problem(get("text/csv", format="xml"), 422, "format")


# ---- the document ------------------------------------------------------------------------------


def test_openapi_documents_targets_register_and_report(api: Api) -> None:
    spec = api.client.get("/openapi.json").get_json()

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            *_, kind, name = node["$ref"].split("/")
            node = spec["components"][kind][name]
        return node

    put = spec["paths"]["/api/v1/targets/{office_code}/{year}"]["put"]
    body = resolve(put["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"target", "basis"}
    assert body["properties"]["target"]["minimum"] == 0
    assert body.get("additionalProperties") is False
    assert {"Idempotency-Key", "If-Match"} <= {resolve(p)["name"] for p in put["parameters"]}
    assert {"200", "403", "404", "412", "422"} <= set(put["responses"])
    assert "year" in {p["name"] for p in spec["paths"]["/api/v1/targets"]["get"]["parameters"]}

    for path, schema, params in [
        (
            "/api/v1/designations",
            "DesignationPage",
            {"year", "office", "region", "format", "limit", "cursor"},
        ),
        ("/api/v1/reports/performance", "PerformanceReport", {"year", "region", "as_of", "format"}),
    ]:
        operation = spec["paths"][path]["get"]
        assert params <= {p["name"] for p in operation["parameters"]}
        ok = operation["responses"]["200"]["content"]
        # JSON and, for the same request with format=csv or Accept: text/csv, CSV.
        assert ok["application/json"]["schema"]["$ref"].endswith(f"/{schema}")
        assert ok["text/csv"]["schema"]["type"] == "string"
    office_row_schema = resolve(
        spec["components"]["schemas"]["PerformanceReport"]["properties"]["offices"]["items"]
    )
    assert set(office_row_schema["properties"]) >= OFFICE_FIELDS


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    from service.web import csv_cell

    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("W11.IMI.IMI.4-UM.01.01") == "W11.IMI.IMI.4-UM.01.01"
    assert csv_cell(-3) == -3  # numbers stay numbers
    assert csv_cell(None) == ""


@pytest.mark.parametrize("path", ["/reports/performance", "/designations", "/targets"])
def test_an_admin_is_told_it_may_not_read_reports(api: Api, path: str) -> None:
    body = assert_problem(api.get("admin", f"{API}{path}", year=2024), 403)
    assert body["detail"] == "the role admin may not read reports"


@pytest.mark.parametrize("path", ["/reports/performance", "/designations"])
def test_an_admin_is_refused_before_the_query_is_read(api: Api, path: str) -> None:
    body = assert_problem(api.get("admin", f"{API}{path}", as_of="kemarin", format="xml"), 403)
    assert body["detail"] == "the role admin may not read reports"
