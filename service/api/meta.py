"""`/healthz`: open, for load balancers and `make run`."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from service import web
from service.api import docs
from service.problems import problem
from service.schemas import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and readiness.")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(security=[])
@docs.errors(503)
def healthz() -> Response:
    """Whether the service is up and reaches its database."""
    try:
        web.application().query(_ping)
    except SQLAlchemyError:
        return problem(503, "the database does not answer", kind="unavailable")
    return web.json_response({"status": "ok", "database": web.application().db.dialect})


def _ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))
