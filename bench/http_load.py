"""Commands over HTTP through gunicorn (2 workers), 16 concurrent connections, the load coming from a
separate process: commands/s and p50/p99 latency, against a bare endpoint doing one INSERT per request.

Where the machine's CPU goes is measured too, per request: the load generator's own CPU time, the
server's (gunicorn's master and workers) and, on PostgreSQL, the database server's (every `postgres`
process). The load, the server and the database share the machine's cores, so `cpu_bound_per_s`
(cores / their summed CPU per request) is the rate the run could reach were the CPU its only limit.

With both engines (BENCH_DB), their servers are up at once and every run loads each in turn
(`measure_side_by_side`), so that the PostgreSQL / SQLite ratio is measured side by side.

    python -m bench.http_load            # both engines (BENCH_DB), medians of BENCH_RUNS runs
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import bare_app
from bench.common import ROOT, engines, median, percentile, runs, scratch_database
from domain.accounts import AccountDraft
from domain.actors import Role
from events.database import Database
from service import accounts, organisation
from service.application import Application
from service.config import system_clock
from service.migrate import upgrade
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

# No reply for this long: the server is stuck, and the run fails instead of hanging.
REPLY_TIMEOUT_SECONDS = 60

# What a client is given back for each request it yields: the status and the body.
Reply = tuple[int, bytes]
Client = Generator[bytes, Reply, None]


@dataclass
class _Exchange:
    """One request on a connection of its own: gunicorn's sync workers close after each response."""

    client: Client
    unsent: bytes
    started: float
    received: list[bytes] = field(default_factory=list)


def _request_bytes(port: int, path: str, body: dict[str, Any], token: str) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _reply_of(response: bytes) -> Reply:
    """The status and body of a whole response (the server closes after it: no framing to follow)."""
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    return (int(status_line[1]) if len(status_line) > 1 else 0), body


def drive(port: int, tokens: dict[str, str], first_village: int, cases: int, bare: bool) -> dict[str, Any]:
    """CONNECTIONS clients, each running `cases` five-step lifecycles (or as many bare INSERTs), one
    request at a time.

    The load shares the machine's two cores with the server, so it is one thread looping over
    non-blocking sockets, not a thread per connection: http.client in 16 threads cost twice the CPU
    per request, and a thread waiting for the interpreter's lock was slow to close a connection
    whose response had come, which a sync worker waits for (it drains the socket until the client
    has closed) before it takes the next request."""
    latencies: list[float] = []
    failures: list[str] = []
    address = ("127.0.0.1", port)
    selector = selectors.DefaultSelector()

    def client(index: int) -> Client:
        def exchange(
            path: str, body: dict[str, Any], username: str, expected: int
        ) -> Generator[bytes, Reply, bytes]:
            status, data = yield _request_bytes(port, path, body, tokens[username])
            if status != expected:
                failures.append(f"{path}: {status} {data[:200]!r}")
                raise RuntimeError("unexpected status")
            return data

        try:
            for case in range(cases):
                number = first_village + index * cases + case
                if bare:
                    for _ in range(1 + len(LIFECYCLE)):
                        yield from exchange("/bare", {"case": number, "payload": "x" * 200}, "officer", 201)
                    continue
                village = f"32.01.{10 + number // 1000:02d}.{2000 + number % 1000}"
                body = proposal(village, village_name=f"Desa Beban {number}")
                created = yield from exchange("/api/v1/candidacies", body, "officer", 201)
                case_id = json.loads(created)["id"]
                for action, username in LIFECYCLE:
                    path = f"/api/v1/candidacies/{case_id}/{action}"
                    yield from exchange(path, ACTION_BODIES[action], username, 200)
        except RuntimeError:
            return  # this client stops; the failure is reported

    def advance(running: Client, reply: Reply | None) -> None:
        """Hand the client its reply and send its next request, if it has one."""
        try:
            request = running.send(reply)  # type: ignore[arg-type]  # None starts a generator
        except StopIteration:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(address)  # in progress: writable once connected
        selector.register(sock, selectors.EVENT_WRITE, _Exchange(running, request, time.perf_counter()))

    def finish(sock: socket.socket, exchange: _Exchange, reply: Reply | None, failure: str = "") -> None:
        selector.unregister(sock)
        sock.close()
        if reply is None:
            failures.append(failure)
            return
        latencies.append(time.perf_counter() - exchange.started)
        advance(exchange.client, reply)

    cpu_before = _own_cpu_seconds()
    started = time.perf_counter()
    for index in range(CONNECTIONS):
        advance(client(index), None)
    while selector.get_map():
        ready = selector.select(timeout=REPLY_TIMEOUT_SECONDS)
        if not ready:
            failures.append(f"no reply in {REPLY_TIMEOUT_SECONDS} s")
            break
        for key, mask in ready:
            sock, exchange = key.fileobj, key.data
            assert isinstance(sock, socket.socket)
            try:
                if mask & selectors.EVENT_WRITE:
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if error:
                        raise OSError(error, os.strerror(error))
                    exchange.unsent = exchange.unsent[sock.send(exchange.unsent) :]
                    if not exchange.unsent:
                        selector.modify(sock, selectors.EVENT_READ, exchange)
                elif chunk := sock.recv(65536):
                    exchange.received.append(chunk)
                else:  # the server closed: the response is whole; close promptly, as a client should
                    finish(sock, exchange, _reply_of(b"".join(exchange.received)))
            except OSError as error:
                finish(sock, exchange, None, f"connection: {error}")
    elapsed = time.perf_counter() - started
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    selector.close()
    return {
        "commands": len(latencies),
        "seconds": elapsed,
        "cpu_seconds": _own_cpu_seconds() - cpu_before,
        "latencies": latencies,
        "failures": failures,
    }


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load_process_main() -> None:
    """`python -m bench.http_load --load PORT FIRST CASES BARE` with the tokens on stdin."""
    port, first, cases, bare = (int(arg) for arg in sys.argv[2:6])
    result = drive(port, json.loads(sys.stdin.read()), first, cases, bool(bare))
    print(json.dumps(result))


# ---- the server side -----------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, app: str, database_url: str, log: Path, checkout: Path = ROOT) -> None:
        """`app` served from `checkout`, the project's folder whose code (and gunicorn.conf.py, read
        from the working directory) it runs, by 2 workers as `make run` serves it."""
        self.port = free_port()
        options = ["--bind", f"127.0.0.1:{self.port}", "--workers", "2"]
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options, app],
            cwd=checkout,
            env=env,
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
    operator = accounts.command_line_actor()
    with accounts.as_command_line(application.uow, "bench-prepare") as tx:
        for office in OFFICES:
            organisation.import_office(tx, accounts.command_line_actor(), office)
        for username, role in USERS.items():
            user = AccountDraft(username, username.title(), role, "BOGOR", None)
            tokens[username] = accounts.add_user(tx, operator, user).token
    application.db.dispose()
    return tokens


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, name, CPU seconds so far) of every process the machine shows."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid, fields[11] and [12] user and system time in clock ticks
        found.append(
            (int(entry.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS)
        )
    return found


def _cpu_seconds(server: Gunicorn, engine: str) -> tuple[float, float | None]:
    """CPU time so far of the server (gunicorn's master and its workers) and of PostgreSQL's processes
    (None on SQLite, whose work is the server's)."""
    master = server.process.pid
    processes = _processes()
    server_cpu = sum(cpu for pid, parent, _, cpu in processes if master in (pid, parent))
    if engine == "sqlite":
        return server_cpu, None
    return server_cpu, sum(cpu for _, _, name, cpu in processes if name == "postgres")


def _load(
    server: Gunicorn, engine: str, tokens: dict[str, str], first: int, cases: int, bare: bool
) -> dict[str, Any]:
    """Run the load against `server` from its own process; adds the server's and the database's CPU
    seconds during the run to the load's outcome."""
    port = server.port
    server_before, database_before = _cpu_seconds(server, engine)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.http_load",
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
    server_after, database_after = _cpu_seconds(server, engine)
    outcome["server_cpu_seconds"] = server_after - server_before
    if database_before is not None and database_after is not None:
        outcome["database_cpu_seconds"] = database_after - database_before
    return outcome


def _figures(outcome: dict[str, Any]) -> dict[str, float]:
    latencies, requests = outcome["latencies"], outcome["commands"]
    figures = {
        "per_s": requests / outcome["seconds"],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "load_cpu_ms": outcome["cpu_seconds"] / requests * 1000,
        "server_cpu_ms": outcome["server_cpu_seconds"] / requests * 1000,
    }
    if "database_cpu_seconds" in outcome:  # PostgreSQL
        figures["database_cpu_ms"] = outcome["database_cpu_seconds"] / requests * 1000
    spent = figures["load_cpu_ms"] + figures["server_cpu_ms"] + figures.get("database_cpu_ms", 0.0)
    figures["cpu_bound_per_s"] = (os.cpu_count() or 1) * 1000 / spent
    return figures


def measure_side_by_side(engines: list[str], directory: Path, runs: int) -> dict[str, dict[str, float]]:
    """Per engine: {"cmds_per_s", "p50_ms", "p99_ms", "load_cpu_ms", "server_cpu_ms", "database_cpu_ms"
    (PostgreSQL), "cpu_bound_per_s", and the same prefixed with "bare_" for the bare endpoint
    ("bare_per_s" its rate), "of_bare"}: medians of `runs` runs, ours and the bare endpoint measured
    one after the other in each run.

    Every engine's two servers are up at once and each run loads the engines in turn, the first
    alternating from run to run: the machine's speed, which drifts by a third within minutes here,
    then weighs on every engine alike, and their ratio compares the engines rather than the minutes
    they were measured in."""
    ours: dict[str, list[dict[str, float]]] = {engine: [] for engine in engines}
    bare: dict[str, list[dict[str, float]]] = {engine: [] for engine in engines}
    with ExitStack() as stack:
        servers: dict[str, tuple[Gunicorn, Gunicorn, dict[str, str]]] = {}
        for engine in engines:
            app_url = stack.enter_context(scratch_database(engine, directory))
            bare_url = stack.enter_context(scratch_database(engine, directory))
            tokens = _prepare(app_url)
            bare_app.prepare(bare_url)
            log = directory / f"http-{engine}.log"
            app_server = Gunicorn("wsgi:app", app_url, log)
            stack.callback(app_server.stop)  # before its database is dropped
            bare_server = Gunicorn("bench.bare_app:app", bare_url, log)
            stack.callback(bare_server.stop)
            servers[engine] = (app_server, bare_server, tokens)
        for engine, (app_server, bare_server, tokens) in servers.items():
            _load(app_server, engine, tokens, 0, 1, bare=False)  # warm-up: imports, connections, caches
            _load(bare_server, engine, tokens, 0, 1, bare=True)
        for run in range(runs):
            first = (run + 1) * CONNECTIONS * CASES_PER_CONNECTION
            for engine in engines if run % 2 == 0 else reversed(engines):
                app_server, bare_server, tokens = servers[engine]
                ours[engine].append(
                    _figures(_load(app_server, engine, tokens, first, CASES_PER_CONNECTION, False))
                )
                bare[engine].append(
                    _figures(_load(bare_server, engine, tokens, first, CASES_PER_CONNECTION, True))
                )
    return {engine: _medians(ours[engine], bare[engine]) for engine in engines}


@dataclass(frozen=True)
class Side:
    """One server of `load_in_turn`: its engine and the checkout whose code it serves."""

    name: str
    engine: str
    checkout: Path = ROOT


def load_in_turn(
    sides: list[Side], rounds: int, report_round: Callable[[dict[str, list[dict[str, float]]]], None]
) -> dict[str, list[dict[str, float]]]:
    """Each side's `_figures`, round by round: every side's server is up at once, on its own scratch
    database, and each round loads them all in turn (16 connections, whole lifecycles), the first
    rotating, so that the machine's drift weighs on every side alike. `report_round` is given the
    figures so far after each round."""
    measured: dict[str, list[dict[str, float]]] = {side.name: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="desa-binaan-in-turn-") as scratch, ExitStack() as stack:
        directory = Path(scratch)
        servers: dict[str, tuple[Gunicorn, dict[str, str]]] = {}
        for number, side in enumerate(sides):
            url = stack.enter_context(scratch_database(side.engine, directory))
            tokens = _prepare(url)
            log = directory / f"{number}.log"
            server = Gunicorn("wsgi:app", url, log, checkout=side.checkout)
            stack.callback(server.stop)  # before its database is dropped
            servers[side.name] = (server, tokens)
            _load(server, side.engine, tokens, 0, 1, bare=False)  # warm-up: imports, connections, caches
        for round_number in range(rounds):
            first = (round_number + 1) * CONNECTIONS * CASES_PER_CONNECTION
            shift = round_number % len(sides)
            for side in sides[shift:] + sides[:shift]:
                server, tokens = servers[side.name]
                outcome = _load(server, side.engine, tokens, first, CASES_PER_CONNECTION, bare=False)
                measured[side.name].append(_figures(outcome))
            report_round(measured)
    return measured


def _medians(ours: list[dict[str, float]], bare: list[dict[str, float]]) -> dict[str, float]:
    figures = {"cmds_per_s": median([r["per_s"] for r in ours])}
    figures |= {name: median([r[name] for r in ours]) for name in ours[0] if name != "per_s"}
    figures |= {f"bare_{name}": median([r[name] for r in bare]) for name in bare[0]}
    figures["of_bare"] = figures["cmds_per_s"] / figures["bare_per_s"]
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="desa-binaan-bench-") as directory:
        for engine, figures in measure_side_by_side(engines(), Path(directory), runs()).items():
            print(engine, json.dumps({k: round(v, 2) for k, v in figures.items()}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        _load_process_main()
    else:
        main()
