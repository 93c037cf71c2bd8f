"""`/healthz` (alive, reaches its database) and `/readyz` (can serve writes): open, for load balancers,
orchestrators and `make run`."""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from service import readiness, web
from service.api import docs
from service.problems import problem
from service.schemas import HealthSchema, ReadinessSchema

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


@blp.route("/readyz")
@blp.response(200, ReadinessSchema)
@blp.doc(security=[])
@docs.errors(503)
def readyz() -> Response:
    """Whether this instance can serve writes now: the schema is at the newest migration, the database
    gives the write lock within two seconds and answers, and its disk has room. 503 names the check
    that failed."""
    database = web.application().db
    results = readiness.checks(database, current_app.config["MIN_FREE_DISK_MB"] * 1024 * 1024)
    if not readiness.ready(results):
        failed = ", ".join(name for name, check in results.items() if not check["ok"])
        return problem(
            503, f"not ready: {failed}", kind="not-ready", headers={"Retry-After": "5"}, checks=results
        )
    return web.json_response({"status": "ready", "checks": results})
