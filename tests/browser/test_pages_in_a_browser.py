"""The web application in Chromium, at a phone's width: the work of a section head and a head of
office through the forms, what another office may not see, forms that must be refused, throttled
sign-ins, both languages; and every page photographed at 360 and 1280 px and checked by axe-core.
On SQLite and on PostgreSQL (`pytest -s` prints where the screenshots are)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from domain.calendar import day_of
from tests import samples
from tests.browser.conftest import PASSWORD, SCREENSHOTS, WIDTHS, Site, sign_in
from tests.conftest import ACTION_BODIES


def timeline_length(page: Page) -> int:
    return page.locator("ol.timeline > li").count()


def test_a_section_head_coordinates_a_case_and_its_timeline_grows(page: Page, site: Site) -> None:
    case = site.case_at("proposed", "32.01.25.2001")  # Batulayang
    sign_in(page, site, "section_head")
    expect(page.get_by_role("heading", name="Tugas saya")).to_be_visible()
    page.get_by_role("link", name="Batulayang").click()
    before = timeline_length(page)

    page.get_by_text("Koordinasi", exact=True).first.click()  # opens the action's form
    form = page.locator(f"form[action='/kasus/{case['id']}/coordinate']")
    form.get_by_label("Tanggal").fill("2024-02-19")
    form.get_by_label("Tempat").fill("Aula Kantor Imigrasi Bogor")
    form.get_by_label("Instansi yang hadir (satu per baris)").fill("Polres Bogor\nKodim 0621")
    form.get_by_label("Nomor notulen").fill("UND-0219")
    form.get_by_role("button", name="Koordinasi").click()

    expect(page.get_by_role("status")).to_have_text("Tercatat: Koordinasi.")
    assert timeline_length(page) == before + 1
    expect(page.locator("ol.timeline > li").last).to_contain_text("Rapat koordinasi")
    assert site.api("auditor", "GET", f"/candidacies/{case['id']}")["stage"] == "coordinated"


def test_the_head_designates_and_the_dashboard_shows_it(page: Page, site: Site) -> None:
    case = site.case_at("assessed", "32.01.25.2005")  # Citeko
    # A decree of 2024 recorded now: the 2024 report counts it as of today (as of its year's end, not).
    today = day_of(dt.datetime.now(dt.UTC)).isoformat()  # the system's day (WIB)
    before = site.api("auditor", "GET", f"/reports/performance?year=2024&as_of={today}")
    designated_before = next(o for o in before["offices"] if o["office_code"] == "BOGOR")["designated"]
    sign_in(page, site, "head")
    page.goto(f"{site.url}/kasus/{case['id']}")
    page.get_by_text("Tetapkan", exact=True).first.click()
    form = page.locator(f"form[action='/kasus/{case['id']}/designate']")
    form.get_by_label("Nomor keputusan").fill("W11.IMI-UM.01.01-0416")
    form.get_by_label("Tanggal keputusan").fill("2024-04-16")
    form.get_by_label("Petugas pembina (satu per baris)").fill("Dedi Kurniawan")
    form.get_by_role("button", name="Tetapkan").click()
    expect(page.get_by_role("status")).to_have_text("Tercatat: Tetapkan.")

    page.get_by_role("link", name="Dasbor kinerja").click()
    page.get_by_label("Tahun").fill("2024")
    page.get_by_label("Per tanggal").fill(today)
    page.get_by_role("button", name="Tampilkan").click()
    row = page.get_by_role("row", name=re.compile("Kantor Imigrasi Kelas I Non TPI Bogor"))
    expect(row.locator("td").nth(1)).to_have_text(str(designated_before + 1))
    expect(page.locator("svg.chart").first).to_be_visible()


def test_an_officer_of_another_office_gets_the_not_found_page(page: Page, site: Site) -> None:
    case = site.case_at("proposed", "32.01.25.2006")
    sign_in(page, site, "sukabumi_officer")
    response = page.goto(f"{site.url}/kasus/{case['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Tidak ditemukan")).to_be_visible()


def test_a_form_for_an_older_version_is_refused(browser: Browser, site: Site) -> None:
    case = site.case_at("proposed", "32.01.25.2007")
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="id-ID")
    first, second = context.new_page(), context.new_page()
    sign_in(first, site, "section_head")
    second.goto(f"{site.url}/kasus/{case['id']}")
    first.goto(f"{site.url}/kasus/{case['id']}")
    for tab in (first, second):
        tab.get_by_text("Tarik", exact=True).first.click()
        tab.locator(f"form[action='/kasus/{case['id']}/withdraw']").get_by_label("Alasan").fill(
            "Desa sudah dibina."
        )
    first.locator(f"form[action='/kasus/{case['id']}/withdraw']").get_by_role("button").click()
    expect(first.get_by_role("status")).to_have_text("Tercatat: Tarik.")
    second.locator(f"form[action='/kasus/{case['id']}/withdraw']").get_by_role("button").click()
    expect(second.get_by_role("alert")).to_contain_text("Kasus berubah sejak formulir ini dibuka")
    context.close()


def test_a_post_without_the_forms_token_is_refused(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/")
    response = page.request.post(f"{site.url}/", form={"username": "officer", "password": PASSWORD})
    assert response.status == 400
    page.goto(f"{site.url}/tugas")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()  # not signed in


def test_failed_sign_ins_are_answered_429(page: Page, site: Site) -> None:
    for _ in range(5):  # acting_head: a user no other test signs in as (the count lasts a minute)
        sign_in(page, site, "acting_head", "not the password at all")
        expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi tidak benar.")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        sign_in(page, site, "acting_head")
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("Terlalu banyak percobaan gagal")


def test_the_pages_speak_indonesian_and_english(page: Page, site: Site) -> None:
    sign_in(page, site, "officer")
    expect(page.get_by_role("heading", name="Tugas saya")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "id"
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", name="Tugas saya")).to_be_visible()


def fostered_village(site: Site) -> str:
    """Jogjogan, designated, with an officer, an activity (with its photo and attendance list), a
    resident's report and an evaluation."""
    case = site.case_at("assessed", "32.01.25.2002")
    path = f"/candidacies/{case['id']}"
    site.api("head", "POST", f"{path}/designate", ACTION_BODIES["designate"])
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"}
    site.api("head", "PUT", f"{path}/officers", officers)
    activity = {
        "kind": "counseling",
        "held_on": "2024-05-20",
        "participants": 64,
        "summary": "Penyuluhan TPPO.",
        "documents": [
            site.upload("officer", samples.photo(1600, 1200), "penyuluhan.jpg"),
            site.upload("officer", samples.pdf(), "daftar-hadir.pdf"),
        ],
    }
    site.api("officer", "POST", f"{path}/activities", activity)
    received = {"received_at": "2024-06-01T01:00:00Z", "channel": "whatsapp", "category": "foreign_national"}
    site.api(
        "officer", "POST", f"{path}/village-reports", received | {"summary": "Dua WNA menginap di vila."}
    )
    site.api(
        "supervisor",
        "POST",
        f"{path}/evaluations",
        {"period": "2024-Q2", "rating": "active", "notes": "Aktif."},
    )
    return case["id"]


def test_every_page_at_both_widths_and_without_serious_accessibility_faults(
    browser: Browser, site: Site
) -> None:
    case = site.case_at("coordinated", "32.71.01.1001")  # Batu Tulis
    pages = {
        "masuk": (None, "/"),
        "tugas": ("section_head", "/tugas"),
        "kasus": ("section_head", f"/kasus/{case['id']}"),
        "usulkan": ("officer", "/usulkan?q=a"),
        "usulkan-formulir": ("officer", "/usulkan?village=32.01.25.2008"),
        "register": ("auditor", "/register"),
        "dasbor": ("auditor", f"/dasbor?year=2024&as_of={day_of(dt.datetime.now(dt.UTC)).isoformat()}"),
        "audit": ("auditor", "/audit"),
        "pembinaan": ("auditor", "/pembinaan?year=2024"),
        "pengguna": ("admin", "/pengguna"),
        "pengguna-satu": ("admin", "/pengguna/officer"),
        "kantor": ("admin", "/kantor"),
        "kantor-satu": ("admin", "/kantor/BOGOR"),
        "kasus-binaan": ("head", f"/kasus/{fostered_village(site)}"),
    }
    folder = SCREENSHOTS / site.backend
    folder.mkdir(parents=True, exist_ok=True)
    faults: dict[str, list[str]] = {}
    for name, (username, path) in pages.items():
        context = browser.new_context(viewport={"width": WIDTHS[0], "height": 800}, locale="id-ID")
        page = context.new_page()
        if username:
            sign_in(page, site, username)
            expect(page).to_have_url(f"{site.url}{'/pengguna' if username == 'admin' else '/tugas'}")
        response = page.goto(f"{site.url}{path}")
        assert response is not None and response.status == 200 and response.url == f"{site.url}{path}", name
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
            # Nothing wider than the screen: a phone scrolls down, not sideways (tables scroll in place).
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        found = Axe().run(page).response["violations"]
        serious = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]
        if serious:
            faults[name] = serious
        context.close()
    print(f"\nscreenshots: {folder}")
    assert faults == {}


def test_an_officer_records_an_activity_with_a_photo_from_the_phone(
    page: Page, site: Site, tmp_path: Path
) -> None:
    case = site.case_at("assessed", "32.01.25.2008")  # Kopo (the proposal page, above, only shows it)
    path = f"/candidacies/{case['id']}"
    site.api("head", "POST", f"{path}/designate", ACTION_BODIES["designate"])
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"}
    site.api("head", "PUT", f"{path}/officers", officers)
    photo = tmp_path / "sambang desa.jpg"
    photo.write_bytes(samples.photo(1200, 1600, (180, 140, 60)))  # portrait, as a phone takes it

    sign_in(page, site, "officer")
    page.goto(f"{site.url}/kasus/{case['id']}")
    page.locator("summary", has_text="Catat kegiatan").click()
    page.get_by_label("Kegiatan", exact=True).select_option("visit")
    page.locator("#kegiatan-held_on").fill("2024-05-21")
    page.get_by_label("Peserta").fill("15")
    page.locator("#kegiatan-summary").fill("Sambang desa bersama perangkat desa.")
    page.get_by_label("Dokumen (foto, PDF)").first.set_input_files(str(photo))
    page.get_by_role("button", name="Catat kegiatan").click()

    expect(page.get_by_text("Sambang desa bersama perangkat desa.")).to_be_visible()
    thumbnail = page.get_by_role("img", name="Foto: sambang desa.jpg")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 240  # 320 tall, upright
