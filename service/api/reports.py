"""`/api/v1/designations`, `/api/v1/reports/performance` and `/api/v1/reports/fostering`: the registers
people are judged by, as JSON, CSV or spreadsheets."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection

from domain import rules
from domain.actors import Actor
from domain.calendar import day_of
from domain.performance import AsOf, requested_report
from service import fostering_report, performance_report, register, web
from service.api import docs
from service.schemas import (
    DesignationPageSchema,
    FosteringReportSchema,
    PerformanceQuerySchema,
    PerformanceReportSchema,
    RegisterQuerySchema,
)
from service.spreadsheet import XLSX, ledger_lines, report_heading, scope_of, xlsx_response

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Audit and reports.")

# The CSV is a second content type of the 200 response: an `alt_response` with the JSON's status
# (200) is dropped from the document.
CSV_DOC = {
    200: {
        "description": "JSON; the same rows as CSV with `format=csv` or `Accept: text/csv`; or as a "
        "spreadsheet under a header block (scope, year, as of, ledger) with `format=xlsx` or its Accept",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


# Who may never read reports is told so before the query is looked at (a 403, not a 422).
readers_only = web.checked_before_body(rules.check_may_read_reports)


@blp.route("/designations")
@readers_only
@blp.arguments(RegisterQuerySchema(), location="query")
@blp.response(200, DesignationPageSchema)
@blp.doc(responses=CSV_DOC)
@docs.errors(401, 403, 422)
def designation_register(args: dict[str, Any]) -> Response:
    """Every designated village with who proposed, coordinated, socialized, assessed and approved it."""
    filters = register.RegisterFilters(
        year=args.get("year"), office=args.get("office"), region=args.get("region")
    )
    application, actor = web.application(), web.actor()
    wanted = web.wanted_format(args.get("format"))
    name = "designations" + (f"-{filters.year}" if filters.year else "")
    if wanted == "csv":
        rows = application.query(register.register_csv_rows, actor, filters)
        return negotiated(web.csv_response(register.REGISTER_CSV_COLUMNS, rows, f"{name}.csv"))
    if wanted == "xlsx":
        rows, ledger = application.query(_register_with_ledger, actor, filters)
        heading = [
            ("Cakupan / Scope", scope_of(actor, filters.region, filters.office)),
            ("Tahun keputusan / Decree year", filters.year or "semua / all"),
            ("Per tanggal / As of", day_of(application.clock()).isoformat()),
            *ledger_lines(ledger),
        ]
        return negotiated(
            xlsx_response(
                "Register Penetapan Desa Binaan Imigrasi",
                heading,
                register.REGISTER_CSV_COLUMNS,
                rows,
                f"{name}.xlsx",
            )
        )
    page = application.query(register.designation_register, actor, filters, args["limit"], args.get("cursor"))
    return negotiated(web.json_response({"items": page.items, "next_cursor": page.next_cursor}))


@blp.route("/reports/performance")
@readers_only
@blp.arguments(PerformanceQuerySchema(), location="query")
@blp.response(200, PerformanceReportSchema)
@blp.doc(responses=CSV_DOC)
@docs.errors(401, 403, 422)
def performance(args: dict[str, Any]) -> Response:
    """Target, realization, achievement and rating per office, region and nation, as of a day: the one
    asked for, else the last of a past year, else today (`as_of` and `as_of_basis` say which)."""
    year, when = _year_and_day(args)
    report = web.application().query(
        performance_report.performance_report, web.actor(), year, args.get("region"), when
    )
    name = f"performance-{year}-as-of-{when.day.isoformat()}"
    columns, rows = (
        performance_report.PERFORMANCE_CSV_COLUMNS,
        performance_report.performance_csv_rows(report),
    )
    return _report_reply(args, report, "Laporan Kinerja Desa Binaan Imigrasi", name, columns, rows)


@blp.route("/reports/fostering")
@readers_only
@blp.arguments(PerformanceQuerySchema(), location="query")
@blp.response(200, FosteringReportSchema)
@blp.doc(responses=CSV_DOC)
@docs.errors(401, 403, 422)
def fostering(args: dict[str, Any]) -> Response:
    """The year's fostering per office, region and nation, as of a day (as for the performance report):
    villages, officers, activities, residents' reports against their deadlines, evaluations."""
    year, when = _year_and_day(args)
    report = web.application().query(
        fostering_report.fostering_report, web.actor(), year, args.get("region"), when
    )
    name = f"fostering-{year}-as-of-{when.day.isoformat()}"
    columns, rows = fostering_report.FOSTERING_CSV_COLUMNS, fostering_report.fostering_csv_rows(report)
    return _report_reply(args, report, "Laporan Pembinaan Desa Binaan Imigrasi", name, columns, rows)


def _year_and_day(args: dict[str, Any]) -> tuple[int, AsOf]:
    return requested_report(args.get("year"), args.get("as_of"), web.application().clock())


def _report_reply(
    args: dict[str, Any], report: dict[str, Any], title: str, name: str, columns: list[str], rows: Any
) -> Response:
    """A report as JSON, CSV or a spreadsheet under its header block."""
    wanted = web.wanted_format(args.get("format"))
    if wanted == "csv":
        return negotiated(web.csv_response(columns, rows, f"{name}.csv"))
    if wanted == "xlsx":
        heading = report_heading(scope_of(web.actor(), args.get("region"), None), report)
        return negotiated(
            xlsx_response(
                title,
                heading,
                columns,
                rows,
                f"{name}.xlsx",
                summary=performance_report.figure_columns(columns),
            )
        )
    return negotiated(web.json_response(report))


def _register_with_ledger(
    conn: Connection, actor: Actor, filters: register.RegisterFilters
) -> tuple[list[list[Any]], dict[str, Any]]:
    """The register's rows and the ledger they were read at, in one snapshot."""
    return register.register_csv_rows(conn, actor, filters), performance_report.ledger_at(conn, None)


def negotiated(response: Response) -> Response:
    """JSON or CSV by the Accept header: a cache must not answer one with the other."""
    response.vary.add("Accept")
    return response
