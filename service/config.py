"""Configuration from the environment; tests pass their own values to `create_app`."""

from __future__ import annotations

import datetime as dt
import os
import signal
from typing import Any


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stop_this_process() -> None:
    """Ask this process to stop: a gunicorn worker finishes its request and exits, and gunicorn starts
    a fresh one."""
    os.kill(os.getpid(), signal.SIGTERM)


def settings_from_environment() -> dict[str, Any]:
    return {
        # None: a SQLite file in the instance folder (see create_app).
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_BODY_BYTES", 64 * 1024)),
        # A document's size limit (PDF, JPEG or PNG); a request that uploads one may be that much larger.
        "MAX_ATTACHMENT_BYTES": int(os.environ.get("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # How long a token issued by `users add` or `users token` lives (1 to 365 days).
        "TOKEN_DAYS": int(os.environ.get("TOKEN_DAYS", 90)),
        "FAILED_TOKENS_PER_MINUTE": int(os.environ.get("FAILED_TOKENS_PER_MINUTE", 20)),
        "RATE_LIMIT_STORAGE": os.environ.get("RATE_LIMIT_STORAGE", "memory://"),
        # How many reverse proxies stand in front and set X-Forwarded-For/-Proto: the client's
        # address (for the failed-token limit) is taken from them, and only from them.
        "PROXIES": int(os.environ.get("PROXIES", 0)),
        # How long a request waits for a database lock before it is answered 503 (Retry-After).
        "LOCK_WAIT_SECONDS": float(os.environ.get("LOCK_WAIT_SECONDS", 10)),
        # /readyz says 503 when the SQLite database's disk has less room than this.
        "MIN_FREE_DISK_MB": int(os.environ.get("MIN_FREE_DISK_MB", 200)),
        # How long GET /ledger/verify walks the chain before it answers how far it got (well inside
        # gunicorn's worker timeout); the caller goes on from there.
        "LEDGER_VERIFY_SECONDS": float(os.environ.get("LEDGER_VERIFY_SECONDS", 10)),
        # Signs the web application's session cookies; unset, a key kept in the instance folder.
        # Every instance behind one address needs the same.
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # A signed-in session idle this long is over: the next page asks to sign in again.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", 30)),
        # Failed sign-ins within a minute before further tries get 429: per username, per address.
        "FAILED_SIGN_INS_PER_USER": int(os.environ.get("FAILED_SIGN_INS_PER_USER", 5)),
        "FAILED_SIGN_INS_PER_ADDRESS": int(os.environ.get("FAILED_SIGN_INS_PER_ADDRESS", 20)),
    }


DEFAULTS: dict[str, Any] = {
    "CLOCK": system_clock,
    # What a failed commit calls once its 503 has been sent (tests give their own).
    "STOP_PROCESS": stop_this_process,
    "API_TITLE": "Desa Binaan Imigrasi",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "JSON_SORT_KEYS": False,
}
