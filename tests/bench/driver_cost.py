"""What one statement costs the client's CPU in each engine's driver, with nothing of ours around it:
transactions of ten one-row INSERTs, through psycopg in pipeline mode (as our commands send their
writes) and through `sqlite3`, whose figure includes SQLite's own work. A command sends about ten
statements, so this is the floor of what the statement count alone costs a server worker.

    python -m tests.bench.driver_cost      # BENCH_DB, BENCH_RUNS; medians
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.bench.common import engines, median, runs, scratch_database

TRANSACTIONS = 2000
STATEMENTS_PER_TRANSACTION = 10
_CREATE = "CREATE TABLE driver_probe (id integer PRIMARY KEY, payload text NOT NULL)"
_PAYLOAD = "x" * 40


def _postgres(url: str) -> float:
    """Client CPU seconds for the whole loop."""
    parsed = make_url(url)
    options = parsed.query.get("options")
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database, options=options
    ) as conn:
        conn.execute(_CREATE)
        conn.commit()
        started = time.process_time()
        key = 0
        for _ in range(TRANSACTIONS):
            with conn.pipeline():
                for _ in range(STATEMENTS_PER_TRANSACTION):
                    key += 1
                    conn.cursor().execute("INSERT INTO driver_probe VALUES (%s, %s)", (key, _PAYLOAD))
                conn.cursor().execute("COMMIT", prepare=False)
        return time.process_time() - started


def _sqlite(url: str) -> float:
    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(_CREATE)
        started = time.process_time()
        key = 0
        for _ in range(TRANSACTIONS):
            conn.execute("BEGIN")
            for _ in range(STATEMENTS_PER_TRANSACTION):
                key += 1
                conn.execute("INSERT INTO driver_probe VALUES (?, ?)", (key, _PAYLOAD))
            conn.execute("COMMIT")
        return time.process_time() - started
    finally:
        conn.close()


def measure(engine: str, directory: Path, repeat: int) -> float:
    """Client CPU microseconds per statement, the median of `repeat` loops."""
    loop = _sqlite if engine == "sqlite" else _postgres
    seconds = []
    for _ in range(repeat):
        with scratch_database(engine, directory) as url:
            seconds.append(loop(url))
    return median(seconds) / (TRANSACTIONS * STATEMENTS_PER_TRANSACTION) * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="desa-binaan-driver-") as directory:
        for engine in engines():
            per_statement = measure(engine, Path(directory), runs())
            print(f"{engine}: {per_statement:.1f} us of client CPU per statement")


if __name__ == "__main__":
    main()
