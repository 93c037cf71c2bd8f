"""docs/api.md stays true to what is built: every operation it names is in the OpenAPI document the
server serves, and every operation there is named in it."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)`")
# Served, but not operations of the document: the document itself.
OUTSIDE = {("GET", "/openapi.json")}


def _shape(path: str) -> str:
    """A path with its parameters unnamed: the document says {id}, the routes {candidacy_id}."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_api_doc_names_exactly_the_operations_the_server_documents(client: FlaskClient) -> None:
    documented = set()
    for method, path in OPERATION.findall(API_DOC.read_text(encoding="utf-8")):
        if (method, path) in OUTSIDE:
            continue
        full = path if path in ("/healthz", "/readyz") else "/api/v1" + path
        documented.add((method, _shape(full)))
    spec = client.get("/openapi.json").get_json()
    served = {
        (method.upper(), _shape(path))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented - served == set(), "in docs/api.md but not served"
    assert served - documented == set(), "served but not in docs/api.md"
