"""`/api/v1/designations` and `/api/v1/reports/performance`: the registers people are judged by."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from domain import rules
from domain.calendar import day_of
from domain.performance import AsOf, report_as_of
from service import fostering_report, performance_report, register, web
from service.api import docs
from service.schemas import (
    DesignationPageSchema,
    FosteringReportSchema,
    PerformanceQuerySchema,
    PerformanceReportSchema,
    RegisterQuerySchema,
)

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Audit and reports.")

# The CSV is a second content type of the 200 response: an `alt_response` with the JSON's status
# (200) is dropped from the document.
CSV_DOC = {
    200: {
        "description": "JSON, or the same rows as CSV with `format=csv` or `Accept: text/csv`",
        "content": {"text/csv": {"schema": {"type": "string"}}},
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
    if web.wants_csv(args.get("format")):
        name = "designations" + (f"-{filters.year}" if filters.year else "") + ".csv"
        rows = application.query(register.register_csv_rows, actor, filters)
        return negotiated(web.csv_response(register.REGISTER_CSV_COLUMNS, rows, name))
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
    if web.wants_csv(args.get("format")):
        name = f"performance-{year}-as-of-{when.day.isoformat()}.csv"
        return negotiated(
            web.csv_response(
                performance_report.PERFORMANCE_CSV_COLUMNS,
                performance_report.performance_csv_rows(report),
                name,
            )
        )
    return negotiated(web.json_response(report))


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
    if web.wants_csv(args.get("format")):
        name = f"fostering-{year}-as-of-{when.day.isoformat()}.csv"
        rows = fostering_report.fostering_csv_rows(report)
        return negotiated(web.csv_response(fostering_report.FOSTERING_CSV_COLUMNS, rows, name))
    return negotiated(web.json_response(report))


def _year_and_day(args: dict[str, Any]) -> tuple[int, AsOf]:
    """The report's year and the day it answers as of: `as_of` if asked (never in the future), else the
    last day of a past year, else today."""
    now = web.application().clock()
    requested: dt.date | None = args.get("as_of")
    if requested is not None:
        rules.check_not_in_future("as_of", requested, now)
    year = args.get("year") or (requested or day_of(now)).year
    return year, report_as_of(year, requested, day_of(now))


def negotiated(response: Response) -> Response:
    """JSON or CSV by the Accept header: a cache must not answer one with the other."""
    response.vary.add("Accept")
    return response
