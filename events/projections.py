"""Read models projected from the log, in the same transaction as the append, and rebuilt from it.

A projection handles a batch of events: the live path passes the one or few events a command
appended, a rebuild passes the whole log a batch at a time. Both run the same code, so a rebuilt
table is what the live one would be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from domain.calendar import day_of
from domain.candidacy import ACTION_OF_EVENT
from domain.lifecycle import Stage, next_stage
from events.schema import candidacies
from events.store import EventStore, RecordedEvent, parse_timestamp
from events.types import CandidacyProposed

CANDIDACY_STREAM = "candidacy"

_ACTION_BY_TYPE = {cls.type_name: action for cls, action in ACTION_OF_EVENT.items()}

# Which stage object of the case each event fills in.
_STAGE_COLUMN = {
    "CandidacyCoordinated": "coordinated",
    "CandidacySocialized": "socialized",
    "CandidacyAssessed": "assessed",
    "CandidacyDesignated": "designated",
}
_CLOSING_OUTCOME = {"CandidacyRejected": "rejected", "CandidacyWithdrawn": "withdrawn"}


class Projection(Protocol):
    tables: Sequence[Table]

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None: ...


@dataclass(frozen=True, slots=True)
class _RowState:
    """The lifecycle guards read from a read-model row."""

    stage: Stage
    assessment_met_criteria: bool


def apply_to_candidacy_row(row: dict[str, Any] | None, event: RecordedEvent) -> dict[str, Any]:
    """The candidacy row after `event`; pure, so the live path and a rebuild agree by construction."""
    stamp = {
        "at": event.recorded_at,
        "by": {"username": event.actor_username, "name": event.actor_name, "role": event.actor_role},
    }
    if event.type == CandidacyProposed.type_name:
        village = event.data["village"]
        return {
            "id": event.stream_id,
            "stage": Stage.PROPOSED.value,
            "version": event.version,
            "village_code": village["code"],
            "village_name": village["name"],
            "district_name": village.get("district"),
            "regency_name": village.get("regency"),
            "province_name": village.get("province"),
            "office_code": event.data["office_code"],
            "region_code": event.data["region_code"],
            "proposed_year": day_of(parse_timestamp(event.recorded_at)).year,
            "proposed_position": event.position,
            "rationale": event.data["rationale"],
            "indicators": event.data["indicators"],
            "proposed": stamp,
            "coordinated": None,
            "socialized": None,
            "assessed": None,
            "designated": None,
            "closed": None,
            "returned": None,
            "updated_at": event.recorded_at,
            "last_position": event.position,
        }
    if row is None:
        raise ValueError(f"event {event.position} continues candidacy {event.stream_id}, never proposed")
    state = _RowState(Stage(row["stage"]), bool((row["assessed"] or {}).get("meets_criteria")))
    updated = dict(row)
    updated["stage"] = next_stage(state, _ACTION_BY_TYPE[event.type]).value
    updated.update(version=event.version, updated_at=event.recorded_at, last_position=event.position)
    if event.type in _STAGE_COLUMN:
        updated[_STAGE_COLUMN[event.type]] = {**stamp, **event.data}
    elif event.type in _CLOSING_OUTCOME:
        updated["closed"] = {**stamp, "outcome": _CLOSING_OUTCOME[event.type], **event.data}
    elif event.type == "CandidacyReturned":
        updated["returned"] = {**stamp, **event.data, "assessment": row["assessed"]}
        updated["assessed"] = None
    return updated


class CandidacyProjection:
    tables = (candidacies,)

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        relevant = [e for e in batch if e.stream_type == CANDIDACY_STREAM]
        if not relevant:
            return
        ids = list(dict.fromkeys(e.stream_id for e in relevant))
        existing = {
            row["id"]: dict(row)
            for row in conn.execute(select(candidacies).where(candidacies.c.id.in_(ids))).mappings()
        }
        rows: dict[str, dict[str, Any]] = dict(existing)
        for recorded in relevant:
            rows[recorded.stream_id] = apply_to_candidacy_row(rows.get(recorded.stream_id), recorded)
        changed = [rows[i] for i in ids if i in existing]
        added = [rows[i] for i in ids if i not in existing]
        # Updates first: a village released in this batch may be proposed again in the same batch.
        if changed:
            columns = [c.name for c in candidacies.columns if c.name != "id"]
            conn.execute(
                update(candidacies)
                .where(candidacies.c.id == bindparam("row_id"))
                .values({name: bindparam(name) for name in columns}),
                [{**{k: v for k, v in row.items() if k != "id"}, "row_id": row["id"]} for row in changed],
            )
        if added:
            conn.execute(insert(candidacies), added)


PROJECTIONS: tuple[Projection, ...] = (CandidacyProjection(),)


def project(conn: Connection, batch: Sequence[RecordedEvent]) -> None:
    """Bring every read model up to date with events just appended, in the caller's transaction."""
    for projection in PROJECTIONS:
        projection.project(conn, batch)


def rebuild(conn: Connection, store: EventStore, *, progress: Callable[[int], None] | None = None) -> int:
    """Empty every read model and replay the whole log into it; returns the number of events."""
    for projection in PROJECTIONS:
        for table in projection.tables:
            conn.execute(delete(table))
    replayed = 0
    for batch in store.iterate_all(conn):
        project(conn, batch)
        replayed += len(batch)
        if progress:
            progress(len(batch))
    return replayed
