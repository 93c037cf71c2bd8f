"""OpenAPI documentation of the error statuses an operation can answer with (all problem+json)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask_smorest import Blueprint

View = TypeVar("View", bound=Callable[..., Any])

READ = (401, 403, 404)
WRITE = (400, 401, 403, 404, 409, 412, 413, 422)


def errors(blp: Blueprint, *statuses: int) -> Callable[[View], View]:
    """Name each status in the document, pointing at the shared problem+json response component."""

    def decorate(view: View) -> View:
        for status in sorted(set(statuses), reverse=True):
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
