"""Figures at national scale: reads over HTTP as the data grows, and the rebuild of a long log.

`measure_reads`: the national data set (bench/dataset.py) at 10 %, 50 % and 100 % of
`scale` x 83,762 villages, each in a fresh database, all three served at once by gunicorn as `make
run` serves it (2 sync workers); one client in this process asks sequentially, a fresh connection
per request as a sync worker closes each. After a warm-up, each run samples every figure on each
fraction in turn, the first fraction rotating: up to SAMPLES requests (fewer when a request is slow,
see SECONDS_PER_FIGURE); each percentile is the median over the runs.

`measure_rebuild`: a log of `events` events (every village, with closed cycles proposed again until
the count is reached), then `events.rebuild.rebuild` in a fresh child process per run, as
`flask projections rebuild` does it (one write transaction, commit included). Memory: the child's
peak RSS (VmHWM), absolute (`peak_mb`), and its growth over the RSS it had before the rebuild. Then
`desa-binaan ledger verify` of that log, timed from the command's start to its exit (`verify_s`).

    python -m bench.national [reads|rebuild|both]     (BENCH_SCALE, BENCH_DB, BENCH_RUNS)
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    ROOT,
    WILAYAH,
    engines,
    machine,
    median,
    percentile,
    runs,
    scale,
    scratch_database,
)
from bench.dataset import (
    Plan,
    Wilayah,
    World,
    create_world,
    decide_all,
    issue_tokens,
    log_length,
    opening,
    plan_national,
    read_wilayah,
    write_log,
)
from domain.actors import Role
from events.database import Database
from events.rebuild import rebuild
from events.store import EventStore
from events.unit_of_work import UnitOfWork
from service import accounts
from service.config import system_clock
from service.migrate import upgrade
from tests.server.harness import free_port

FRACTIONS = (("10%", 0.1), ("50%", 0.5), ("100%", 1.0))
FIGURES = (  # as `_read_requests` names them
    "case",
    "office_list",
    "report",
    "as_of",
    "register_csv",
    "page_dashboard",
    "page_case",
    "page_register",
)
PAGES = ("page_dashboard", "page_case", "page_register")  # the web application's, signed in
PAGE_PASSWORD = "bench-password-long-enough"
SESSION_KEY = os.urandom(32).hex()
SAMPLES = 200  # requests per figure and run
WARM_UP = 20  # requests per figure before the first run, unmeasured
SECONDS_PER_FIGURE = 20.0  # ... unless they take longer: then fewer, at least MIN_SAMPLES
MIN_SAMPLES = 20
YEAR, AS_OF = 2024, "2024-06-30"
REBUILD_EVENTS = 1_000_000
EVENTS_PER_VILLAGE = 12  # of the rebuild log: each village's history, closed cycles included


# ---- the server --------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str]) -> tuple[float, bytes]:
    """Milliseconds from connecting to the last byte of a 200 response, and the body. `headers`: the
    API's bearer token, or a page's session cookie."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
    return elapsed, body


@contextmanager
def gunicorn(url: str, log: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The API as `make run` serves it: 2 sync workers, gunicorn.conf.py of the repository."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    command += ["--log-level", "warning", "wsgi:app"]
    with log.open("ab") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            # The pages' sessions: one key for both workers, and no idle end within a long run.
            env={
                **os.environ,
                "DATABASE_URL": url,
                "SECRET_KEY": SESSION_KEY,
                "SESSION_IDLE_MINUTES": "1440",
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up; see {log}")
            time.sleep(0.1)
        yield port, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def rss_mb(pid: int | str, field: str = "VmRSS") -> float:
    """A process's resident set now (VmRSS) or at its highest (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_rss_mb(master: int) -> float:
    """The largest resident set of the master's workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return max((rss_mb(pid) for pid in children), default=0.0)


# ---- reads -------------------------------------------------------------------------------------


def build_national(
    db: Database,
    wilayah: Wilayah,
    villages: int,
    *,
    events: int | None = None,
    project: bool = True,
    tokens: bool = True,
) -> tuple[World, Plan, float]:
    """Schema, offices, users, registry and the candidacies, then (`tokens`) a token for every user;
    returns the world, the plan and seconds. With `events`, the log holds that many: the accounts'
    events and the plan's."""
    started = time.perf_counter()
    upgrade(db)
    years = (2024, 2024) if events is None else (2022, 2024)
    world = create_world(db, wilayah, WILAYAH, opened_at=opening(years[0]))
    planned = None if events is None else events - log_length(db) - (len(world.users()) if tokens else 0)
    plan = plan_national(world, wilayah, villages, events=planned, years=years)
    write_log(db, decide_all(world, wilayah, plan), batch_size=5000, project=project)
    if tokens:  # now, by the real clock: after the data set's events, and alive while it is read
        issue_tokens(db, world)
    # The load's aftermath, done before anything is measured: a server at this size has long since
    # done it, and a checkpoint still writing the load out (minutes of it on PostgreSQL) would be
    # timed with the reads of the largest fraction alone.
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        # What autovacuum does soon after a load this size: statistics, and the visibility map that
        # lets the report's covering indexes answer without visiting the table.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    return world, plan, time.perf_counter() - started


def sample(port: int, paths: list[str], headers: dict[str, str]) -> list[float]:
    """Up to SAMPLES timings, cycling through `paths`; fewer if they would take too long."""
    timings: list[float] = []
    started = time.monotonic()
    while len(timings) < SAMPLES and (
        len(timings) < MIN_SAMPLES or time.monotonic() - started < SECONDS_PER_FIGURE
    ):
        timings.append(get(port, paths[len(timings) % len(paths)], headers)[0])
    return timings


def signed_in(port: int, username: str) -> dict[str, str]:
    """The session cookie of `username` signed in through the front door's form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        form = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None, form[:300]
        body = urlencode({"username": username, "password": PAGE_PASSWORD, "csrf_token": csrf[1]})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 303:
            raise RuntimeError(f"signing in as {username}: {response.status}")
        return {"Cookie": response.getheader("Set-Cookie", "").split(";")[0]}
    finally:
        conn.close()


def set_passwords(url: str, usernames: list[str]) -> None:
    """PAGE_PASSWORD for these users of the data set, so that they can sign in to the pages."""
    db = Database(url)
    try:
        with accounts.as_command_line(UnitOfWork(db, system_clock), "bench-passwords") as tx:
            for username in usernames:
                accounts.set_password(tx, accounts.command_line_actor(), username, PAGE_PASSWORD)
    finally:
        db.dispose()


def page_kb(port: int, path: str, headers: dict[str, str]) -> float:
    """What a page costs to transfer before images, compressed as a proxy sends it: the page and its
    stylesheet, gzipped, in KB."""
    _, page = get(port, path, headers)
    _, css = get(port, "/static/app.css", {})
    return (len(gzip.compress(page)) + len(gzip.compress(css))) / 1024


def measure_reads(engine: str, directory: Path, scale: float, runs: int) -> dict[str, dict[str, float]]:
    """Per fraction of `scale` x the national data: p50/p95 of five reads, medians over `runs`.

    The three databases are built first and served at once; each run then samples every figure on
    each fraction in turn, the first fraction rotating. This machine's speed drifts by a third within
    minutes: measured one fraction after another, "within 1.5x of the 10 % figure" compared the
    minutes as much as the data sizes."""
    wilayah = read_wilayah(WILAYAH)
    results: dict[str, dict[str, float]] = {}
    with ExitStack() as stack:
        served: dict[str, tuple[int, subprocess.Popen[bytes], dict[str, tuple[list[str], str]]]] = {}
        for label, fraction in FRACTIONS:
            villages = max(200, round(len(wilayah.villages) * scale * fraction))
            url = stack.enter_context(scratch_database(engine, directory))
            db = Database(url)
            try:
                world, plan, build_seconds = build_national(db, wilayah, villages)
            finally:
                db.dispose()
            log = directory / f"gunicorn-national-{label.rstrip('%')}.log"
            port, server = stack.enter_context(gunicorn(url, log))  # stopped before its data is dropped
            requests = _read_requests(world, plan, port, url)
            for paths, headers in requests.values():
                for index in range(WARM_UP):
                    get(port, paths[index % len(paths)], headers)
            served[label] = (port, server, requests)
            results[label] = {"cases": len(plan.candidacies), "events": plan.events, "build_s": build_seconds}
            print(f"  {engine} {label}: built in {build_seconds:.1f} s", file=sys.stderr, flush=True)
        labels = list(served)
        per_run: dict[str, dict[str, list[list[float]]]] = {
            label: {name: [] for name in FIGURES} for label in labels
        }
        turn = 0
        for _ in range(runs):
            for name in FIGURES:
                for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
                    port, _server, requests = served[label]
                    paths, headers = requests[name]
                    per_run[label][name].append(sample(port, paths, headers))
                turn += 1
        for label in labels:
            for name, timings in per_run[label].items():
                results[label][f"{name}_p50_ms"] = median([percentile(t, 50) for t in timings])
                results[label][f"{name}_p95_ms"] = median([percentile(t, 95) for t in timings])
                results[label][f"{name}_samples"] = min(len(t) for t in timings)
            results[label]["worker_rss_mb"] = worker_rss_mb(served[label][1].pid)
            port, _server, requests = served[label]
            for name in PAGES:
                paths, headers = requests[name]
                results[label][f"{name}_kb"] = page_kb(port, paths[0], headers)
            print(f"  {engine} {label}: {_row(results[label])}", file=sys.stderr, flush=True)
    return results


def _read_requests(
    world: World, plan: Plan, port: int, url: str
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Per figure: the paths it cycles through and the headers that ask (a token, or for a page the
    session of a user signed in with a password set here)."""
    rng = random.Random(7)
    by_office: dict[str, list[str]] = {}
    for case in plan.candidacies:
        by_office.setdefault(case.office_code, []).append(case.id)
    office = max(by_office, key=lambda code: len(by_office[code]))
    head = world.staff[office][Role.HEAD_OF_OFFICE].username
    tokens = world.tokens
    cases = rng.sample(by_office[office], min(SAMPLES, len(by_office[office])))
    report = f"/api/v1/reports/performance?year={YEAR}"

    def bearer(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[username]}"}

    set_passwords(url, [head, "auditor"])
    return {
        "case": ([f"/api/v1/candidacies/{i}" for i in cases], bearer(head)),
        "office_list": ([f"/api/v1/candidacies?office={office}&limit=50"], bearer(head)),
        "report": ([report], bearer("auditor")),
        "as_of": ([f"{report}&as_of={AS_OF}"], bearer("auditor")),
        "register_csv": ([f"/api/v1/designations?year={YEAR}&format=csv"], bearer("auditor")),
        # The whole nation's dashboard, a head of office's case, and the register's first page.
        "page_dashboard": ([f"/dasbor?year={YEAR}"], signed_in(port, "auditor")),
        "page_case": ([f"/kasus/{i}" for i in cases], signed_in(port, head)),
        "page_register": ([f"/register?year={YEAR}"], signed_in(port, "auditor")),
    }


# ---- rebuild -----------------------------------------------------------------------------------


def measure_rebuild(
    engine: str, directory: Path, runs: int, events: int = REBUILD_EVENTS
) -> dict[str, float]:
    """`events_per_s` and the peak RSS of `events.rebuild.rebuild`, each run in a fresh process."""
    wilayah = read_wilayah(WILAYAH)
    villages = min(len(wilayah.villages), max(200, events // EVENTS_PER_VILLAGE))
    with scratch_database(engine, directory) as url:
        db = Database(url)
        try:
            # Not projected while generated: the first rebuild fills empty read models, the others
            # replace full ones (the difference, the DELETEs, is small beside the replay).
            # No tokens: nothing is read over HTTP here.
            _, _, build_seconds = build_national(
                db, wilayah, villages, events=events, project=False, tokens=False
            )
            logged = log_length(db)  # the accounts' events and the plan's
        finally:
            db.dispose()
        children = [_rebuild_in_child(url) for _ in range(runs)]
        verify_seconds = [_ledger_verify_seconds(url) for _ in range(runs)]
    if any(c["events"] != logged for c in children):
        raise RuntimeError(f"rebuild replayed {children[0]['events']} events of {logged}")
    return {
        "events": logged,
        "events_per_s": median([c["events"] / c["seconds"] for c in children]),
        "seconds": median([c["seconds"] for c in children]),
        # this process's CPU time: on a busy machine, wall time minus the waits for a core
        "cpu_events_per_s": median([c["events"] / c["cpu_s"] for c in children]),
        "peak_mb": median([c["peak_mb"] for c in children]),
        "baseline_mb": median([c["baseline_mb"] for c in children]),
        "peak_growth_mb": median([c["peak_mb"] - c["baseline_mb"] for c in children]),
        "build_s": build_seconds,
        "verify_s": median(verify_seconds),
    }


def _ledger_verify_seconds(url: str) -> float:
    """Seconds of `desa-binaan ledger verify` over the whole log, as an operator waits for it: from the
    command's start to its exit."""
    command = [str(Path(sys.executable).with_name("desa-binaan")), "ledger", "verify"]
    started = time.perf_counter()
    environment = {**os.environ, "DATABASE_URL": url}
    subprocess.run(command, cwd=ROOT, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def _rebuild_in_child(url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.national", "rebuild-child", url],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def rebuild_child(url: str) -> None:
    """One timed `events.rebuild.rebuild`, as the CLI runs it; prints seconds, events and memory."""
    db = Database(url)
    store = EventStore()
    with db.read() as conn:  # connected, everything imported: the baseline
        store.head(conn)
    baseline = rss_mb("self")
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    with db.write() as conn:
        replayed = rebuild(conn, store)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    # Not ru_maxrss: Linux keeps it across exec, so it would hold the size of the benchmark process
    # that started this one (which holds the whole generated log). VmHWM is this program's own.
    peak = rss_mb("self", "VmHWM")
    db.dispose()
    print(
        json.dumps(
            {"events": replayed, "seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "baseline_mb": baseline}
        )
    )


# ---- the script --------------------------------------------------------------------------------


def _row(figures: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", nargs="?", default="both", choices=["reads", "rebuild", "both", "rebuild-child"]
    )
    parser.add_argument("url", nargs="?")
    args = parser.parse_args()
    if args.what == "rebuild-child":
        rebuild_child(args.url)
        return
    fraction, repeat = scale(), runs()
    print(f"# national figures at BENCH_SCALE={fraction}, {repeat} runs; {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-national-") as temporary:
        directory = Path(temporary)
        for engine in engines():
            if args.what in ("rebuild", "both"):
                events = max(10_000, round(REBUILD_EVENTS * fraction))
                print(
                    f"{engine} rebuild: {_row(measure_rebuild(engine, directory, repeat, events))}",
                    flush=True,
                )
            if args.what in ("reads", "both"):
                for label, figures in measure_reads(engine, directory, fraction, repeat).items():
                    print(f"{engine} reads {label}: {_row(figures)}", flush=True)


if __name__ == "__main__":
    main()
