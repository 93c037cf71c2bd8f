"""The Alembic migrations: idempotent, in step with the SQLAlchemy tables the code queries, and the
ledger starting from its genesis."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from domain.accounts import AccountDraft
from domain.actors import Role
from domain.events import (
    CandidacyAssessed,
    CandidacyCoordinated,
    CandidacyDesignated,
    CandidacyProposed,
    CandidacyRejected,
    CandidacySocialized,
    CandidacyWithdrawn,
    Event,
    OfficeOpened,
    RegionAdded,
    RegionRenamed,
)
from domain.places import Office
from events import projections, rebuild, verification
from events.database import Database
from events.projections import LIVE
from events.schema import (
    GENESIS_HASH,
    candidacies,
    designation_days,
    designations,
    events,
    ledger_head,
    metadata,
    office_history,
    offices,
    pipeline_counts,
    region_history,
    regions,
    role_grants,
    stage_changes,
    users,
)
from events.store import (
    EventMetadata,
    EventStore,
    LedgerHead,
    RecordedEvent,
    canonical_json,
    format_timestamp,
)
from events.unit_of_work import UnitOfWork
from service import (
    accounts,
    organisation,
    tables,  # noqa: F401  (registers the service's tables on the metadata)
)
from service.auth import hash_token, holder_of_digest, new_token
from service.migrate import _reshapes_read_models, alembic_config, upgrade
from service.tables import api_tokens, idempotency_keys
from tests.integration.support import METADATA, T0, ProposedV1, read_model_snapshot


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
            store.lock_head(conn),
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


# ---- the upgrade path: a database with events, from 0001 to the newest revision -----------------

REPORT_TABLES = ["pipeline_counts", "stage_changes", "designations", "targets", "target_history"]


def person(username: str, role: str, office: str | None = "BOGOR") -> EventMetadata:
    return EventMetadata(username, username.replace("_", " ").title(), role, office, f"req-{username}")


OFFICER, SECTION_HEAD, HEAD = (
    person("officer", "officer"),
    person("section_head", "section_head"),
    person("head", "head_of_office"),
)
SUKABUMI_OFFICER = person("sukabumi_officer", "officer", "SUKABUMI")


def proposed(case: str, code: str, name: str, office: str = "BOGOR") -> CandidacyProposed:
    return CandidacyProposed(
        candidacy_id=case,
        village={
            "code": code,
            "name": name,
            "district": "Cisarua",
            "regency": "Kabupaten Bogor",
            "province": None,
        },
        office_code=office,
        region_code="JABAR",
        rationale="Kantong PMI.",
        indicators={"migrant_workers": 412, "trafficking_cases": 3},
    )


# (UTC instant, stream, actor, event), in the order they were recorded under revision 0001.
HISTORY_AT_0001: list[tuple[str, str, EventMetadata, Event]] = [
    # 18:00 UTC on 14 January is 01:00 on 15 January in WIB.
    ("2024-01-14T18:00:00", "case-a", OFFICER, proposed("case-a", "32.01.25.2006", "Tugu Selatan")),
    ("2024-01-15T02:00:00", "case-b", OFFICER, proposed("case-b", "32.01.25.2005", "Citeko")),
    (
        "2024-01-15T02:00:00",
        "case-c",
        SUKABUMI_OFFICER,
        proposed("case-c", "32.02.01.2002", "Tonjong", "SUKABUMI"),
    ),
    (
        "2024-01-15T03:00:00",
        "case-b",
        SECTION_HEAD,
        CandidacyCoordinated(
            held_on=dt.date(2024, 1, 15), venue="Aula", agencies=("Polres",), minutes_ref="UND-1"
        ),
    ),
    (
        "2024-02-19T09:00:00",
        "case-a",
        SECTION_HEAD,
        CandidacyCoordinated(
            held_on=dt.date(2024, 2, 19), venue="Aula", agencies=("Polres", "Kodim"), minutes_ref="UND-2"
        ),
    ),
    (
        "2024-02-21T09:00:00",
        "case-a",
        SECTION_HEAD,
        CandidacySocialized(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85),
    ),
    ("2024-02-21T09:00:00", "case-b", SECTION_HEAD, CandidacyWithdrawn(reason="Data tidak terkonfirmasi.")),
    (
        "2024-03-20T09:00:00",
        "case-a",
        SECTION_HEAD,
        CandidacyAssessed(
            assessed_on=dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"banyak_pmi": True}
        ),
    ),
    (
        "2024-04-16T09:00:00",
        "case-a",
        HEAD,
        CandidacyDesignated(
            decree_number="W11-0416", decree_date=dt.date(2024, 4, 16), fostering_officers=("Rina Marlina",)
        ),
    ),
]


def stamp(iso: str) -> str:
    return format_timestamp(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC))


def append_history(
    database: Database, history: list[tuple[str, str, EventMetadata, Event]] = HISTORY_AT_0001
) -> None:
    """Straight into the log, as the application of a revision before 0012 would have (no `actor_id`
    column yet: an event hashes without it); its read model is left empty."""
    store = EventStore()
    for iso, stream_id, actor, event in history:
        assert actor.actor_id is None
        with database.write() as conn:
            head = store.lock_head(conn)
            recorded = RecordedEvent.first_recorded(
                event,
                head.position + 1,
                "candidacy",
                stream_id,
                store.stream_version(conn, stream_id) + 1,
                actor,
                max(stamp(iso), head.recorded_at),
                head.hash,
            )
            row = dataclasses.asdict(recorded)
            del row["actor_id"]
            row["data"] = canonical_json(row["data"])
            conn.execute(insert(events).values(row))
            conn.execute(
                update(ledger_head)
                .where(ledger_head.c.id == 1)
                .values(position=recorded.position, hash=recorded.hash, recorded_at=recorded.recorded_at)
            )


@pytest.fixture
def database_at_0001(empty_database_url: str) -> Iterator[Database]:
    db = Database(empty_database_url)
    assert upgrade(db, "0001")
    yield db
    db.dispose()


def by(actor: EventMetadata, iso: str, position: int) -> dict[str, str | int]:
    """Who took a case through a stage, as the register names them: an event recorded before 0012
    has no actor id."""
    return {
        "username": actor.actor_username,
        "name": actor.actor_name,
        "role": actor.actor_role,
        "at": stamp(iso),
        "position": position,
    }


def test_revision_0001_has_none_of_the_report_tables(database_at_0001: Database) -> None:
    assert current_revision(database_at_0001) == "0001"
    existing = set(inspect(database_at_0001.engine).get_table_names())
    assert {"events", "ledger_head", "candidacies"} <= existing
    assert not existing & set(REPORT_TABLES)


def test_upgrade_fills_the_new_read_models_from_an_existing_log(database_at_0001: Database) -> None:
    db = database_at_0001
    append_history(db)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(candidacies)).scalar_one() == 0
        head_before = EventStore().head(conn)

    assert upgrade(db)
    assert current_revision(db) == ScriptDirectory.from_config(alembic_config()).get_current_head()

    with db.read() as conn:
        assert EventStore().head(conn) == head_before
        assert EventStore().verify(conn).ok
        stages = dict(conn.execute(select(candidacies.c.id, candidacies.c.stage)).all())
        counts = {(o, s): n for o, s, n in conn.execute(select(pipeline_counts)).all()}
        changes = {(o, d, s): n for o, d, s, n in conn.execute(select(stage_changes)).all()}
        register = [dict(row) for row in conn.execute(select(designations)).mappings()]
        positions = {(e.stream_id, e.type): e.position for e in EventStore().read_all(conn)}
    assert stages == {"case-a": "designated", "case-b": "withdrawn", "case-c": "proposed"}
    assert {key: n for key, n in counts.items() if n} == {
        ("BOGOR", "designated"): 1,
        ("BOGOR", "withdrawn"): 1,
        ("SUKABUMI", "proposed"): 1,
    }
    assert changes == {
        ("BOGOR", "2024-01-15", "proposed"): 1,  # case-a's +1 (WIB), case-b's +1 and -1
        ("BOGOR", "2024-01-15", "coordinated"): 1,
        ("SUKABUMI", "2024-01-15", "proposed"): 1,
        ("BOGOR", "2024-02-19", "proposed"): -1,
        ("BOGOR", "2024-02-19", "coordinated"): 1,
        ("BOGOR", "2024-02-21", "coordinated"): -2,
        ("BOGOR", "2024-02-21", "socialized"): 1,
        ("BOGOR", "2024-02-21", "withdrawn"): 1,
        ("BOGOR", "2024-03-20", "socialized"): -1,
        ("BOGOR", "2024-03-20", "assessed"): 1,
        ("BOGOR", "2024-04-16", "assessed"): -1,
        ("BOGOR", "2024-04-16", "designated"): 1,
    }
    assert register == [
        {
            "candidacy_id": "case-a",
            "position": positions[("case-a", "CandidacyDesignated")],
            "village_code": "32.01.25.2006",
            "village_name": "Tugu Selatan",
            "district_name": "Cisarua",
            "regency_name": "Kabupaten Bogor",
            "province_name": None,
            "office_code": "BOGOR",
            "region_code": "JABAR",
            "decree_number": "W11-0416",
            "decree_date": "2024-04-16",
            "decree_year": 2024,
            "quarter": "Q2",
            "fostering_officers": ["Rina Marlina"],
            "proposed_by": by(OFFICER, "2024-01-14T18:00:00", positions[("case-a", "CandidacyProposed")]),
            "coordinated_by": by(
                SECTION_HEAD, "2024-02-19T09:00:00", positions[("case-a", "CandidacyCoordinated")]
            ),
            "socialized_by": by(
                SECTION_HEAD, "2024-02-21T09:00:00", positions[("case-a", "CandidacySocialized")]
            ),
            "assessed_by": by(
                SECTION_HEAD, "2024-03-20T09:00:00", positions[("case-a", "CandidacyAssessed")]
            ),
            "approved_by": by(HEAD, "2024-04-16T09:00:00", positions[("case-a", "CandidacyDesignated")]),
            "recorded_day": "2024-04-16",
            "days_to_designation": 92,
        }
    ]


def test_upgrade_fills_the_read_models_as_the_live_path_would(database_at_0001: Database) -> None:
    """Event by event into empty tables, as each command would have projected it at the newest revision."""
    db = database_at_0001
    append_history(db)
    upgrade(db)
    with db.read() as conn:
        upgraded = read_model_snapshot(conn)
    assert all(upgraded[name] for name in ["candidacies", "pipeline_counts", "stage_changes", "designations"])

    with db.write() as conn:
        for table in LIVE.tables():
            conn.execute(delete(table))
        for recorded in EventStore().read_all(conn):
            projections.project(conn, [recorded])
    with db.read() as conn:
        assert read_model_snapshot(conn) == upgraded

    with db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    with db.read() as conn:
        assert read_model_snapshot(conn) == upgraded


def test_the_upgraded_schema_matches_the_table_definitions(database_at_0001: Database) -> None:
    append_history(database_at_0001)
    upgrade(database_at_0001)
    assert schema_differences(database_at_0001, metadata) == []
    indexes = {ix["name"] for ix in inspect(database_at_0001.engine).get_indexes("events")}
    assert "ix_events_recorded_at" in indexes
    assert trigger_names(database_at_0001) == APPEND_ONLY_TRIGGERS[database_at_0001.engine.dialect.name]


def test_an_upgrade_with_nothing_to_do_rebuilds_nothing(database_at_0001: Database) -> None:
    db = database_at_0001
    append_history(db)
    assert upgrade(db)
    with db.write() as conn:
        conn.execute(delete(designations))  # a rebuild would bring it back
    with db.read() as conn:
        before = read_model_snapshot(conn)
    assert not upgrade(db)
    with db.read() as conn:
        assert read_model_snapshot(conn) == before
        assert conn.execute(select(func.count()).select_from(designations)).scalar_one() == 0


def test_upgrade_of_an_empty_0001_database(database_at_0001: Database) -> None:
    assert upgrade(database_at_0001)
    with database_at_0001.read() as conn:
        snapshot = read_model_snapshot(conn)
        assert EventStore().head(conn) == LedgerHead(0, GENESIS_HASH, "")
    assert snapshot == {table.name: [] for table in LIVE.tables()}
    assert schema_differences(database_at_0001, metadata) == []


def test_down_to_0001_and_up_again_refills_the_report_tables(database_at_0001: Database) -> None:
    db = database_at_0001
    append_history(db)
    upgrade(db)
    with db.read() as conn:
        upgraded = read_model_snapshot(conn)

    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert current_revision(db) == "0001"
    assert not set(inspect(db.engine).get_table_names()) & set(REPORT_TABLES)

    assert upgrade(db)
    with db.read() as conn:
        assert read_model_snapshot(conn) == upgraded
    assert schema_differences(db, metadata) == []


# ---- 0003: indexes only --------------------------------------------------------------------------


def test_an_index_only_migration_leaves_the_read_models_alone(database_at_0001: Database) -> None:
    """0003 adds indexes: replaying a national log for it would hold the write lock for minutes."""
    db = database_at_0001
    append_history(db)
    assert upgrade(db, "0002")
    with db.write() as conn:
        conn.execute(delete(designations))  # a rebuild would bring it back

    assert upgrade(db, "0003")

    assert current_revision(db) == "0003"
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(designations)).scalar_one() == 0
    indexes = {index["name"] for index in inspect(db.engine).get_indexes("stage_changes")}
    indexes |= {index["name"] for index in inspect(db.engine).get_indexes("designations")}
    assert {"ix_stage_changes_stage_day", "ix_designations_year_figures"} <= indexes


def test_only_migrations_that_reshape_read_models_ask_for_a_rebuild() -> None:
    config = alembic_config()
    assert _reshapes_read_models(config, "0001", "0002")
    assert _reshapes_read_models(config, "0001", "0003")
    assert not _reshapes_read_models(config, "0002", "0003")
    assert not _reshapes_read_models(config, "0003", "0002")  # undoing an index neither
    assert _reshapes_read_models(config, "0003", "0001")
    assert _reshapes_read_models(config, "0003", "0004")  # stage levels are a new read model
    assert _reshapes_read_models(config, "0004", "0005")  # designation days are one
    assert _reshapes_read_models(config, "0005", "0006")  # closings are one
    assert not _reshapes_read_models(config, "0006", "0008")  # a procedure, then its removal
    assert _reshapes_read_models(config, "0009", "0010")  # every case gets its start
    assert not _reshapes_read_models(config, "0010", "0011")  # a column of a plain table
    assert _reshapes_read_models(config, "0011", "0012")  # accounts become read models of events
    assert _reshapes_read_models(config, "0012", "0013")  # and so does the organisation
    assert _reshapes_read_models(config, "0013", "0014")  # the regions' names get a history


def test_no_procedure_is_left_behind(database: Database) -> None:
    """0007's token procedure served a way of writing that is gone; 0008 drops it."""
    if database.is_sqlite:
        pytest.skip("SQLite has no stored procedures")
    with database.read() as conn:
        found = conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'confirm_live_token'"))
        assert found.scalar_one() == 0


# ---- 0010: when a case starts --------------------------------------------------------------------

# A case entered after the fact under 0009, in one sitting on 1 June 2024 (its meetings and decree
# months before), its proposal of version 1 as releases of that time wrote it.
LATE_VILLAGE = {"code": "32.01.25.2006", "name": "Tugu Selatan", "district": None, "regency": None}
ENTERED_LATE: list[tuple[str, str, EventMetadata, Event]] = [
    (
        "2024-06-01T03:00:00",
        "case-late",
        OFFICER,
        ProposedV1("case-late", LATE_VILLAGE, "BOGOR", "JABAR", "Dicatat belakangan.", {}),
    ),
    (
        "2024-06-01T03:01:00",
        "case-late",
        SECTION_HEAD,
        CandidacyCoordinated(
            held_on=dt.date(2024, 2, 19), venue="Aula", agencies=("Polres",), minutes_ref="U"
        ),
    ),
    (
        "2024-06-01T03:02:00",
        "case-late",
        SECTION_HEAD,
        CandidacySocialized(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=40),
    ),
    (
        "2024-06-01T03:03:00",
        "case-late",
        SECTION_HEAD,
        CandidacyAssessed(dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"banyak_pmi": True}),
    ),
    (
        "2024-06-01T03:04:00",
        "case-late",
        HEAD,
        CandidacyDesignated("W11-0416-L", decree_date=dt.date(2024, 4, 16), fostering_officers=("Rina",)),
    ),
]


def test_0010_counts_the_days_to_designation_from_each_cases_start(empty_database_url: str) -> None:
    """Under 0009 a case's days to designation were counted from the day its proposal was recorded:
    -46 for this one. The upgrade rebuilds the read models: the case starts on its coordination (19
    February) and was designated 57 days later."""
    db = Database(empty_database_url)
    try:
        assert upgrade(db, "0009")
        append_history(db, ENTERED_LATE)
        with db.write() as conn:  # what 0009's projection had written for the designation
            stale = {
                "office_code": "BOGOR",
                "decree_year": 2024,
                "quarter": "Q2",
                "designated": 1,
                "days": "-46",
            }
            conn.execute(insert(designation_days).values(stale))

        assert upgrade(db)

        with db.read() as conn:
            cases = conn.execute(
                select(candidacies.c.id, candidacies.c.proposed_on, candidacies.c.started_on)
            )
            assert cases.all() == [("case-late", None, "2024-02-19")]
            register = conn.execute(select(designations.c.days_to_designation)).scalars().all()
            days = conn.execute(select(designation_days.c.days)).scalars().all()
        assert (register, days) == ([57], ["57"])
        assert schema_differences(db, metadata) == []
    finally:
        db.dispose()


# ---- 0012: accounts become events ----------------------------------------------------------------

ACTIVE_ID = "5f0c6a1e-0000-4000-8000-000000000001"
SHUT_ID = "5f0c6a1e-0000-4000-8000-000000000002"
# Two accounts as revision 0011 kept them: an officer who is active, and a section head deactivated.
USERS_AT_0011 = [
    {
        "id": ACTIVE_ID,
        "username": "officer",
        "name": "Officer",
        "role": "officer",
        "office_code": "BOGOR",
        "region_code": None,
        "active": True,
        "created_at": "2023-11-01T01:00:00.000000Z",
    },
    {
        "id": SHUT_ID,
        "username": "section_head",
        "name": "Section Head",
        "role": "section_head",
        "office_code": "BOGOR",
        "region_code": None,
        "active": False,
        "created_at": "2023-10-01T01:00:00.000000Z",
    },
]


def test_0012_turns_the_accounts_of_an_0011_database_into_imported_events(empty_database_url: str) -> None:
    """The accounts keep their ids, creation times and activity; the officer's live token still
    authenticates, and no ended token does; the log gains the accounts' opening events (imported)
    after what it held, then (0013) its office's and region's, and both the chain and the read
    models verify."""
    db = Database(empty_database_url)
    live, revoked, shut_revoked, shut_left = (new_token() for _ in range(4))
    expires = "2099-01-01T00:00:00.000000Z"
    tokens_at_0011 = [
        # The officer's live token, and one revoked before the upgrade.
        (live, "officer", "2024-01-02T00:00:00.000000Z", None),
        (revoked, "officer", "2023-11-01T01:00:00.000000Z", "2024-01-02T00:00:00.000000Z"),
        # The section head's token revoked with the account, and one a deactivation left unrevoked.
        (shut_revoked, "section_head", "2023-10-01T01:00:00.000000Z", "2024-03-01T00:00:00.000000Z"),
        (shut_left, "section_head", "2023-10-02T01:00:00.000000Z", None),
    ]
    try:
        assert upgrade(db, "0011")
        append_history(db, HISTORY_AT_0001[:1])  # the officer's proposal, recorded before the upgrade
        with db.write() as conn:
            conn.execute(text("INSERT INTO offices VALUES ('BOGOR', 'Bogor', 'JABAR', 'Jawa Barat', '[]')"))
            conn.execute(
                text(
                    "INSERT INTO users (id, username, name, role, office_code, region_code, active,"
                    " created_at) VALUES (:id, :username, :name, :role, :office_code, :region_code,"
                    " :active, :created_at)"
                ),
                USERS_AT_0011,
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (token_hash, username, created_at, revoked_at, expires_at)"
                    " VALUES (:token_hash, :username, :created_at, :revoked_at, :expires_at)"
                ),
                [
                    {
                        "token_hash": hash_token(token),
                        "username": username,
                        "created_at": created_at,
                        "revoked_at": revoked_at,
                        "expires_at": expires,
                    }
                    for token, username, created_at, revoked_at in tokens_at_0011
                ],
            )
        with db.read() as conn:
            head_before = EventStore().head(conn)

        assert upgrade(db)

        store = EventStore()
        with db.read() as conn:
            accounts_now = {
                row.username: (row.id, row.created_at, row.active, row.role, row.office_code)
                for row in conn.execute(select(users))
            }
            holders = {token: holder_of_digest(conn, hash_token(token)) for token, *_ in tokens_at_0011}
            token_ids = dict(conn.execute(select(api_tokens.c.token_hash, api_tokens.c.token_id)).all())
            ended = conn.execute(
                select(api_tokens.c.revoked_at).where(api_tokens.c.token_hash == hash_token(shut_left))
            ).scalar_one()
            grants = [
                tuple(row) for row in conn.execute(select(role_grants).order_by(role_grants.c.position))
            ]
            opened = store.read_all(conn, after=head_before.position)
            chain = store.verify(conn)
            # Nothing before the upgrade was rewritten: the chain goes on from the head it had.
            chain_from_before = store.verify(conn, position=head_before.position, digest=head_before.hash)
            read_models = verification.verify(conn, store)
            cases = conn.execute(select(candidacies.c.id, candidacies.c.stage)).all()

        assert accounts_now == {
            "officer": (ACTIVE_ID, "2023-11-01T01:00:00.000000Z", True, "officer", "BOGOR"),
            "section_head": (SHUT_ID, "2023-10-01T01:00:00.000000Z", False, "section_head", "BOGOR"),
        }
        holder = holders[live]
        assert holder is not None
        assert (holder.actor.id, holder.actor.username, holder.actor.role.value) == (
            ACTIVE_ID,
            "officer",
            "officer",
        )
        assert format_timestamp(holder.expires_at) == expires
        assert holders[revoked] is holders[shut_revoked] is holders[shut_left] is None
        assert ended is not None  # the deactivation that the log now records ended it

        # The accounts' 5 events (0012), then the office's and its region's (0013).
        assert chain.ok and chain.verified_to == head_before.position + 5 + 2, chain
        assert chain_from_before.ok, chain_from_before
        assert read_models.ok, read_models.differences
        assert cases == [("case-a", "proposed")]

        # The opening events, the older account first, recorded by the migration with no actor id.
        assert [(e.stream_type, e.stream_id, e.version, e.type) for e in opened] == [
            ("user", SHUT_ID, 1, "UserCreated"),
            ("user", SHUT_ID, 2, "TokenIssued"),
            ("user", SHUT_ID, 3, "UserDeactivated"),
            ("user", ACTIVE_ID, 1, "UserCreated"),
            ("user", ACTIVE_ID, 2, "TokenIssued"),
            ("region", "region:JABAR", 1, "RegionAdded"),
            ("office", "office:BOGOR", 1, "OfficeOpened"),
        ]
        accounts_opened, organised = opened[:5], opened[5:]
        assert {(e.actor_username, e.actor_name, e.actor_role, e.actor_id) for e in accounts_opened} == {
            ("cli", "migration 0012", "admin", None)
        }
        assert {(e.actor_username, e.actor_name, e.actor_role, e.actor_id) for e in organised} == {
            ("cli", "migration 0013", "admin", None)
        }
        assert [e.data for e in organised] == [
            {"code": "JABAR", "name": "Jawa Barat", "imported": True},
            {
                "code": "BOGOR",
                "name": "Bogor",
                "unit_type": "kanim",
                "region_code": "JABAR",
                "regencies": [],
                "effective_on": None,
                "imported": True,
            },
        ]
        shut_created, shut_token, shut_down, active_created, active_token = accounts_opened
        for created, account in [(active_created, USERS_AT_0011[0]), (shut_created, USERS_AT_0011[1])]:
            assert created.data == {
                "user_id": account["id"],
                "username": account["username"],
                "name": account["name"],
                "role": account["role"],
                "office_code": account["office_code"],
                "region_code": account["region_code"],
                "imported": True,
                "created_at": account["created_at"],
            }
        assert active_token.data == {"token_id": token_ids[hash_token(live)], "expires_at": expires}
        assert shut_token.data == {"token_id": token_ids[hash_token(shut_left)], "expires_at": expires}
        assert shut_down.data["tokens_ended"] == [token_ids[hash_token(shut_left)]]
        assert ended == shut_down.recorded_at
        assert grants == [
            (shut_created.position, SHUT_ID, "section_head", "section_head", "BOGOR", None, True),
            (active_created.position, ACTIVE_ID, "officer", "officer", "BOGOR", None, True),
        ]
        assert schema_differences(db, metadata) == []
    finally:
        db.dispose()


def test_0012_is_not_undone_once_the_log_holds_accounts(database: Database) -> None:
    """The log is append-only: its account events cannot be taken back by a downgrade."""
    opening = UnitOfWork(database, lambda: T0)
    with accounts.as_command_line(opening, "test") as tx:
        accounts.create_user(
            tx, accounts.command_line_actor(), AccountDraft("auditor", "A", Role.AUDITOR, None, None)
        )
    config = alembic_config()
    with pytest.raises(RuntimeError, match="restore the backup"), database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert current_revision(database) == head
    with database.read() as conn:
        assert conn.execute(select(users.c.username)).scalars().all() == ["auditor"]
        assert EventStore().verify(conn).ok


# ---- 0013: the organisation becomes events -------------------------------------------------------

# Three offices as revision 0012 kept them (the region's name on each), in no particular order.
OFFICES_AT_0012 = [
    ("SURABAYA", "Kantor Imigrasi Kelas I TPI Surabaya", "JATIM", "Kanwil Jawa Timur", ["35.78"]),
    ("BOGOR", "Kantor Imigrasi Kelas I Non TPI Bogor", "JABAR", "Kanwil Jawa Barat", ["32.71", "32.01"]),
    ("SUKABUMI", "Kantor Imigrasi Kelas II Non TPI Sukabumi", "JABAR", "Kanwil Jawa Barat", ["32.02"]),
]
OFFICES_0012 = Table(
    "offices",
    MetaData(),
    Column("code", String),
    Column("name", String),
    Column("region_code", String),
    Column("region_name", String),
    Column("regencies", JSON),
)


def test_0013_turns_the_offices_of_an_0012_database_into_imported_events(empty_database_url: str) -> None:
    """The regions and offices read as they did (kanim, since before the records); each office's
    history is its one imported opening; the log gains the regions' and offices' opening events after
    what it held, recorded by the migration, and both the chain and the read models verify."""
    db = Database(empty_database_url)
    try:
        assert upgrade(db, "0012")
        append_history(db, HISTORY_AT_0001[:3])  # cases of BOGOR and SUKABUMI, recorded before
        with db.write() as conn:
            conn.execute(
                insert(OFFICES_0012),
                [
                    dict(zip(("code", "name", "region_code", "region_name", "regencies"), o, strict=True))
                    for o in OFFICES_AT_0012
                ],
            )
        with db.read() as conn:
            head_before = EventStore().head(conn)

        assert upgrade(db)

        store = EventStore()
        with db.read() as conn:
            region_rows = [tuple(row) for row in conn.execute(select(regions).order_by(regions.c.code))]
            office_rows = {
                row.code: (row.unit_type, row.effective_on)
                for row in conn.execute(select(offices.c.code, offices.c.unit_type, offices.c.effective_on))
            }
            listed = organisation.list_offices(conn)
            headings = organisation.list_office_headings(conn)
            long_ago = organisation.list_office_headings(conn, dt.date(2000, 1, 1))
            history = [
                dict(row)
                for row in conn.execute(select(office_history).order_by(office_history.c.position)).mappings()
            ]
            opened = store.read_all(conn, after=head_before.position)
            chain = store.verify(conn)
            chain_from_before = store.verify(conn, position=head_before.position, digest=head_before.hash)
            read_models = verification.verify(conn, store)
            cases = conn.execute(select(candidacies.c.id, candidacies.c.office_code)).all()

        assert region_rows == [("JABAR", "Kanwil Jawa Barat"), ("JATIM", "Kanwil Jawa Timur")]
        assert listed == [
            Office(code, name, region, region_name, frozenset(regencies), "kanim")
            for code, name, region, region_name, regencies in sorted(OFFICES_AT_0012)
        ]
        assert office_rows == {code: ("kanim", None) for code, *_ in OFFICES_AT_0012}
        assert [tuple(h) for h in headings] == [
            (code, name, region, region_name)
            for code, name, region, region_name, _ in sorted(OFFICES_AT_0012)
        ]
        assert long_ago == headings  # imported: held since before the records

        # The regions first, then the offices, each by code; recorded by the migration, no actor id.
        assert [(e.stream_type, e.stream_id, e.version, e.type) for e in opened] == [
            ("region", "region:JABAR", 1, "RegionAdded"),
            ("region", "region:JATIM", 1, "RegionAdded"),
            ("office", "office:BOGOR", 1, "OfficeOpened"),
            ("office", "office:SUKABUMI", 1, "OfficeOpened"),
            ("office", "office:SURABAYA", 1, "OfficeOpened"),
        ]
        assert {
            (e.actor_username, e.actor_name, e.actor_role, e.actor_office, e.actor_id, e.request_id)
            for e in opened
        } == {("cli", "migration 0013", "admin", None, None, "migration-0013")}
        assert all(e.recorded_at >= head_before.recorded_at for e in opened)  # the log's times go on
        assert [e.data for e in opened[:2]] == [
            {"code": "JABAR", "name": "Kanwil Jawa Barat", "imported": True},
            {"code": "JATIM", "name": "Kanwil Jawa Timur", "imported": True},
        ]
        assert [e.data for e in opened[2:]] == [
            {
                "code": code,
                "name": name,
                "unit_type": "kanim",
                "region_code": region,
                "regencies": sorted(regencies),
                "effective_on": None,
                "imported": True,
            }
            for code, name, region, _, regencies in sorted(OFFICES_AT_0012)
        ]
        # Each office's history: its one imported opening, where the log has it.
        assert history == [
            {
                "position": e.position,
                "code": e.data["code"],
                "effective_on": None,
                "name": e.data["name"],
                "unit_type": "kanim",
                "region_code": e.data["region_code"],
                "regencies": e.data["regencies"],
                "changed": ["opened"],
                "taken_by": None,
                "recorded_at": e.recorded_at,
            }
            for e in opened[2:]
        ]

        assert chain.ok and chain.verified_to == head_before.position + 5, chain
        assert chain_from_before.ok, chain_from_before  # nothing before the upgrade was rewritten
        assert read_models.ok, read_models.differences
        assert sorted(cases) == [("case-a", "BOGOR"), ("case-b", "BOGOR"), ("case-c", "SUKABUMI")]
        assert schema_differences(db, metadata) == []
    finally:
        db.dispose()


def test_0013_of_a_database_without_offices_records_nothing(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert upgrade(db, "0012")
        append_history(db, HISTORY_AT_0001[:1])
        with db.read() as conn:
            head_before = EventStore().head(conn)
        assert upgrade(db)
        with db.read() as conn:
            assert EventStore().head(conn) == head_before
            assert organisation.list_offices(conn) == []
            assert organisation.list_regions(conn) == []
        assert schema_differences(db, metadata) == []
    finally:
        db.dispose()


def test_0013_is_not_undone_once_the_log_holds_the_organisation(database: Database) -> None:
    """The log is append-only: its office and region events cannot be taken back by a downgrade."""
    with accounts.as_command_line(UnitOfWork(database, lambda: T0), "test") as tx:
        organisation.import_office(
            tx,
            accounts.command_line_actor(),
            Office("BOGOR", "Kantor Imigrasi Bogor", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01"})),
        )
    config = alembic_config()
    with pytest.raises(RuntimeError, match="restore the backup"), database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0012")
    assert current_revision(database) == ScriptDirectory.from_config(config).get_current_head()
    with database.read() as conn:
        assert [office.code for office in organisation.list_offices(conn)] == ["BOGOR"]
        assert EventStore().verify(conn).ok
    assert schema_differences(database, metadata) == []


def test_0013_is_undone_while_the_log_holds_no_organisation(database: Database) -> None:
    """Down to 0012 (the offices as they were kept then) and up again, on a log of cases only."""
    append_history(database, HISTORY_AT_0001[:1])
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0012")
    assert current_revision(database) == "0012"
    tables_now = set(inspect(database.engine).get_table_names())
    assert "offices" in tables_now and not {"regions", "office_history"} & tables_now
    columns = [c["name"] for c in inspect(database.engine).get_columns("offices")]
    assert columns == ["code", "name", "region_code", "region_name", "regencies"]

    assert upgrade(database)
    assert schema_differences(database, metadata) == []
    with database.read() as conn:
        assert EventStore().count(conn) == 1
        assert verification.verify(conn, EventStore()).ok


# ---- 0014: every name of every region ------------------------------------------------------------


def test_0014_names_regions_in_past_reports_as_they_were_named(empty_database_url: str) -> None:
    """A region added and later renamed under 0013: after 0014 the history holds both names with the
    days they held from, a day before the rename reads the old name, and the read models verify."""
    db = Database(empty_database_url)
    store = EventStore()
    by_cli = EventMetadata("cli", "cli (ops)", "admin", None, "req-cli")
    try:
        assert upgrade(db, "0013")
        recorded = []
        for iso, stream_type, stream_id, event in [
            (
                "2024-01-01T02:00:00Z",
                "region",
                "region:JABAR",
                RegionAdded(code="JABAR", name="Kanwil Jawa Barat"),
            ),
            (
                "2024-01-01T02:00:00Z",
                "office",
                "office:BOGOR",
                OfficeOpened(
                    code="BOGOR",
                    name="Kantor Imigrasi Bogor",
                    unit_type="kanim",
                    region_code="JABAR",
                    regencies=("32.01",),
                    effective_on=None,
                ),
            ),
            # 08:00 WIB on 1 March 2025: the day of the rename in system time.
            (
                "2025-03-01T01:00:00Z",
                "region",
                "region:JABAR",
                RegionRenamed(name="Kanwil Ditjen Imigrasi Jabar"),
            ),
        ]:
            with db.engine.begin() as conn:
                recorded += store.append(
                    conn,
                    store.lock_head(conn),
                    stream_type=stream_type,
                    stream_id=stream_id,
                    expected_version=store.stream_version(conn, stream_id),
                    new_events=[event],
                    metadata=by_cli,
                    now=dt.datetime.fromisoformat(iso),
                )

        assert upgrade(db)

        with db.read() as conn:
            history = [
                tuple(row) for row in conn.execute(select(region_history).order_by(region_history.c.position))
            ]
            before = organisation.list_office_headings(conn, dt.date(2025, 2, 28))
            on_the_day = organisation.list_office_headings(conn, dt.date(2025, 3, 1))
            read_models = verification.verify(conn, store)
        added, renamed = recorded[0].position, recorded[2].position
        assert history == [
            (added, "JABAR", "Kanwil Jawa Barat", None),
            (renamed, "JABAR", "Kanwil Ditjen Imigrasi Jabar", "2025-03-01"),
        ]
        assert [h.region_name for h in before] == ["Kanwil Jawa Barat"]
        assert [h.region_name for h in on_the_day] == ["Kanwil Ditjen Imigrasi Jabar"]
        assert read_models.ok, read_models.differences
        assert schema_differences(db, metadata) == []
    finally:
        db.dispose()
