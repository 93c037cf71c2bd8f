"""A real server for the tests of this tier: gunicorn in its own process group, as `make run` starts
it, on a database the test process prepared; and a client that retries with its Idempotency-Key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import insert

from service.tables import areas

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn wsgi:app` with the production settings; killed with SIGKILL, master and workers."""

    def __init__(
        self, database_url: str, log_path: Path, *, workers: int = WORKERS, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def command(self) -> list[str]:
        bind = f"127.0.0.1:{self.port}"
        return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(self.workers), "wsgi:app"]

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "LOG_LEVEL": "INFO", **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one signal reaches every worker
            )
        self.starts += 1
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log_path.name}"
                )
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def kill9(self) -> None:
        """What a power cut does to the processes: no shutdown, no cleanup, in-flight requests lost."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_for_group_gone()
        self.kills += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self._wait_for_group_gone()

    def _wait_for_group_gone(self) -> None:
        """Workers are reaped by init after the master dies; the port must be free before a restart."""
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RuntimeError("gunicorn's workers outlived the kill")


@contextmanager
def running(database_url: str, log_path: Path) -> Iterator[Server]:
    server = Server(database_url, log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def load_villages(application: Any, regencies: dict[str, str], per_regency: int) -> dict[str, list[str]]:
    """`per_regency` made-up villages in each regency (code: name), with their province and district:
    enough distinct villages for every case of a load test. Returns the village codes per regency."""
    rows: list[dict[str, Any]] = []
    codes: dict[str, list[str]] = {}
    for regency, name in regencies.items():
        province = regency.split(".")[0]
        rows += [
            {"code": province, "name": f"Provinsi {province}", "level": 1},
            {"code": regency, "name": name, "level": 2},
        ]
        codes[regency] = []
        for index in range(per_regency):
            district = f"{regency}.{index // 900 + 1:02d}"
            if index % 900 == 0:
                rows.append({"code": district, "name": f"Kecamatan {district}", "level": 3})
            village = f"{district}.{2001 + index % 900}"
            rows.append({"code": village, "name": f"Desa Uji {regency} {index}", "level": 4})
            codes[regency].append(village)
    unique = list({row["code"]: row for row in rows}.values())
    with application.db.write() as conn:
        conn.execute(insert(areas), unique)
    return codes


@dataclass
class Answer:
    status: int
    body: Any
    etag: str | None


@dataclass
class Outcome:
    """One logical write: its key and request id (the same on every retry), and the answer it got."""

    method: str
    path: str
    body: dict[str, Any]
    username: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    answer: Answer | None = None
    attempts: int = 0


class ServerDown(Exception):
    """The server did not answer before the retry deadline."""


@dataclass
class Client:
    """One user agent: a connection of its own, and retries of a write with its Idempotency-Key
    whenever the connection breaks (as it does when the server is killed)."""

    base_url: str
    tokens: dict[str, str]
    retry_for_s: float = 90.0
    on_answer: Callable[[Outcome], None] | None = None
    session: requests.Session = field(default_factory=requests.Session)
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}

    def write(self, username: str, method: str, path: str, body: dict[str, Any]) -> Outcome:
        outcome = Outcome(method, path, body, username)
        return self.send(outcome)

    def send(self, outcome: Outcome) -> Outcome:
        """Send (or send again) until an answer comes; the key and request id never change."""
        deadline = time.monotonic() + self.retry_for_s
        while True:
            outcome.attempts += 1
            try:
                response = self.session.request(
                    outcome.method,
                    f"{self.base_url}/api/v1{outcome.path}",
                    json=outcome.body,
                    headers=self.headers(
                        outcome.username, **{"Idempotency-Key": outcome.key, "X-Request-ID": outcome.key}
                    ),
                    timeout=30,
                )
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise ServerDown(f"{outcome.method} {outcome.path}") from None
                self.session = requests.Session()  # the old connections died with the server
                time.sleep(0.05)
                continue
            if response.status_code >= 500:
                self.server_errors.append((outcome.path, response.status_code, response.text[:300]))
            outcome.answer = Answer(response.status_code, _json(response), response.headers.get("ETag"))
            if self.on_answer:
                self.on_answer(outcome)
            return outcome

    def get(self, username: str, path: str, **params: Any) -> requests.Response:
        response = self.session.get(
            f"{self.base_url}/api/v1{path}", params=params, headers=self.headers(username), timeout=30
        )
        if response.status_code >= 500:
            self.server_errors.append((path, response.status_code, response.text[:300]))
        return response


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def run_in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(i)` for i in range(count) at once; return what they raised."""
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # reported by the test, not lost in a thread
            with lock:
                failures.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures
