"""The lifecycle of a candidacy: one table of transitions, built into one machine, once.

The `transitions` machine is used as a table, not bound to a model: building or binding a machine per
request is slow, and the aggregate stays a frozen value. Guards are named in the table and evaluated
against the case's facts, so the table says everything about when an action applies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from enum import StrEnum

from transitions import Machine

from domain.errors import ActionNotAllowed, Message


class Stage(StrEnum):
    PROPOSED = "proposed"
    COORDINATED = "coordinated"
    SOCIALIZED = "socialized"
    ASSESSED = "assessed"
    DESIGNATED = "designated"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    # A designated village whose status the head of office revoked by decree: fostering ends.
    REVOKED = "revoked"


class Action(StrEnum):
    PROPOSE = "propose"
    COORDINATE = "coordinate"
    SOCIALIZE = "socialize"
    ASSESS = "assess"
    DESIGNATE = "designate"
    REJECT = "reject"
    RETURN = "return"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"


# A live candidacy holds its village; a designated one holds it while it is fostered (a revoked
# village may be proposed again, from the start).
LIVE_STAGES = frozenset({Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED})
STAGES_HOLDING_VILLAGE = LIVE_STAGES | {Stage.DESIGNATED}
# Where a case ends without its village designated.
CLOSING_STAGES = frozenset({Stage.REJECTED, Stage.WITHDRAWN})
# No step of the lifecycle leads on from these.
FINAL_STAGES = CLOSING_STAGES | {Stage.REVOKED}

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
    {"trigger": Action.REVOKE, "source": Stage.DESIGNATED, "dest": Stage.REVOKED},
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


def _guards_pass(stage: Stage, action: Action, assessment_met_criteria: bool) -> bool:
    """Whether the table's guards let `action` happen from `stage`; the guards are named facts."""
    facts = {"assessment_met_criteria": assessment_met_criteria}
    transitions = _MACHINE.get_transitions(trigger=action.value, source=stage.value)
    return any(all(facts[c.func] == c.target for c in t.conditions) for t in transitions)


@functools.cache
def available_actions(stage: Stage, assessment_met_criteria: bool) -> tuple[Action, ...]:
    """The actions the lifecycle allows from the state, guards included, whoever asks. Worked out once
    per state, as the table is fixed: every case in a reply lists its actions."""
    triggers = [Action(t) for t in _MACHINE.get_triggers(stage.value)]
    actions = [a for a in triggers if _guards_pass(stage, a, assessment_met_criteria)]
    return tuple(sorted(actions, key=_ACTION_ORDER.__getitem__))


def next_stage(
    stage: Stage, action: Action, assessment_met_criteria: bool, allowed_for_caller: Iterable[Action] = ()
) -> Stage:
    """The stage the action leads to, or `ActionNotAllowed` naming what the caller may do instead."""
    applies, destination = _outcome(stage, action, assessment_met_criteria)
    if destination is None:
        reason = (
            Message("the assessment did not find that the village meets the criteria")
            if applies
            else Message("it does not apply to a {stage} case", stage=stage)
        )
        raise ActionNotAllowed(
            Message("{action} is not allowed now: {reason}", action=action, reason=reason),
            allowed_actions=[a.value for a in allowed_for_caller],
        )
    return destination


@functools.cache
def _outcome(stage: Stage, action: Action, assessment_met_criteria: bool) -> tuple[bool, Stage | None]:
    """Whether the table has the action from the stage, and where it leads given the assessment (None:
    a guard stops it). Worked out once per state and action: a rebuild asks for every event."""
    transitions = _MACHINE.get_transitions(trigger=action.value, source=stage.value)
    if not transitions or not _guards_pass(stage, action, assessment_met_criteria):
        return bool(transitions), None
    return True, Stage(transitions[0].dest)
