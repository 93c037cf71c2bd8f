"""Load and crashes against a real server: 16 clients run whole lifecycles at once; then the same while
the whole server (master and workers) is killed with SIGKILL three times and restarted. No
acknowledged action is lost or recorded twice, the chain verifies, the read models match the log, and a
retry with the same Idempotency-Key gets the original answer."""

from __future__ import annotations

import threading
import time

from tests.server.conftest import SOAK, Deployment
from tests.server.harness import Outcome
from tests.server.workload import (
    Workload,
    assert_each_acknowledged_action_recorded_once,
    assert_ledger_verifies,
    assert_projections_verify,
)

CLIENTS = 16
LOAD_CASES_PER_CLIENT = 3 * SOAK
CRASH_CASES_PER_CLIENT = 4 * SOAK
KILLS = 3


def test_sixteen_clients_run_whole_lifecycles(deployment: Deployment, record_property) -> None:
    workload = Workload(deployment, CLIENTS, LOAD_CASES_PER_CLIENT)

    workload.run()

    assert workload.server_errors == []
    assert len(workload.outcomes) == workload.planned_writes
    checked = assert_each_acknowledged_action_recorded_once(deployment, workload.outcomes)
    assert checked == workload.planned_writes
    chain = assert_ledger_verifies(deployment.client())
    assert_projections_verify(deployment)
    record_property("writes_acknowledged", checked)
    record_property("events_in_chain", chain)
    print(f"load: {CLIENTS} clients, {checked} writes acknowledged and found once, {chain} events verified")


class Killer(threading.Thread):
    """Kills the server with SIGKILL each time another quarter of the writes has been answered, and
    starts it again, while the clients keep sending."""

    def __init__(self, deployment: Deployment, planned: int) -> None:
        super().__init__(daemon=True)
        self.deployment = deployment
        self.thresholds = [planned * (k + 1) // (KILLS + 1) for k in range(KILLS)]
        self.answered = 0
        self.answered_at_kill: list[int] = []
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def count(self, _outcome: Outcome) -> None:
        with self._lock:
            self.answered += 1

    def run(self) -> None:
        try:
            for threshold in self.thresholds:
                while self.answered < threshold:
                    time.sleep(0.005)
                self.answered_at_kill.append(self.answered)
                self.deployment.server.kill9()
                self.deployment.server.start()
        except BaseException as error:
            self.error = error


def test_kill_nine_three_times_under_load_loses_and_repeats_nothing(
    deployment: Deployment, record_property
) -> None:
    workload = Workload(deployment, CLIENTS, CRASH_CASES_PER_CLIENT)
    killer = Killer(deployment, workload.planned_writes)
    workload.on_answer = killer.count
    kills_before = deployment.server.kills

    killer.start()
    workload.run()
    killer.join(timeout=120)

    assert killer.error is None, killer.error
    assert deployment.server.kills - kills_before == KILLS
    assert workload.server_errors == []
    assert len(workload.outcomes) == workload.planned_writes
    interrupted = [o for o in workload.outcomes if o.attempts > 1]
    assert interrupted, "no request was in flight at a kill: the test proved nothing"
    checked = assert_each_acknowledged_action_recorded_once(deployment, workload.outcomes)
    assert checked == workload.planned_writes

    # After the last restart every client sends each write again, same key and body: the first
    # answer comes back and nothing new is recorded.
    client = deployment.client()
    head_before = client.get("auditor", "/ledger").json()
    for original in workload.outcomes:
        again = client.send(
            Outcome(original.method, original.path, original.body, original.username, key=original.key)
        )
        assert again.answer == original.answer, (original.path, original.answer, again.answer)
    assert client.get("auditor", "/ledger").json() == head_before
    assert client.server_errors == []

    chain = assert_ledger_verifies(client)
    assert_projections_verify(deployment)
    record_property("kills", KILLS)
    record_property("writes_acknowledged", checked)
    record_property("requests_interrupted_by_a_kill", len(interrupted))
    record_property("retries_answered_from_the_key", len(workload.outcomes))
    record_property("events_in_chain", chain)
    print(
        f"crash: {KILLS} kills survived, {checked} writes acknowledged and found once, "
        f"{len(interrupted)} interrupted and retried, {len(workload.outcomes)} replays answered from "
        f"their key, {chain} events verified"
    )


def test_the_server_log_holds_requests_but_no_token(deployment: Deployment) -> None:
    text = deployment.server.log_path.read_text(encoding="utf-8")
    assert '"message": "request"' in text and '"user": "officer"' in text  # the log is being written
    for username, token in deployment.world.tokens.items():
        assert token not in text, username
        assert token[:16] not in text, username
    assert "Authorization" not in text and "Bearer " not in text
