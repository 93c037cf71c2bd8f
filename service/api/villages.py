"""`/api/v1/villages`: the village registry searched within an office's working area, for pickers."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from service import registry, web
from service.api import docs
from service.schemas import VillageListSchema, VillageQuerySchema

blp = Blueprint("villages", __name__, url_prefix="/api/v1/villages", description="The village registry.")


def found_as_dict(found: registry.FoundVillage) -> dict[str, Any]:
    village = found.village
    return {
        "code": village.code,
        "name": village.name,
        "district": village.district,
        "regency": village.regency,
        "province": village.province,
        "held_by": found.held_by,
    }


@blp.route("", methods=["GET"])
@blp.arguments(VillageQuerySchema(), location="query")
@blp.response(200, VillageListSchema)
@docs.errors(401, 403, 422)
def search_villages(args: dict[str, Any]) -> Response:
    """Villages of the caller's working area (or of an office the caller reads) by name or code."""
    found = web.application().query(
        registry.search_villages, web.actor(), args.get("office"), args["q"], args["limit"]
    )
    return web.json_response({"items": [found_as_dict(f) for f in found]})
