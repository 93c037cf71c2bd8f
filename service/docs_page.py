"""`/docs`: Swagger UI over `/openapi.json`, its files served from our own origin (the copy in the
`flask-swagger-ui` package), under a Content-Security-Policy that allows nothing from elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response
from flask_swagger_ui import get_swaggerui_blueprint

DOCS_PATH = "/docs"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def register(app: Flask, title: str) -> None:
    # No validator badge: Swagger UI would send the document to validator.swagger.io for it.
    config = {"app_name": title, "validatorUrl": None}
    blueprint = get_swaggerui_blueprint(DOCS_PATH, "/openapi.json", config=config)
    app.register_blueprint(blueprint)
    # The page at /docs itself, not only at /docs/ (its files are named by absolute paths).
    app.add_url_rule(DOCS_PATH, "docs", app.view_functions[f"{blueprint.name}.show"])


def with_content_security_policy(response: Response) -> Response:
    """Scripts from our origin, and the page's own inline set-up script by its hash; Swagger UI sets
    inline styles and data: images."""
    page = response.get_data(as_text=True)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    return response
