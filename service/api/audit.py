"""`/api/v1/events` and `/api/v1/ledger`: the whole log, its head and its check, for auditors."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from domain import rules
from service import audit, web
from service.api import docs
from service.schemas import (
    EventFeedQuerySchema,
    EventFeedSchema,
    LedgerHeadSchema,
    LedgerVerificationSchema,
    LedgerVerifyQuerySchema,
)

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The event log and its hash chain.")


@blp.route("/events")
@blp.arguments(EventFeedQuerySchema(), location="query")
@blp.response(200, EventFeedSchema)
@docs.errors(401, 403, 409, 422)
def get_events(args: dict[str, Any]) -> Response:
    """The whole log in position order; tail it with `after=<last position seen>`. A position beyond
    the head is a 409: the ledger is behind the caller (a restore, or a lost write)."""
    after = audit.start_position(args.get("after"), args.get("cursor"))
    page, head = web.application().query(audit.event_feed, web.actor(), after=after, limit=args["limit"])
    return web.json_response({"items": page.items, "next_cursor": page.next_cursor, "ledger": head})


@blp.route("/ledger")
@blp.response(200, LedgerHeadSchema)
@docs.errors(401, 403)
def get_ledger() -> Response:
    """The newest position and its digest: keep it elsewhere to prove later that nothing changed."""
    return web.json_response(web.application().query(audit.ledger_head, web.actor()))


@blp.route("/ledger/verify")
@web.checked_before_body(rules.check_may_audit)
@blp.arguments(LedgerVerifyQuerySchema(), location="query")
@blp.response(200, LedgerVerificationSchema)
@docs.errors(401, 403, 422)
def verify_ledger(args: dict[str, Any]) -> Response:
    """Walk the hash chain from the first event, or from `position` whose `digest` was kept elsewhere
    (`GET /ledger`): that event must still have that digest, and every event after it must hash and
    link. `first_bad_position` and `reason` say where and why it breaks. A walk stops after
    `LEDGER_VERIFY_SECONDS` with `complete: false`: ask again from `continue_from`."""
    seconds = current_app.config["LEDGER_VERIFY_SECONDS"]
    result = web.application().query(audit.verify_ledger, web.actor(), seconds=seconds, **args)
    return web.json_response(result)
