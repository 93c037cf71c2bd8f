"""The lifecycle table: which action leads where, and what is refused from each stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from domain.errors import ActionNotAllowed
from domain.lifecycle import (
    FINAL_STAGES,
    LIVE_STAGES,
    STAGES_HOLDING_VILLAGE,
    Action,
    Stage,
    available_actions,
    next_stage,
)


@dataclass(frozen=True)
class State:
    """What the lifecycle reads of a case: its stage and the assessment's verdict."""

    stage: Stage
    assessment_met_criteria: bool = False


def following(state: State, action: Action, allowed_for_caller: Iterable[Action] = ()) -> Stage:
    return next_stage(state.stage, action, state.assessment_met_criteria, allowed_for_caller)


def available(state: State) -> list[Action]:
    return list(available_actions(state.stage, state.assessment_met_criteria))


# Written from mission.md's diagram, independently of domain.lifecycle.TRANSITIONS.
EXPECTED: dict[tuple[Stage, Action], Stage] = {
    (Stage.PROPOSED, Action.COORDINATE): Stage.COORDINATED,
    (Stage.COORDINATED, Action.SOCIALIZE): Stage.SOCIALIZED,
    (Stage.SOCIALIZED, Action.ASSESS): Stage.ASSESSED,
    (Stage.ASSESSED, Action.DESIGNATE): Stage.DESIGNATED,
    (Stage.ASSESSED, Action.REJECT): Stage.REJECTED,
    (Stage.ASSESSED, Action.RETURN): Stage.SOCIALIZED,
    (Stage.PROPOSED, Action.WITHDRAW): Stage.WITHDRAWN,
    (Stage.COORDINATED, Action.WITHDRAW): Stage.WITHDRAWN,
    (Stage.SOCIALIZED, Action.WITHDRAW): Stage.WITHDRAWN,
    (Stage.ASSESSED, Action.WITHDRAW): Stage.WITHDRAWN,
    # From the fostering issue: the head of office revokes a designated village's status by decree.
    (Stage.DESIGNATED, Action.REVOKE): Stage.REVOKED,
}

# In the order clients are shown them (the lifecycle's order), for an assessment that met the criteria.
EXPECTED_AVAILABLE: dict[Stage, list[Action]] = {
    Stage.PROPOSED: [Action.COORDINATE, Action.WITHDRAW],
    Stage.COORDINATED: [Action.SOCIALIZE, Action.WITHDRAW],
    Stage.SOCIALIZED: [Action.ASSESS, Action.WITHDRAW],
    Stage.ASSESSED: [Action.DESIGNATE, Action.REJECT, Action.RETURN, Action.WITHDRAW],
    Stage.DESIGNATED: [Action.REVOKE],
    Stage.REJECTED: [],
    Stage.WITHDRAWN: [],
    Stage.REVOKED: [],
}

NOT_ALLOWED = [(stage, action) for stage in Stage for action in Action if (stage, action) not in EXPECTED]


@pytest.mark.parametrize(("source", "action", "dest"), [(s, a, d) for (s, a), d in EXPECTED.items()])
def test_every_transition_leads_to_its_stage(source: Stage, action: Action, dest: Stage) -> None:
    assert following(State(source, assessment_met_criteria=True), action) is dest


@pytest.mark.parametrize(("stage", "action"), NOT_ALLOWED)
def test_actions_outside_the_table_are_refused(stage: Stage, action: Action) -> None:
    for met in (False, True):
        state = State(stage, assessment_met_criteria=met)
        caller_may = available(state)
        with pytest.raises(ActionNotAllowed) as refused:
            following(state, action, allowed_for_caller=caller_may)
        assert refused.value.allowed_actions == [a.value for a in caller_may]
        assert action.value in refused.value.detail
        assert f"does not apply to a {stage.value} case" in refused.value.detail


def test_refusal_lists_only_what_the_caller_was_said_to_be_allowed() -> None:
    # The caller's role narrows the list: the lifecycle does not add actions of its own.
    with pytest.raises(ActionNotAllowed) as refused:
        following(State(Stage.PROPOSED), Action.DESIGNATE, allowed_for_caller=[Action.WITHDRAW])
    assert refused.value.allowed_actions == ["withdraw"]


def test_refusal_with_no_allowed_actions_lists_none() -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        following(State(Stage.DESIGNATED), Action.WITHDRAW)
    assert refused.value.allowed_actions == []


@pytest.mark.parametrize("stage", list(Stage))
def test_available_actions_for_every_stage(stage: Stage) -> None:
    assert available(State(stage, assessment_met_criteria=True)) == EXPECTED_AVAILABLE[stage]


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.ASSESSED])
def test_the_assessment_verdict_matters_only_once_assessed(stage: Stage) -> None:
    assert available(State(stage, assessment_met_criteria=False)) == EXPECTED_AVAILABLE[stage]


def test_an_assessment_that_did_not_meet_the_criteria_cannot_be_designated() -> None:
    state = State(Stage.ASSESSED, assessment_met_criteria=False)
    assert available(state) == [Action.REJECT, Action.RETURN, Action.WITHDRAW]
    with pytest.raises(ActionNotAllowed) as refused:
        following(state, Action.DESIGNATE, allowed_for_caller=available(state))
    assert "meets the criteria" in refused.value.detail
    assert refused.value.allowed_actions == ["reject", "return", "withdraw"]


def test_an_assessment_that_met_the_criteria_can_be_designated() -> None:
    state = State(Stage.ASSESSED, assessment_met_criteria=True)
    assert Action.DESIGNATE in available(state)
    assert following(state, Action.DESIGNATE) is Stage.DESIGNATED


@pytest.mark.parametrize("met", [False, True])
def test_reject_and_return_do_not_depend_on_the_verdict(met: bool) -> None:
    state = State(Stage.ASSESSED, assessment_met_criteria=met)
    assert following(state, Action.REJECT) is Stage.REJECTED
    assert following(state, Action.RETURN) is Stage.SOCIALIZED


@pytest.mark.parametrize("stage", [Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED])
def test_withdraw_from_every_live_stage(stage: Stage) -> None:
    assert following(State(stage), Action.WITHDRAW) is Stage.WITHDRAWN


@pytest.mark.parametrize("stage", [Stage.DESIGNATED, Stage.REJECTED, Stage.WITHDRAWN])
def test_no_withdraw_once_closed(stage: Stage) -> None:
    with pytest.raises(ActionNotAllowed):
        following(State(stage, assessment_met_criteria=True), Action.WITHDRAW)


def test_propose_is_never_a_transition() -> None:
    # A proposal starts a case; it is never an action on one.
    for stage in Stage:
        assert Action.PROPOSE not in available(State(stage, assessment_met_criteria=True))


def test_stage_groups() -> None:
    assert {Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED} == LIVE_STAGES
    assert {Stage.REJECTED, Stage.WITHDRAWN, Stage.REVOKED} == FINAL_STAGES
    assert LIVE_STAGES | {Stage.DESIGNATED} == STAGES_HOLDING_VILLAGE
    assert set(Stage) == LIVE_STAGES | {Stage.DESIGNATED} | FINAL_STAGES
