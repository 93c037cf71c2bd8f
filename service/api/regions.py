"""`/api/v1/regions`: the regional offices (Kanwil) and their immigration offices, for anyone signed in."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from service import accounts, web
from service.api import docs
from service.schemas import RegionListSchema

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="Regions (Kanwil).")


@blp.route("")
@blp.response(200, RegionListSchema)
@docs.errors(401)
def list_regions() -> Response:
    """Every region that has offices, by code, with its name and its offices' codes (a few dozen:
    one list, no pages)."""
    regions = web.application().query(accounts.list_regions)
    items = [{"code": r.code, "name": r.name, "offices": r.offices} for r in regions]
    return web.json_response({"items": items})
