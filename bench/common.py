"""What every benchmark shares: the settings from the environment, scratch databases on each engine,
timing statistics and a description of the machine the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from service.registry import BUNDLED_AREAS

ROOT = Path(__file__).resolve().parents[1]
WILAYAH = BUNDLED_AREAS  # the national list shipped with the package
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def scale() -> float:
    """BENCH_SCALE: the fraction of the national data (0 < x <= 1)."""
    value = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < value <= 1:
        raise SystemExit(f"BENCH_SCALE must lie in (0, 1], not {value}")
    return value


def engines() -> list[str]:
    """BENCH_DB: sqlite, postgres or both."""
    choice = os.environ.get("BENCH_DB", "both")
    if choice not in ("sqlite", "postgres", "both"):
        raise SystemExit(f"BENCH_DB must be sqlite, postgres or both, not {choice}")
    return ["sqlite", "postgres"] if choice == "both" else [choice]


def runs() -> int:
    """BENCH_RUNS: how many times each figure is measured; the median is reported."""
    return max(3, int(os.environ.get("BENCH_RUNS", "3")))


def postgres_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES)


@contextmanager
def scratch_database(engine: str, directory: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if engine == "sqlite":
        path = directory / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    base = postgres_url()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the value below which `pct` % of the samples lie."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> str:
    """CPU, cores, memory, OS and the engines' versions: what the figures depend on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    postgres = ""
    try:
        with create_engine(postgres_url()).connect() as conn:
            postgres = ", PostgreSQL " + conn.execute(text("SHOW server_version")).scalar_one().split()[0]
    except Exception:  # the PostgreSQL half may not be asked for
        postgres = ""
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}{postgres}"
    )
