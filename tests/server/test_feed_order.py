"""While 8 clients write, an auditor tails `/events?after=`: every position from 1 to N arrives exactly
once, in order, and never after a later one (no gap to go back for)."""

from __future__ import annotations

import threading

from tests.server.conftest import SOAK, Deployment
from tests.server.workload import Workload

WRITERS = 8
CASES_PER_WRITER = 4 * SOAK
PAGE = 25  # small pages: the tail is read many times while the writers are busy


def test_a_tailing_auditor_sees_every_position_once_in_order(deployment: Deployment, record_property) -> None:
    workload = Workload(deployment, WRITERS, CASES_PER_WRITER)
    writers_done = threading.Event()
    tailer = deployment.client()
    seen: list[int] = []
    pages = 0

    writing = threading.Thread(target=lambda: (workload.run(), writers_done.set()), daemon=True)
    writing.start()
    while True:
        done = writers_done.is_set()  # read before the page: a page after the last write is complete
        after = seen[-1] if seen else 0
        response = tailer.get("auditor", "/events", after=after, limit=PAGE)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        positions = [event["position"] for event in page["items"]]
        # Contiguous from where the tail stood: a later page never brings an earlier position.
        assert positions == list(range(after + 1, after + 1 + len(positions))), (after, positions)
        assert page["ledger"]["position"] >= (positions[-1] if positions else after)
        seen += positions
        if done and not positions:
            break
    writing.join(timeout=60)

    assert workload.server_errors == [] and tailer.server_errors == []
    head = tailer.get("auditor", "/ledger").json()
    assert seen == list(range(1, head["position"] + 1))
    assert len(workload.outcomes) == workload.planned_writes
    record_property("positions_seen", len(seen))
    record_property("pages_read", pages)
    print(f"order: {WRITERS} writers, {len(seen)} positions seen once in order over {pages} pages")
