"""Helpers for the report tests: a clock moved day by day in system time (WIB), action bodies dated
on a given day, villages without a registry, and the targets and reports endpoints."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from werkzeug.test import TestResponse

from domain.accounts import AccountDraft
from domain.actors import Role
from domain.calendar import SYSTEM_TIMEZONE
from service.application import Application
from tests.conftest import FakeClock, add_test_user, proposal
from tests.e2e.conftest import API, CASES, Api

TARGETS = f"{API}/targets"
DESIGNATIONS = f"{API}/designations"
PERFORMANCE = f"{API}/reports/performance"

# The office (and the regency it proposes in) of each proposer used by the report tests.
OFFICE_REGENCY = {"BOGOR": "32.01", "SUKABUMI": "32.02", "SURABAYA": "35.78"}


def wib(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SYSTEM_TIMEZONE).astimezone(dt.UTC)


def start(clock: FakeClock, day: dt.date, hour: int = 10, minute: int = 0) -> None:
    """Set the clock before anything is recorded."""
    clock.now = wib(day, hour, minute)


def at(clock: FakeClock, day: dt.date, hour: int = 10, minute: int = 0) -> None:
    """Move the clock forward to `hour:minute` WIB on `day` (never back: the log would clamp it)."""
    instant = wib(day, hour, minute)
    assert instant >= clock.now, f"the clock may only move forward ({clock.now} -> {instant})"
    clock.now = instant


def village(office_code: str, number: int) -> dict[str, str]:
    """A well-shaped village code in the office's working area, and a name (no registry needed)."""
    return {
        "village_code": f"{OFFICE_REGENCY[office_code]}.01.{1000 + number}",
        "village_name": f"Desa {office_code.title()} {number}",
    }


def bodies(day: dt.date, decree: str = "W11.IMI.IMI.4-UM.01.01") -> dict[str, dict[str, Any]]:
    """The body of every action, with every date on `day`."""
    on = day.isoformat()
    return {
        "coordinate": {
            "held_on": on,
            "venue": "Aula Kantor Imigrasi",
            "agencies": ["Polres", "Kodim"],
            "minutes_ref": f"UND-{on}",
        },
        "socialize": {"held_on": on, "speakers": ["BP3MI"], "attendees": 40, "topics": ["TPPO"]},
        "assess": {"assessed_on": on, "score": 80, "meets_criteria": True, "criteria": {"poverty": True}},
        "designate": {
            "decree_number": f"{decree}-{on}",
            "decree_date": on,
            "fostering_officers": ["Rina Marlina", "Asep Saepudin"],
        },
        "reject": {"reason": "Tidak memenuhi kriteria."},
        "return": {"reason": "Penilaian ulang diperlukan."},
        "withdraw": {"reason": "Data tidak terkonfirmasi."},
    }


@dataclass
class Desk:
    """An office's cases moved through the API by its staff, each action dated on the clock's day."""

    api: Api
    clock: FakeClock

    def today(self) -> dt.date:
        return self.clock.now.astimezone(SYSTEM_TIMEZONE).date()

    def propose(self, username: str, office_code: str, number: int) -> dict[str, Any]:
        body = proposal(office_code=office_code, **village(office_code, number))
        response = self.api.client.post(CASES, json=body, headers=self.api.world.headers(username))
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def act(self, username: str, case_id: str, action: str, **changes: Any) -> dict[str, Any]:
        body = {**bodies(self.today())[action], **changes}
        return self.api.acted(username, case_id, action, body)


def add_user(
    api: Api, application: Application, username: str, role: Role, office: str | None, region: str | None
) -> None:
    """One more user than the shared world has (its name: the username in title case), its token and
    actor added to the world's."""
    name = username.replace("_", " ").title()
    token, actor = add_test_user(application, AccountDraft(username, name, role, office, region))
    api.world.tokens[username] = token
    api.world.actors[username] = actor


# ---- the endpoints -------------------------------------------------------------------------


def put_target(
    api: Api,
    username: str,
    office_code: str,
    year: int,
    body: Any = None,
    **headers: str,
) -> TestResponse:
    data = {"target": 3, "basis": "Surat Kakanwil W11-UM.01.01-0101"} if body is None else body
    return api.client.put(
        f"{TARGETS}/{office_code}/{year}", json=data, headers=api.world.headers(username, **headers)
    )


def target_set(api: Api, username: str, office_code: str, year: int, target: int, basis: str) -> dict:
    response = put_target(api, username, office_code, year, {"target": target, "basis": basis})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ok_json(response: TestResponse) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def report(api: Api, username: str, **params: Any) -> dict[str, Any]:
    return ok_json(api.get(username, PERFORMANCE, **params))


def register(api: Api, username: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of the designation register, page after page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    seen: set[str] = set()
    while True:
        page = ok_json(api.get(username, DESIGNATIONS, **params, **({"cursor": cursor} if cursor else {})))
        rows.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows
        assert cursor not in seen, "the pages go round in a circle"
        assert page["items"], "a page with a next cursor but no rows"
        seen.add(cursor)


def parse_csv(response: TestResponse) -> tuple[list[str], list[dict[str, str]]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def office_row(report_body: dict[str, Any], office_code: str) -> dict[str, Any]:
    [row] = [r for r in report_body["offices"] if r["office_code"] == office_code]
    return row
