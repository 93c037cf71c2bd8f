"""The browser tier: Debian's Chromium, driven by Playwright, against a real gunicorn serving a
migrated database with the test world (passwords set), on SQLite and on PostgreSQL. Skipped, saying
why, where no Chromium is installed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from events.database import Database
from service import accounts
from service.application import Application
from service.config import system_clock
from service.migrate import upgrade
from tests.conftest import (
    ACTION_BODIES,
    BACKENDS,
    USERS,
    World,
    build_world,
    load_areas,
    proposal,
    scratch_database_url,
)
from tests.server.harness import Server

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "sandi-yang-panjang-sekali"
# Where the screenshots go: one folder per database, each page at a phone's and a desk's width.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = (360, 1280)
STEPS_TO = {"proposed": [], "coordinated": ["coordinate"], "assessed": ["coordinate", "socialize", "assess"]}

if not CHROMIUM.exists():
    pytest.skip(
        f"the browser tier needs Debian's Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright  # noqa: E402


@dataclass
class Site:
    """The server, its world, and the API calls that set up what a test then does in the browser."""

    server: Server
    world: World
    backend: str

    @property
    def url(self) -> str:
        return self.server.url

    def api(
        self, username: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = requests.request(
            method, f"{self.url}/api/v1{path}", json=body, headers=self.world.headers(username), timeout=30
        )
        assert response.status_code < 300, response.text
        return response.json()

    def upload(self, username: str, content: bytes, filename: str) -> str:
        response = requests.post(
            f"{self.url}/api/v1/documents",
            files={"file": (filename, content)},
            headers=self.world.headers(username),
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        return response.json()["sha256"]

    def case_at(self, stage: str, village_code: str) -> dict[str, Any]:
        """A case of BOGOR moved to `stage` over the API by the section head."""
        case = self.api("officer", "POST", "/candidacies", proposal(village_code))
        for action in {
            "proposed": [],
            "coordinated": ["coordinate"],
            "assessed": ["coordinate", "socialize", "assess"],
        }[stage]:
            case = self.api(
                "section_head", "POST", f"/candidacies/{case['id']}/{action}", ACTION_BODIES[action]
            )
        return case


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp(f"browser-{request.param}")
    with scratch_database_url(request.param, directory) as url:
        application = Application(Database(url), system_clock)
        upgrade(application.db)
        world = build_world(application)
        load_areas(application)
        with accounts.as_command_line(application.uow, "browser-tests") as tx:
            for username in USERS:
                accounts.set_password(tx, accounts.command_line_actor(), username, PASSWORD)
        # One worker: the failed sign-ins it counts are then the only ones (they live per process).
        server = Server(url, directory / "server.log", workers=1, env={"SECRET_KEY": secrets.token_hex(32)})
        server.start()
        try:
            yield Site(server, world, request.param)
        finally:
            server.stop()
            application.db.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) at a phone's width."""
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="id-ID")
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
