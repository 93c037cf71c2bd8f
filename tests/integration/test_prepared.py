"""`Prepared` statements store what SQLAlchemy's own execution stores, in the caller's transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, InvalidRequestError, MultipleResultsFound, NoResultFound

from events.database import Database
from events.prepared import Prepared, commit_in_pipeline, pipelined, wait_for_pipeline
from tests.conftest import ProtocolTrace, waits_for_the_server


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


def test_rows_come_back_as_tuples_with_their_columns_named(with_probes: Database) -> None:
    database = with_probes
    by_note = Prepared(select(probes.c.id, probes.c.position).where(probes.c.note == bindparam("wanted")))
    with database.write() as conn:
        conn.execute(insert(probes), [{**row, "note": "n"} for row in _rows("p", 0)[:2]])
        rows = by_note.execute(conn, {"wanted": "n"}).all()
        assert sorted(rows) == [("p0", 0), ("p1", 1)]
        assert [row.position for row in sorted(rows)] == [0, 1]
        assert sorted(rows)[0]._asdict() == {"id": "p0", "position": 0}
        with pytest.raises(MultipleResultsFound):
            by_note.execute(conn, {"wanted": "n"}).one_or_none()
        with pytest.raises(NoResultFound):
            by_note.execute(conn, {"wanted": "none"}).one()
        assert by_note.execute(conn, {"wanted": "none"}).one_or_none() is None
        updated = Prepared(update(probes).where(probes.c.note == bindparam("wanted")).values(note="m"))
        assert updated.execute(conn, {"wanted": "n"}).rowcount == 2


def test_outside_a_transaction_it_begins_one_as_sqlalchemy_would(with_probes: Database) -> None:
    database = with_probes
    with database.engine.connect() as conn:
        Prepared(insert(probes)).execute(conn, _rows("p", 0)[0])
        assert conn.in_transaction()
        conn.rollback()
    assert _stored(database) == []


def test_what_listens_to_the_engines_statements_sees_them(with_probes: Database) -> None:
    """A tracer or a statement counter on the engine is not bypassed; the rows are the same."""
    database = with_probes
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    by_position = Prepared(select(probes.c.id, probes.c.position).where(probes.c.position < 2))
    with database.write() as conn:
        conn.execute(insert(probes), _rows("p", 0))
        unseen = by_position.execute(conn).all()
    assert seen == []
    event.listen(database.engine, "before_cursor_execute", on_execute)
    try:
        with database.write() as conn:
            rows = by_position.execute(conn).all()
            inserted = Prepared(insert(probes)).execute(conn, _rows("q", 10)[0])
            updated = Prepared(_UPDATE).execute(conn, [{"row_id": "q0", "details": None}])
    finally:
        event.remove(database.engine, "before_cursor_execute", on_execute)
    # after the transaction's own BEGIN (SQLite) and write lock
    assert [statement.split()[0] for statement in seen][-3:] == ["SELECT", "INSERT", "UPDATE"]
    assert any("FROM prepared_probes" in statement for statement in seen)
    assert (inserted.all(), inserted.rowcount, updated.all()) == ([], 1, [])
    assert sorted(rows) == sorted(unseen) == [("p0", 0), ("p1", 1)]
    assert [row.id for row in sorted(rows)] == ["p0", "p1"]


def _in_pipeline_mode(conn: Any, database: Database) -> bool:
    if database.is_sqlite:
        return False
    return bool(conn.connection.dbapi_connection.pgconn.pipeline_status)


def test_in_a_pipeline_writes_are_sent_unwaited_and_every_read_sees_them(with_probes: Database) -> None:
    database = with_probes
    insert_one = Prepared(insert(probes))
    positions = Prepared(select(probes.c.position).order_by(probes.c.position))
    with database.write() as conn, pipelined(conn):
        rows = _rows("p", 0)
        sent = insert_one.execute(conn, rows[0])
        # On PostgreSQL the insert went out in pipeline mode, its reply not read yet.
        assert _in_pipeline_mode(conn, database) is not database.is_sqlite
        assert sent.all() == []
        insert_one.execute(conn, rows[1])
        assert [row.position for row in positions.execute(conn)] == [0, 1]
        insert_one.execute(conn, rows[2])
        # SQLAlchemy's own statement: the pipeline waits first and leaves pipeline mode.
        core = conn.execute(select(probes.c.position).order_by(probes.c.position)).scalars().all()
        assert core == [0, 1, 2]
        assert not _in_pipeline_mode(conn, database)
        insert_one.execute(conn, rows[3])  # and the next prepared statement enters it again
        assert _in_pipeline_mode(conn, database) is not database.is_sqlite
    assert [row[1] for row in _stored(database)] == [0, 1, 2, 3]
    with database.read() as conn:
        assert not _in_pipeline_mode(conn, database)


def _with_p0_stored(database: Database) -> Prepared:
    """Row p0 committed; returns the prepared insert."""
    insert_one = Prepared(insert(probes))
    with database.write() as conn:
        insert_one.execute(conn, _rows("p", 0)[0])
    return insert_one


def _insert_a_new_row_and_p0_again(conn: Any, insert_one: Prepared) -> None:
    insert_one.execute(conn, _rows("new", 10)[0])
    insert_one.execute(conn, {**_rows("p", 11)[1], "id": "p0"})  # the primary key again


def test_a_failed_statement_in_a_pipeline_is_raised_by_its_wait_and_nothing_is_kept(
    with_probes: Database,
) -> None:
    database = with_probes
    insert_one = _with_p0_stored(database)
    waited = False
    with pytest.raises(IntegrityError), database.write() as conn, pipelined(conn):
        _insert_a_new_row_and_p0_again(conn, insert_one)
        insert_one.execute(conn, _rows("after", 20)[0])  # skipped on PostgreSQL, rolled back anyway
        wait_for_pipeline(conn)
        waited = True
    assert not waited
    assert [row[0] for row in _stored(database)] == ["p0"]
    with database.write() as conn:  # the pooled connection is as good as before
        insert_one.execute(conn, _rows("q", 30)[0])
    assert [row[0] for row in _stored(database)] == ["p0", "q0"]


def test_a_pipeline_that_ends_without_waiting_raises_what_failed(with_probes: Database) -> None:
    database = with_probes
    insert_one = Prepared(insert(probes))
    with pytest.raises(IntegrityError), database.write() as conn:
        with pipelined(conn):
            insert_one.execute(conn, _rows("p", 0)[0])
            insert_one.execute(conn, {**_rows("p", 1)[1], "id": "p0"})
        pytest.fail("the block ended without the error")
    assert _stored(database) == []


def _visible_elsewhere(database: Database) -> list[str]:
    """The ids another connection sees committed."""
    return [row[0] for row in _stored(database)]


def test_a_commit_in_the_pipeline_commits_with_the_writes_replies(with_probes: Database) -> None:
    database = with_probes
    insert_one = Prepared(insert(probes))
    rows = _rows("p", 0)
    with database.write() as conn, pipelined(conn):
        insert_one.execute(conn, rows[0])
        insert_one.execute(conn, rows[1])
        commit_in_pipeline(conn)
        if database.is_sqlite:  # no pipeline: it commits when its block ends
            assert _visible_elsewhere(database) == []
        else:  # committed already, out of pipeline mode, with nothing left for the block to send
            assert not _in_pipeline_mode(conn, database)
            assert conn.connection.dbapi_connection.pgconn.transaction_status == TransactionStatus.IDLE
            assert _visible_elsewhere(database) == ["p0", "p1"]
    assert _visible_elsewhere(database) == ["p0", "p1"]


def test_a_commit_in_the_pipeline_after_a_failed_write_raises_it_and_keeps_nothing(
    with_probes: Database,
) -> None:
    database = with_probes
    insert_one = _with_p0_stored(database)
    with pytest.raises(IntegrityError), database.write() as conn, pipelined(conn):
        _insert_a_new_row_and_p0_again(conn, insert_one)
        commit_in_pipeline(conn)
        pytest.fail("the commit did not raise the failed write")
    assert _visible_elsewhere(database) == ["p0"]
    with database.write() as conn, pipelined(conn):  # the pooled connection is as good as before
        insert_one.execute(conn, _rows("q", 30)[0])
        commit_in_pipeline(conn)
    assert _visible_elsewhere(database) == ["p0", "q0"]


@pytest.mark.parametrize("sent_after", ["prepared", "sqlalchemy"])
def test_nothing_may_be_sent_after_a_commit_in_the_pipeline(with_probes: Database, sent_after: str) -> None:
    database = with_probes
    if database.is_sqlite:
        pytest.skip("without a pipeline the transaction stays open until its block ends")
    insert_one = Prepared(insert(probes))
    rows = _rows("p", 0)
    with pytest.raises(InvalidRequestError), database.write() as conn, pipelined(conn):
        insert_one.execute(conn, rows[0])
        commit_in_pipeline(conn)
        if sent_after == "prepared":
            insert_one.execute(conn, rows[1])
        else:
            conn.execute(insert(probes), rows[1])
    assert _visible_elsewhere(database) == ["p0"]  # the committed one only, not one committed unseen


def test_on_postgresql_a_write_sends_its_begin_with_its_first_pipelined_statement(
    with_probes: Database, tmp_path: Path
) -> None:
    """BEGIN is not waited for on its own: it goes out with the first statement, ahead of it, and
    only then does the connection flush and wait, for both replies at once."""
    database = with_probes
    if database.is_sqlite:
        pytest.skip("SQLite's BEGIN is a call into the library, not a round trip")
    trace = ProtocolTrace(tmp_path / "trace")
    with database.write(lock_first=False) as conn, pipelined(conn):
        trace.follow(conn.connection.dbapi_connection.pgconn)
        assert Prepared(select(probes.c.id)).execute(conn).all() == []
        sent = trace.sent()
    statements = [message for message in sent if message.startswith("Parse")]
    assert [s.split('"')[3] for s in statements] == [
        "BEGIN",
        "SELECT prepared_probes.id \nFROM prepared_probes",
    ]
    assert waits_for_the_server(sent) == 1
    assert sent[-1] == "Flush"  # after both


@pytest.mark.parametrize("first", ["pipelined", "prepared alone", "sqlalchemy"])
def test_a_writes_first_statement_is_inside_its_transaction_however_it_is_sent(
    with_probes: Database, first: str
) -> None:
    """Whatever the transaction sends first, the BEGIN went before it: a later failure takes it back."""
    database = with_probes
    if database.is_sqlite:
        pytest.skip("on SQLite a late-locking write's statements before its lock run outside it (reads only)")
    rows = _rows("p", 0)
    with pytest.raises(IntegrityError), database.write(lock_first=False) as conn:
        if first == "sqlalchemy":
            conn.execute(insert(probes), rows[0])
        elif first == "prepared alone":
            Prepared(insert(probes)).execute(conn, rows[0])
        else:
            with pipelined(conn):
                Prepared(insert(probes)).execute(conn, rows[0])
        conn.execute(insert(probes), {**rows[1], "id": "p0"})  # the primary key again
    assert _stored(database) == []


def test_a_write_that_sends_nothing_commits_and_leaves_the_connection_as_it_was(
    with_probes: Database,
) -> None:
    database = with_probes
    with database.write(lock_first=False):
        pass
    with database.engine.connect() as conn:  # the same pooled connection, back in the driver's mode
        if not database.is_sqlite:
            assert conn.connection.dbapi_connection.autocommit is False
        with pytest.raises(IntegrityError), conn.begin():
            conn.execute(insert(probes), _rows("p", 0)[0])
            conn.execute(insert(probes), {**_rows("p", 0)[1], "id": "p0"})
    assert _stored(database) == []


def test_reads_sent_one_after_another_are_answered_together_when_the_first_is_read(
    with_probes: Database, tmp_path: Path
) -> None:
    """Each gives the rows as they stood when it was sent (the statement ran then, in order), even
    when its pipeline was made to wait meanwhile by a statement SQLAlchemy sends."""
    database = with_probes
    insert_one, rows = Prepared(insert(probes)), _rows("p", 0)
    by_position = Prepared(select(probes.c.id).where(probes.c.position <= bindparam("last")))
    trace = ProtocolTrace(tmp_path / "trace")
    with database.write() as conn, pipelined(conn):
        if not database.is_sqlite:  # from here on: the write lock is taken
            trace.follow(conn.connection.dbapi_connection.pgconn)
        none_yet = by_position.send(conn, {"last": 10})
        insert_one.execute(conn, rows[0])
        one = by_position.send(conn, {"last": 10})
        insert_one.execute(conn, rows[1])
        assert one().all() == [("p0",)]
        assert none_yet().all() == []
        both = by_position.send(conn, {"last": 10})
        conn.execute(insert(probes), rows[2])  # SQLAlchemy's: the pipeline waits first
        assert [row.id for row in both()] == ["p0", "p1"]
        sent = trace.sent()
    assert [row[0] for row in _stored(database)] == ["p0", "p1", "p2"]
    if not database.is_sqlite:
        # the first four statements together, the third read, and SQLAlchemy's insert
        assert waits_for_the_server(sent) == 3
