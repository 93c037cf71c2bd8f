"""Plain helpers of the integration tier: raw access that bypasses the code's own guards, and
snapshots of the read models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import JSON, Connection, Text, cast, select

from domain.events import Event, JsonDict
from events.database import Database
from events.projections import LIVE
from events.store import EventMetadata

T0 = dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)

METADATA = EventMetadata(
    actor_username="rina",
    actor_name="Rina Marlina",
    actor_role="section_head",
    actor_office="BOGOR",
    request_id="req-0001",
)


def drop_append_only_triggers(database: Database) -> None:
    """What an attacker with DDL rights would do first; the hash chain must still give them away."""
    with database.engine.begin() as conn:
        if database.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER events_no_update")
            conn.exec_driver_sql("DROP TRIGGER events_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER events_no_update_or_delete ON events")


def read_model_snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table, in primary-key order, JSON columns as the text stored:
    a rebuild must give the same bytes, key order included, not merely equal values."""
    snapshot: dict[str, list[dict[str, Any]]] = {}
    for table in LIVE.tables():
        columns = [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]
        query = select(*columns).order_by(*table.primary_key.columns)
        snapshot[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return snapshot


@dataclass(frozen=True, slots=True)
class ProposedV1(Event):
    """A proposal as releases before `proposed_on` recorded it: schema version 1."""

    type_name: ClassVar[str] = "CandidacyProposed"
    schema_version: ClassVar[int] = 1
    candidacy_id: str
    village: JsonDict
    office_code: str
    region_code: str
    rationale: str
    indicators: JsonDict
