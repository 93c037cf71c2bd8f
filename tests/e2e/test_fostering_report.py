"""A fostered village's year, and the fostering report worked out by hand as of several days: what
had been recorded by the end of each day, each report judged against its deadlines at that moment."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from flask import Flask

from tests import samples
from tests.conftest import FakeClock
from tests.e2e.conftest import CASES, Api

pytestmark = pytest.mark.usefixtures("registry")

ZERO_KINDS = dict.fromkeys(
    ["socialization", "counseling", "coordination", "visit", "passport_service", "other"], 0
)


def post(api: Api, username: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post(f"{CASES}/{path}", json=body, headers=api.world.headers(username))
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def upload(api: Api, username: str, content: bytes, filename: str) -> str:
    file = (io.BytesIO(content), filename)
    response = api.client.post(
        "/api/v1/documents",
        data={"file": file},
        content_type="multipart/form-data",
        headers=api.world.headers(username),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["sha256"]


def activity(kind: str, held_on: str, participants: int) -> dict[str, Any]:
    return {"kind": kind, "held_on": held_on, "participants": participants, "summary": f"{kind} {held_on}"}


@pytest.fixture
def year(api: Api, clock: FakeClock) -> str:
    """Tugu Selatan's 2024: designated in April, an officer assigned in May, an activity in each
    quarter from the second (two in the fourth), each with its photo and attendance list, a report of
    suspected trafficking closed in time in August, a report of a foreigner never verified in
    September, two evaluations."""
    clock.set("2024-04-16T03:00:00Z")
    case = api.case_at("assessed")
    api.acted("head", case["id"], "designate")
    clock.set("2024-05-02T03:00:00Z")
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-0502", "decree_date": "2024-05-02"}
    response = api.client.put(
        f"{CASES}/{case['id']}/officers", json=officers, headers=api.world.headers("head")
    )
    assert response.status_code == 200
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("2024-05-20T03:00:00Z", "officer", "activities", activity("counseling", "2024-05-20", 60)),
        (
            "2024-07-01T03:00:00Z",
            "supervisor",
            "evaluations",
            {"period": "2024-Q2", "rating": "active", "notes": "Aktif."},
        ),
        ("2024-08-14T03:00:00Z", "officer", "activities", activity("socialization", "2024-08-14", 45)),
        (
            "2024-08-20T02:00:00Z",
            "officer",
            "village-reports",
            {
                "received_at": "2024-08-20T08:00:00+07:00",
                "channel": "whatsapp",
                "category": "suspected_trafficking",
                "summary": "Perekrut.",
            },
        ),
        (
            "2024-09-02T02:00:00Z",
            "officer",
            "village-reports",
            {
                "received_at": "2024-09-02T02:00:00Z",
                "channel": "phone",
                "category": "foreign_national",
                "summary": "WNA.",
            },
        ),
        (
            "2024-10-01T03:00:00Z",
            "supervisor",
            "evaluations",
            {"period": "2024-Q3", "rating": "needs_attention", "notes": "Kurang."},
        ),
        ("2024-11-12T03:00:00Z", "officer", "activities", activity("visit", "2024-11-12", 12)),
        ("2024-11-26T03:00:00Z", "officer", "activities", activity("passport_service", "2024-11-26", 80)),
    ]
    urgent: dict[str, Any] = {}
    for at, username, path, body in steps:
        clock.set(at)
        if path == "activities":  # each with its photo and its attendance list
            held_on = body["held_on"]
            body = {
                **body,
                "documents": [
                    upload(
                        api,
                        username,
                        samples.photo(colour=(int(held_on[5:7]) * 20, int(held_on[8:]) * 8, 30)),
                        f"foto-{held_on}.jpg",
                    ),
                    upload(api, username, samples.pdf(f"Daftar hadir {held_on}"), f"hadir-{held_on}.pdf"),
                ],
            }
        done = post(api, username, f"{case['id']}/{path}", body)
        if body.get("category") == "suspected_trafficking":
            urgent = done
            clock.set("2024-08-20T05:00:00Z")  # verified within its 6 hours
            post(api, "officer", f"{case['id']}/village-reports/{urgent['id']}/verify", {"notes": "Dicek."})
            clock.set("2024-08-22T03:00:00Z")  # closed within 72 hours of that
            closing = {"outcome": "referred", "notes": "Ke Polres.", "referred_to": "Polres Bogor"}
            post(api, "section_head", f"{case['id']}/village-reports/{urgent['id']}/close", closing)
    clock.set("2025-02-01T03:00:00Z")
    return case["id"]


def bogor(api: Api, as_of: str) -> dict[str, Any]:
    report = api.get("auditor", "/api/v1/reports/fostering", year=2024, as_of=as_of).get_json()
    (row,) = [r for r in report["offices"] if r["office_code"] == "BOGOR"]
    return report | {"bogor": row}


def test_the_report_as_of_three_days_is_what_had_been_recorded_by_each(api: Api, year: str) -> None:
    june = bogor(api, "2024-06-30")["bogor"]
    assert (june["villages_fostered"], june["officers_assigned"], june["participants"]) == (1, 1, 60)
    assert june["activities"] == {
        "total": 1,
        "by_kind": ZERO_KINDS | {"counseling": 1},
        "by_quarter": {"Q1": 0, "Q2": 1, "Q3": 0, "Q4": 0},
    }
    # Designated in April: not fostered in Q1; Q3 and Q4 had not begun.
    assert june["villages_without_activity"] == {"Q1": 0, "Q2": 0, "Q3": None, "Q4": None}
    assert june["village_reports"] == {
        "received": 0,
        "closed": 0,
        "closed_within_deadline_pct": None,
        "open": 0,
        "overdue": 0,
    }
    assert june["evaluations"] == {"active": 0, "needs_attention": 0, "inactive": 0}  # recorded in July

    september = bogor(api, "2024-09-03")["bogor"]
    assert (september["activities"]["total"], september["participants"]) == (2, 105)
    assert september["village_reports"] == {
        "received": 2,
        "closed": 1,
        "closed_within_deadline_pct": 100.0,
        "open": 1,
        "overdue": 0,  # the foreigner's report is due by 2 Sept 02:00 UTC + 48 h
    }
    assert september["evaluations"] == {"active": 1, "needs_attention": 0, "inactive": 0}
    # A day later its deadline had passed.
    assert bogor(api, "2024-09-04")["bogor"]["village_reports"]["overdue"] == 1

    december = bogor(api, "2024-12-31")
    row = december["bogor"]
    assert row["activities"] == {
        "total": 4,
        "by_kind": ZERO_KINDS | {"counseling": 1, "socialization": 1, "visit": 1, "passport_service": 1},
        "by_quarter": {"Q1": 0, "Q2": 1, "Q3": 1, "Q4": 2},
    }
    assert row["participants"] == 197
    assert row["villages_without_activity"] == {"Q1": 0, "Q2": 0, "Q3": 0, "Q4": 0}
    assert row["village_reports"]["open"] == 1 and row["village_reports"]["overdue"] == 1
    assert row["evaluations"] == {"active": 1, "needs_attention": 1, "inactive": 0}
    assert row["revoked"] == 0
    (jabar,) = [r for r in december["regions"] if r["region_code"] == "JABAR"]
    assert (jabar["villages_fostered"], jabar["activities"]["total"], jabar["offices"]) == (1, 4, 2)
    assert december["national"]["villages_fostered"] == 1
    # The year as it closed is the default for a past year.
    assert (
        api.get("auditor", "/api/v1/reports/fostering", year=2024).get_json()["offices"]
        == december["offices"]
    )


def test_each_activity_carries_its_photo_and_attendance_list_for_every_reader(
    api: Api, app: Flask, year: str
) -> None:
    activities = api.get("auditor", f"{CASES}/{year}/activities").get_json()["items"]
    assert len(activities) == 4
    for item in activities:
        photo, attendance = item["documents"]
        shown = api.get("supervisor", f"/api/v1/documents/{photo}")
        assert (shown.status_code, shown.mimetype) == (200, "image/jpeg")
        kept = api.get("auditor", f"/api/v1/documents/{attendance}")
        assert kept.data == samples.pdf(f"Daftar hadir {item['held_on']}")
    verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "documents intact: 8 stored, 8 named by the log" in verified.output


def test_the_report_by_scope_and_as_csv(api: Api, year: str) -> None:
    api.proposed("officer", village_code="32.01.25.2007")  # a live case is not fostered
    supervisor = api.get("supervisor", "/api/v1/reports/fostering", year=2024).get_json()
    assert {r["office_code"] for r in supervisor["offices"]} == {"BOGOR", "SUKABUMI"}
    assert supervisor["national"] is None
    sukabumi = api.get("sukabumi_head", "/api/v1/reports/fostering", year=2024).get_json()
    assert [(r["office_code"], r["villages_fostered"]) for r in sukabumi["offices"]] == [("SUKABUMI", 0)]
    assert api.get("admin", "/api/v1/reports/fostering", year=2024).status_code == 403

    response = api.get("auditor", "/api/v1/reports/fostering", year=2024, format="csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    (office,) = [r for r in rows if r["level"] == "office" and r["code"] == "BOGOR"]
    assert (office["activities"], office["participants"], office["reports_overdue"]) == ("4", "197", "1")
    assert {r["level"] for r in rows} == {"office", "region", "national"}


def test_a_revocation_ends_the_count_from_the_year_after(api: Api, clock: FakeClock, year: str) -> None:
    clock.set("2025-02-01T03:00:00Z")
    revoke = {"reason": "Tidak aktif.", "decree_number": "W11-0201", "decree_date": "2025-02-01"}
    api.acted("head", year, "revoke", revoke)
    assert bogor(api, "2024-12-31")["bogor"]["revoked"] == 0
    this_year = api.get("auditor", "/api/v1/reports/fostering", year=2025).get_json()
    (row,) = [r for r in this_year["offices"] if r["office_code"] == "BOGOR"]
    assert (row["villages_fostered"], row["revoked"]) == (1, 1)  # fostered in January, revoked in February
    assert (
        api.get("auditor", "/api/v1/reports/fostering", year=2026, as_of="2025-02-01").get_json()["offices"][
            0
        ]["villages_fostered"]
        == 0
    )


def sheet_of(response: Any, name: str = "Data") -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return list(book[name].iter_rows(values_only=True))


def test_the_reports_and_the_register_as_spreadsheets_with_their_header_block(api: Api, year: str) -> None:
    ledger = api.get("auditor", "/api/v1/ledger").get_json()
    rows = sheet_of(api.get("auditor", "/api/v1/reports/fostering", year=2024, format="xlsx"))
    assert rows[0][0] == "Laporan Pembinaan Desa Binaan Imigrasi"
    heading = {row[0]: row[1] for row in rows[1:6]}
    assert heading == {
        "Cakupan / Scope": "Nasional / National",
        "Tahun / Year": 2024,
        "Per tanggal / As of": "2024-12-31 (year_end)",
        "Posisi ledger / Ledger position": ledger["position"],
        "Digest ledger": ledger["digest"],
    }
    csv_rows = list(
        csv.reader(
            io.StringIO(
                api.get("auditor", "/api/v1/reports/fostering", year=2024, format="csv").get_data(
                    as_text=True
                )
            )
        )
    )
    assert list(rows[7]) == csv_rows[0]  # the CSV's columns under the header block
    (bogor,) = [r for r in rows[8:] if r[1] == "BOGOR"]
    assert (bogor[csv_rows[0].index("activities")], bogor[csv_rows[0].index("participants")]) == (4, 197)
    # The year-end table, opened first: a figure per row, a column per office, region and the nation.
    spreadsheet = api.get("auditor", "/api/v1/reports/fostering", year=2024, format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(spreadsheet.get_data()))
    assert book.sheetnames == ["Rekap", "Data"] and book.active.title == "Rekap"
    summary = sheet_of(spreadsheet, "Rekap")
    assert {row[0]: row[1] for row in summary[1:6]} == heading
    units = summary[7]
    figures = {row[0]: row[1:] for row in summary[9:]}
    assert units[1:] == ("BOGOR", "SUKABUMI", "SURABAYA", "JABAR", "JATIM", "ID")
    assert figures["participants"][units.index("BOGOR") - 1] == 197
    assert figures["reports_overdue"][units.index("ID") - 1] == 1
    assert "ledger_digest" not in figures and "level" not in figures

    performance = sheet_of(
        api.client.get(
            "/api/v1/reports/performance",
            query_string={"year": 2024},
            headers=api.world.headers(
                "supervisor", Accept="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
        )
    )
    assert performance[0][0] == "Laporan Kinerja Desa Binaan Imigrasi"
    assert performance[1][:2] == ("Cakupan / Scope", "Kanwil / Region JABAR")

    register = sheet_of(api.get("auditor", "/api/v1/designations", format="xlsx"))
    assert register[0][0] == "Register Penetapan Desa Binaan Imigrasi"
    assert [r for r in register[8:] if r[0] == year] != []


def test_a_spreadsheet_keeps_text_that_looks_like_a_formula_as_text(api: Api, clock: FakeClock) -> None:
    clock.set("2024-04-16T03:00:00Z")
    case = api.case_at("assessed")
    formula = '=HYPERLINK("http://example.invalid","klik")'
    api.acted(
        "head",
        case["id"],
        "designate",
        {"decree_number": formula, "decree_date": "2024-04-16", "fostering_officers": ["Rina"]},
    )
    response = api.get("auditor", "/api/v1/designations", format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    cells = [c for row in book.active.iter_rows() for c in row if c.value == formula]
    assert cells and all(c.data_type == "s" for c in cells)
