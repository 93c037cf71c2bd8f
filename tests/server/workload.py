"""Whole lifecycles driven over HTTP by many clients at once, and the checks that every acknowledged
action is in the log exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from domain.events import CANDIDACY_STREAM
from events.schema import events
from tests.conftest import ACTION_BODIES, proposal
from tests.server.conftest import Deployment
from tests.server.harness import ROOT, Client, Outcome, run_in_threads

EVENT_OF_ACTION = {
    "propose": "CandidacyProposed",
    "coordinate": "CandidacyCoordinated",
    "socialize": "CandidacySocialized",
    "assess": "CandidacyAssessed",
    "designate": "CandidacyDesignated",
    "reject": "CandidacyRejected",
    "return": "CandidacyReturned",
    "withdraw": "CandidacyWithdrawn",
}
# Who does what: four eyes means the approver neither proposed nor assessed.
ACTOR_OF_ACTION = {
    "coordinate": "section_head",
    "socialize": "section_head",
    "assess": "section_head",
    "designate": "head",
    "reject": "head",
    "return": "head",
    "withdraw": "section_head",
}
DESIGNATED = ["coordinate", "socialize", "assess", "designate"]
# A realistic mix: most cases are designated, some are returned once first, some rejected or withdrawn.
PATHS = [
    DESIGNATED,
    DESIGNATED,
    ["coordinate", "socialize", "assess", "return", "assess", "designate"],
    DESIGNATED,
    ["coordinate", "withdraw"],
    DESIGNATED,
    ["coordinate", "socialize", "assess", "reject"],
]


def path_of(case_number: int) -> list[str]:
    return PATHS[case_number % len(PATHS)]


class Villages:
    """Hands out each village once, to whichever client thread asks."""

    def __init__(self, codes: Iterator[str]) -> None:
        self._codes = codes
        self._lock = threading.Lock()

    def __next__(self) -> str:
        with self._lock:
            return next(self._codes)


@dataclass
class Workload:
    """`clients` clients, each running `cases_per_client` whole lifecycles one after another."""

    deployment: Deployment
    clients: int
    cases_per_client: int
    on_answer: Callable[[Outcome], None] | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def planned_writes(self) -> int:
        return sum(1 + len(path_of(n)) for n in range(self.clients * self.cases_per_client))

    def run(self) -> None:
        villages = Villages(self.deployment.villages)
        failures = run_in_threads(self.clients, lambda index: self._client_run(index, villages))
        assert failures == [], failures

    def _client_run(self, index: int, villages: Villages) -> None:
        client = self.deployment.client(on_answer=self.on_answer)
        mine: list[Outcome] = []
        try:
            for case in range(self.cases_per_client):
                case_number = index * self.cases_per_client + case
                proposed = client.write("officer", "POST", "/candidacies", proposal(next(villages)))
                mine.append(proposed)
                assert proposed.answer is not None and proposed.answer.status == 201, proposed.answer
                case_id = proposed.answer.body["id"]
                for action in path_of(case_number):
                    outcome = client.write(
                        ACTOR_OF_ACTION[action],
                        "POST",
                        f"/candidacies/{case_id}/{action}",
                        ACTION_BODIES[action],
                    )
                    mine.append(outcome)
                    assert outcome.answer is not None and outcome.answer.status == 200, (
                        action,
                        outcome.answer,
                    )
        finally:
            with self._lock:
                self.outcomes += mine
                self.server_errors += client.server_errors


def action_of(outcome: Outcome) -> str:
    return "propose" if outcome.path == "/candidacies" else outcome.path.rsplit("/", 1)[1]


def assert_each_acknowledged_action_recorded_once(deployment: Deployment, outcomes: list[Outcome]) -> int:
    """Every write answered 2xx is one event: found by its request id, of the right case, version and
    type; no request id is there twice. Returns the number of events checked."""
    with deployment.application.db.read() as conn:
        # The cases' events: the accounts were opened together, in one request, before the load.
        rows = conn.execute(
            select(events.c.request_id, events.c.stream_id, events.c.version, events.c.type).where(
                events.c.stream_type == CANDIDACY_STREAM
            )
        ).all()
    by_request = Counter(row.request_id for row in rows)
    duplicated = [key for key, count in by_request.items() if count > 1]
    assert duplicated == [], f"request ids recorded more than once: {duplicated[:5]}"
    recorded = {row.request_id: row for row in rows}
    acknowledged = [o for o in outcomes if o.answer and 200 <= o.answer.status < 300]
    for outcome in acknowledged:
        assert outcome.key in recorded, f"acknowledged but not in the log: {outcome.path} {outcome.answer}"
        row = recorded[outcome.key]
        assert outcome.answer is not None
        assert (row.stream_id, row.version, row.type) == (
            outcome.answer.body["id"],
            outcome.answer.body["version"],
            EVENT_OF_ACTION[action_of(outcome)],
        )
    return len(acknowledged)


def assert_ledger_verifies(client: Client) -> int:
    verdict = client.get("auditor", "/ledger/verify").json()
    head = client.get("auditor", "/ledger").json()
    assert (verdict["ok"], verdict["complete"], verdict["first_bad_position"]) == (True, True, None)
    assert verdict["checked"] == verdict["verified_to"] == head["position"]
    return verdict["checked"]


def assert_projections_verify(deployment: Deployment) -> None:
    """The CLI an operator would run: every read model rebuilt aside equals the live one."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "projections", "verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": deployment.server.database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
