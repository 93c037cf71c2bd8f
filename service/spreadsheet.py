"""The registers and reports as spreadsheets: a header block that says what the table is (title,
scope, year, the day it answers as of, the ledger position and digest it was read at), then the same
columns and rows as the CSV; a report also as its year-end table, a figure per row and a column per
office, region and the nation, printed on one page wide."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

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


_BOLD = Font(bold=True)
_UNIT_WIDTH = 18  # a column of the year-end table: an office, a region, the nation


def workbook_bytes(
    title: str,
    heading: Sequence[tuple[str, Any]],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    summary: Sequence[str] = (),
) -> bytes:
    """The table under its header block (sheet "Data": the CSV's columns and rows); with `summary`
    (a report's figure columns), first a sheet "Rekap" that prints on one page: one row per figure,
    one column per row of the table (office, region, the nation), as the year-end tables are laid out."""
    book = Workbook()
    data = book.active
    assert data is not None
    data.title = "Data"
    table = [list(row) for row in rows]
    header_row = _header_block(data, title, heading)
    data.append(list(columns))
    for cell in data[header_row]:
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table:
        data.append(row)
    _as_text_only(data, header_row + 1)
    _fit_columns(data, [list(columns), *table], first=[label for label, _ in heading])
    data.freeze_panes = data.cell(row=header_row + 1, column=2)
    _print_landscape(data, header_row)
    if summary:
        _summary_sheet(book, title, heading, list(columns), table, summary)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _header_block(sheet: Worksheet, title: str, heading: Sequence[tuple[str, Any]]) -> int:
    """Title and header block, then a blank row; returns the row the table's header goes in."""
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in heading:
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = _BOLD
    sheet.append([])
    return len(heading) + 3  # the title, the block, a blank row


def _summary_sheet(
    book: Workbook,
    title: str,
    heading: Sequence[tuple[str, Any]],
    columns: list[str],
    table: list[list[Any]],
    figures: Sequence[str],
) -> None:
    sheet = book.create_sheet("Rekap", 0)
    book.active = 0
    header_row = _header_block(sheet, title, heading)
    code, name = columns.index("code"), columns.index("name")
    sheet.append(["", *(row[code] for row in table)])
    sheet.append(["", *(row[name] for row in table)])
    for cell in (*sheet[header_row], *sheet[header_row + 1]):
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for figure in figures:
        index = columns.index(figure)
        sheet.append([figure, *(row[index] for row in table)])
        sheet.cell(row=sheet.max_row, column=1).font = _BOLD
    _as_text_only(sheet, header_row)
    sheet.column_dimensions["A"].width = max(len(c) for c in [*columns, *(label for label, _ in heading)]) + 2
    for index in range(len(table)):
        sheet.column_dimensions[get_column_letter(index + 2)].width = _UNIT_WIDTH
    # A spreadsheet sizes a wrapped row as it is drawn; a converted or printed one may not: say it.
    lines = max((len(str(row[name])) // (_UNIT_WIDTH - 2) + 1 for row in table), default=1)
    sheet.row_dimensions[header_row + 1].height = 15 * lines
    sheet.freeze_panes = sheet.cell(row=header_row + 2, column=2)
    _print_landscape(sheet, header_row)
    sheet.print_title_rows = f"{header_row}:{header_row + 1}"
    sheet.print_title_cols = "A:A"


def _as_text_only(sheet: Worksheet, from_row: int) -> None:
    for row in sheet.iter_rows(min_row=from_row):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text as entered, never run as a formula


def _fit_columns(sheet: Worksheet, table: list[list[Any]], first: list[str]) -> None:
    """Each column as wide as its longest value (a long header wraps); the first also fits the labels
    of the header block."""
    for index in range(len(table[0])):
        values = [len(str(row[index])) for row in table[1:] if row[index] is not None]
        if index == 0:
            values += [len(label) for label in first]
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(
            10, min(66, max(values, default=0) + 2)
        )


def _print_landscape(sheet: Worksheet, header_row: int) -> None:
    """Printed as offices hand it in: landscape A4, one page wide, the table's header on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"


def xlsx_response(
    title: str,
    heading: Sequence[tuple[str, Any]],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filename: str,
    *,
    summary: Sequence[str] = (),
) -> Response:
    response = Response(workbook_bytes(title, heading, columns, rows, summary=summary), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
