"""`GET /villages`: the registry searched within an office's working area, for pickers. On both
databases."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import API, Api, assert_problem

pytestmark = pytest.mark.usefixtures("registry")


def names(api: Api, username: str, **params: str) -> list[str]:
    response = api.get(username, f"{API}/villages", **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [village["name"] for village in response.get_json()["items"]]


def test_an_officer_finds_villages_of_the_office_by_part_of_the_name_in_any_case(api: Api) -> None:
    assert names(api, "officer", q="TU") == ["Batu Tulis", "Batulayang", "Tugu Selatan"]
    [tugu] = api.get("officer", f"{API}/villages", q="tugu").get_json()["items"]
    assert tugu == {
        "code": "32.01.25.2006",
        "name": "Tugu Selatan",
        "district": "Cisarua",
        "regency": "Kabupaten Bogor",
        "province": "Jawa Barat",
        "held_by": None,
    }


def test_a_code_finds_the_villages_it_begins(api: Api) -> None:
    assert names(api, "officer", q="32.01.25.200") == [
        "Batulayang",
        "Citeko",
        "Jogjogan",
        "Kopo",
        "Leuwimalang",
        "Tugu Selatan",
    ]
    assert names(api, "officer", q="32.01.25.200", limit="2") == ["Batulayang", "Citeko"]


def test_a_village_of_another_office_is_not_in_the_working_area(api: Api) -> None:
    assert names(api, "officer", q="tonjong") == []
    assert names(api, "sukabumi_officer", q="tonjong") == ["Tonjong"]
    assert names(api, "officer", q="%") == []  # a wildcard is a character like any other


def test_a_village_a_case_holds_says_so(api: Api) -> None:
    api.proposed("officer", village_code="32.01.25.2006")
    [tugu] = api.get("officer", f"{API}/villages", q="tugu").get_json()["items"]
    assert tugu["held_by"] == "proposed"


def test_a_supervisor_names_an_office_of_the_region(api: Api) -> None:
    assert names(api, "supervisor", q="tugu", office="BOGOR") == ["Tugu Selatan"]
    assert_problem(api.get("supervisor", f"{API}/villages", q="tugu"), 422, "office")
    assert_problem(api.get("supervisor", f"{API}/villages", q="waru", office="SURABAYA"), 422, "office")
    assert_problem(api.get("officer", f"{API}/villages", q="tonjong", office="SUKABUMI"), 422, "office")
    assert names(api, "auditor", q="waru", office="SURABAYA") == ["Warugunung"]


def test_the_search_is_refused_to_whom_reads_no_cases_and_for_bad_input(api: Api) -> None:
    assert_problem(api.get("admin", f"{API}/villages", q="tugu"), 403)
    assert_problem(api.get("officer", f"{API}/villages"), 422, "q")
    assert_problem(api.get("officer", f"{API}/villages", q="tugu", limit="51"), 422, "limit")
    assert_problem(api.get("officer", f"{API}/villages", q="tugu", office="bad code!"), 422, "office")
