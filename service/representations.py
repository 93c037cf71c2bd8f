"""The JSON a client sees of a case and of an event, built from read models and the log."""

from __future__ import annotations

from typing import Any

from domain.actors import Actor, Person
from domain.candidacy import allowed_actions
from domain.lifecycle import Stage
from events.store import RecordedEvent


def village_as_dict(row: Any) -> dict[str, Any]:
    """A read model's village columns (cases, the register) as the village object clients see."""
    return {
        "code": row["village_code"],
        "name": row["village_name"],
        "district": row["district_name"],
        "regency": row["regency_name"],
        "province": row["province_name"],
    }


def person_of(stamp: dict[str, Any]) -> Person:
    """Who recorded a stage, from its stamp in the case's row."""
    return Person(stamp["by"].get("id"), stamp["by"]["username"])


def case_as_dict(row: Any, actor: Actor) -> dict[str, Any]:
    """The case as `actor` sees it: `allowed_actions` is what the actor may do now."""
    met = bool((row["assessed"] or {}).get("meets_criteria"))
    proposer = person_of(row["proposed"])
    assessor = person_of(row["assessed"]) if row["assessed"] else None
    return {
        "id": row["id"],
        "stage": row["stage"],
        "version": row["version"],
        "village": village_as_dict(row),
        "office_code": row["office_code"],
        "region_code": row["region_code"],
        "allowed_actions": [
            action.value for action in allowed_actions(Stage(row["stage"]), met, actor, proposer, assessor)
        ],
        "proposed": row["proposed"],
        "proposed_on": row["proposed_on"],
        "started_on": row["started_on"],
        "coordinated": row["coordinated"],
        "socialized": row["socialized"],
        "assessed": row["assessed"],
        "designated": row["designated"],
        "closed": row["closed"],
        "returned": row["returned"],
        "fostering": {**row["fostering"], "revoked": row["revoked"]} if row["fostering"] else None,
        "indicators": row["indicators"],
        "rationale": row["rationale"],
        "proposed_year": row["proposed_year"],
        "updated_at": row["updated_at"],
    }


def event_as_dict(recorded: RecordedEvent) -> dict[str, Any]:
    return {
        "position": recorded.position,
        "event_id": recorded.event_id,
        "stream_type": recorded.stream_type,
        "stream_id": recorded.stream_id,
        "version": recorded.version,
        "type": recorded.type,
        "schema_version": recorded.schema_version,
        "data": recorded.data,
        "actor": {
            "username": recorded.actor_username,
            "name": recorded.actor_name,
            "role": recorded.actor_role,
            "office_code": recorded.actor_office,
            # Only when recorded: the chain's hash covers it then, and only then.
            **({"id": recorded.actor_id} if recorded.actor_id is not None else {}),
        },
        "request_id": recorded.request_id,
        "recorded_at": recorded.recorded_at,
        "prev_hash": recorded.prev_hash,
        "hash": recorded.hash,
    }
