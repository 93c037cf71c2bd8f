"""The docs page works offline: Swagger UI's files come from our own origin, under a policy that
allows nothing from elsewhere; and every answer carries the security headers."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from flask.testing import FlaskClient

from tests.e2e.conftest import API, Api


def test_the_docs_page_loads_everything_from_our_own_origin(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    # The only absolute URL is Swagger UI's OAuth redirect, on the page's own origin.
    assert set(re.findall(r"https?://([^/\"']+)", html)) <= {"localhost"}
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(linked)
    for path in linked:
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.mimetype in ("text/javascript", "application/javascript", "text/css", "image/png"), path
    config = json.loads(re.search(r"var user_config = (\{.*?\});", html).group(1))  # type: ignore[union-attr]
    assert config["url"] == "/openapi.json"
    assert config["validatorUrl"] is None  # no badge fetched from validator.swagger.io
    assert client.get("/docs/").status_code == 200


def test_the_docs_page_allows_scripts_from_our_origin_and_its_own_set_up_only(client: FlaskClient) -> None:
    page = client.get("/docs")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    [inline] = re.findall(r"<script>(.*?)</script>", page.get_data(as_text=True), re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_every_answer_says_nosniff_and_api_answers_are_not_cached(api: Api, client: FlaskClient) -> None:
    for path in ("/healthz", "/openapi.json", "/docs", "/docs/swagger-ui.css"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path
    for response in (
        api.get("auditor", f"{API}/ledger"),
        api.get("auditor", f"{API}/no-such-thing"),
        client.get(f"{API}/ledger"),  # a 401
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
