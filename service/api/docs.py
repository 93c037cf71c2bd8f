"""OpenAPI documentation of the error statuses an operation can answer with (all problem+json)."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from http import HTTPStatus
from typing import Any, TypeVar

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


def errors(*statuses: int) -> Callable[[View], View]:
    """Name each status in the document, pointing at the shared problem+json response component.

    Recorded on the view as flask-smorest's `blp.alt_response(status, response=...)` records it (the
    blueprint reads it when the route is registered), but without `alt_response`'s wrapper: each
    wraps the view in a function of its own that every request then passes through, to document
    what it never does at run time (nine of them on a command)."""

    def decorate(view: View) -> View:
        apidoc = deepcopy(getattr(view, "_apidoc", {}))  # the view's own may be shared: not modified
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status in sorted(set(statuses) | set(EVERY), reverse=True):
            responses.setdefault(status, []).append(HTTPStatus(status).name)
        view._apidoc = apidoc  # type: ignore[attr-defined]
        return view

    return decorate
