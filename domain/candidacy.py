"""The candidacy aggregate: its state folded from events, and the decisions that make new ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from domain import rules
from domain.actors import Actor, Person
from domain.commands import (
    Assess,
    CaseCommand,
    Coordinate,
    Designate,
    ProposeCandidacy,
    Reject,
    Return,
    Revoke,
    Socialize,
    Withdraw,
)
from domain.errors import InvalidInput, Message
from domain.events import (
    CandidacyAssessed,
    CandidacyCoordinated,
    CandidacyDesignated,
    CandidacyProposed,
    CandidacyRejected,
    CandidacyReturned,
    CandidacyRevoked,
    CandidacySocialized,
    CandidacyTransferred,
    CandidacyWithdrawn,
    Event,
)
from domain.fostering import FOSTERING_EVENTS, Fostering
from domain.lifecycle import Action, Stage, available_actions, next_stage
from domain.places import Office, Village

ACTION_OF_EVENT: dict[type[Event], Action] = {
    CandidacyProposed: Action.PROPOSE,
    CandidacyCoordinated: Action.COORDINATE,
    CandidacySocialized: Action.SOCIALIZE,
    CandidacyAssessed: Action.ASSESS,
    CandidacyDesignated: Action.DESIGNATE,
    CandidacyRejected: Action.REJECT,
    CandidacyReturned: Action.RETURN,
    CandidacyWithdrawn: Action.WITHDRAW,
    CandidacyRevoked: Action.REVOKE,
}


@dataclass(frozen=True, slots=True)
class Candidacy:
    """What the rules need to know of a case, and nothing more."""

    id: str
    version: int
    stage: Stage
    village_code: str
    office_code: str
    region_code: str
    proposed_by: Person
    proposed_on: dt.date | None = None
    assessed_by: Person | None = None
    assessment_met_criteria: bool = False
    coordinated_on: dt.date | None = None
    socialized_on: dt.date | None = None
    assessed_on: dt.date | None = None
    # From its designation on: the village's fostering (its decree date, officers and reports).
    fostering: Fostering | None = None

    @classmethod
    def from_history(cls, history: Iterable[tuple[Event, Person]]) -> Candidacy:
        """Fold `(event, who recorded it)` pairs, oldest first, into the current state."""
        state: Candidacy | None = None
        for event, actor in history:
            state = cls.started_by(event, actor) if state is None else state.apply(event, actor)
        if state is None:
            raise ValueError("a candidacy's history starts with its proposal")
        return state

    @classmethod
    def started_by(cls, event: Event, actor: Person) -> Candidacy:
        if not isinstance(event, CandidacyProposed):
            raise ValueError(f"a candidacy's history starts with its proposal, not {event.type_name}")
        return cls(
            id=event.candidacy_id,
            version=1,
            stage=Stage.PROPOSED,
            village_code=event.village["code"],
            office_code=event.office_code,
            region_code=event.region_code,
            proposed_by=actor,
            proposed_on=event.proposed_on,
        )

    def apply(self, event: Event, actor: Person) -> Candidacy:
        if isinstance(event, CandidacyTransferred):  # no step of the lifecycle: another office holds it
            return replace(
                self, version=self.version + 1, office_code=event.to_office, region_code=event.region_code
            )
        if isinstance(event, FOSTERING_EVENTS):  # no step either: the village's fostering goes on
            assert self.fostering is not None
            return replace(self, version=self.version + 1, fostering=self.fostering.apply(event))
        stage = next_stage(self.stage, ACTION_OF_EVENT[type(event)], self.assessment_met_criteria)
        state = replace(self, version=self.version + 1, stage=stage)
        match event:
            case CandidacyCoordinated(held_on=held_on):
                return replace(state, coordinated_on=held_on)
            case CandidacySocialized(held_on=held_on):
                return replace(state, socialized_on=held_on)
            case CandidacyAssessed(assessed_on=assessed_on, meets_criteria=met):
                return replace(state, assessed_on=assessed_on, assessed_by=actor, assessment_met_criteria=met)
            case CandidacyReturned():
                return replace(state, assessed_on=None, assessed_by=None, assessment_met_criteria=False)
            case CandidacyDesignated(decree_date=decree_date):
                return replace(state, fostering=Fostering(since=decree_date))
        return state


def allowed_actions(
    stage: Stage,
    assessment_met_criteria: bool,
    actor: Actor,
    proposed_by: Person,
    assessed_by: Person | None,
) -> list[Action]:
    """What the lifecycle allows now and the actor may do: the case's `allowed_actions`. Designating
    is not offered to whoever proposed or assessed the case (four eyes)."""
    return [
        action
        for action in available_actions(stage, assessment_met_criteria)
        if rules.may_perform(actor.role, action)
        and (action is not Action.DESIGNATE or rules.passes_four_eyes(actor.person, proposed_by, assessed_by))
    ]


# What a case waits for: someone to take it a step on or to decide on it. Withdrawing is always open
# to its office and is nobody's pending work; nor is revoking a fostered village's status.
AWAITED_ACTIONS = frozenset(Action) - {Action.PROPOSE, Action.WITHDRAW, Action.REVOKE}


def awaited_actions(allowed: list[Action]) -> list[Action]:
    """Of the actions the actor may take on a case, those the case is waiting for."""
    return [action for action in allowed if action in AWAITED_ACTIONS]


def propose(
    command: ProposeCandidacy,
    actor: Actor,
    *,
    candidacy_id: str,
    office: Office | None,
    registry_village: Village | None,
    registry_loaded: bool,
    holding_stage: Stage | None,
    now: dt.datetime,
) -> CandidacyProposed:
    """Decide a proposal. The caller looks up the office, the registry and who holds the village."""
    rules.check_may_perform(actor, Action.PROPOSE)
    rules.check_proposes_for_own_office(actor, command.office_code)
    if office is None:
        raise InvalidInput.field("office_code", Message("no office {code}", code=command.office_code))
    rules.check_village_code(command.village_code)
    village = _village_of(command, registry_village, registry_loaded)
    rules.check_in_working_area(office, command.village_code)
    if command.proposed_on is not None:
        rules.check_not_in_future("proposed_on", command.proposed_on, now)
    rules.check_village_free(village, holding_stage)
    return CandidacyProposed(
        candidacy_id=candidacy_id,
        village=village.as_data(),
        office_code=office.code,
        region_code=office.region_code,
        rationale=command.rationale,
        indicators={
            "migrant_workers": command.indicators.migrant_workers,
            "prospective_migrant_workers": command.indicators.prospective_migrant_workers,
            "trafficking_cases": command.indicators.trafficking_cases,
            "border_area": command.indicators.border_area,
        },
        proposed_on=command.proposed_on,
    )


def _village_of(
    command: ProposeCandidacy, registry_village: Village | None, registry_loaded: bool
) -> Village:
    """With a registry, the village's names come from it (a name given beside the code must be the
    registry's: two names for one code is a mistake in one of them); without one, the proposer names it."""
    if registry_loaded:
        if registry_village is None:
            raise InvalidInput.field(
                "village_code",
                Message("{code} is not in the village registry", code=command.village_code),
            )
        rules.check_same_village_name(command.village_code, command.village_name, registry_village.name)
        return registry_village
    if not command.village_name:
        raise InvalidInput.field(
            "village_name", Message("required while the village registry is empty: name the village")
        )
    return Village(code=command.village_code, name=command.village_name)


def decide(
    case: Candidacy,
    command: CaseCommand,
    actor: Actor,
    *,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Event:
    """Decide an action on a case the actor may read: permission, version, stage, then the data.

    Each stage is dated on or after the one before it, the first on or after the day the case began
    if the proposal gave it (`proposed_on`): so every stage's date is."""
    rules.check_may_perform(actor, command.action)
    rules.check_expected_version(expected_version, case.version)
    allowed = allowed_actions(
        case.stage, case.assessment_met_criteria, actor, case.proposed_by, case.assessed_by
    )
    next_stage(case.stage, command.action, case.assessment_met_criteria, allowed_for_caller=allowed)
    match command:
        case Coordinate():
            rules.check_not_in_future("held_on", command.held_on, now)
            rules.check_not_before("held_on", command.held_on, "proposal date", case.proposed_on)
            return CandidacyCoordinated(
                held_on=command.held_on,
                venue=command.venue,
                agencies=command.agencies,
                minutes_ref=command.minutes_ref,
                notes=command.notes,
                documents=command.documents,
            )
        case Socialize():
            rules.check_not_in_future("held_on", command.held_on, now)
            rules.check_not_before("held_on", command.held_on, "coordination meeting", case.coordinated_on)
            return CandidacySocialized(
                held_on=command.held_on,
                speakers=command.speakers,
                attendees=command.attendees,
                topics=command.topics,
                documents=command.documents,
            )
        case Assess():
            rules.check_not_in_future("assessed_on", command.assessed_on, now)
            rules.check_not_before("assessed_on", command.assessed_on, "socialization", case.socialized_on)
            rules.check_criteria(command.criteria)
            return CandidacyAssessed(
                assessed_on=command.assessed_on,
                score=command.score,
                meets_criteria=command.meets_criteria,
                criteria=dict(command.criteria),
                notes=command.notes,
                documents=command.documents,
            )
        case Designate():
            rules.check_not_in_future("decree_date", command.decree_date, now)
            rules.check_not_before("decree_date", command.decree_date, "assessment", case.assessed_on)
            rules.check_four_eyes(actor.person, case.proposed_by, case.assessed_by)
            return CandidacyDesignated(
                decree_number=command.decree_number,
                decree_date=command.decree_date,
                fostering_officers=command.fostering_officers,
                documents=command.documents,
            )
        case Reject():
            return CandidacyRejected(reason=command.reason)
        case Return():
            return CandidacyReturned(reason=command.reason)
        case Withdraw():
            return CandidacyWithdrawn(reason=command.reason)
        case Revoke():
            assert case.fostering is not None
            rules.check_not_in_future("decree_date", command.decree_date, now)
            rules.check_not_before("decree_date", command.decree_date, "designation", case.fostering.since)
            return CandidacyRevoked(
                reason=command.reason,
                decree_number=command.decree_number,
                decree_date=command.decree_date,
                documents=command.documents,
            )
    raise TypeError(f"not a case command: {command!r}")
