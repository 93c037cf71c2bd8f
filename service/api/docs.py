"""OpenAPI documentation of the error statuses an operation can answer with (all problem+json)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask_smorest import Blueprint

View = TypeVar("View", bound=Callable[..., Any])

READ = (401, 403, 404)
WRITE = (400, 401, 403, 404, 409, 412, 413, 422)
# Any operation: a request line longer than the server reads (gunicorn.conf.py) is refused before the
# application sees it, and a long enough query string makes any URL that long.
EVERY = (414,)

# Response headers, for the document (`headers=` of `blp.response`).
ETAG = {
    "ETag": {
        "description": 'The version, for `If-Match`: "3"',
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}
LOCATION = {
    "Location": {
        "description": "Where the new resource is read",
        "required": True,
        "schema": {"type": "string"},
    }
}


def errors(blp: Blueprint, *statuses: int) -> Callable[[View], View]:
    """Name each status in the document, pointing at the shared problem+json response component."""

    def decorate(view: View) -> View:
        for status in sorted(set(statuses) | set(EVERY), reverse=True):
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
