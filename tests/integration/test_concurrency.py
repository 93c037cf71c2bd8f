"""Concurrent writers on both databases: one winner per race, the rest told why; positions handed out
without gaps or duplicates, in commit order, so that a follower of the log never skips an event."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.accounts import AccountDraft
from domain.actors import Role
from domain.events import CandidacyRejected
from events.database import Database
from events.schema import candidacies
from events.store import EventMetadata, EventStore, RecordedEvent
from service import handlers
from service.application import Application
from tests.conftest import ACTION_BODIES, World, add_test_user, proposal

JOIN_TIMEOUT_S = 120

Reply = tuple[int, Any, dict[str, str]]


def race(app: Flask, count: int, send: Callable[[FlaskClient, int], Any]) -> list[Reply]:
    """`count` requests released together, each from its own thread and test client."""
    barrier = threading.Barrier(count)
    replies: list[Reply | None] = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            response = send(client, index)
            replies[index] = (response.status_code, response.get_json(), dict(response.headers))
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not failures, failures
    assert all(reply is not None for reply in replies)
    return [reply for reply in replies if reply is not None]


def event_count(application: Application) -> int:
    with application.db.read() as conn:
        return EventStore().count(conn)


@pytest.mark.parametrize("if_match", [False, True], ids=["no-if-match", "if-match"])
def test_same_action_from_sixteen_threads_has_one_winner(
    app: Flask, application: Application, client: FlaskClient, world: World, registry: None, if_match: bool
) -> None:
    created = client.post("/api/v1/candidacies", json=proposal(), headers=world.headers("officer"))
    assert created.status_code == 201
    case_id, version = created.get_json()["id"], created.get_json()["version"]
    before = event_count(application)
    deciders = ["section_head", "head", "acting_head"]

    def coordinate(test_client: FlaskClient, index: int) -> Any:
        extra = {"If-Match": f'"{version}"'} if if_match else {}
        return test_client.post(
            f"/api/v1/candidacies/{case_id}/coordinate",
            json=ACTION_BODIES["coordinate"],
            headers=world.headers(deciders[index % len(deciders)], **extra),
        )

    replies = race(app, 16, coordinate)

    loser_status = 412 if if_match else 409
    assert Counter(status for status, _, _ in replies) == {200: 1, loser_status: 15}
    [(winner_index, (_, won, won_headers))] = [(i, r) for i, r in enumerate(replies) if r[0] == 200]
    assert (won["stage"], won["version"], won_headers["ETag"]) == ("coordinated", 2, '"2"')
    for status, body, headers in replies:
        if status == 412:
            assert (body["current_version"], headers["ETag"]) == (2, '"2"')
        elif status == 409:
            assert body["type"].endswith("action-not-allowed")
            assert "coordinate" not in body["allowed_actions"]

    assert event_count(application) == before + 1
    with application.db.read() as conn:
        stream = EventStore().load_stream(conn, case_id)
        assert [(e.version, e.type) for e in stream] == [
            (1, "CandidacyProposed"),
            (2, "CandidacyCoordinated"),
        ]
        assert stream[1].actor_username == deciders[winner_index % len(deciders)]
        row = conn.execute(select(candidacies).where(candidacies.c.id == case_id)).mappings().one()
        assert (row["stage"], row["version"]) == ("coordinated", 2)
        assert row["coordinated"]["by"]["username"] == stream[1].actor_username
        assert EventStore().verify(conn).ok


def test_eight_proposals_of_one_village_create_one_case(
    app: Flask, application: Application, world: World, registry: None
) -> None:
    proposers = ["officer", "section_head", "head", "acting_head"]
    tokens = {username: world.tokens[username] for username in proposers}
    for n in range(2, 6):
        username = f"officer{n}"
        tokens[username], _ = add_test_user(
            application, AccountDraft(username, f"Officer {n}", Role.OFFICER, "BOGOR", None)
        )
        proposers.append(username)
    assert len(proposers) == 8
    before = event_count(application)

    def propose(test_client: FlaskClient, index: int) -> Any:
        return test_client.post(
            "/api/v1/candidacies",
            json=proposal(),
            headers={"Authorization": f"Bearer {tokens[proposers[index]]}"},
        )

    replies = race(app, 8, propose)

    assert Counter(status for status, _, _ in replies) == {201: 1, 409: 7}
    [(winner_index, (_, created, _))] = [(i, r) for i, r in enumerate(replies) if r[0] == 201]
    for status, body, _ in replies:
        if status == 409:
            assert body["rule"] == "duplicate_candidacy"
    with application.db.read() as conn:
        rows = conn.execute(
            select(candidacies.c.id, candidacies.c.proposed).where(
                candidacies.c.village_code == "32.01.25.2006"
            )
        ).all()
        assert [row.id for row in rows] == [created["id"]]
        assert rows[0].proposed["by"]["username"] == proposers[winner_index]
        recorded = EventStore().read_all(conn, after=before)
        assert [(e.stream_id, e.type) for e in recorded] == [(created["id"], "CandidacyProposed")]
        assert EventStore().count(conn) == before + 1
        assert EventStore().verify(conn).ok


def test_a_command_decides_under_the_write_lock_and_the_next_one_decides_on_its_result(
    app: Flask, application: Application, client: FlaskClient, world: World, registry: None, monkeypatch: Any
) -> None:
    """A command takes the write lock before it loads its case: another command on the same case,
    sent while the first is deciding, waits for it, and is then decided on the case as the first left
    it (here: refused as already coordinated), never on a stale case nor with a bare conflict."""
    created = client.post("/api/v1/candidacies", json=proposal(), headers=world.headers("officer"))
    case_id = created.get_json()["id"]
    decided_on: list[tuple[str, int]] = []
    waiting: dict[str, Any] = {}
    decide = handlers.candidacy_rules.decide

    def second_command() -> None:
        response = app.test_client().post(
            f"/api/v1/candidacies/{case_id}/coordinate",
            json=ACTION_BODIES["coordinate"],
            headers=world.headers("head"),
        )
        waiting["status"] = response.status_code
        waiting["body"] = response.get_json()

    def decide_while_another_is_sent(case: Any, command: Any, actor: Any, **kwargs: Any) -> Any:
        decided_on.append((actor.username, case.version))
        if actor.username == "section_head":
            waiting["thread"] = threading.Thread(target=second_command)
            waiting["thread"].start()
            waiting["thread"].join(0.5)
            waiting["finished_while_first_decided"] = "status" in waiting
        return decide(case, command, actor, **kwargs)

    monkeypatch.setattr(handlers.candidacy_rules, "decide", decide_while_another_is_sent)
    ours = client.post(
        f"/api/v1/candidacies/{case_id}/coordinate",
        json=ACTION_BODIES["coordinate"],
        headers=world.headers("section_head"),
    )
    waiting["thread"].join(JOIN_TIMEOUT_S)

    with application.db.read() as conn:
        stream = EventStore().load_stream(conn, case_id)
    assert [e.type for e in stream] == ["CandidacyProposed", "CandidacyCoordinated"]
    assert stream[1].actor_username == "section_head"
    assert waiting["finished_while_first_decided"] is False
    assert (ours.status_code, waiting["status"]) == (200, 409)
    assert waiting["body"]["type"].endswith("action-not-allowed")
    assert decided_on == [("section_head", 1), ("head", 2)]


def test_eight_retries_of_one_proposal_under_one_idempotency_key_all_get_its_reply(
    app: Flask, application: Application, world: World, registry: None
) -> None:
    def propose(test_client: FlaskClient, index: int) -> Any:
        return test_client.post(
            "/api/v1/candidacies",
            json=proposal(),
            headers=world.headers("officer", **{"Idempotency-Key": "proposal-bogor-1"}),
        )

    before = event_count(application)
    replies = race(app, 8, propose)

    assert {status for status, _, _ in replies} == {201}
    assert len({body["id"] for _, body, _ in replies}) == 1
    assert len({headers["Location"] for _, _, headers in replies}) == 1
    assert event_count(application) == before + 1


# ---- the log itself, under eight writers ---------------------------------------------------------

WRITERS = 8
EVENTS_PER_WRITER = 200
# Appends of 1 to 4 events per transaction: a transaction's events must stay together in the log.
BATCH_SIZES = [1, 2, 3, 4] * (EVENTS_PER_WRITER // 10)


def test_concurrent_appends_get_every_position_once_in_commit_order(database: Database) -> None:
    store = EventStore()
    total = WRITERS * EVENTS_PER_WRITER
    written: list[list[RecordedEvent]] = []
    followed: list[RecordedEvent] = []
    steps: list[int] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(WRITERS + 1)
    done = threading.Event()

    def write(writer: int) -> None:
        metadata = EventMetadata(
            f"writer{writer}", f"Writer {writer}", "section_head", "BOGOR", f"req-{writer}"
        )
        try:
            barrier.wait(timeout=30)
            version = 0
            for size in BATCH_SIZES:
                reasons = [CandidacyRejected(reason=f"{writer}/{version + i}") for i in range(size)]
                with database.write() as conn:
                    recorded = store.append(
                        conn,
                        store.lock_head(conn),
                        stream_type="candidacy",
                        stream_id=f"stream-{writer}",
                        expected_version=version,
                        new_events=reasons,
                        metadata=metadata,
                        now=dt.datetime.now(dt.UTC),
                    )
                written.append(recorded)
                version += size
        except BaseException as error:
            failures.append(error)

    def follow() -> None:
        """A downstream consumer reading by position while the writers run: it must never see a
        position before every smaller one is visible, or it would skip that one for good."""
        after = 0
        try:
            barrier.wait(timeout=30)
            while after < total:
                writers_done = done.is_set()
                with database.read() as conn:
                    batch = store.read_all(conn, after=after, limit=500)
                if batch:
                    assert [e.position for e in batch] == list(range(after + 1, after + 1 + len(batch)))
                    followed.extend(batch)
                    after = batch[-1].position
                    steps.append(len(batch))
                elif writers_done:
                    break  # everything is committed and nothing more is visible
                else:
                    time.sleep(0.002)  # leave the GIL to the writers
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    follower = threading.Thread(target=follow)
    for thread in [*threads, follower]:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    done.set()
    follower.join(JOIN_TIMEOUT_S)
    assert not any(t.is_alive() for t in [*threads, follower]), "a writer or the follower hung"
    assert not failures, failures

    positions = sorted(e.position for batch in written for e in batch)
    assert positions == list(range(1, total + 1))
    for batch in written:
        assert [e.position for e in batch] == list(range(batch[0].position, batch[0].position + len(batch)))

    with database.read() as conn:
        log = store.read_all(conn)
        result = store.verify(conn)
        head = store.head(conn)
    assert [e.position for e in log] == list(range(1, total + 1))
    assert (result.ok, result.checked, head.position, head.hash) == (True, total, total, log[-1].hash)
    assert [e.hash for e in followed] == [e.hash for e in log]
    assert len(steps) > 1, "the follower should have read while the writers wrote"
    per_stream: dict[str, list[int]] = {}
    for event in log:
        per_stream.setdefault(event.stream_id, []).append(event.version)
    assert per_stream == {f"stream-{w}": list(range(1, EVENTS_PER_WRITER + 1)) for w in range(WRITERS)}
    stamps = [e.recorded_at for e in log]
    assert stamps == sorted(stamps)
