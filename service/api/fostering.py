"""`/api/v1/candidacies/{id}/...` after designation: fostering officers, activities, residents'
reports with their deadlines, and evaluations; and `/api/v1/me/villages`, an officer's villages."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from domain import fostering as fostering_rules
from domain.fostering import FosteringAct, fostering_command
from service import fostering, handlers, web
from service.api import docs
from service.api.candidacies import IDEMPOTENCY_HEADER, IF_MATCH_HEADER, case_reply, checked_id
from service.idempotency import Reply
from service.schemas import (
    ActivityCreateSchema,
    ActivityPageSchema,
    ActivitySchema,
    CandidacySchema,
    CloseReportSchema,
    EvaluationCreateSchema,
    EvaluationListSchema,
    EvaluationSchema,
    MyVillageListSchema,
    OfficersSchema,
    PageQuerySchema,
    VerifyReportSchema,
    VillageReportCreateSchema,
    VillageReportListSchema,
    VillageReportQuerySchema,
    VillageReportSchema,
)

blp = Blueprint(
    "fostering",
    __name__,
    url_prefix="/api/v1",
    description="Fostering a designated village: officers, activities, residents' reports, evaluations.",
)


def may(act: FosteringAct) -> Any:
    return web.checked_before_body(lambda caller: fostering_rules.check_role_may_foster(caller, act))


def _perform(
    act: FosteringAct, candidacy_id: str, values: dict[str, Any], status: int, report_id: str = ""
) -> Response:
    command = fostering_command(act, values, report_id)
    foster = handlers.FosterCase(checked_id(candidacy_id), command, expected_version=web.expected_version())
    return web.perform(handlers.FOSTERING_HANDLERS[act], foster, lambda shown: Reply.json(status, shown))


@blp.route("/candidacies/<candidacy_id>/officers", methods=["PUT"])
@may(FosteringAct.ASSIGN_OFFICERS)
@blp.arguments(OfficersSchema())
@blp.response(200, CandidacySchema, headers=docs.ETAG)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def assign_officers(data: dict[str, Any], candidacy_id: str) -> Response:
    """Assign the village's fostering officers by decree (head of office); the set replaces the one
    before."""
    command = fostering_command(FosteringAct.ASSIGN_OFFICERS, data)
    act = handlers.FosterCase(checked_id(candidacy_id), command, expected_version=web.expected_version())
    return web.perform(handlers.assign_officers, act, case_reply(web.actor()))


@blp.route("/candidacies/<candidacy_id>/activities", methods=["GET"])
@blp.arguments(PageQuerySchema(), location="query")
@blp.response(200, ActivityPageSchema)
@docs.errors(*docs.READ, 422)
def list_activities(args: dict[str, Any], candidacy_id: str) -> Response:
    """The village's activities, newest recorded first."""
    page = web.application().query(
        fostering.list_activities, web.actor(), checked_id(candidacy_id), args["limit"], args.get("cursor")
    )
    return web.json_response({"items": page.items, "next_cursor": page.next_cursor})


@blp.route("/candidacies/<candidacy_id>/activities", methods=["POST"])
@may(FosteringAct.RECORD_ACTIVITY)
@blp.arguments(ActivityCreateSchema())
@blp.response(201, ActivitySchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def record_activity(data: dict[str, Any], candidacy_id: str) -> Response:
    """Record an activity held in the village (an assigned officer, the section head or the head)."""
    return _perform(FosteringAct.RECORD_ACTIVITY, candidacy_id, data, 201)


@blp.route("/candidacies/<candidacy_id>/village-reports", methods=["GET"])
@blp.arguments(VillageReportQuerySchema(), location="query")
@blp.response(200, VillageReportListSchema)
@docs.errors(*docs.READ, 422)
def list_village_reports(args: dict[str, Any], candidacy_id: str) -> Response:
    """The residents' reports, newest received first, each with its status and whether it is overdue
    now."""
    items = web.application().query(
        fostering.list_village_reports,
        web.actor(),
        checked_id(candidacy_id),
        web.application().clock(),
        args.get("status"),
        args.get("overdue"),
    )
    return web.json_response({"items": items})


@blp.route("/candidacies/<candidacy_id>/village-reports", methods=["POST"])
@may(FosteringAct.RECEIVE_REPORT)
@blp.arguments(VillageReportCreateSchema())
@blp.response(201, VillageReportSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def receive_report(data: dict[str, Any], candidacy_id: str) -> Response:
    """Record a residents' report: it is to be verified within 48 hours of its receipt (6 for
    suspected trafficking)."""
    return _perform(FosteringAct.RECEIVE_REPORT, candidacy_id, data, 201)


@blp.route("/candidacies/<candidacy_id>/village-reports/<report_id>/verify", methods=["POST"])
@may(FosteringAct.VERIFY_REPORT)
@blp.arguments(VerifyReportSchema())
@blp.response(200, VillageReportSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def verify_report(data: dict[str, Any], candidacy_id: str, report_id: str) -> Response:
    """Verify the report: it is then to be closed within 72 hours."""
    return _perform(FosteringAct.VERIFY_REPORT, candidacy_id, data, 200, report_id)


@blp.route("/candidacies/<candidacy_id>/village-reports/<report_id>/close", methods=["POST"])
@may(FosteringAct.CLOSE_REPORT)
@blp.arguments(CloseReportSchema())
@blp.response(200, VillageReportSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def close_report(data: dict[str, Any], candidacy_id: str, report_id: str) -> Response:
    """Close a verified report with its outcome."""
    return _perform(FosteringAct.CLOSE_REPORT, candidacy_id, data, 200, report_id)


@blp.route("/candidacies/<candidacy_id>/evaluations", methods=["GET"])
@blp.response(200, EvaluationListSchema)
@docs.errors(*docs.READ)
def list_evaluations(candidacy_id: str) -> Response:
    """Every evaluation of the village, newest quarter first."""
    items = web.application().query(fostering.list_evaluations, web.actor(), checked_id(candidacy_id))
    return web.json_response({"items": items})


@blp.route("/candidacies/<candidacy_id>/evaluations", methods=["POST"])
@may(FosteringAct.EVALUATE)
@blp.arguments(EvaluationCreateSchema())
@blp.response(201, EvaluationSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def evaluate(data: dict[str, Any], candidacy_id: str) -> Response:
    """Evaluate the village for a quarter (monev); a later evaluation of the quarter replaces it."""
    return _perform(FosteringAct.EVALUATE, candidacy_id, data, 201)


@blp.route("/me/villages", methods=["GET"])
@blp.response(200, MyVillageListSchema)
@docs.errors(401, 403)
def my_villages() -> Response:
    """The fostered villages the caller is assigned to, with their open and overdue reports."""
    items = web.application().query(fostering.my_villages, web.actor(), web.application().clock())
    return web.json_response({"items": items})
