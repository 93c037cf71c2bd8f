"""The transactions `Database` hands out: a one-statement lookup, and the reads around it."""

from __future__ import annotations

from sqlalchemy import text

from events.database import Database


def test_a_lookup_sees_what_is_committed_and_leaves_reads_as_they_were(database: Database) -> None:
    with database.write() as conn:
        conn.execute(text("CREATE TABLE lookup_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO lookup_probe (id, name) VALUES (1, 'before')"))
    for _ in range(3):  # the same pooled connections, used by lookups and by reads in turn
        with database.lookup() as conn:
            assert conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one() == "before"
            if not database.is_sqlite:
                # No transaction of its own: the statement's own snapshot, no BEGIN or ROLLBACK sent.
                assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
        with database.read() as conn:
            if not database.is_sqlite:
                level = conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one()
                assert level == "repeatable read"
            first = conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one()
            with database.write() as writer:
                writer.execute(text("UPDATE lookup_probe SET name = 'after' WHERE id = 1"))
            # A read is one snapshot: the commit made after it began is not seen in it.
            assert conn.execute(text("SELECT name FROM lookup_probe WHERE id = 1")).scalar_one() == first
        with database.write() as writer:
            writer.execute(text("UPDATE lookup_probe SET name = 'before' WHERE id = 1"))
    with database.lookup() as conn:
        assert conn.execute(text("SELECT count(*) FROM lookup_probe")).scalar_one() == 1
