"""The actors a server process remembers by token digest: for a while, and only so many."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from service import auth
from service.auth import KnownTokens

OFFICER = Actor("officer", "Officer", Role.OFFICER, "BOGOR", None)
HEAD = Actor("head", "Head", Role.HEAD_OF_OFFICE, "BOGOR", None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(auth.time, "monotonic", clock)
    return clock


def test_an_actor_is_remembered_until_its_time_is_up(clock: Clock) -> None:
    known = KnownTokens(seconds=60)
    known.remember("a", OFFICER)
    clock.now += 59.9
    assert known.get("a") == OFFICER
    clock.now += 0.1
    assert known.get("a") is None
    assert known.get("a") is None  # gone, not just hidden


def test_remembering_again_starts_its_time_again(clock: Clock) -> None:
    known = KnownTokens(seconds=60)
    known.remember("a", OFFICER)
    clock.now += 50
    known.remember("a", OFFICER)
    clock.now += 50
    assert known.get("a") == OFFICER


def test_beyond_its_capacity_the_least_recently_used_goes(clock: Clock) -> None:
    known = KnownTokens(capacity=2)
    known.remember("a", OFFICER)
    known.remember("b", HEAD)
    assert known.get("a") == OFFICER  # now "b" is the least recently used
    known.remember("c", HEAD)
    assert known.get("b") is None
    assert known.get("a") == OFFICER
    assert known.get("c") == HEAD


def test_a_forgotten_token_is_unknown(clock: Clock) -> None:
    known = KnownTokens()
    known.remember("a", OFFICER)
    known.forget("a")
    known.forget("never seen")
    assert known.get("a") is None


def test_the_precondition_names_the_token_and_every_field_of_its_actor() -> None:
    precondition = auth.live_token_precondition("digest", OFFICER)
    assert precondition.sql.startswith("CALL confirm_live_token(")
    assert precondition.parameters == ("digest", "officer", "officer", "BOGOR", None)
    assert precondition.sqlstate == auth.TOKEN_NOT_LIVE
    assert not precondition.sent
