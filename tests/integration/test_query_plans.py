"""The lookups every command makes go through an index, whatever the number of cases: a scan costs
nothing on a test's few rows and a proposal's whole budget on the country's 83,762."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.sql import ClauseElement

from domain.lifecycle import STAGES_HOLDING_VILLAGE, Stage
from events.database import Database
from events.schema import HOLDS_VILLAGE
from events.store import _LOAD_STREAM
from service.cases import _STAGE_HOLDING_VILLAGE


def _plan(conn: Connection, statement: ClauseElement) -> str:
    """The database's plan for the statement, its parameters written in as literals; on PostgreSQL with
    sequential scans priced out, so that a plan still scanning shows the index cannot serve."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return " | ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    return " | ".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))


def test_the_index_and_the_lookup_release_a_village_in_the_stages_the_lifecycle_does() -> None:
    released = sorted(stage.value for stage in Stage if stage not in STAGES_HOLDING_VILLAGE)
    expected = "stage NOT IN (" + ", ".join(f"'{stage}'" for stage in released) + ")"
    assert expected == HOLDS_VILLAGE


def test_a_proposal_finds_who_holds_the_village_in_the_partial_unique_index(database: Database) -> None:
    statement: Any = _STAGE_HOLDING_VILLAGE
    with database.write() as conn:
        plan = _plan(conn, statement.params(village_code="32.01.01.2001"))
    assert "uq_candidacies_village_held" in plan, plan
    assert "SCAN candidacies" not in plan and "Seq Scan" not in plan, plan


def test_a_command_loads_its_stream_by_the_stream_key(database: Database) -> None:
    statement: Any = _LOAD_STREAM
    with database.write() as conn:
        plan = _plan(conn, statement.params(stream_id="a-case"))
    assert "SCAN events" not in plan and "Seq Scan" not in plan, plan
    assert "stream" in plan, plan
