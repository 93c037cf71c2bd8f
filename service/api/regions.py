"""`/api/v1/regions`: the regional offices (Kanwil) and their immigration offices; read by anyone
signed in, added and renamed by administrators (each an event in the log)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import rules
from domain.errors import NotFound
from service import handlers, organisation, web
from service.api import docs
from service.idempotency import Reply
from service.schemas import (
    CODE_PATTERN,
    RegionCreateSchema,
    RegionListSchema,
    RegionRenameSchema,
    RegionSchema,
)

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="Regions (Kanwil).")

admin_only = web.checked_before_body(rules.check_may_manage_accounts)


def region_as_dict(region: organisation.Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "offices": region.offices}


@blp.route("")
class Regions(MethodView):
    @blp.response(200, RegionListSchema)
    @docs.errors(401)
    def get(self) -> Response:
        """Every region by code, with its name and its offices' codes (a few dozen: one list, no
        pages)."""
        regions = web.application().query(organisation.list_regions)
        return web.json_response({"items": [region_as_dict(r) for r in regions]})

    @admin_only
    @blp.arguments(RegionCreateSchema())
    @blp.response(201, RegionSchema, headers=docs.LOCATION)
    @docs.errors(400, 401, 403, 409, 413, 422)
    def post(self, data: dict[str, Any]) -> Response:
        """Add a region (admin); a code in use is 409."""
        command = handlers.NameRegion(data["code"], data["name"])
        location = f"{blp.url_prefix}/{command.code}"
        created = lambda region: Reply.json(201, region_as_dict(region), Location=location)  # noqa: E731
        return web.perform(handlers.add_region, command, created, idempotent=False)


@blp.route("/<code>")
class RegionByCode(MethodView):
    @admin_only
    @blp.arguments(RegionRenameSchema())
    @blp.response(200, RegionSchema)
    @docs.errors(400, 401, 403, 404, 413, 422)
    def put(self, data: dict[str, Any], code: str) -> Response:
        """Rename a region (admin): its offices and every report name it so from now on."""
        if not re.fullmatch(CODE_PATTERN, code):
            raise NotFound(f"no region {code}")
        renamed = lambda region: Reply.json(200, region_as_dict(region))  # noqa: E731
        command = handlers.NameRegion(code, data["name"])
        return web.perform(handlers.rename_region, command, renamed, idempotent=False)
