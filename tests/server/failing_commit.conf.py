"""gunicorn settings for `test_commit_failure.py`: the production settings, and a worker hook that
makes the next commit fail, once, in whichever worker makes it first, while the file named by
FAIL_NEXT_COMMIT exists (as a failed fsync of the WAL, or a lost connection, would make it fail)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event

exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text())


def post_worker_init(worker: Any) -> None:
    engine = worker.wsgi.extensions["desa_binaan"].db.engine

    def fail_if_asked(_conn: Any) -> None:
        try:
            os.unlink(os.environ["FAIL_NEXT_COMMIT"])  # exactly one process succeeds
        except FileNotFoundError:
            return
        raise OSError(5, "Input/output error")

    event.listen(engine, "commit", fail_if_asked)
