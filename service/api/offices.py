"""`/api/v1/offices`: read by anyone signed in, managed by admins."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import rules
from domain.errors import NotFound
from service import handlers, organisation, web
from service.api import docs
from service.idempotency import Reply
from service.pagination import decode_cursor, encode_cursor
from service.schemas import (
    OfficeChangeSchema,
    OfficeCreateSchema,
    OfficeHistorySchema,
    OfficePageSchema,
    OfficeSchema,
    PageQuerySchema,
)

blp = Blueprint("offices", __name__, url_prefix="/api/v1/offices", description="Immigration offices.")


admin_only = web.checked_before_body(rules.check_may_manage_accounts)


@blp.route("")
class Offices(MethodView):
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, OfficePageSchema)
    @docs.errors(401, 422)
    def get(self, args: dict[str, Any]) -> Response:
        """Every office with its region and the regencies it serves, by code."""
        limit, cursor = args["limit"], args.get("cursor")
        after = decode_cursor("o", cursor) if cursor else None
        found = web.application().query(organisation.list_offices, limit=limit + 1, after_code=after)
        items = [organisation.office_as_dict(o) for o in found[:limit]]
        next_cursor = encode_cursor("o", found[limit - 1].code) if len(found) > limit else None
        return web.json_response({"items": items, "next_cursor": next_cursor})

    @admin_only
    @blp.arguments(OfficeCreateSchema())
    @blp.response(201, OfficeSchema, headers=docs.LOCATION)
    @docs.errors(400, 401, 403, 409, 413, 422)
    def post(self, data: dict[str, Any]) -> Response:
        """Open an office from `effective_on` (admin); a region not yet added comes with it."""
        change = organisation.office_request(data["code"], data)
        location = f"{blp.url_prefix}/{change.code}"
        created = lambda added: Reply.json(201, organisation.office_as_dict(added), Location=location)  # noqa: E731
        return web.perform(handlers.add_office, change, created, idempotent=False)


@blp.route("/<code>")
class OfficeByCode(MethodView):
    @blp.response(200, OfficeSchema)
    @docs.errors(401, 404)
    def get(self, code: str) -> Response:
        """One office."""
        office = web.application().query(organisation.get_office, organisation.checked_office_code(code))
        if office is None:
            raise NotFound(f"no office {code}")
        return web.json_response(organisation.office_as_dict(office))

    @admin_only
    @blp.arguments(OfficeChangeSchema())
    @blp.response(200, OfficeSchema)
    @docs.errors(400, 401, 403, 404, 409, 413, 422)
    def put(self, data: dict[str, Any], code: str) -> Response:
        """Change an office's name, type, region or working area from `effective_on` (admin)."""
        change = organisation.office_request(organisation.checked_office_code(code), data)
        replaced = lambda done: Reply.json(200, organisation.office_as_dict(done))  # noqa: E731
        return web.perform(handlers.replace_office, change, replaced, idempotent=False)


@blp.route("/<code>/history")
class OfficeHistory(MethodView):
    @blp.response(200, OfficeHistorySchema)
    @docs.errors(401, 404)
    def get(self, code: str) -> Response:
        """Every state of the office with the day it held from and its position in the log."""
        found = web.application().query(
            organisation.office_history_of, organisation.checked_office_code(code)
        )
        return web.json_response({"items": found})
