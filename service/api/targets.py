"""`/api/v1/targets`: each office's yearly target, set by its regional supervisor."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import targets as target_rules
from domain.commands import SetTarget
from service import handlers, organisation, targets, web
from service.api import docs
from service.api.candidacies import IDEMPOTENCY_HEADER, IF_MATCH_HEADER
from service.idempotency import Reply
from service.schemas import TargetBodySchema, TargetPageSchema, TargetQuerySchema, TargetSchema

blp = Blueprint("targets", __name__, url_prefix="/api/v1/targets", description="Yearly performance targets.")


@blp.route("")
class Targets(MethodView):
    @blp.arguments(TargetQuerySchema(), location="query")
    @blp.response(200, TargetPageSchema)
    @docs.errors(401, 403, 422)
    def get(self, args: dict[str, Any]) -> Response:
        """The targets of the offices the caller may read, each with its history of changes."""
        page = web.application().query(
            targets.list_targets, web.actor(), args.get("year"), args["limit"], args.get("cursor")
        )
        return web.json_response({"items": page.items, "next_cursor": page.next_cursor})


@blp.route("/<office_code>/<int(signed=True):year>", methods=["PUT"])
@web.checked_before_body(target_rules.check_may_set_targets)
@blp.arguments(TargetBodySchema())
@blp.response(200, TargetSchema, headers=docs.ETAG)
@blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER])
@docs.errors(*docs.WRITE)
def put_target(data: dict[str, Any], office_code: str, year: int) -> Response:
    """Set or change an office's target for a year, with its basis (decree or letter)."""
    command = SetTarget(
        organisation.checked_office_code(office_code),
        year,
        data["target"],
        data["basis"],
        web.expected_version(),
    )
    return web.perform(handlers.set_target, command, _target_reply)


def _target_reply(target: dict[str, Any]) -> Reply:
    return Reply.json(200, target, ETag=f'"{target["version"]}"')
