"""Whether this instance can serve writes now (`/readyz`): the schema is the code's, the database
takes the write lock within a bounded time and answers, and (SQLite) its disk has room.

Each check says what it saw, so an operator reading the 503 knows which one failed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from events.database import Database, LockNotTaken
from events.schema import ledger_head
from service.migrate import current_revision, head_revision

# A probe waits this long for the write lock: a maintenance or a stuck writer shows as not ready.
LOCK_PROBE_SECONDS = 2.0


def checks(database: Database, min_free_bytes: int) -> dict[str, dict[str, Any]]:
    return {
        "schema": _schema(database),
        "write_lock": _write_lock(database),
        "disk": _disk(database, min_free_bytes),
    }


def ready(results: dict[str, dict[str, Any]]) -> bool:
    return all(check["ok"] for check in results.values())


def _schema(database: Database) -> dict[str, Any]:
    expected = head_revision()
    try:
        found = current_revision(database)
    except SQLAlchemyError as error:
        return {"ok": False, "detail": f"the database does not answer ({type(error.orig or error).__name__})"}
    if found != expected:
        return {"ok": False, "revision": found, "expected": expected, "detail": "run db upgrade"}
    return {"ok": True, "revision": found}


def _write_lock(database: Database) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with database.probe_write(LOCK_PROBE_SECONDS) as conn:
            # A write that changes nothing and is rolled back: a read-only database refuses it.
            conn.execute(
                update(ledger_head).where(ledger_head.c.id == 1).values(position=ledger_head.c.position)
            )
    except LockNotTaken as error:
        return {"ok": False, "detail": str(error)}
    except SQLAlchemyError as error:
        return {
            "ok": False,
            "detail": f"no write lock: {type(error.orig or error).__name__}: {error.orig or error}",
        }
    return {"ok": True, "waited_ms": round((time.monotonic() - started) * 1000)}


def _disk(database: Database, min_free_bytes: int) -> dict[str, Any]:
    if not database.is_sqlite or not database.url.database:
        # PostgreSQL's disk is the database server's: watched there (docs/operations.md).
        return {"ok": True, "detail": "the database server's own"}
    free = shutil.disk_usage(Path(database.url.database).resolve().parent).free
    if free < min_free_bytes:
        return {"ok": False, "free_bytes": free, "detail": f"less than {min_free_bytes} bytes free"}
    return {"ok": True, "free_bytes": free}
