"""The same request with the same Idempotency-Key, sent 10 times at once to a real server: one event,
ten answers that agree."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from events.schema import events
from tests.conftest import ACTION_BODIES, proposal
from tests.server.conftest import Deployment
from tests.server.harness import Outcome, run_in_threads

AT_ONCE = 10


def send_at_once(deployment: Deployment, template: Outcome) -> list[Outcome]:
    """`AT_ONCE` clients released together by a barrier, each with its own connection."""
    barrier = threading.Barrier(AT_ONCE)
    outcomes = [
        Outcome(template.method, template.path, template.body, template.username, key=template.key)
        for _ in range(AT_ONCE)
    ]

    def send(index: int) -> None:
        client = deployment.client()
        client.get("auditor", "/ledger")  # open the connection before the barrier
        barrier.wait()
        client.send(outcomes[index])
        assert not client.server_errors, client.server_errors

    assert run_in_threads(AT_ONCE, send) == []
    return outcomes


def events_of(deployment: Deployment, stream_id: str) -> int:
    with deployment.application.db.read() as conn:
        return conn.execute(select(func.count()).where(events.c.stream_id == stream_id)).scalar_one()


def assert_all_agree(outcomes: list[Outcome], status: int) -> None:
    answers = [o.answer for o in outcomes]
    assert all(a is not None for a in answers)
    first = answers[0]
    assert first is not None and first.status == status, first
    assert all(a == first for a in answers), {a.status for a in answers if a}


def test_ten_proposals_with_one_key_record_one_case(deployment: Deployment) -> None:
    template = Outcome("POST", "/candidacies", proposal(next(deployment.villages)), "officer")

    outcomes = send_at_once(deployment, template)

    assert_all_agree(outcomes, 201)
    case_id = outcomes[0].answer.body["id"]  # type: ignore[union-attr]
    assert events_of(deployment, case_id) == 1


def test_ten_actions_with_one_key_record_one_event(deployment: Deployment) -> None:
    client = deployment.client()
    proposed = client.write("officer", "POST", "/candidacies", proposal(next(deployment.villages)))
    assert proposed.answer is not None and proposed.answer.status == 201
    case_id = proposed.answer.body["id"]
    template = Outcome(
        "POST", f"/candidacies/{case_id}/coordinate", ACTION_BODIES["coordinate"], "section_head"
    )

    outcomes = send_at_once(deployment, template)

    assert_all_agree(outcomes, 200)
    assert outcomes[0].answer.body["stage"] == "coordinated"  # type: ignore[union-attr]
    assert outcomes[0].answer.etag == '"2"'  # type: ignore[union-attr]
    assert events_of(deployment, case_id) == 2


def test_one_key_with_ten_different_bodies_records_one_and_refuses_the_rest(deployment: Deployment) -> None:
    key = uuid.uuid4().hex
    barrier = threading.Barrier(AT_ONCE)
    villages = [next(deployment.villages) for _ in range(AT_ONCE)]
    outcomes = [Outcome("POST", "/candidacies", proposal(v), "officer", key=key) for v in villages]

    def send(index: int) -> None:
        client = deployment.client()
        client.get("auditor", "/ledger")
        barrier.wait()
        client.send(outcomes[index])

    assert run_in_threads(AT_ONCE, send) == []

    statuses = sorted(o.answer.status for o in outcomes if o.answer)
    assert statuses == [201] + [409] * (AT_ONCE - 1)
    winner = next(o for o in outcomes if o.answer and o.answer.status == 201)
    assert events_of(deployment, winner.answer.body["id"]) == 1  # type: ignore[union-attr]
    with deployment.application.db.read() as conn:
        proposed = conn.execute(select(func.count()).where(events.c.request_id == key)).scalar_one()
    assert proposed == 1
