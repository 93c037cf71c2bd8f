"""The lifecycle of a candidacy: one table of transitions, built into one machine, once.

The `transitions` machine is used as a table, not bound to a model: building or binding a machine per
request is slow, and the aggregate stays a frozen value. Guards are named in the table and evaluated
against the aggregate, so the table says everything about when an action applies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from transitions import Machine

from domain.errors import ActionNotAllowed


class Stage(StrEnum):
    PROPOSED = "proposed"
    COORDINATED = "coordinated"
    SOCIALIZED = "socialized"
    ASSESSED = "assessed"
    DESIGNATED = "designated"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    PROPOSE = "propose"
    COORDINATE = "coordinate"
    SOCIALIZE = "socialize"
    ASSESS = "assess"
    DESIGNATE = "designate"
    REJECT = "reject"
    RETURN = "return"
    WITHDRAW = "withdraw"


# A live candidacy holds its village; a designated one holds it for good.
LIVE_STAGES = frozenset({Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED})
STAGES_HOLDING_VILLAGE = LIVE_STAGES | {Stage.DESIGNATED}
FINAL_STAGES = frozenset({Stage.DESIGNATED, Stage.REJECTED, Stage.WITHDRAWN})
# Where a case ends without its village designated.
CLOSING_STAGES = FINAL_STAGES - {Stage.DESIGNATED}

TRANSITIONS: list[dict[str, object]] = [
    {"trigger": Action.COORDINATE, "source": Stage.PROPOSED, "dest": Stage.COORDINATED},
    {"trigger": Action.SOCIALIZE, "source": Stage.COORDINATED, "dest": Stage.SOCIALIZED},
    {"trigger": Action.ASSESS, "source": Stage.SOCIALIZED, "dest": Stage.ASSESSED},
    {
        "trigger": Action.DESIGNATE,
        "source": Stage.ASSESSED,
        "dest": Stage.DESIGNATED,
        "conditions": "assessment_met_criteria",
    },
    {"trigger": Action.REJECT, "source": Stage.ASSESSED, "dest": Stage.REJECTED},
    {"trigger": Action.RETURN, "source": Stage.ASSESSED, "dest": Stage.SOCIALIZED},
    {"trigger": Action.WITHDRAW, "source": sorted(LIVE_STAGES), "dest": Stage.WITHDRAWN},
]


def _as_strings(transition: dict[str, object]) -> dict[str, object]:
    def plain(value: object) -> object:
        if isinstance(value, list):
            return [str(v) for v in value]
        return str(value) if isinstance(value, StrEnum) else value

    return {key: plain(value) for key, value in transition.items()}


_MACHINE = Machine(
    model=None,
    states=[stage.value for stage in Stage],
    transitions=[_as_strings(t) for t in TRANSITIONS],
    initial=Stage.PROPOSED.value,
    auto_transitions=False,
)

# The action order shown to clients: the lifecycle's own order.
_ACTION_ORDER = {action: index for index, action in enumerate(Action)}


class GuardedState(Protocol):
    """What the table's guards read: the aggregate, or a read-model view of it."""

    @property
    def stage(self) -> Stage: ...

    @property
    def assessment_met_criteria(self) -> bool: ...


def _guards_pass(state: GuardedState, action: Action) -> bool:
    transitions = _MACHINE.get_transitions(trigger=action.value, source=state.stage.value)
    return any(
        all(bool(getattr(state, condition.func)) == condition.target for condition in t.conditions)
        for t in transitions
    )


def available_actions(state: GuardedState) -> list[Action]:
    """The actions the lifecycle allows from the state, guards included, whoever asks."""
    return list(_available(state.stage, bool(state.assessment_met_criteria)))


@functools.cache
def _available(stage: Stage, assessment_met_criteria: bool) -> tuple[Action, ...]:
    """Worked out once per state, as the table is fixed: every case in a reply lists its actions."""
    state = _Guarded(stage, assessment_met_criteria)
    triggers = _MACHINE.get_triggers(stage.value)
    actions = [Action(t) for t in triggers if _guards_pass(state, Action(t))]
    return tuple(sorted(actions, key=_ACTION_ORDER.__getitem__))


def next_stage(state: GuardedState, action: Action, allowed_for_caller: Iterable[Action] = ()) -> Stage:
    """The stage the action leads to, or `ActionNotAllowed` naming what the caller may do instead."""
    applies, destination = _outcome(state.stage, action, bool(state.assessment_met_criteria))
    if destination is None:
        reason = (
            "the assessment did not find that the village meets the criteria"
            if applies
            else f"it does not apply to a {state.stage.value} case"
        )
        raise ActionNotAllowed(
            f"{action.value} is not allowed now: {reason}",
            allowed_actions=[a.value for a in allowed_for_caller],
        )
    return destination


@dataclass(frozen=True, slots=True)
class _Guarded:
    stage: Stage
    assessment_met_criteria: bool


@functools.cache
def _outcome(stage: Stage, action: Action, assessment_met_criteria: bool) -> tuple[bool, Stage | None]:
    """Whether the table has the action from the stage, and where it leads given the assessment (None:
    a guard stops it). The table is fixed, so each answer is worked out once: a rebuild asks per event."""
    transitions = _MACHINE.get_transitions(trigger=action.value, source=stage.value)
    if not transitions or not _guards_pass(_Guarded(stage, assessment_met_criteria), action):
        return bool(transitions), None
    return True, Stage(transitions[0].dest)
