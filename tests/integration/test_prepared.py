"""`Prepared` statements store what SQLAlchemy's own execution stores, in the caller's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from events.database import Database
from events.prepared import Prepared


class Labelled(TypeDecorator[str]):
    """A column whose rows SQLAlchemy processes on every dialect."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> str:
        return f"label {value}"


metadata = MetaData()
probes = Table(
    "prepared_probes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("details", JSON),
    Column("note", String(200)),
    Column("label", Labelled),
)


_UPDATE = update(probes).where(probes.c.id == bindparam("row_id")).values(details=bindparam("details"))
DETAILS: list[Any] = [None, {"b": [1, 2], "a": "é"}, [], "text", 0]


@pytest.fixture
def with_probes(database: Database) -> Database:
    metadata.create_all(database.engine)
    return database


def _stored(database: Database) -> list[tuple[Any, ...]]:
    """The rows as the database holds them: the JSON as its text, SQL NULL as None."""
    with database.read() as conn:
        query = "SELECT id, position, CAST(details AS TEXT), note FROM prepared_probes ORDER BY position"
        return [tuple(row) for row in conn.execute(text(query))]


def _rows(prefix: str, start: int) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}{i}", "position": start + i, "details": details, "note": None, "label": None}
        for i, details in enumerate(DETAILS)
    ]


def test_inserts_and_updates_store_what_sqlalchemy_stores(with_probes: Database) -> None:
    database = with_probes
    with database.write() as conn:
        conn.execute(insert(probes), _rows("core-", 0))
        Prepared(insert(probes)).execute(conn, _rows("prepared-", 100))
        with pytest.raises(KeyError, match="note"):  # compiled once with every column: each is needed
            Prepared(insert(probes)).execute(conn, {"id": "one", "position": 200, "details": {"x": 1}})
    stored = _stored(database)
    core = [row[2:] for row in stored if row[0].startswith("core-")]
    prepared = [row[2:] for row in stored if row[0].startswith("prepared-")]
    assert prepared == core
    assert len(stored) == 2 * len(DETAILS)

    with database.write() as conn:
        for i, details in enumerate(reversed(DETAILS)):
            conn.execute(_UPDATE, {"row_id": f"core-{i}", "details": details})
        Prepared(_UPDATE).execute(
            conn, [{"row_id": f"prepared-{i}", "details": d} for i, d in enumerate(reversed(DETAILS))]
        )
    stored = _stored(database)
    assert [row[2] for row in stored if row[0].startswith("prepared-")] == [
        row[2] for row in stored if row[0].startswith("core-")
    ]


def test_a_fixed_value_in_the_statement_is_sent(with_probes: Database) -> None:
    database = with_probes
    with database.write() as conn:
        conn.execute(insert(probes), _rows("p", 0))
        Prepared(update(probes).where(probes.c.position == 2).values(note="fixed")).execute(conn)
        found = Prepared(select(probes.c.id, probes.c.note).where(probes.c.note == "fixed")).execute(conn)
        assert found.all() == [("p2", "fixed")]


def test_it_runs_in_the_callers_transaction_and_keeps_integrity_errors(with_probes: Database) -> None:
    database = with_probes
    with database.write() as conn:
        conn.execute(insert(probes), _rows("p", 0))
    with pytest.raises(IntegrityError), database.write() as conn:
        Prepared(insert(probes)).execute(conn, {**_rows("new", 50)[0], "id": "new"})
        Prepared(insert(probes)).execute(conn, {**_rows("p", 51)[1], "id": "p1"})
    assert [row[0] for row in _stored(database)] == [f"p{i}" for i in range(len(DETAILS))]


def test_statements_it_cannot_send_as_they_are_are_refused(database: Database) -> None:
    with database.read() as conn:
        with pytest.raises(TypeError, match="result processing"):
            Prepared(select(probes.c.id, probes.c.label)).execute(conn)
        with pytest.raises(TypeError, match="expanding"):
            Prepared(select(probes.c.id).where(probes.c.id.in_(bindparam("ids", expanding=True)))).execute(
                conn, {"ids": ["a"]}
            )
        with pytest.raises(ValueError, match="at least one"):
            Prepared(insert(probes)).execute(conn, [])
