"""A gunicorn configuration for the HTTP bench on SQLite (`-c python:tests.bench.write_turn_probe`):
each worker keeps how long it has held the writers' turn, in all, so that the bench can say what
rate the single writer allows, beside what rate the CPU allows.

Every write transaction holds the turn from when it takes the write lock to when it has committed
(the WAL's fsync comes after, outside the turn: `events.database.WalSyncedConnection`); the next
writer waits meanwhile. With 2 workers, the rate can never pass 1 / (turn held per command), however
many cores there are. After each transaction the worker writes its totals ("transactions seconds")
over the start of its own file in $BENCH_WRITE_TURN_DIRECTORY: a few microseconds against a hold of
a millisecond or more.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

DIRECTORY_VARIABLE = "BENCH_WRITE_TURN_DIRECTORY"
_RECORD_WIDTH = 48


def post_fork(_server: Any, _worker: Any) -> None:
    from events import database

    path = Path(os.environ[DIRECTORY_VARIABLE]) / f"turn.{os.getpid()}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    totals = {"transactions": 0, "seconds": 0.0, "since": 0.0}
    turn = database._WriterTurn
    enter, leave = turn.__enter__, turn.__exit__

    def entered(self: Any) -> None:
        enter(self)
        totals["since"] = time.perf_counter()

    def left(self: Any, *exc: object) -> None:
        leave(self, *exc)
        totals["transactions"] += 1
        totals["seconds"] += time.perf_counter() - totals["since"]
        record = f"{totals['transactions']} {totals['seconds']:.9f}".ljust(_RECORD_WIDTH)
        os.pwrite(fd, record.encode(), 0)

    turn.__enter__, turn.__exit__ = entered, left  # type: ignore[method-assign]


def held_so_far(directory: Path) -> tuple[int, float]:
    """(transactions, seconds) the writers' turn was held, summed over every worker."""
    transactions, seconds = 0, 0.0
    for path in directory.glob("turn.*"):
        fields = path.read_text().split()
        if len(fields) == 2:
            transactions += int(fields[0])
            seconds += float(fields[1])
    return transactions, seconds
