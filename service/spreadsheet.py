"""The registers and reports as spreadsheets: a header block that says what the table is (title,
scope, year, the day it answers as of, the ledger position and digest it was read at), then the same
columns and rows as the CSV, as offices hand in their year-end tables."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from domain.actors import Actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def scope_of(actor: Actor, region: str | None, office: str | None) -> str:
    """Whose figures the table holds: the office or region asked for, else the caller's own."""
    if office:
        return f"Kantor / Office {office}"
    if region:
        return f"Kanwil / Region {region}"
    if actor.office_code:
        return f"Kantor / Office {actor.office_code}"
    if actor.region_code:
        return f"Kanwil / Region {actor.region_code}"
    return "Nasional / National"


def ledger_lines(ledger: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("Posisi ledger / Ledger position", ledger["position"]), ("Digest ledger", ledger["digest"])]


def report_heading(scope: str, report: dict[str, Any]) -> list[tuple[str, Any]]:
    """A report's header block: whose figures, the year, the day it answers as of, the ledger."""
    return [
        ("Cakupan / Scope", scope),
        ("Tahun / Year", report["year"]),
        ("Per tanggal / As of", f"{report['as_of']} ({report['as_of_basis']})"),
        *ledger_lines(report["ledger"]),
    ]


def workbook_bytes(
    title: str, heading: Sequence[tuple[str, Any]], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # a sheet's name is at most 31 characters
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in heading:
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.append([])
    sheet.append(list(columns))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text as entered, never run as a formula
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(
    title: str,
    heading: Sequence[tuple[str, Any]],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filename: str,
) -> Response:
    response = Response(workbook_bytes(title, heading, columns, rows), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
