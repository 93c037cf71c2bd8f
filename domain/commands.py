"""Commands: what someone asks the system to do, already shaped (types checked) by the service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from domain.lifecycle import Action


@dataclass(frozen=True, slots=True)
class Indicators:
    migrant_workers: int
    prospective_migrant_workers: int
    trafficking_cases: int
    border_area: bool


@dataclass(frozen=True, slots=True)
class ProposeCandidacy:
    action: ClassVar[Action] = Action.PROPOSE
    village_code: str
    office_code: str
    rationale: str
    indicators: Indicators
    village_name: str | None = None
    # The day the case began (a letter, a first meeting), when it is entered after the fact.
    proposed_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Coordinate:
    action: ClassVar[Action] = Action.COORDINATE
    held_on: dt.date
    venue: str
    agencies: tuple[str, ...]
    minutes_ref: str
    notes: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class Socialize:
    action: ClassVar[Action] = Action.SOCIALIZE
    held_on: dt.date
    speakers: tuple[str, ...]
    attendees: int
    topics: tuple[str, ...] = field(default=())
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class Assess:
    action: ClassVar[Action] = Action.ASSESS
    assessed_on: dt.date
    score: int
    meets_criteria: bool
    criteria: dict[str, bool]
    notes: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class Designate:
    action: ClassVar[Action] = Action.DESIGNATE
    decree_number: str
    decree_date: dt.date
    fostering_officers: tuple[str, ...]
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class Reject:
    action: ClassVar[Action] = Action.REJECT
    reason: str


@dataclass(frozen=True, slots=True)
class Return:
    action: ClassVar[Action] = Action.RETURN
    reason: str


@dataclass(frozen=True, slots=True)
class Withdraw:
    action: ClassVar[Action] = Action.WITHDRAW
    reason: str


@dataclass(frozen=True, slots=True)
class Revoke:
    action: ClassVar[Action] = Action.REVOKE
    reason: str
    decree_number: str
    decree_date: dt.date
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


CaseCommand = Coordinate | Socialize | Assess | Designate | Reject | Return | Withdraw | Revoke
_CASE_COMMANDS: dict[Action, type[CaseCommand]] = {
    command.action: command
    for command in (Coordinate, Socialize, Assess, Designate, Reject, Return, Withdraw, Revoke)
}


def case_command(action: Action, values: dict[str, Any]) -> CaseCommand:
    """The command of an action from its validated values; lists become tuples, as commands and
    events are frozen values."""
    frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return _CASE_COMMANDS[action](**frozen)


@dataclass(frozen=True, slots=True)
class ActOnCase:
    """A lifecycle action on one case, meant for the version the caller saw (None: as it is now)."""

    candidacy_id: str
    command: CaseCommand
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetTarget:
    """An office's target for a year, with its basis (a decree or a letter)."""

    office_code: str
    year: int
    target: int
    basis: str
    expected_version: int | None = None
