"""A precondition every write transaction of a context sends with its BEGIN (PostgreSQL): the
transaction fails, rolled back, where it does not hold; on SQLite none may be asked for."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from domain.actors import Actor, Role
from events.database import Database
from events.prepared import Precondition, PreconditionFailed, Prepared, pipelined
from service import accounts
from service.auth import actor_for_token, hash_token, live_token_precondition
from service.tables import offices
from tests.conftest import OFFICES, FakeClock

_OFFICE_CODES = Prepared(select(offices.c.code))


@pytest.fixture
def officer_token(database: Database) -> str:
    with database.write() as conn:
        accounts.add_office(conn, OFFICES[0])
        return accounts.add_user(
            conn, accounts.NewUser("officer", "Officer", Role.OFFICER, "BOGOR", None), FakeClock()
        )


@pytest.fixture
def postgres(database: Database) -> Database:
    if database.is_sqlite:
        pytest.skip("the precondition is sent by PostgreSQL's driver; SQLite's writes take none")
    return database


def _officer(database: Database, token: str) -> Actor:
    """The actor as a lookup of the token gives it."""
    with database.lookup() as conn:
        actor = actor_for_token(conn, token)
    assert actor is not None
    return actor


@pytest.fixture
def required(postgres: Database, officer_token: str) -> Iterator[Precondition]:
    """The precondition that the officer's token is live, required in this test's writes."""
    precondition = live_token_precondition(hash_token(officer_token), _officer(postgres, officer_token))
    end = postgres.require_in_writes(precondition)
    yield precondition
    end()


def _add_office(conn: Any, code: str) -> None:
    office = dataclasses.replace(OFFICES[0], code=code)
    accounts.add_office(conn, office)


def _codes(database: Database) -> set[str]:
    with database.read() as conn:
        return set(conn.execute(select(offices.c.code)).scalars())


def test_a_write_goes_through_while_the_token_is_live(postgres: Database, required: Precondition) -> None:
    with postgres.write() as conn:
        _add_office(conn, "KEDIRI")
    assert required.sent
    assert "KEDIRI" in _codes(postgres)


@pytest.mark.usefixtures("required")
def test_a_write_fails_and_is_rolled_back_once_the_token_is_revoked(postgres: Database) -> None:
    with postgres.write() as conn:
        accounts.revoke_user(conn, "officer", FakeClock())
    with pytest.raises(PreconditionFailed), postgres.write() as conn:
        _add_office(conn, "KEDIRI")
    assert "KEDIRI" not in _codes(postgres)


@pytest.mark.usefixtures("required")
def test_in_a_pipeline_the_precondition_fails_the_statements_sent_with_it(postgres: Database) -> None:
    with postgres.write() as conn:
        accounts.revoke_user(conn, "officer", FakeClock())
    with pytest.raises(PreconditionFailed), postgres.write() as conn, pipelined(conn):
        codes = _OFFICE_CODES.send(conn)  # sent behind BEGIN and the precondition, in one round trip
        codes()


def test_a_token_now_of_another_actor_fails_it(postgres: Database, officer_token: str) -> None:
    stale = dataclasses.replace(_officer(postgres, officer_token), role=Role.HEAD_OF_OFFICE)
    end = postgres.require_in_writes(live_token_precondition(hash_token(officer_token), stale))
    try:
        with pytest.raises(PreconditionFailed), postgres.write() as conn:
            _add_office(conn, "KEDIRI")
    finally:
        end()


def test_a_transaction_that_sends_nothing_sends_no_precondition(
    postgres: Database, required: Precondition
) -> None:
    with postgres.write(lock_first=False):  # nothing sent, not even the lock
        pass
    assert not required.sent


def test_once_ended_writes_no_longer_send_it(postgres: Database, officer_token: str) -> None:
    digest = hash_token(officer_token)
    precondition = live_token_precondition(digest, _officer(postgres, officer_token))
    end = postgres.require_in_writes(precondition)
    end()
    with postgres.write() as conn:
        accounts.revoke_user(conn, "officer", FakeClock())
        _add_office(conn, "KEDIRI")
    assert not precondition.sent
    assert "KEDIRI" in _codes(postgres)


def test_on_sqlite_a_precondition_is_refused_not_ignored(database: Database, officer_token: str) -> None:
    if not database.is_sqlite:
        pytest.skip("PostgreSQL sends it")
    actor = _officer(database, officer_token)
    end = database.require_in_writes(live_token_precondition(hash_token(officer_token), actor))
    try:
        with pytest.raises(ValueError, match="precondition"), database.write() as conn:
            _add_office(conn, "KEDIRI")
    finally:
        end()
    assert "KEDIRI" not in _codes(database)
