"""The web application for the people who do the work: pages rendered on the server, in Indonesian by
default (English on a switch), every read and action working without JavaScript. A page calls the same
application layer as the API; it signs people in with a password and keeps them in a session cookie.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from service.throttle import FailedAttempts

LANGUAGES = ("id", "en")  # the first is the default
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is HttpOnly (Flask's default) and SameSite=Lax, and Secure whenever the
    request came over TLS (directly, or as the proxies in front say with X-Forwarded-Proto)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def select_language() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def secret_key(app: Flask) -> str:
    """SECRET_KEY signs the session cookies; without one set, a key kept in the instance folder (made
    once, readable by its owner only). Every instance behind one address needs the same key."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        # Workers start at once: each writes a whole key to a file of its own and links it into place;
        # the first link wins, and nobody ever reads a half-written key.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text(encoding="ascii").strip()


def register(app: Flask) -> None:
    from service.pages import admin, fostering, views  # noqa: F401 (admin and fostering add pages to views.blp)

    app.secret_key = secret_key(app)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = SessionCookies()
    Babel(
        app,
        locale_selector=select_language,
        default_locale=LANGUAGES[0],
        default_timezone="Asia/Jakarta",
        default_translation_directories=str(TRANSLATIONS),
    )
    # Forms are checked by the pages' own blueprint (views.blp), not app-wide: the API takes bearer
    # tokens, no cookies, so a forged form has nothing to ride on there.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    CSRFProtect(app)
    storage = app.config["RATE_LIMIT_STORAGE"]
    app.extensions["failed_sign_ins"] = {
        "user": FailedAttempts(app.config["FAILED_SIGN_INS_PER_USER"], storage, "sign-in-user"),
        "address": FailedAttempts(app.config["FAILED_SIGN_INS_PER_ADDRESS"], storage, "sign-in-address"),
    }
    app.register_blueprint(views.blp)
