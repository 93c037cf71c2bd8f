"""`/api/v1/offices`: read by anyone signed in, managed by admins."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from domain import rules
from domain.errors import NotFound
from domain.places import Office
from service import accounts, http
from service.schemas import CODE_PATTERN, OfficeCreateSchema, OfficeFieldsSchema, OfficeSchema

blp = Blueprint("offices", __name__, url_prefix="/api/v1/offices", description="Immigration offices.")


def _checked_code(code: str) -> str:
    """A path that is no office code names no office; say so before the database sees it (a NUL in
    it is an error on PostgreSQL)."""
    if not re.fullmatch(CODE_PATTERN, code):
        raise NotFound(f"no office {code}")
    return code


def office_from(code: str, data: dict[str, Any]) -> Office:
    return Office(
        code=code,
        name=data["name"],
        region_code=data["region_code"],
        region_name=data.get("region_name") or data["region_code"],
        regencies=frozenset(data["regencies"]),
    )


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse everyone but an admin before the body is read: a 403, never a 422 that probes the schema."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        rules.check_may_manage_accounts(http.actor())
        return view(*args, **kwargs)

    return guarded


@blp.route("")
class Offices(MethodView):
    @blp.response(200, OfficeSchema(many=True))
    def get(self) -> Response:
        """Every office with its region and the regencies it serves."""
        with http.application().db.read() as conn:
            return http.json_response([accounts.office_as_dict(o) for o in accounts.list_offices(conn)])

    @admin_only
    @blp.arguments(OfficeCreateSchema)
    @blp.response(201, OfficeSchema)
    def post(self, data: dict[str, Any]) -> Response:
        """Add an office (admin)."""
        office = office_from(data["code"], data)
        with http.application().db.write() as conn:
            accounts.add_office(conn, office)
        return http.json_response(
            accounts.office_as_dict(office), 201, Location=f"/api/v1/offices/{office.code}"
        )


@blp.route("/<code>")
class OfficeByCode(MethodView):
    @blp.response(200, OfficeSchema)
    def get(self, code: str) -> Response:
        """One office."""
        with http.application().db.read() as conn:
            office = accounts.get_office(conn, _checked_code(code))
        if office is None:
            raise NotFound(f"no office {code}")
        return http.json_response(accounts.office_as_dict(office))

    @admin_only
    @blp.arguments(OfficeFieldsSchema)
    @blp.response(200, OfficeSchema)
    def put(self, data: dict[str, Any], code: str) -> Response:
        """Replace an office's name, region and working area (admin)."""
        office = office_from(_checked_code(code), data)
        with http.application().db.write() as conn:
            accounts.replace_office(conn, office)
        return http.json_response(accounts.office_as_dict(office))
