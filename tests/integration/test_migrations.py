"""The Alembic migrations: idempotent, in step with the SQLAlchemy tables the code queries, and the
ledger starting from its genesis."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, func, inspect, select, text

from events.database import Database
from events.schema import GENESIS_HASH, events, idempotency_keys, ledger_head, metadata
from events.store import EventStore, LedgerHead
from events.types import CandidacyRejected
from service import tables  # noqa: F401  (registers the service's tables on the metadata)
from service.migrate import alembic_config, upgrade
from tests.integration.support import METADATA, T0


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_differences(database: Database, target: MetaData) -> list[Any]:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, target)


def trigger_names(database: Database) -> set[str]:
    with database.engine.connect() as conn:
        if database.is_sqlite:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'events'::regclass"
        return set(conn.execute(text(query)).scalars())


APPEND_ONLY_TRIGGERS = {
    "sqlite": {"events_no_update", "events_no_delete"},
    "postgresql": {"events_no_update_or_delete", "events_no_truncate"},
}


def test_schema_is_at_the_newest_revision(database: Database) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    assert current_revision(database) == head


def test_ledger_head_starts_at_genesis(database: Database) -> None:
    with database.read() as conn:
        rows = conn.execute(select(ledger_head)).all()
        assert [tuple(row) for row in rows] == [(1, 0, GENESIS_HASH, "")]
        assert EventStore().head(conn) == LedgerHead(0, GENESIS_HASH, "")
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
    assert GENESIS_HASH == "0" * 64


def test_upgrade_again_is_harmless(database: Database) -> None:
    store = EventStore()
    with database.write() as conn:
        store.append(
            conn,
            stream_type="candidacy",
            stream_id="case-a",
            expected_version=0,
            new_events=[CandidacyRejected(reason="x")],
            metadata=METADATA,
            now=T0,
        )
        conn.execute(
            idempotency_keys.insert().values(
                username="officer",
                key="k",
                fingerprint="f" * 64,
                status=201,
                body="{}",
                headers={},
                created_at="2024-06-01T03:00:00.000000Z",
            )
        )
    with database.read() as conn:
        head_before = store.head(conn)

    upgrade(database)
    upgrade(database)

    assert current_revision(database) is not None
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_head)).scalar_one() == 1
        assert store.head(conn) == head_before
        assert store.count(conn) == 1
        assert store.verify(conn).ok
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one() == 1
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [current_revision(database)]
    assert trigger_names(database) == APPEND_ONLY_TRIGGERS[database.engine.dialect.name]


def test_migrated_schema_matches_the_table_definitions(database: Database) -> None:
    assert schema_differences(database, metadata) == []


def test_schema_comparison_does_see_a_difference(database: Database) -> None:
    """A control for the test above: an empty comparison is only worth something if it can fail."""
    altered = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(altered)
    altered.tables["events"].append_column(Column("extra", Integer))
    differences = schema_differences(database, altered)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "extra")]


def test_one_held_candidacy_per_village_is_a_partial_index(database: Database) -> None:
    """compare_metadata does not look at an index's WHERE clause; check it here."""
    indexes = {ix["name"]: ix for ix in inspect(database.engine).get_indexes("candidacies")}
    held = indexes["uq_candidacies_village_held"]
    assert held["column_names"] == ["village_code"]
    assert held["unique"]
    where = held["dialect_options"][f"{database.engine.dialect.name}_where"]
    assert "rejected" in str(where)
    assert "withdrawn" in str(where)


def test_append_only_triggers_are_installed(database: Database) -> None:
    assert trigger_names(database) == APPEND_ONLY_TRIGGERS[database.engine.dialect.name]


def test_downgrade_to_base_and_up_again(database: Database) -> None:
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}

    upgrade(database)
    assert schema_differences(database, metadata) == []
    assert trigger_names(database) == APPEND_ONLY_TRIGGERS[database.engine.dialect.name]
    with database.read() as conn:
        assert EventStore().head(conn) == LedgerHead(0, GENESIS_HASH, "")
