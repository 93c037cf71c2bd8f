"""The Flask app factory."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from domain.errors import DomainError
from events.database import CommitFailed, Database, unavailable
from events.store import ConcurrencyError
from service import docs_page, logs, pages, web
from service.application import Application
from service.auth import MAX_TOKEN_DAYS, MIN_TOKEN_DAYS
from service.config import DEFAULTS, settings_from_environment
from service.documents import DocumentDamaged
from service.idempotency import IdempotencyKeyReused
from service.problems import PROBLEM_JSON, domain_problem, flatten_errors, problem, validation_problem
from service.schemas import ProblemSchema
from service.throttle import FailedAttempts


class ProblemApi(Api):
    """flask-smorest, answering every HTTP error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Document every error response as what it is: problem+json."""
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": "Problem"}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {"description": "Any other error", "content": {PROBLEM_JSON: {"schema": "Problem"}}},
            lazy=True,
        )

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        data = getattr(error, "data", None) or {}
        if error.code == 422 and "messages" in data:
            # webargs nests messages by location ("json", "query"); the field is what matters.
            messages = data["messages"]
            inner = messages.get("json", messages.get("query", messages))
            return validation_problem(flatten_errors(inner))
        status = error.code or 500
        # The error's own headers stay (a 405 names the methods the path has in `Allow`).
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        if status >= 500:
            return internal_error(status, headers)
        detail = error.description or ""
        if status == 413:
            detail = "the body is larger than the limit of the service"
        return problem(status, detail, headers=headers)


class Service(Flask):
    """Flask, logging an unhandled exception (a bug) once: as one JSON line with the request id and the
    traceback (service/logs.py), not also through Flask's own logger, over many lines."""

    def log_exception(self, exc_info: Any) -> None:
        fields = {"method": request.method, "path": request.path}
        logs.logger().error("unhandled error", exc_info=exc_info, extra={"fields": fields})


def internal_error(status: int = 500, headers: dict[str, str] | None = None) -> Response:
    """The answer to a bug: nothing of it, but the request id its log line carries, to quote."""
    return problem(
        status,
        "an internal error occurred; it has been logged with the request id",
        headers=headers,
        request_id=g.get("request_id"),
    )


def security_headers(response: Response) -> Response:
    """On every answer: no content-type sniffing; API answers and pages are never cached (they hold
    case data and change with every write); the docs page and the pages allow nothing from another
    origin."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(web.API_PREFIX):
        response.headers.setdefault("Cache-Control", "no-store")
    if request.path.rstrip("/") == docs_page.DOCS_PATH and response.mimetype == "text/html":
        docs_page.with_content_security_policy(response)
    elif request.blueprint == "pages":
        # A page may hold case data, and takes nothing from anywhere but this site.
        response.headers.setdefault("Cache-Control", "no-store")
        # A document served from a page keeps its own, stricter policy.
        response.headers.setdefault("Content-Security-Policy", pages.CONTENT_SECURITY_POLICY)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def default_database_url(app: Flask) -> str:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(app.instance_path) / 'desa_binaan.sqlite3'}"


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    app = Service("service")
    # No id or code holds a slash: "//" in a path is a 404 problem, not a 308 redirect with an HTML body.
    app.url_map.merge_slashes = False
    app.config.update(DEFAULTS)
    app.config.update(settings_from_environment())
    app.config.update(settings or {})
    app.config["DATABASE_URL"] = app.config.get("DATABASE_URL") or default_database_url(app)
    app.config["API_SPEC_OPTIONS"] = {
        "security": [{"bearerAuth": []}],
        "info": {"description": "Case tracking for Desa Binaan Imigrasi. Every action is an event."},
    }

    if not MIN_TOKEN_DAYS <= app.config["TOKEN_DAYS"] <= MAX_TOKEN_DAYS:
        raise ValueError(f"TOKEN_DAYS must be {MIN_TOKEN_DAYS} to {MAX_TOKEN_DAYS}")
    if app.config["PROXIES"]:
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    database = Database(app.config["DATABASE_URL"], lock_wait_seconds=app.config["LOCK_WAIT_SECONDS"])
    app.extensions["desa_binaan"] = Application(database, app.config["CLOCK"])
    per_minute, storage = app.config["FAILED_TOKENS_PER_MINUTE"], app.config["RATE_LIMIT_STORAGE"]
    app.extensions["failed_tokens"] = FailedAttempts(per_minute, storage, "tokens")

    logs.configure(app)
    app.before_request(web.assign_request_id)
    app.before_request(web.authenticate)
    app.before_request(web.allow_uploads)
    app.before_request(web.check_json_body)

    api = ProblemApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    from service.api import (
        audit,
        candidacies,
        documents,
        fostering,
        meta,
        offices,
        regions,
        reports,
        targets,
        users,
        villages,
    )

    for blueprint in (
        meta.blp,
        offices.blp,
        regions.blp,
        candidacies.blp,
        fostering.blp,
        documents.blp,
        targets.blp,
        reports.blp,
        audit.blp,
        users.blp,
        villages.blp,
    ):
        api.register_blueprint(blueprint)
    docs_page.register(app, app.config["API_TITLE"])
    pages.register(app)
    app.after_request(security_headers)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return domain_problem(error)

    @app.errorhandler(ConcurrencyError)
    def _concurrency_error(error: ConcurrencyError) -> Response:
        return problem(
            409,
            "the case changed while this action was recorded; read it and retry",
            kind="concurrent-change",
        )

    @app.errorhandler(CommitFailed)
    def _commit_failed(error: CommitFailed) -> Response:
        # Whether the write reached the disk is unknown, and so is the state this process holds of
        # the database (after a failed fsync, the kernel may have dropped the pages): it stops, and
        # a fresh one takes its place. The client retries; with its Idempotency-Key a retry finds
        # the first reply only if the write was committed after all.
        logs.logger().critical("a commit failed; this process stops", exc_info=error)
        response = problem(
            503,
            "the database did not confirm the write; retry it (with the same Idempotency-Key)",
            kind="unavailable",
            headers={"Retry-After": "1"},
        )
        response.call_on_close(app.config["STOP_PROCESS"])
        return response

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Response:
        # Rolled back with its transaction: nothing of the request was recorded.
        logs.logger().error("the database refused a statement", exc_info=error)
        if not unavailable(error):
            return internal_error()
        return problem(
            503,
            "the database cannot take this request now (full, read-only, out of reach, or locked by"
            " maintenance); nothing was recorded: retry later",
            kind="unavailable",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(DocumentDamaged)
    def _document_damaged(error: DocumentDamaged) -> Response:
        # Never served: the bytes are not what the events that name the document were made with.
        logs.logger().critical(
            "a stored document does not match its hash", extra={"fields": {"sha256": error.sha256}}
        )
        return problem(
            500,
            f"document {error.sha256} was changed where it is stored and is not served;"
            " an operator should run ledger verify and restore it from a backup",
            kind="document-damaged",
        )

    @app.errorhandler(IdempotencyKeyReused)
    def _key_reused(error: IdempotencyKeyReused) -> Response:
        return problem(409, str(error), kind="idempotency-key-reused")

    from service.cli import register_commands

    register_commands(app)
    return app
