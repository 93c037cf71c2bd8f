"""Bearer tokens at rest and at the door: stored as SHA-256 only, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from sqlalchemy import select

from service import auth
from service.application import Application
from service.tables import api_tokens
from tests.conftest import World


def test_a_token_is_stored_only_as_its_digest(application: Application, world: World) -> None:
    with application.db.read() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert auth.hash_token(world.tokens["officer"]) in stored
    assert not any(token in stored for token in world.tokens.values())


def test_the_digest_is_compared_in_constant_time(
    application: Application, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[Any, Any]] = []
    constant_time = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    with application.db.read() as conn:
        found = auth.holder_of_digest(conn, auth.hash_token(world.tokens["officer"]))

    assert found is not None and found.actor.username == "officer"
    digest = auth.hash_token(world.tokens["officer"])
    assert compared == [(digest, digest)]


def test_a_token_one_character_off_is_nobody(application: Application, world: World) -> None:
    token = world.tokens["officer"]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with application.db.read() as conn:
        assert auth.holder_of_digest(conn, auth.hash_token(altered)) is None
        other_case = token.upper() if token.upper() != token else token.lower()
        assert auth.holder_of_digest(conn, auth.hash_token(other_case)) is None


def test_tokens_carry_32_random_bytes() -> None:
    tokens = {auth.new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) >= 43 for token in tokens)  # 32 bytes in URL-safe base64
