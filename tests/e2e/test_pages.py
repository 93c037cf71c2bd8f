"""The web application over HTTP, as a browser without JavaScript uses it: sign-in at the front
door, the session, CSRF on every form, throttled failures, the language switch, the user's work and
a case's page. On both databases."""

from __future__ import annotations

import hashlib
import io
import json
import re

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from domain.accounts import AccountChange
from events.schema import documents as documents_table
from service import accounts
from service.application import Application
from tests import samples
from tests.conftest import FakeClock, World
from tests.e2e.conftest import Api, snapshot

pytestmark = pytest.mark.usefixtures("registry")

PASSWORD = "sandi-yang-panjang-sekali"


def set_password(application: Application, username: str, password: str = PASSWORD) -> None:
    with accounts.as_command_line(application.uow, "test-password") as tx:
        accounts.set_password(tx, accounts.command_line_actor(), username, password)


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str) -> TestResponse:
    """Sign in with the form; a user of the world signing in with PASSWORD gets it set first (argon2id
    takes its time: only for whoever signs in)."""
    if password == PASSWORD and username in client.passwords_wanted:  # type: ignore[attr-defined]
        client.passwords_wanted.remove(username)  # type: ignore[attr-defined]
        set_password(client.application.extensions["desa_binaan"], username)
    return client.post(
        "/", data={"username": username, "password": password, "csrf_token": csrf_token(client), **extra}
    )


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def browser(app: Flask, application: Application, world: World) -> FlaskClient:
    """A client of its own (cookies and all); a few of the world's users may sign in with PASSWORD."""
    client = app.test_client()
    client.passwords_wanted = {
        "officer",
        "section_head",
        "head",
        "sukabumi_officer",
        "sukabumi_head",
        "supervisor",
        "auditor",
    }  # type: ignore[attr-defined]
    return client


# ---- the front door ------------------------------------------------------------------------------


def test_the_front_door_is_the_sign_in_form_in_indonesian(browser: FlaskClient) -> None:
    response = browser.get("/")
    page = text_of(response)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="id">' in page and "<h1>Masuk</h1>" in page
    assert 'name="username" autocomplete="username"' in page
    assert 'name="password" type="password" autocomplete="current-password"' in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_signing_in_opens_a_session_and_lands_on_my_work(browser: FlaskClient, api: Api) -> None:
    api.proposed("officer")  # waits for the section head's coordination
    response = sign_in(browser, "section_head")
    assert (response.status_code, response.headers["Location"]) == (303, "/tugas")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = text_of(browser.get("/tugas"))
    assert "Tugas saya" in page and "Tugu Selatan" in page and "Koordinasi" in page
    assert "Section Head · Kepala Seksi" in page
    # Signed in, the front door leads to the work.
    assert browser.get("/").headers["Location"] == "/tugas"


def test_over_tls_the_session_cookie_is_secure(browser: FlaskClient, application: Application) -> None:
    set_password(application, "auditor")
    response = browser.post(
        "/",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/"},  # as a browser sends it to its own site over TLS
        data={"username": "auditor", "password": PASSWORD, "csrf_token": csrf_token(browser)},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("username", ["section_head", "nobody"])
def test_a_wrong_password_or_unknown_user_gets_the_same_answer(browser: FlaskClient, username: str) -> None:
    response = sign_in(browser, username, "not the password at all")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi tidak benar." in text_of(response)
    assert browser.get("/tugas").status_code == 303  # still not signed in


def test_a_user_without_a_password_cannot_sign_in(browser: FlaskClient) -> None:
    assert sign_in(browser, "sukabumi_head", "").status_code == 401


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(browser: FlaskClient) -> None:
    response = browser.post("/", data={"username": "section_head", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa" in text_of(response)
    assert browser.get("/tugas").status_code == 303
    forged = browser.post("/keluar", data={"csrf_token": "forged"})
    assert forged.status_code == 400


def test_failed_sign_ins_are_throttled_per_user(browser: FlaskClient) -> None:
    for _ in range(5):
        assert sign_in(browser, "section_head", "wrong password, again").status_code == 401
    response = sign_in(browser, "section_head")  # the right password, too late
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Terlalu banyak percobaan gagal" in text_of(response)
    # Another user from the same address may still sign in.
    assert sign_in(browser, "officer").status_code == 303


def test_failed_sign_ins_are_throttled_per_address(browser: FlaskClient) -> None:
    for attempt in range(20):
        assert sign_in(browser, f"guess{attempt}", "wrong password, again").status_code == 401
    assert sign_in(browser, "officer").status_code == 429
    other_address = browser.application.test_client()
    response = other_address.post(
        "/",
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
        data={"username": "officer", "password": PASSWORD, "csrf_token": csrf_token(other_address)},
    )
    assert response.status_code == 303


def test_an_idle_session_ends(browser: FlaskClient, clock: FakeClock) -> None:
    sign_in(browser, "section_head")
    clock.advance(minutes=29)
    assert browser.get("/tugas").status_code == 200  # and this visit counts as activity
    clock.advance(minutes=29)
    assert browser.get("/tugas").status_code == 200
    clock.advance(minutes=31)
    response = browser.get("/tugas")
    assert response.status_code == 303 and response.headers["Location"].startswith("/?next=/tugas")
    assert "Sesi Anda berakhir" in text_of(browser.get("/"))


def test_a_deactivated_user_is_signed_out(browser: FlaskClient, application: Application) -> None:
    sign_in(browser, "section_head")
    with accounts.as_command_line(application.uow, "test-deactivate") as tx:
        accounts.deactivate_user(tx, accounts.command_line_actor(), "section_head", "moved away")
    assert browser.get("/tugas").status_code == 303


def test_a_role_changed_since_sign_in_counts_from_the_next_page(
    browser: FlaskClient, application: Application, api: Api
) -> None:
    api.proposed("officer")
    sign_in(browser, "officer")
    assert "Tidak ada yang menunggu Anda." in text_of(browser.get("/tugas"))
    with accounts.as_command_line(application.uow, "test-promote") as tx:
        change = AccountChange(role=accounts.Role.SECTION_HEAD)
        accounts.change_user(tx, accounts.command_line_actor(), "officer", change)
    assert "Tugu Selatan" in text_of(browser.get("/tugas"))


def test_signing_out_ends_the_session(browser: FlaskClient) -> None:
    sign_in(browser, "section_head")
    response = browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert "Anda telah keluar." in text_of(browser.get("/"))
    assert browser.get("/tugas").status_code == 303


def test_after_sign_in_the_user_goes_where_they_were_going_on_this_site_only(browser: FlaskClient) -> None:
    assert sign_in(browser, "auditor", next="/kasus/x").headers["Location"] == "/kasus/x"
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    for elsewhere in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        assert sign_in(browser, "auditor", next=elsewhere).headers["Location"] == "/tugas"
        browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})


# ---- language ------------------------------------------------------------------------------------


def test_the_pages_switch_to_english_and_back(browser: FlaskClient) -> None:
    sign_in(browser, "section_head")
    switched = browser.post(
        "/bahasa", data={"lang": "en", "next": "/tugas", "csrf_token": csrf_token(browser, "/tugas")}
    )
    assert (switched.status_code, switched.headers["Location"]) == (303, "/tugas")
    page = text_of(browser.get("/tugas"))
    assert '<html lang="en">' in page and "My work" in page and "Section head" in page
    browser.post("/bahasa", data={"lang": "id", "csrf_token": csrf_token(browser, "/tugas")})
    assert "Tugas saya" in text_of(browser.get("/tugas"))


def test_the_language_chosen_before_signing_in_stays(browser: FlaskClient) -> None:
    browser.post("/bahasa", data={"lang": "en", "csrf_token": csrf_token(browser)})
    assert "<h1>Sign in</h1>" in text_of(browser.get("/"))
    sign_in(browser, "officer")
    assert "My work" in text_of(browser.get("/tugas"))


# ---- work and cases ------------------------------------------------------------------------------


def test_my_work_lists_what_waits_for_the_user_the_longest_waiting_first(
    browser: FlaskClient, api: Api, clock: FakeClock
) -> None:
    first = api.proposed("officer", village_code="32.01.25.2006")
    clock.advance(days=2)
    second = api.proposed("officer", village_code="32.01.25.2007")
    api.acted("section_head", second["id"], "coordinate")
    clock.advance(days=1)
    third = api.proposed("officer", village_code="32.01.25.2008")
    sign_in(browser, "section_head")
    page = text_of(browser.get("/tugas"))
    positions = [page.index(f"/kasus/{case['id']}") for case in (first, second, third)]
    assert positions == sorted(positions)
    assert "menunggu 3 hari" in page  # the first, unchanged for three days
    counts = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', page))
    assert (counts["Diusulkan"], counts["Dikoordinasikan"], counts["Ditetapkan"]) == ("2", "1", "0")


def test_the_officer_sees_nothing_waiting_but_the_counts(browser: FlaskClient, api: Api) -> None:
    api.proposed("officer")
    sign_in(browser, "officer")
    page = text_of(browser.get("/tugas"))
    assert "Tidak ada yang menunggu Anda." in page
    assert re.search(r'<th scope="row">Diusulkan</th><td class="num">1</td>', page)


def test_a_case_page_shows_its_record_and_timeline_with_hashes(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("socialized")
    events = api.get("auditor", f"/api/v1/candidacies/{case['id']}/events").get_json()["items"]
    sign_in(browser, "head")
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert "Tugu Selatan" in page and "Disosialisasikan" in page
    assert "19 Februari 2024" in page  # the coordination's day, as Indonesians write it
    for event in events:
        assert event["hash"] in page
    assert "Rapat koordinasi" in page and "Kepala Seksi" in page


def test_a_case_of_another_office_is_not_found(browser: FlaskClient, api: Api) -> None:
    case = api.proposed("officer")
    sign_in(browser, "sukabumi_officer")
    response = browser.get(f"/kasus/{case['id']}")
    assert response.status_code == 404
    assert "Tidak ditemukan" in text_of(response)
    assert browser.get("/kasus/no-such-case").status_code == 404


def test_pages_need_a_signed_in_user(browser: FlaskClient) -> None:
    for path in ("/tugas", "/kasus/anything"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["Location"] == f"/?next={path}"


# ---- acting through the case page's forms --------------------------------------------------------

COORDINATION = {
    "held_on": "2024-02-19",
    "venue": "Aula Kantor Imigrasi Bogor",
    "agencies": "Polres Bogor\r\nKodim 0621\r\n",
    "minutes_ref": "UND-0219",
}


def act(browser: FlaskClient, case_id: str, action: str, form: dict[str, str], version: int) -> TestResponse:
    token = csrf_token(browser, f"/kasus/{case_id}")
    return browser.post(
        f"/kasus/{case_id}/{action}", data={**form, "version": str(version), "csrf_token": token}
    )


def test_the_section_head_coordinates_through_the_form_and_the_timeline_grows(
    browser: FlaskClient, api: Api
) -> None:
    case = api.proposed("officer")
    sign_in(browser, "section_head")
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert f'action="/kasus/{case["id"]}/coordinate"' in page and 'name="version" value="1"' in page

    response = act(browser, case["id"], "coordinate", COORDINATION, version=1)

    assert (response.status_code, response.headers["Location"]) == (303, f"/kasus/{case['id']}")
    page = text_of(browser.get(response.headers["Location"]))
    assert "Tercatat: Koordinasi." in page and "Rapat koordinasi" in page
    recorded = api.case("auditor", case["id"])
    assert recorded["stage"] == "coordinated"
    assert recorded["coordinated"]["agencies"] == ["Polres Bogor", "Kodim 0621"]
    assert recorded["coordinated"]["by"]["username"] == "section_head"
    events = api.get("auditor", f"/api/v1/candidacies/{case['id']}/events").get_json()["items"]
    assert [e["type"] for e in events] == ["CandidacyProposed", "CandidacyCoordinated"]
    assert events[-1]["hash"] in page


def test_a_form_for_an_older_version_is_refused_and_records_nothing(browser: FlaskClient, api: Api) -> None:
    case = api.proposed("officer")
    sign_in(browser, "section_head")
    api.acted("head", case["id"], "coordinate")  # meanwhile, the head of office coordinated it

    response = act(
        browser,
        case["id"],
        "socialize",
        {"held_on": "2024-02-21", "speakers": "BP3MI", "attendees": "85"},
        version=1,
    )

    assert response.status_code == 409
    assert "Kasus berubah sejak formulir ini dibuka" in text_of(response)
    assert api.case("auditor", case["id"])["version"] == 2


def test_a_form_with_a_field_missing_or_wrong_says_which_and_records_nothing(
    browser: FlaskClient, api: Api
) -> None:
    case = api.proposed("officer")
    sign_in(browser, "section_head")
    missing = act(browser, case["id"], "coordinate", {**COORDINATION, "venue": ""}, version=1)
    page = text_of(missing)
    assert missing.status_code == 422
    assert "Periksa formulir:" in page and "Tempat: Isian ini wajib diisi." in page
    assert 'value="UND-0219"' in page  # what was sent is kept in the form, open again
    to_come = act(browser, case["id"], "coordinate", {**COORDINATION, "held_on": "2099-01-01"}, version=1)
    assert to_come.status_code == 422
    assert "Tanggal: 1 Januari 2099 belum terjadi" in text_of(to_come)
    assert api.case("auditor", case["id"])["version"] == 1


def test_the_assessment_form_records_each_finding(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("socialized")
    sign_in(browser, "section_head")
    form = {
        "assessed_on": "2024-03-20",
        "score": "86",
        "meets_criteria": "yes",
        "criteria.migrant_worker_base": "yes",
        "criteria.border_or_port": "no",
    }
    response = act(browser, case["id"], "assess", form, version=3)
    assert response.status_code == 303, text_of(response)
    assessed = api.case("auditor", case["id"])["assessed"]
    assert (assessed["score"], assessed["meets_criteria"]) == (86, True)
    assert assessed["criteria"] == {"migrant_worker_base": True, "border_or_port": False}


def test_the_head_designates_through_the_form(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("assessed")
    sign_in(browser, "head")
    form = {
        "decree_number": "W11.IMI-UM.01.01-0416",
        "decree_date": "2024-04-16",
        "fostering_officers": "Dedi\nSari",
    }
    response = act(browser, case["id"], "designate", form, version=4)
    assert response.status_code == 303, text_of(response)
    designated = api.case("auditor", case["id"])
    assert designated["stage"] == "designated"
    assert designated["designated"]["fostering_officers"] == ["Dedi", "Sari"]
    assert "Keputusan W11.IMI-UM.01.01-0416 tanggal 16 April 2024" in text_of(
        browser.get(f"/kasus/{case['id']}")
    )


def test_the_head_revokes_a_designation_through_the_form(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    assert f"/kasus/{case['id']}/revoke" in text_of(browser.get(f"/kasus/{case['id']}"))
    form = {"reason": "Desa tidak lagi aktif.", "decree_number": "W11-0531", "decree_date": "2024-05-31"}
    response = act(browser, case["id"], "revoke", form, version=5)
    assert response.status_code == 303, text_of(response)
    assert api.case("auditor", case["id"])["stage"] == "revoked"
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert "Tercatat: Cabut penetapan." in page and "Dicabut" in page and "Penetapan dicabut" in page
    assert f"/kasus/{case['id']}/revoke" not in page  # no form left to send


def test_an_action_the_role_may_not_take_is_refused(browser: FlaskClient, api: Api) -> None:
    case = api.proposed("officer")
    sign_in(browser, "officer")
    assert f"/kasus/{case['id']}/coordinate" not in text_of(browser.get(f"/kasus/{case['id']}"))
    response = act(browser, case["id"], "coordinate", COORDINATION, version=1)
    assert response.status_code == 403
    assert act(browser, case["id"], "teleport", {}, version=1).status_code == 404
    assert api.case("auditor", case["id"])["version"] == 1


def test_an_action_form_without_its_version_is_refused(browser: FlaskClient, api: Api) -> None:
    case = api.proposed("officer")
    sign_in(browser, "section_head")
    token = csrf_token(browser, f"/kasus/{case['id']}")
    response = browser.post(f"/kasus/{case['id']}/coordinate", data={**COORDINATION, "csrf_token": token})
    assert response.status_code == 400
    assert api.case("auditor", case["id"])["version"] == 1


def test_an_administrator_signs_in_to_a_page_that_says_cases_are_not_theirs(
    browser: FlaskClient, application: Application
) -> None:
    set_password(application, "admin")
    response = browser.post(
        "/", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(browser)}
    )
    assert response.status_code == 303
    page = browser.get("/tugas")
    assert page.status_code == 200 and "Peran Anda tidak menangani kasus." in text_of(page)


# ---- proposing a village ---------------------------------------------------------------------------

PROPOSAL = {
    "village_code": "32.01.25.2007",
    "rationale": "Kantong PMI di Cisarua.\r\nDua kasus TPPO tahun lalu.",
    "migrant_workers": "120",
    "prospective_migrant_workers": "40",
    "trafficking_cases": "2",
    "border_area": "yes",
}


def test_an_officer_finds_a_village_and_proposes_it(browser: FlaskClient, api: Api) -> None:
    api.proposed("officer", village_code="32.01.25.2006")  # Tugu Selatan is taken
    sign_in(browser, "officer")
    assert 'href="/usulkan"' in text_of(browser.get("/tugas"))
    found = text_of(browser.get("/usulkan", query_string={"q": "u"}))
    assert 'href="/usulkan?village=32.01.25.2007"' in found  # Leuwimalang
    assert "Sudah ada kasusnya (Diusulkan)" in found and 'village=32.01.25.2006"' not in found
    form = text_of(browser.get("/usulkan", query_string={"village": "32.01.25.2007"}))
    assert "Leuwimalang" in form and 'name="rationale"' in form

    response = browser.post("/usulkan", data={**PROPOSAL, "csrf_token": csrf_token(browser, "/tugas")})

    assert response.status_code == 303, text_of(response)
    case_id = response.headers["Location"].rsplit("/", 1)[1]
    case = api.case("auditor", case_id)
    assert (case["village"]["name"], case["office_code"], case["stage"]) == (
        "Leuwimalang",
        "BOGOR",
        "proposed",
    )
    assert case["indicators"] == {
        "migrant_workers": 120,
        "prospective_migrant_workers": 40,
        "trafficking_cases": 2,
        "border_area": True,
    }
    assert case["rationale"] == "Kantong PMI di Cisarua.\nDua kasus TPPO tahun lalu."
    assert "Tercatat: Usulkan." in text_of(browser.get(response.headers["Location"]))


def test_a_proposal_with_a_field_wrong_says_which_and_records_nothing(browser: FlaskClient, api: Api) -> None:
    sign_in(browser, "officer")
    bad = {**PROPOSAL, "migrant_workers": "banyak", "rationale": ""}
    response = browser.post("/usulkan", data={**bad, "csrf_token": csrf_token(browser, "/tugas")})
    page = text_of(response)
    assert response.status_code == 422
    assert "Pekerja migran asal desa: Bukan bilangan bulat." in page
    assert "Alasan mengusulkan desa ini: tidak boleh kosong" in page
    assert 'value="40"' in page  # the rest of what was sent is kept
    assert api.get("auditor", "/api/v1/candidacies").get_json()["items"] == []


def test_a_village_already_held_is_refused(browser: FlaskClient, api: Api) -> None:
    api.proposed("officer", village_code="32.01.25.2007")
    sign_in(browser, "officer")
    response = browser.post("/usulkan", data={**PROPOSAL, "csrf_token": csrf_token(browser, "/tugas")})
    assert response.status_code == 409
    assert "sudah memiliki usulan yang sedang berjalan (Diusulkan)" in text_of(response)
    assert len(api.get("auditor", "/api/v1/candidacies").get_json()["items"]) == 1


def test_whom_may_not_propose_gets_no_proposal_page(browser: FlaskClient) -> None:
    sign_in(browser, "auditor")
    assert 'href="/usulkan"' not in text_of(browser.get("/tugas"))
    assert browser.get("/usulkan").status_code == 403
    response = browser.post("/usulkan", data={**PROPOSAL, "csrf_token": csrf_token(browser, "/tugas")})
    assert response.status_code == 403


def test_an_unknown_village_is_not_found(browser: FlaskClient) -> None:
    sign_in(browser, "officer")
    assert browser.get("/usulkan", query_string={"village": "99.99.99.9999"}).status_code == 404


# ---- the register and the dashboard ----------------------------------------------------------------


def test_the_register_lists_designations_with_filters_and_a_csv(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "auditor")
    page = text_of(browser.get("/register"))
    assert "Register penetapan" in page and "Tugu Selatan" in page and f"/kasus/{case['id']}" in page
    assert "Tugu Selatan" not in text_of(browser.get("/register", query_string={"year": "2023"}))
    assert "Tugu Selatan" in text_of(browser.get("/register", query_string={"office": "BOGOR", "year": ""}))
    csv = browser.get("/register.csv", query_string={"office": "BOGOR"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    api_csv = api.get("auditor", "/api/v1/designations", format="csv", office="BOGOR").get_data(as_text=True)
    assert csv.get_data(as_text=True) == api_csv
    bad = browser.get("/register", query_string={"year": "dua ribu"})
    assert bad.status_code == 422 and "Tahun: Bukan bilangan bulat." in text_of(bad)


def test_the_register_shows_only_what_the_user_may_read(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "sukabumi_officer")
    assert "Tugu Selatan" not in text_of(browser.get("/register"))


def test_the_dashboard_shows_realization_against_target_as_chart_and_table(
    browser: FlaskClient, api: Api, clock: FakeClock
) -> None:
    assert (
        api.client.put(
            "/api/v1/targets/BOGOR/2024",
            json={"target": 4, "basis": "Surat Kanwil 2024"},
            headers=api.world.headers("supervisor"),
        ).status_code
        == 200
    )
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    api.proposed("officer", village_code="32.01.25.2007")
    sign_in(browser, "auditor")
    response = browser.get("/dasbor", query_string={"year": "2024"})
    page = text_of(response)
    assert response.status_code == 200
    assert "Dasbor kinerja" in page and '<svg class="chart" role="img"' in page
    bogor = re.search(r"<th scope=\"row\">Kantor Imigrasi Kelas I Non TPI Bogor</th>(.*?)</tr>", page, re.S)
    assert bogor is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', bogor.group(1))
    assert cells[:3] == ["4", "1", "25.0"]  # target, designated, achievement
    assert "Sangat Kurang" in bogor.group(1)
    report = api.get("auditor", "/api/v1/reports/performance", year=2024).get_json()
    assert report["ledger"]["digest"] in page
    assert ">1/4<" in page  # the chart's label for Bogor: designated of target
    english = browser.post(
        "/bahasa",
        data={"lang": "en", "next": "/dasbor?year=2024", "csrf_token": csrf_token(browser, "/tugas")},
    )
    assert "Very poor" in text_of(browser.get(english.headers["Location"]))


def test_the_dashboard_refuses_a_day_to_come_and_an_admin(
    browser: FlaskClient, application: Application
) -> None:
    sign_in(browser, "auditor")
    response = browser.get("/dasbor", query_string={"as_of": "2099-01-01"})
    assert response.status_code == 422 and "Per tanggal: 1 Januari 2099 belum terjadi" in text_of(response)
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    set_password(application, "admin")
    browser.post("/", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(browser)})
    assert browser.get("/dasbor").status_code == 403
    assert browser.get("/register").status_code == 403


# ---- audit -------------------------------------------------------------------------------------------


def test_the_auditor_reads_the_log_page_by_page_and_verifies_the_chain(
    browser: FlaskClient, api: Api
) -> None:
    for code in ("32.01.25.2001", "32.01.25.2005", "32.01.25.2006"):
        api.proposed("officer", village_code=code)
    sign_in(browser, "auditor")  # records the auditor's password: read the head after it
    head = api.get("auditor", "/api/v1/ledger").get_json()
    page = text_of(browser.get("/audit"))
    assert head["digest"] in page and f"posisi {head['position']}" in page
    feed = api.get("auditor", "/api/v1/events", limit=50).get_json()
    assert all(event["hash"] in page for event in feed["items"])
    assert feed["next_cursor"] is None and "Halaman berikutnya" not in page  # one page holds them all
    verified = text_of(browser.get("/audit", query_string={"verify": "1"}))
    assert f"Utuh: {head['position']} peristiwa terverifikasi" in verified
    kept = browser.get("/audit", query_string={"verify": "1", "position": "2", "digest": "0" * 64})
    assert kept.status_code == 200 and "Rusak pada posisi 2" in text_of(kept)
    assert browser.get("/audit", query_string={"verify": "1", "digest": "nope"}).status_code == 422


def test_only_the_auditor_has_the_audit_page(browser: FlaskClient) -> None:
    sign_in(browser, "head")
    assert 'href="/audit"' not in text_of(browser.get("/tugas"))
    assert browser.get("/audit").status_code == 403


# ---- the administrator's pages and the one-time password link ---------------------------------------


def admin_signs_in(browser: FlaskClient, application: Application) -> None:
    set_password(application, "admin")
    response = browser.post(
        "/", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(browser)}
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/pengguna")


def post_form(browser: FlaskClient, path: str, page: str, form: dict[str, str]) -> TestResponse:
    return browser.post(path, data={**form, "csrf_token": csrf_token(browser, page)})


def user_events(api: Api, username: str) -> list[dict]:
    user_id = api.get("admin", f"/api/v1/users/{username}").get_json()["id"]
    feed = api.get("auditor", "/api/v1/events", limit=500).get_json()["items"]
    return [e for e in feed if e["stream_id"] == user_id]


def test_an_administrator_opens_an_account_and_hands_over_a_one_time_link(
    browser: FlaskClient, application: Application, api: Api, app: Flask
) -> None:
    admin_signs_in(browser, application)
    assert "petugas" not in text_of(browser.get("/pengguna"))  # the world's usernames are English
    created = post_form(
        browser,
        "/pengguna",
        "/pengguna",
        {
            "username": "kasi.sukabumi",
            "name": "Kasi Sukabumi",
            "role": "section_head",
            "office_code": "SUKABUMI",
        },
    )
    assert (created.status_code, created.headers["Location"]) == (303, "/pengguna/kasi.sukabumi")
    assert api.get("admin", "/api/v1/users/kasi.sukabumi").get_json()["office_code"] == "SUKABUMI"

    shown = post_form(browser, "/pengguna/kasi.sukabumi/tautan", "/pengguna/kasi.sukabumi", {})
    assert shown.status_code == 200
    link = re.search(r'<code class="hash">(http://[^<]+/sandi/[^<]+)</code>', text_of(shown))
    assert link is not None
    path = link[1].split("localhost", 1)[1]

    newcomer = app.test_client()
    assert "Kasi Sukabumi" in text_of(newcomer.get(path))
    differ = post_form(newcomer, path, path, {"password": "sebuah-sandi-baru", "again": "sandi-lain-sekali"})
    assert differ.status_code == 422
    short = post_form(newcomer, path, path, {"password": "pendek", "again": "pendek"})
    assert short.status_code == 422 and "paling sedikit 12 karakter" in text_of(short)
    saved = post_form(newcomer, path, path, {"password": "sebuah-sandi-baru", "again": "sebuah-sandi-baru"})
    assert (saved.status_code, saved.headers["Location"]) == (303, "/")
    assert "Kata sandi Anda sudah disimpan" in text_of(newcomer.get("/"))
    assert newcomer.get(path).status_code == 404  # once only
    signed = post_form(newcomer, "/", "/", {"username": "kasi.sukabumi", "password": "sebuah-sandi-baru"})
    assert (signed.status_code, signed.headers["Location"]) == (303, "/tugas")

    recorded = [(e["type"], e["actor"]["username"]) for e in user_events(api, "kasi.sukabumi")]
    assert recorded == [
        ("UserCreated", "admin"),
        ("PasswordLinkIssued", "admin"),
        ("PasswordSetWithLink", "kasi.sukabumi"),
    ]
    assert all("sebuah" not in json.dumps(e) for e in user_events(api, "kasi.sukabumi"))


def test_a_password_link_expires(
    browser: FlaskClient, application: Application, clock: FakeClock, app: Flask
) -> None:
    admin_signs_in(browser, application)
    shown = text_of(post_form(browser, "/pengguna/officer/tautan", "/pengguna/officer", {}))
    path = re.search(r"(/sandi/[^<]+)</code>", shown)[1]  # type: ignore[index]
    clock.advance(hours=73)
    response = app.test_client().get(path)
    assert response.status_code == 404 and "Tautan ini tidak berlaku" in text_of(response)


def test_an_administrator_changes_a_role_sets_a_password_and_deactivates(
    browser: FlaskClient, application: Application, api: Api, app: Flask
) -> None:
    admin_signs_in(browser, application)
    page = "/pengguna/officer"
    changed = post_form(
        browser, f"{page}/ubah", page, {"name": "Officer", "role": "section_head", "office_code": "BOGOR"}
    )
    assert changed.status_code == 303
    assert api.get("admin", "/api/v1/users/officer").get_json()["role"] == "section_head"
    assert post_form(browser, f"{page}/sandi", page, {"password": "kata-sandi-pertama"}).status_code == 303
    someone = app.test_client()
    assert (
        post_form(someone, "/", "/", {"username": "officer", "password": "kata-sandi-pertama"}).status_code
        == 303
    )
    assert post_form(browser, f"{page}/nonaktifkan", page, {"reason": ""}).status_code == 422
    assert post_form(browser, f"{page}/nonaktifkan", page, {"reason": "Pindah tugas"}).status_code == 303
    assert someone.get("/tugas").status_code == 303  # signed out at once
    assert api.get("admin", "/api/v1/users/officer").get_json()["active"] is False
    assert post_form(browser, f"{page}/aktifkan", page, {"reason": "Kembali"}).status_code == 303
    refused = post_form(browser, "/pengguna/admin/nonaktifkan", "/pengguna/admin", {"reason": "Coba"})
    assert refused.status_code == 409
    assert "administrator aktif terakhir tidak dapat dinonaktifkan" in text_of(refused)


def test_only_an_administrator_has_the_users_and_offices_pages(
    browser: FlaskClient, application: Application
) -> None:
    sign_in(browser, "head")
    assert browser.get("/pengguna").status_code == 403 and browser.get("/kantor").status_code == 403
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    admin_signs_in(browser, application)
    offices = text_of(browser.get("/kantor"))
    assert "Kantor Imigrasi Kelas I Non TPI Bogor" in offices and "32.01, 32.71" in offices


def test_an_administrator_opens_and_changes_offices_and_regions(
    browser: FlaskClient, application: Application, api: Api
) -> None:
    admin_signs_in(browser, application)
    added = post_form(browser, "/kanwil", "/kantor", {"code": "BANTEN", "name": "Kanwil Banten"})
    assert (added.status_code, added.headers["Location"]) == (303, "/kantor")
    renamed = post_form(browser, "/kanwil/BANTEN", "/kantor", {"name": "Kanwil Ditjen Imigrasi Banten"})
    assert renamed.status_code == 303
    regions = {r["code"]: r["name"] for r in api.get("admin", "/api/v1/regions").get_json()["items"]}
    assert regions["BANTEN"] == "Kanwil Ditjen Imigrasi Banten"

    office = {
        "code": "CIANJUR",
        "name": "Kantor Imigrasi Cianjur",
        "unit_type": "kanim",
        "region_code": "JABAR",
    }
    opened = post_form(
        browser, "/kantor", "/kantor", {**office, "regencies": "32.03", "effective_on": "2024-01-02"}
    )
    assert (opened.status_code, opened.headers["Location"]) == (303, "/kantor/CIANJUR")
    page = text_of(browser.get("/kantor/CIANJUR"))
    assert "Tersimpan." in page and "2 Januari 2024" in page
    assert api.get("admin", "/api/v1/offices/CIANJUR").get_json()["regencies"] == ["32.03"]

    # Sukabumi's regency 32.02 is served: without take-over the change is refused, in Indonesian
    wanted = {**office, "regencies": "32.03\n32.02", "effective_on": "2024-03-01"}
    refused = post_form(browser, "/kantor/CIANJUR", "/kantor/CIANJUR", wanted)
    assert refused.status_code == 409
    assert "dilayani kantor lain: 32.02 (Kabupaten Sukabumi) by SUKABUMI" in text_of(refused)
    assert api.get("admin", "/api/v1/offices/SUKABUMI").get_json()["regencies"] == ["32.02", "32.72"]
    taken = post_form(browser, "/kantor/CIANJUR", "/kantor/CIANJUR", {**wanted, "take_over": "yes"})
    assert taken.status_code == 303
    assert api.get("admin", "/api/v1/offices/CIANJUR").get_json()["regencies"] == ["32.02", "32.03"]
    assert api.get("admin", "/api/v1/offices/SUKABUMI").get_json()["regencies"] == ["32.72"]
    history = text_of(browser.get("/kantor/SUKABUMI"))
    assert "1 Maret 2024" in history and "diambil alih oleh CIANJUR" in history


def test_an_office_form_with_a_field_wrong_says_which_and_changes_nothing(
    browser: FlaskClient, application: Application, api: Api
) -> None:
    admin_signs_in(browser, application)
    bad = {
        "code": "cianjur kota",
        "name": "",
        "unit_type": "kanim",
        "region_code": "JABAR",
        "regencies": "32.99",
    }
    response = post_form(browser, "/kantor", "/kantor", bad)
    page = text_of(response)
    assert response.status_code == 422
    assert "Nama: Isian ini wajib diisi." in page and "capital letters" in page
    assert 'value="cianjur kota"' in page  # what was sent is kept
    unknown = post_form(browser, "/kantor", "/kantor", {**bad, "code": "CIANJUR", "name": "Cianjur"})
    assert unknown.status_code == 422 and "bukan kabupaten atau kota dalam daftar desa: 32.99" in text_of(
        unknown
    )
    to_come = post_form(
        browser, "/kantor/BOGOR", "/kantor/BOGOR", {"name": "Bogor", "effective_on": "2099-01-01"}
    )
    assert to_come.status_code == 422 and "1 Januari 2099 belum terjadi" in text_of(to_come)
    assert [o["code"] for o in api.get("admin", "/api/v1/offices").get_json()["items"]] == [
        "BOGOR",
        "SUKABUMI",
        "SURABAYA",
    ]
    assert (
        api.get("admin", "/api/v1/offices/BOGOR").get_json()["name"]
        == "Kantor Imigrasi Kelas I Non TPI Bogor"
    )
    assert browser.get("/kantor/NOPE").status_code == 404


def test_a_fostered_village_shows_its_officers_activities_reports_and_evaluations(
    browser: FlaskClient, api: Api, clock: FakeClock
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    headers = api.world.headers("head")
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"}
    assert (
        api.client.put(
            f"/api/v1/candidacies/{case['id']}/officers", json=officers, headers=headers
        ).status_code
        == 200
    )
    activity = {
        "kind": "visit",
        "held_on": "2024-05-20",
        "participants": 12,
        "summary": "Sambang ke balai desa.",
    }
    report = {
        "received_at": "2024-05-30T01:00:00Z",
        "channel": "whatsapp",
        "category": "suspected_trafficking",
        "summary": "Perekrut tanpa izin di desa.",
    }
    evaluation = {"period": "2024-Q2", "rating": "needs_attention", "notes": "Kegiatan masih jarang."}
    for path, body in (("activities", activity), ("village-reports", report), ("evaluations", evaluation)):
        response = api.client.post(f"/api/v1/candidacies/{case['id']}/{path}", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    sign_in(browser, "section_head")
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert "Pembinaan" in page and "Dibina sejak" in page and "16 April 2024" in page
    assert "Officer" in page and "keputusan W11-PIMPASA-0502 tanggal 2 Mei 2024" in page
    assert "Sambang desa" in page and "Sambang ke balai desa." in page
    assert "Dugaan TPPO" in page and "Terbuka" in page and "terlambat" in page  # 6 hours are long past
    assert "Perlu perhatian" in page and "2024-Q2" in page
    # The overdue report waits in My work, for whoever may act on it.
    work = text_of(browser.get("/tugas"))
    assert "Laporan masyarakat yang melewati batas waktu" in work and "Perekrut tanpa izin di desa." in work


def test_my_work_lists_no_report_that_is_in_time_or_of_another_office(
    browser: FlaskClient, api: Api, clock: FakeClock
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    report = {
        "received_at": "2024-06-01T01:00:00Z",
        "channel": "phone",
        "category": "other",
        "summary": "Dalam waktu.",
    }
    response = api.client.post(
        f"/api/v1/candidacies/{case['id']}/village-reports", json=report, headers=api.world.headers("head")
    )
    assert response.status_code == 201
    sign_in(browser, "section_head")
    assert "Dalam waktu." not in text_of(browser.get("/tugas"))  # due in 48 hours
    clock.set("2024-06-03T01:00:01Z")
    sign_in(browser, "section_head")  # the session ended while idle
    assert "Dalam waktu." in text_of(browser.get("/tugas"))
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    assert sign_in(browser, "sukabumi_head").status_code == 303
    assert "Dalam waktu." not in text_of(browser.get("/tugas"))


def foster_form(
    browser: FlaskClient, case_id: str, path: str, form: dict[str, str], version: int
) -> TestResponse:
    token = csrf_token(browser, f"/kasus/{case_id}")
    return browser.post(
        f"/kasus/{case_id}/{path}", data={**form, "version": str(version), "csrf_token": token}
    )


def test_a_village_is_fostered_through_the_forms(browser: FlaskClient, api: Api, clock: FakeClock) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    assigned = foster_form(
        browser,
        case["id"],
        "pembinaan/petugas",
        {"officers": "officer", "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"},
        version=5,
    )
    assert assigned.status_code == 303, text_of(assigned)
    assert "Petugas pembina ditugaskan." in text_of(browser.get(f"/kasus/{case['id']}"))
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})

    sign_in(browser, "officer")
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert "Catat kegiatan" in page and "Evaluasi triwulan" not in page  # an officer does not evaluate
    activity = {
        "kind": "visit",
        "held_on": "2024-05-20",
        "participants": "12",
        "summary": "Sambang.",
        "topics": "TPPO\nPaspor",
    }
    assert foster_form(browser, case["id"], "pembinaan/kegiatan", activity, version=6).status_code == 303
    report = {
        "received_at": "2024-06-01T08:30",
        "channel": "whatsapp",
        "category": "suspected_trafficking",
        "summary": "Perekrut.",
    }
    assert foster_form(browser, case["id"], "pembinaan/laporan", report, version=7).status_code == 303
    (received,) = api.get("auditor", f"/api/v1/candidacies/{case['id']}/village-reports").get_json()["items"]
    assert received["received_at"] == "2024-06-01T01:30:00.000000Z"  # entered in WIB
    verify = f"laporan/{received['id']}/verifikasi"
    assert foster_form(browser, case["id"], verify, {"notes": "Dicek."}, version=8).status_code == 303
    close = f"laporan/{received['id']}/tutup"
    missing = foster_form(
        browser, case["id"], close, {"outcome": "referred", "notes": "Diteruskan."}, version=9
    )
    assert missing.status_code == 422 and "Diteruskan kepada (jika diteruskan)" in text_of(missing)
    closing = {"outcome": "referred", "notes": "Diteruskan.", "referred_to": "Polres Bogor"}
    assert foster_form(browser, case["id"], close, closing, version=9).status_code == 303
    activities = api.get("auditor", f"/api/v1/candidacies/{case['id']}/activities").get_json()["items"]
    assert [(a["kind"], a["participants"], a["topics"]) for a in activities] == [
        ("visit", 12, ["TPPO", "Paspor"])
    ]
    assert (
        api.get("auditor", f"/api/v1/candidacies/{case['id']}/village-reports").get_json()["items"][0][
            "status"
        ]
        == "closed"
    )
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})

    assert sign_in(browser, "supervisor").status_code == 303
    evaluation = {"period": "2024-Q2", "rating": "active", "notes": "Aktif."}
    assert foster_form(browser, case["id"], "pembinaan/evaluasi", evaluation, version=10).status_code == 303
    assert "Evaluasi tercatat." in text_of(browser.get(f"/kasus/{case['id']}"))


def test_a_fostering_form_with_a_field_wrong_or_for_an_old_version_records_nothing(
    browser: FlaskClient, api: Api
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    bad = {"kind": "visit", "held_on": "2024-04-01", "participants": "banyak", "summary": ""}
    response = foster_form(browser, case["id"], "pembinaan/kegiatan", bad, version=5)
    page = text_of(response)
    assert response.status_code == 422
    assert "Peserta: Bukan bilangan bulat." in page and "Ringkasan: Isian ini wajib diisi." in page
    stale = {"kind": "visit", "held_on": "2024-05-20", "participants": "3", "summary": "Sambang."}
    old = foster_form(browser, case["id"], "pembinaan/kegiatan", stale, version=4)
    assert old.status_code == 409 and "Kasus berubah sejak formulir ini dibuka" in text_of(old)
    assert foster_form(browser, case["id"], "pembinaan/rahasia", stale, version=5).status_code == 404
    assert api.case("auditor", case["id"])["version"] == 5


def test_the_fostering_dashboard_and_its_spreadsheet(
    browser: FlaskClient, api: Api, application: Application
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"}
    api.client.put(
        f"/api/v1/candidacies/{case['id']}/officers", json=officers, headers=api.world.headers("head")
    )
    activity = {"kind": "counseling", "held_on": "2024-05-20", "participants": 64, "summary": "Penyuluhan."}
    api.client.post(
        f"/api/v1/candidacies/{case['id']}/activities", json=activity, headers=api.world.headers("head")
    )

    sign_in(browser, "officer")
    work = text_of(browser.get("/tugas"))
    assert "Desa binaan saya" in work and "Dibina sejak 16 April 2024" in work and "0 laporan terbuka" in work

    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    sign_in(browser, "auditor")
    page = text_of(browser.get("/pembinaan", query_string={"year": "2024", "as_of": "2024-06-01"}))
    assert "Desa, petugas dan kegiatan" in page and "Nasional" in page
    bogor = re.search(r"Kantor Imigrasi Kelas I Non TPI Bogor</th>(.*?)</tr>", page, re.S)
    assert bogor is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', bogor[1])[:7] == ["1", "1", "0", "1", "0", "0", "64"]
    # The day before, the designation had not been recorded yet (the clock stands on 1 June).
    before = text_of(browser.get("/pembinaan", query_string={"year": "2024", "as_of": "2024-05-31"}))
    earlier = re.search(r"Kantor Imigrasi Kelas I Non TPI Bogor</th>(.*?)</tr>", before, re.S)
    assert earlier is not None and re.findall(r'<td class="num">([^<]*)</td>', earlier[1])[:2] == ["0", "0"]
    sheet = browser.get("/pembinaan.xlsx", query_string={"year": "2024", "as_of": "2024-06-01"})
    assert sheet.status_code == 200 and sheet.mimetype.endswith("spreadsheetml.sheet")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.get_data())).active.iter_rows(values_only=True))
    assert rows[0][0] == "Laporan Pembinaan Desa Binaan Imigrasi" and rows[3][1] == "2024-06-01 (requested)"
    bad = browser.get("/pembinaan", query_string={"as_of": "2099-01-01"})
    assert bad.status_code == 422 and "Per tanggal: 1 Januari 2099 belum terjadi" in text_of(bad)
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    admin_signs_in(browser, application)
    assert browser.get("/pembinaan").status_code == 403


def test_an_activity_form_carries_its_photo_and_attendance_list(
    browser: FlaskClient, api: Api, application: Application
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    page = text_of(browser.get(f"/kasus/{case['id']}"))
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    activity = {
        "kind": "socialization",
        "held_on": "2024-05-20",
        "participants": "85",
        "summary": "Sosialisasi.",
    }
    files = [
        (io.BytesIO(samples.photo(1200, 900)), "foto kegiatan.jpg"),
        (io.BytesIO(samples.pdf()), "daftar hadir.pdf"),
    ]
    sent = foster_form(browser, case["id"], "pembinaan/kegiatan", {**activity, "documents": files}, version=5)
    assert sent.status_code == 303, text_of(sent)

    page = text_of(browser.get(f"/kasus/{case['id']}"))
    photo, attendance = (
        hashlib.sha256(samples.photo(1200, 900)).hexdigest(),
        hashlib.sha256(samples.pdf()).hexdigest(),
    )
    assert f'src="/dokumen/{photo}/kecil"' in page and 'alt="Foto: foto kegiatan.jpg"' in page
    assert f'href="/dokumen/{attendance}"' in page and "daftar hadir.pdf" in page
    thumbnail = browser.get(f"/dokumen/{photo}/kecil")
    assert (thumbnail.status_code, thumbnail.mimetype) == (200, "image/jpeg")
    assert browser.get(f"/dokumen/{attendance}").data == samples.pdf()
    listed = api.get("auditor", f"/api/v1/candidacies/{case['id']}/activities").get_json()["items"]
    assert sorted(listed[0]["documents"]) == sorted([photo, attendance])
    browser.post("/keluar", data={"csrf_token": csrf_token(browser, "/tugas")})
    assert sign_in(browser, "sukabumi_head").status_code == 303
    assert browser.get(f"/dokumen/{photo}").status_code == 404


def test_a_form_with_a_hostile_file_says_so_and_records_nothing(
    browser: FlaskClient, api: Api, application: Application
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    before = snapshot(application)
    activity = {"kind": "visit", "held_on": "2024-05-20", "participants": "3", "summary": "Sambang."}
    hostile = {**activity, "documents": [(io.BytesIO(samples.HTML_AS_PDF), "surat.pdf")]}
    refused = foster_form(browser, case["id"], "pembinaan/kegiatan", hostile, version=5)
    assert refused.status_code == 422
    assert "Dokumen (foto, PDF)" in text_of(refused)
    assert "hanya dokumen PDF, JPEG dan PNG yang diterima" in text_of(refused)
    with_a_good_file_and_a_bad_field = {
        **activity,
        "participants": "banyak",
        "documents": [(io.BytesIO(samples.photo()), "foto.jpg")],
    }
    refused = foster_form(
        browser, case["id"], "pembinaan/kegiatan", with_a_good_file_and_a_bad_field, version=5
    )
    assert refused.status_code == 422
    assert snapshot(application) == before
    with application.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(documents_table)).scalar_one() == 0


def test_a_designation_form_carries_its_decree(browser: FlaskClient, api: Api) -> None:
    case = api.case_at("assessed")
    sign_in(browser, "head")
    form = {
        "decree_number": "W11.IMI.4-UM.01.01-0416",
        "decree_date": "2024-04-16",
        "fostering_officers": "Officer",
        "documents": [(io.BytesIO(samples.pdf("SK")), "SK Desa Binaan.pdf")],
    }
    token = csrf_token(browser, f"/kasus/{case['id']}")
    sent = browser.post(f"/kasus/{case['id']}/designate", data={**form, "version": "4", "csrf_token": token})
    assert sent.status_code == 303, text_of(sent)
    decree = hashlib.sha256(samples.pdf("SK")).hexdigest()
    assert api.case("auditor", case["id"])["designated"]["documents"] == [decree]
    assert f'href="/dokumen/{decree}"' in text_of(browser.get(f"/kasus/{case['id']}"))


def test_a_form_too_large_to_read_gets_a_page_that_says_so(
    browser: FlaskClient, api: Api, app: Flask
) -> None:
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    sign_in(browser, "head")
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    files = [(io.BytesIO(b"%PDF-" + b"x" * limit), f"besar-{n}.pdf") for n in range(5)]
    form = {"kind": "visit", "held_on": "2024-05-20", "participants": "3", "summary": "x", "documents": files}
    refused = foster_form(browser, case["id"], "pembinaan/kegiatan", form, version=5)
    assert refused.status_code == 413
    assert "Berkas terlalu besar" in text_of(refused)
