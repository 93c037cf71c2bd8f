"""`/api/v1/designations` and `/api/v1/reports/performance`: the registers people are judged by."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from domain import rules
from domain.calendar import day_of
from service import http, reports
from service.api import docs
from service.schemas import (
    DesignationPageSchema,
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


@blp.route("/designations")
@blp.arguments(RegisterQuerySchema(), location="query")
@blp.response(200, DesignationPageSchema)
@blp.doc(responses=CSV_DOC)
@docs.errors(401, 403, 422)
def designation_register(args: dict[str, Any]) -> Response:
    """Every designated village with who proposed, coordinated, socialized, assessed and approved it."""
    filters = reports.RegisterFilters(
        year=args.get("year"), office=args.get("office"), region=args.get("region")
    )
    with http.application().db.read() as conn:
        if http.wants_csv(args.get("format")):
            name = "designations" + (f"-{filters.year}" if filters.year else "") + ".csv"
            rows = reports.register_csv_rows(conn, http.actor(), filters)
            return negotiated(http.csv_response(reports.REGISTER_CSV_COLUMNS, rows, name))
        page = reports.designation_register(conn, http.actor(), filters, args["limit"], args.get("cursor"))
    return negotiated(http.json_response({"items": page.items, "next_cursor": page.next_cursor}))


@blp.route("/reports/performance")
@blp.arguments(PerformanceQuerySchema(), location="query")
@blp.response(200, PerformanceReportSchema)
@blp.doc(responses=CSV_DOC)
@docs.errors(401, 403, 422)
def performance(args: dict[str, Any]) -> Response:
    """Target, realization, achievement and rating per office, region and nation; now or as of a day."""
    actor = http.actor()
    as_of: dt.date | None = args.get("as_of")
    if as_of is not None:
        rules.check_not_in_future("as_of", as_of, http.application().clock())
    year = args.get("year") or (as_of or day_of(http.application().clock())).year
    with http.application().db.read() as conn:
        report = reports.performance_report(conn, actor, year, args.get("region"), as_of)
    if http.wants_csv(args.get("format")):
        name = f"performance-{year}" + (f"-as-of-{as_of.isoformat()}" if as_of else "") + ".csv"
        return negotiated(
            http.csv_response(reports.PERFORMANCE_CSV_COLUMNS, reports.performance_csv_rows(report), name)
        )
    return negotiated(http.json_response(report))


def negotiated(response: Response) -> Response:
    """JSON or CSV by the Accept header: a cache must not answer one with the other."""
    response.vary.add("Accept")
    return response
