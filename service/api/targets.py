"""`/api/v1/targets`: each office's yearly target, set by its regional supervisor."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import targets as target_rules
from service import http, reports
from service.api import docs
from service.api.candidacies import IDEMPOTENCY_HEADER, IF_MATCH_HEADER
from service.api.offices import checked_office_code
from service.schemas import TargetBodySchema, TargetPageSchema, TargetQuerySchema, TargetSchema

blp = Blueprint("targets", __name__, url_prefix="/api/v1/targets", description="Yearly performance targets.")


@blp.route("")
class Targets(MethodView):
    @blp.arguments(TargetQuerySchema(), location="query")
    @blp.response(200, TargetPageSchema)
    @docs.errors(401, 403, 422)
    def get(self, args: dict[str, Any]) -> Response:
        """The targets of the offices the caller may read, each with its history of changes."""
        with http.application().db.read() as conn:
            page = reports.list_targets(
                conn, http.actor(), args.get("year"), args["limit"], args.get("cursor")
            )
        return http.json_response({"items": page.items, "next_cursor": page.next_cursor})


@blp.route("/<office_code>/<int(signed=True):year>", methods=["PUT"])
@http.checked_before_body(target_rules.check_may_set_targets)
@blp.arguments(TargetBodySchema())
@blp.response(200, TargetSchema, headers=docs.ETAG)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def put_target(data: dict[str, Any], office_code: str, year: int) -> Response:
    """Set or change an office's target for a year, with its basis (decree or letter)."""
    idempotency_request = http.idempotency_request()
    if isinstance(idempotency_request, Response):
        return idempotency_request
    stored = http.application().set_target(
        http.actor(),
        checked_office_code(office_code),
        year,
        data["target"],
        data["basis"],
        request_id=http.request_id(),
        expected_version=http.expected_version(),
        idempotency_request=idempotency_request,
    )
    return http.reply(stored)
