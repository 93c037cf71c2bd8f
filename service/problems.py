"""One error shape for every failure: RFC 9457 problem+json, never an HTML page or a stack trace."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response

from domain.documents import DocumentTooLarge, UnsupportedDocument
from domain.errors import (
    ActionNotAllowed,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    RuleBroken,
    StaleVersion,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:desa-binaan:problem:"


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + kind if kind else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_problem(errors: dict[str, list[str]], detail: str | None = None) -> Response:
    fields = ", ".join(sorted(errors))
    return problem(
        422,
        detail or f"the request is not valid: {fields}",
        kind="validation",
        errors=errors,
    )


def domain_problem(error: DomainError) -> Response:
    match error:
        case DocumentTooLarge():
            return problem(413, error.detail, kind="document-too-large", errors={"file": [error.detail]})
        case UnsupportedDocument():
            return problem(415, error.detail, kind="unsupported-document", errors={"file": [error.detail]})
        case InvalidInput():
            return validation_problem(error.errors, error.detail)
        case NotPermitted():
            return problem(403, error.detail, kind="forbidden")
        case NotFound():
            return problem(404, error.detail, kind="not-found")
        case ActionNotAllowed():
            return problem(
                409, error.detail, kind="action-not-allowed", allowed_actions=error.allowed_actions
            )
        case RuleBroken():
            return problem(409, error.detail, kind=error.rule.replace("_", "-"), rule=error.rule)
        case StaleVersion():
            return problem(
                412,
                error.detail,
                kind="stale-version",
                current_version=error.actual,
                headers={"ETag": f'"{error.actual}"'},
            )
    return problem(409, error.detail)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow nests errors by field; clients get one dotted path per field at fault."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_body": list(messages)}
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            for field, errors in flatten_errors(value, path).items():
                flat.setdefault(field, []).extend(errors)
        return flat
    return {prefix or "_body": [str(messages)]}
