"""What each event does to the read models' rows, as pure functions of the events.

The live projection and a rebuild both fold events with these, so a rebuilt table is what the live
one would be.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from domain.calendar import day_of
from domain.candidacy import ACTION_OF_EVENT
from domain.events import (
    STAGE_DATE_FIELD,
    CandidacyDesignated,
    CandidacyProposed,
    CandidacyRevoked,
    CandidacyTransferred,
    FosteringOfficersAssigned,
)
from domain.fostering import FOSTERING_EVENTS
from domain.lifecycle import Stage, next_stage
from domain.performance import quarter_of
from events.store import RecordedEvent, parse_timestamp

_ACTION_BY_TYPE = {cls.type_name: action for cls, action in ACTION_OF_EVENT.items()}

# Which stage object of the case each event fills in.
_STAGE_COLUMN = {
    "CandidacyCoordinated": "coordinated",
    "CandidacySocialized": "socialized",
    "CandidacyAssessed": "assessed",
    "CandidacyDesignated": "designated",
}
_CLOSING_OUTCOME = {"CandidacyRejected": "rejected", "CandidacyWithdrawn": "withdrawn"}
FOSTERING_TYPES = frozenset(cls.type_name for cls in FOSTERING_EVENTS)


def stamp_of(event: RecordedEvent) -> dict[str, Any]:
    """Who recorded the event and when; its position is where an auditor finds the act in the log, and
    the authority it rested on."""
    by = {"username": event.actor_username, "name": event.actor_name, "role": event.actor_role}
    if event.actor_id is not None:
        by["id"] = event.actor_id
    return {"at": event.recorded_at, "by": by, "position": event.position}


def apply_to_candidacy_row(row: dict[str, Any] | None, event: RecordedEvent) -> dict[str, Any]:
    """The candidacy row after `event`."""
    stamp = stamp_of(event)
    if event.type == CandidacyProposed.type_name:
        village = event.data["village"]
        proposed_on = event.data.get("proposed_on")  # upcast: None in a version 1 proposal
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
            "proposed_year": day_of_timestamp(event.recorded_at).year,
            "proposed_position": event.position,
            "rationale": event.data["rationale"],
            "indicators": event.data["indicators"],
            "proposed": stamp,
            "proposed_on": proposed_on,
            # The day the case began: the proposer's, or for now the day it was recorded.
            "started_on": proposed_on or recorded_day(event),
            "coordinated": None,
            "socialized": None,
            "assessed": None,
            "designated": None,
            "closed": None,
            "returned": None,
            "fostering": None,
            "revoked": None,
            "updated_at": event.recorded_at,
            "last_position": event.position,
        }
    if row is None:
        raise ValueError(f"event {event.position} continues candidacy {event.stream_id}, never proposed")
    moved = {"version": event.version, "updated_at": event.recorded_at, "last_position": event.position}
    if event.type == CandidacyTransferred.type_name:
        data = event.data
        return {**row, **moved, "office_code": data["to_office"], "region_code": data["region_code"]}
    if event.type == FosteringOfficersAssigned.type_name:
        assigned = {
            **stamp,
            "decree_number": event.data["decree_number"],
            "decree_date": event.data["decree_date"],
        }
        fostering = {**row["fostering"], "officers": event.data["officers"], "assigned": assigned}
        return {**row, **moved, "fostering": fostering}
    if event.type in FOSTERING_TYPES:  # the fostering read models have the rest
        return {**row, **moved}
    met = bool((row["assessed"] or {}).get("meets_criteria"))
    updated = dict(row)
    updated["stage"] = next_stage(Stage(row["stage"]), _ACTION_BY_TYPE[event.type], met).value
    updated.update(version=event.version, updated_at=event.recorded_at, last_position=event.position)
    if event.type in STAGE_DATE_FIELD:
        # A case entered after the fact began no later than any stage it records: durations counted
        # from its start are never negative. (A date never precedes a `proposed_on` given.)
        updated["started_on"] = min(row["started_on"], event.data[STAGE_DATE_FIELD[event.type]])
    if event.type in _STAGE_COLUMN:
        updated[_STAGE_COLUMN[event.type]] = {**stamp, **event.data}
        if event.type == CandidacyDesignated.type_name:
            updated["fostering"] = {"since": event.data["decree_date"], "officers": [], "assigned": None}
    elif event.type == CandidacyRevoked.type_name:
        updated["revoked"] = {**stamp, **event.data}
    elif event.type in _CLOSING_OUTCOME:
        updated["closed"] = {**stamp, "outcome": _CLOSING_OUTCOME[event.type], **event.data}
    elif event.type == "CandidacyReturned":
        updated["returned"] = {**stamp, **event.data, "assessment": row["assessed"]}
        updated["assessed"] = None
    return updated


def recorded_day(recorded: RecordedEvent) -> str:
    return _iso_day_of_hour(recorded.recorded_at[:13])


def day_of_timestamp(timestamp: str) -> dt.date:
    """The system day of a stored UTC timestamp. The system zone is a whole number of hours from UTC,
    so the date and hour decide the day: worked out once per hour seen, not once per event."""
    return _day_of_hour(timestamp[:13])


@functools.lru_cache(maxsize=8192)
def _iso_day_of_hour(date_and_hour: str) -> str:
    # One string per day seen: a rebuild holds a day's changes under it for every office and stage.
    return _day_of_hour(date_and_hour).isoformat()


@functools.lru_cache(maxsize=8192)
def _day_of_hour(date_and_hour: str) -> dt.date:
    return day_of(parse_timestamp(f"{date_and_hour}:00:00.000000Z"))


def designation_row(case: dict[str, Any], recorded: RecordedEvent) -> dict[str, Any]:
    """The register's row for a case just designated: the decree and everyone who took it there."""

    def person(stage: dict[str, Any]) -> dict[str, Any]:
        return {**stage["by"], "at": stage["at"], "position": stage["position"]}

    decree_date = dt.date.fromisoformat(recorded.data["decree_date"])
    return {
        "candidacy_id": case["id"],
        "position": recorded.position,
        "village_code": case["village_code"],
        "village_name": case["village_name"],
        "district_name": case["district_name"],
        "regency_name": case["regency_name"],
        "province_name": case["province_name"],
        "office_code": case["office_code"],
        "region_code": case["region_code"],
        "decree_number": recorded.data["decree_number"],
        "decree_date": decree_date.isoformat(),
        "decree_year": decree_date.year,
        "quarter": quarter_of(decree_date),
        "fostering_officers": recorded.data["fostering_officers"],
        "proposed_by": person(case["proposed"]),
        "coordinated_by": person(case["coordinated"]),
        "socialized_by": person(case["socialized"]),
        "assessed_by": person(case["assessed"]),
        "approved_by": person(case["designated"]),
        "recorded_day": recorded_day(recorded),
        # The case's start takes the decree date into account: never after it.
        "days_to_designation": (decree_date - dt.date.fromisoformat(case["started_on"])).days,
    }


@dataclass(slots=True)
class Tally:
    """What candidacy events add to the per-office counters and to the register, until written."""

    # (office, stage) -> change in the number of cases in it
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (office, day, stage) -> change that day
    changes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    register: list[dict[str, Any]] = field(default_factory=list)
    # (office, decree year, quarter) -> the days to designation of its new designations
    designated_days: defaultdict[tuple[str, int, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def apply(self, before: dict[str, Any] | None, recorded: RecordedEvent) -> dict[str, Any]:
        """The case's row after `recorded`, its move from one stage to the next counted."""
        after = apply_to_candidacy_row(before, recorded)
        office, day = after["office_code"], recorded_day(recorded)
        if before is not None and (before["office_code"], before["stage"]) == (office, after["stage"]):
            return after  # fostering: the case stays where it was counted
        if before is not None:
            # The office it left, for a case passed to another office; else the same office.
            self.counts[(before["office_code"], before["stage"])] -= 1
            self.changes[(before["office_code"], day, before["stage"])] -= 1
        self.counts[(office, after["stage"])] += 1
        self.changes[(office, day, after["stage"])] += 1
        if recorded.type == CandidacyDesignated.type_name:
            row = designation_row(after, recorded)
            self.register.append(row)
            self.designated_days[(office, row["decree_year"], row["quarter"])].append(
                row["days_to_designation"]
            )
        return after
