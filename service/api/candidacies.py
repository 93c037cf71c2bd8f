"""`/api/v1/candidacies`: propose, list, read, history, and the seven lifecycle actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import commands, rules
from domain.actors import Actor
from domain.errors import NotFound
from domain.lifecycle import Action
from service import cases, handlers, web
from service.api import docs
from service.idempotency import Reply
from service.representations import case_as_dict
from service.schemas import (
    ACTION_SCHEMAS,
    CandidacyPageSchema,
    CandidacyQuerySchema,
    CandidacySchema,
    EventListSchema,
    ProposeSchema,
)

blp = Blueprint(
    "candidacies",
    __name__,
    url_prefix="/api/v1/candidacies",
    description="Village candidacies and their lifecycle.",
)

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": web.MAX_IDEMPOTENCY_KEY},
    "description": "Retry-safe key: the same key and body return the first answer and record nothing new.",
}
IF_MATCH_HEADER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": 'The case version the action is meant for, as its ETag ("3").',
}


def checked_id(candidacy_id: str) -> str:
    """An id that is no UUID names no case; say so before touching the database."""
    try:
        return str(uuid.UUID(candidacy_id))
    except ValueError:
        rules.check_may_read_cases(web.actor())
        raise NotFound(f"no candidacy {candidacy_id}") from None


@blp.route("")
class Candidacies(MethodView):
    @blp.arguments(CandidacyQuerySchema(), location="query")
    @blp.response(200, CandidacyPageSchema)
    @docs.errors(401, 403, 422)
    def get(self, args: dict[str, Any]) -> Response:
        """List the candidacies the caller may read, newest proposal first."""
        filters = cases.CaseFilters(**{k: args.get(k) for k in ("office", "region", "stage", "year", "q")})
        page = web.application().query(
            cases.list_cases, web.actor(), filters, args["limit"], args.get("cursor")
        )
        return web.json_response({"items": page.items, "next_cursor": page.next_cursor})

    @web.permits(Action.PROPOSE)
    @blp.arguments(ProposeSchema())
    @blp.response(201, CandidacySchema, headers={**docs.ETAG, **docs.LOCATION})
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    @docs.errors(400, 401, 403, 409, 413, 422)
    def post(self, data: dict[str, Any]) -> Response:
        """Propose a village of the caller's office."""
        command = commands.ProposeCandidacy(
            village_code=data["village_code"],
            office_code=data["office_code"],
            rationale=data["rationale"],
            indicators=commands.Indicators(**data["indicators"]),
            village_name=data.get("village_name"),
            proposed_on=data.get("proposed_on"),
        )
        caller = web.actor()

        def created(row: dict[str, Any]) -> Reply:
            location = f"{blp.url_prefix}/{row['id']}"
            return Reply.json(201, case_as_dict(row, caller), ETag=f'"{row["version"]}"', Location=location)

        return web.perform(handlers.propose, command, created)


@blp.route("/<candidacy_id>")
@blp.response(200, CandidacySchema, headers=docs.ETAG)
@docs.errors(*docs.READ)
def get_candidacy(candidacy_id: str) -> Response:
    """One case, with who did each stage and what the caller may do now."""
    case = web.application().query(cases.get_case, web.actor(), checked_id(candidacy_id))
    return web.json_response(case, ETag=f'"{case["version"]}"')


@blp.route("/<candidacy_id>/events")
@blp.response(200, EventListSchema)
@docs.errors(*docs.READ)
def get_candidacy_events(candidacy_id: str) -> Response:
    """The case's events in order, each with its actor, time and hash."""
    items = web.application().query(cases.case_events, web.actor(), checked_id(candidacy_id))
    return web.json_response({"items": items, "next_cursor": None})


def case_reply(caller: Actor) -> Callable[[dict[str, Any]], Reply]:
    """A case as the caller sees it, with its version as ETag."""
    return lambda row: Reply.json(200, case_as_dict(row, caller), ETag=f'"{row["version"]}"')


def _register_action(action: Action) -> None:
    @web.permits(action)
    @blp.arguments(ACTION_SCHEMAS[action]())
    @blp.response(200, CandidacySchema, headers=docs.ETAG)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER], operationId=f"{action.value}_candidacy")
    @docs.errors(*docs.WRITE)
    def view(data: dict[str, Any], candidacy_id: str) -> Response:
        command = commands.ActOnCase(
            checked_id(candidacy_id),
            commands.case_command(action, data),
            expected_version=web.expected_version(),
        )
        return web.perform(handlers.act, command, case_reply(web.actor()))

    view.__name__ = f"{action.value}_candidacy"
    view.__doc__ = f"{action.value.capitalize()} the case (see the lifecycle)."
    blp.route(f"/<candidacy_id>/{action.value}", methods=["POST"], endpoint=view.__name__)(view)


for _action in ACTION_SCHEMAS:
    _register_action(_action)
