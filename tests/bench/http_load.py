"""Commands over HTTP through gunicorn (2 workers), 16 concurrent connections, the load coming from a
separate process: commands/s and p50/p99 latency, against a bare endpoint doing one INSERT per request.

    python -m tests.bench.http_load            # both engines (BENCH_DB), medians of BENCH_RUNS runs
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from domain.actors import Role
from events.database import Database
from service import accounts
from service.application import Application
from service.config import system_clock
from service.migrate import upgrade
from tests.bench import bare_app
from tests.bench.common import ROOT, engines, median, percentile, runs, scratch_database
from tests.conftest import ACTION_BODIES, OFFICES, proposal
from tests.server.harness import free_port

CONNECTIONS = 16
CASES_PER_CONNECTION = 12  # x 5 commands: 960 commands a run
LIFECYCLE = [("coordinate", "section_head"), ("socialize", "section_head"), ("assess", "section_head")]
LIFECYCLE += [("designate", "head")]
USERS = {
    "officer": Role.OFFICER,
    "section_head": Role.SECTION_HEAD,
    "head": Role.HEAD_OF_OFFICE,
}


# ---- the load, run in its own process ------------------------------------------------------------


def _request(
    conn: http.client.HTTPConnection, path: str, body: dict[str, Any], token: str
) -> tuple[int, Any]:
    payload = json.dumps(body)
    conn.request(
        "POST",
        path,
        body=payload,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    response = conn.getresponse()
    data = response.read()
    if response.getheader("Connection", "").lower() == "close":
        conn.close()  # gunicorn's sync workers close after each response; the next request reconnects
    return response.status, data


def drive(port: int, tokens: dict[str, str], first_village: int, cases: int, bare: bool) -> dict[str, Any]:
    """CONNECTIONS threads, each running `cases` five-step lifecycles (or as many bare INSERTs)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CONNECTIONS + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []

        def timed(path: str, body: dict[str, Any], username: str, expected: int) -> Any:
            started = time.perf_counter()
            status, data = _request(conn, path, body, tokens[username])
            mine.append(time.perf_counter() - started)
            if status != expected:
                failures.append(f"{path}: {status} {data[:200]!r}")
                raise RuntimeError("unexpected status")
            return data

        barrier.wait()
        try:
            for case in range(cases):
                number = first_village + index * cases + case
                if bare:
                    for _ in range(1 + len(LIFECYCLE)):
                        timed("/bare", {"case": number, "payload": "x" * 200}, "officer", 201)
                    continue
                village = f"32.01.{10 + number // 1000:02d}.{2000 + number % 1000}"
                body = proposal(village, village_name=f"Desa Beban {number}")
                case_id = json.loads(timed("/api/v1/candidacies", body, "officer", 201))["id"]
                for action, username in LIFECYCLE:
                    timed(f"/api/v1/candidacies/{case_id}/{action}", ACTION_BODIES[action], username, 200)
        except RuntimeError:
            pass
        finally:
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"commands": len(latencies), "seconds": elapsed, "latencies": latencies, "failures": failures}


def _load_process_main() -> None:
    """`python -m tests.bench.http_load --load PORT FIRST CASES BARE` with the tokens on stdin."""
    port, first, cases, bare = (int(arg) for arg in sys.argv[2:6])
    result = drive(port, json.loads(sys.stdin.read()), first, cases, bool(bare))
    print(json.dumps(result))


# ---- the server side -----------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, app: str, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "2", app],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{app} did not start; see {log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _prepare(database_url: str) -> dict[str, str]:
    """Offices and the three users of a lifecycle, in a migrated database; returns their tokens."""
    application = Application(Database(database_url), system_clock)
    upgrade(application.db)
    tokens: dict[str, str] = {}
    with application.db.write() as conn:
        for office in OFFICES:
            accounts.add_office(conn, office)
        for username, role in USERS.items():
            user = accounts.NewUser(username, username.title(), role, "BOGOR", None)
            tokens[username] = accounts.add_user(conn, user, application.clock)
    application.db.dispose()
    return tokens


def _load(port: int, tokens: dict[str, str], first: int, cases: int, bare: bool) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.http_load",
            "--load",
            str(port),
            str(first),
            str(cases),
            str(int(bare)),
        ],
        cwd=ROOT,
        input=json.dumps(tokens),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    outcome = json.loads(result.stdout)
    if outcome["failures"]:
        raise RuntimeError(f"the load saw failures: {outcome['failures'][:3]}")
    return outcome


def _figures(outcome: dict[str, Any]) -> tuple[float, float, float]:
    latencies = outcome["latencies"]
    return (
        outcome["commands"] / outcome["seconds"],
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
    )


def measure(engine: str, directory: Path, runs: int) -> dict[str, float]:
    """{"cmds_per_s", "p50_ms", "p99_ms", "bare_per_s", "bare_p50_ms", "bare_p99_ms", "of_bare"}: medians
    of `runs` runs, ours and the bare endpoint measured one after the other in each run."""
    ours: list[tuple[float, float, float]] = []
    bare: list[tuple[float, float, float]] = []
    with scratch_database(engine, directory) as app_url, scratch_database(engine, directory) as bare_url:
        tokens = _prepare(app_url)
        bare_app.prepare(bare_url)
        log = directory / f"http-{engine}.log"
        app_server = Gunicorn("wsgi:app", app_url, log)
        bare_server = Gunicorn("tests.bench.bare_app:app", bare_url, log)
        try:
            _load(app_server.port, tokens, 0, 1, bare=False)  # warm-up: imports, connections, caches
            _load(bare_server.port, tokens, 0, 1, bare=True)
            for run in range(runs):
                first = (run + 1) * CONNECTIONS * CASES_PER_CONNECTION
                ours.append(_figures(_load(app_server.port, tokens, first, CASES_PER_CONNECTION, False)))
                bare.append(_figures(_load(bare_server.port, tokens, first, CASES_PER_CONNECTION, True)))
        finally:
            app_server.stop()
            bare_server.stop()
    figures = {
        "cmds_per_s": median([r[0] for r in ours]),
        "p50_ms": median([r[1] for r in ours]),
        "p99_ms": median([r[2] for r in ours]),
        "bare_per_s": median([r[0] for r in bare]),
        "bare_p50_ms": median([r[1] for r in bare]),
        "bare_p99_ms": median([r[2] for r in bare]),
    }
    figures["of_bare"] = figures["cmds_per_s"] / figures["bare_per_s"]
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="desa-binaan-bench-") as directory:
        for engine in engines():
            figures = measure(engine, Path(directory), runs())
            print(engine, json.dumps({k: round(v, 2) for k, v in figures.items()}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        _load_process_main()
    else:
        main()
