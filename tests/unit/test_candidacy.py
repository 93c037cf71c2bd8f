"""The candidacy aggregate: proposals, decisions on a case, and the state folded from its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from domain.actors import OFFICE_ROLES, Actor, Person, Role
from domain.candidacy import Candidacy, allowed_actions, awaited_actions, decide, propose
from domain.commands import (
    Assess,
    CaseCommand,
    Coordinate,
    Designate,
    Indicators,
    ProposeCandidacy,
    Reject,
    Return,
    Socialize,
    Withdraw,
)
from domain.criteria import Criterion
from domain.errors import ActionNotAllowed, InvalidInput, NotPermitted, RuleBroken, StaleVersion
from domain.events import (
    CandidacyAssessed,
    CandidacyCoordinated,
    CandidacyDesignated,
    CandidacyProposed,
    CandidacyRejected,
    CandidacyReturned,
    CandidacyRevoked,
    CandidacySocialized,
    CandidacyWithdrawn,
    Event,
)
from domain.lifecycle import Action, Stage
from domain.places import Office, Village

# 2024-06-01 10:00 in WIT: the latest "today" anywhere in Indonesia is 2024-06-01.
NOW = dt.datetime(2024, 6, 1, 1, 0, tzinfo=dt.UTC)

BOGOR = Office("BOGOR", "Kantor Imigrasi Bogor", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01", "32.71"}))
TUGU = Village("32.01.25.2006", "Tugu Selatan", "Cisarua", "Kabupaten Bogor", "Jawa Barat")
TONJONG = Village("32.02.01.2002", "Tonjong", "Palabuhanratu", "Kabupaten Sukabumi", "Jawa Barat")


def person(username: str, role: Role, office: str | None = "BOGOR", region: str | None = None) -> Actor:
    return Actor(username, username.replace("_", " ").title(), role, office, region)


OFFICER = person("officer", Role.OFFICER)
SECTION_HEAD = person("section_head", Role.SECTION_HEAD)
HEAD = person("head", Role.HEAD_OF_OFFICE)
ACTING_HEAD = person("acting_head", Role.HEAD_OF_OFFICE)
SUPERVISOR = person("supervisor", Role.REGIONAL_SUPERVISOR, office=None, region="JABAR")
AUDITOR = person("auditor", Role.AUDITOR, office=None)
ADMIN = person("admin", Role.ADMIN, office=None)
ONE_PER_ROLE = {a.role: a for a in [OFFICER, SECTION_HEAD, HEAD, SUPERVISOR, AUDITOR, ADMIN]}

INDICATORS = Indicators(
    migrant_workers=412, prospective_migrant_workers=160, trafficking_cases=3, border_area=False
)
PROPOSAL = ProposeCandidacy(
    village_code=TUGU.code,
    office_code="BOGOR",
    rationale="Kantong PMI; kasus TPPO tercatat.",
    indicators=INDICATORS,
)


def proposing(
    command: ProposeCandidacy = PROPOSAL,
    actor: Actor = OFFICER,
    *,
    office: Office | None = BOGOR,
    registry_village: Village | None = TUGU,
    registry_loaded: bool = True,
    holding_stage: Stage | None = None,
    now: dt.datetime = NOW,
) -> CandidacyProposed:
    return propose(
        command,
        actor,
        candidacy_id="c-1",
        office=office,
        registry_village=registry_village,
        registry_loaded=registry_loaded,
        holding_stage=holding_stage,
        now=now,
    )


# ---- propose ----------------------------------------------------------------------------------


def test_a_proposal_records_the_registry_village_and_the_office() -> None:
    event = proposing()
    assert event == CandidacyProposed(
        candidacy_id="c-1",
        village=TUGU.as_data(),
        office_code="BOGOR",
        region_code="JABAR",
        rationale="Kantong PMI; kasus TPPO tercatat.",
        indicators={
            "migrant_workers": 412,
            "prospective_migrant_workers": 160,
            "trafficking_cases": 3,
            "border_area": False,
        },
    )


@pytest.mark.parametrize("actor", [OFFICER, SECTION_HEAD, HEAD], ids=lambda a: a.role.value)
def test_office_roles_propose(actor: Actor) -> None:
    assert proposing(actor=actor).candidacy_id == "c-1"


@pytest.mark.parametrize("actor", [SUPERVISOR, AUDITOR, ADMIN], ids=lambda a: a.role.value)
def test_other_roles_do_not_propose(actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        proposing(actor=actor)


def test_a_proposal_only_for_ones_own_office() -> None:
    with pytest.raises(NotPermitted):
        proposing(replace(PROPOSAL, office_code="SUKABUMI"), person("officer", Role.OFFICER, office="BOGOR"))


def test_a_proposal_for_an_unknown_office() -> None:
    ghost = person("ghost_officer", Role.OFFICER, office="GHOST")
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, office_code="GHOST"), ghost, office=None)
    assert list(refused.value.errors) == ["office_code"]


def test_a_proposal_with_a_badly_shaped_code() -> None:
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, village_code="32.01.25.4006"), registry_village=None)
    assert list(refused.value.errors) == ["village_code"]
    assert "PP.KK.CC.DDDD" in refused.value.errors["village_code"][0]


def test_a_code_the_loaded_registry_does_not_know() -> None:
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, village_code="32.01.25.2999"), registry_village=None)
    assert list(refused.value.errors) == ["village_code"]
    assert "not in the village registry" in refused.value.errors["village_code"][0]


def test_the_loaded_registry_names_the_village() -> None:
    for given in (None, "Tugu Selatan", "TUGU  selatan"):
        event = proposing(replace(PROPOSAL, village_name=given))
        assert event.village == TUGU.as_data()
        assert event.village["name"] == "Tugu Selatan"


def test_a_name_that_disagrees_with_the_loaded_registry_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, village_name="Desa Salah Nama"))
    [message] = refused.value.errors["village_name"]
    assert "'Tugu Selatan'" in message and "'Desa Salah Nama'" in message


@pytest.mark.parametrize("village_name", [None, ""])
def test_without_a_registry_the_proposer_must_name_the_village(village_name: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, village_name=village_name), registry_village=None, registry_loaded=False)
    assert list(refused.value.errors) == ["village_name"]


def test_without_a_registry_the_proposers_name_is_recorded() -> None:
    event = proposing(
        replace(PROPOSAL, village_name="Tugu Selatan"), registry_village=None, registry_loaded=False
    )
    assert event.village == {
        "code": "32.01.25.2006",
        "name": "Tugu Selatan",
        "district": None,
        "regency": None,
        "province": None,
    }


def test_a_village_outside_the_working_area() -> None:
    with pytest.raises(InvalidInput) as refused:
        proposing(replace(PROPOSAL, village_code=TONJONG.code), registry_village=TONJONG)
    assert list(refused.value.errors) == ["village_code"]
    assert "outside the working area" in refused.value.errors["village_code"][0]


@pytest.mark.parametrize(
    ("holding_stage", "rule"),
    [
        (Stage.PROPOSED, "duplicate_candidacy"),
        (Stage.ASSESSED, "duplicate_candidacy"),
        (Stage.DESIGNATED, "village_designated"),
    ],
)
def test_a_held_village_cannot_be_proposed(holding_stage: Stage, rule: str) -> None:
    with pytest.raises(RuleBroken) as refused:
        proposing(holding_stage=holding_stage)
    assert refused.value.rule == rule


def test_proposal_checks_the_office_before_the_village() -> None:
    # Another office's officer naming a bad code is refused for the office first (403, not 422).
    with pytest.raises(NotPermitted):
        proposing(replace(PROPOSAL, office_code="SUKABUMI", village_code="bad"), registry_village=None)


# ---- a case's history -------------------------------------------------------------------------

PROPOSED = CandidacyProposed(
    candidacy_id="c-1",
    village=TUGU.as_data(),
    office_code="BOGOR",
    region_code="JABAR",
    rationale="Kantong PMI.",
    indicators={"migrant_workers": 412},
)
COORDINATED = CandidacyCoordinated(
    held_on=dt.date(2024, 2, 19),
    venue="Aula Kantor Imigrasi Bogor",
    agencies=("Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"),
    minutes_ref="UND-0219",
)
SOCIALIZED = CandidacySocialized(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85)
ASSESSED_MET = CandidacyAssessed(
    assessed_on=dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"migrant_worker_base": True}
)
ASSESSED_NOT_MET = replace(ASSESSED_MET, score=40, meets_criteria=False)
RETURNED = CandidacyReturned(reason="Penilaian ulang diperlukan.")


def history(*events: tuple[Event, Actor]) -> Candidacy:
    return Candidacy.from_history((event, actor.person) for event, actor in events)


def case_at(
    stage: Stage, *, met: bool = True, proposer: Actor = OFFICER, assessor: Actor = SECTION_HEAD
) -> Candidacy:
    steps: list[tuple[Event, Actor]] = [(PROPOSED, proposer)]
    if stage is Stage.PROPOSED:
        return history(*steps)
    steps.append((COORDINATED, SECTION_HEAD))
    if stage is Stage.COORDINATED:
        return history(*steps)
    steps.append((SOCIALIZED, SECTION_HEAD))
    if stage is Stage.SOCIALIZED:
        return history(*steps)
    steps.append((ASSESSED_MET if met else ASSESSED_NOT_MET, assessor))
    if stage is Stage.ASSESSED:
        return history(*steps)
    designated = CandidacyDesignated("SK-1", dt.date(2024, 4, 16), ("Rina Marlina",))
    if stage is Stage.REVOKED:
        revoked = CandidacyRevoked("Desa tidak lagi aktif.", "SK-9", dt.date(2024, 5, 20))
        return history(*steps, (designated, HEAD), (revoked, HEAD))
    closing = {
        Stage.DESIGNATED: designated,
        Stage.REJECTED: CandidacyRejected("Tidak memenuhi kriteria."),
        Stage.WITHDRAWN: CandidacyWithdrawn("Data tidak terkonfirmasi."),
    }
    return history(*steps, (closing[stage], HEAD))


def test_folding_a_history() -> None:
    case = history((PROPOSED, OFFICER))
    assert (case.id, case.version, case.stage) == ("c-1", 1, Stage.PROPOSED)
    assert (case.village_code, case.office_code, case.region_code) == (TUGU.code, "BOGOR", "JABAR")
    assert case.proposed_by.username == "officer"
    assert case.assessed_by is None

    case = history((PROPOSED, OFFICER), (COORDINATED, SECTION_HEAD), (SOCIALIZED, HEAD), (ASSESSED_MET, HEAD))
    assert (case.version, case.stage) == (4, Stage.ASSESSED)
    assert case.proposed_by.username == "officer"
    assert case.assessed_by.username == "head"
    assert case.assessment_met_criteria is True
    assert case.coordinated_on == dt.date(2024, 2, 19)
    assert case.socialized_on == dt.date(2024, 2, 21)
    assert case.assessed_on == dt.date(2024, 3, 20)


@pytest.mark.parametrize("stage", list(Stage))
def test_each_stage_is_reached_by_its_history(stage: Stage) -> None:
    expected_version = {
        Stage.PROPOSED: 1,
        Stage.COORDINATED: 2,
        Stage.SOCIALIZED: 3,
        Stage.ASSESSED: 4,
        Stage.DESIGNATED: 5,
        Stage.REJECTED: 5,
        Stage.WITHDRAWN: 5,
        Stage.REVOKED: 6,
    }[stage]
    case = case_at(stage)
    assert (case.stage, case.version) == (stage, expected_version)


def test_an_assessment_that_failed_is_remembered() -> None:
    assert case_at(Stage.ASSESSED, met=False).assessment_met_criteria is False


def test_a_return_clears_the_assessment_and_keeps_the_earlier_stages() -> None:
    case = case_at(Stage.ASSESSED).apply(RETURNED, "head")
    assert (case.stage, case.version) == (Stage.SOCIALIZED, 5)
    assert case.assessed_by is None
    assert case.assessed_on is None
    assert case.assessment_met_criteria is False
    assert case.socialized_on == dt.date(2024, 2, 21)
    assert case.coordinated_on == dt.date(2024, 2, 19)
    assert case.proposed_by.username == "officer"


def test_a_history_must_start_with_a_proposal() -> None:
    with pytest.raises(ValueError):
        Candidacy.from_history([])
    with pytest.raises(ValueError):
        Candidacy.from_history([(COORDINATED, Person(None, "section_head"))])


def test_a_history_that_breaks_the_lifecycle_does_not_fold() -> None:
    with pytest.raises(ActionNotAllowed):
        history((PROPOSED, OFFICER), (SOCIALIZED, SECTION_HEAD))
    with pytest.raises(ActionNotAllowed):
        history((PROPOSED, OFFICER), (PROPOSED, OFFICER))


# ---- decide -----------------------------------------------------------------------------------

COORDINATE = Coordinate(
    held_on=dt.date(2024, 2, 19),
    venue="Aula Kantor Imigrasi Bogor",
    agencies=("Pengadilan Negeri Cibinong", "Polres Bogor"),
    minutes_ref="UND-0219",
    notes="Dimoderatori Kasi Inteldakim.",
)
SOCIALIZE = Socialize(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85, topics=("TPPO",))
ASSESS = Assess(
    assessed_on=dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"migrant_worker_base": True}
)
DESIGNATE = Designate(
    decree_number="W11.IMI.IMI.4-UM.01.01-0416",
    decree_date=dt.date(2024, 4, 16),
    fostering_officers=("Rina Marlina",),
)
REJECT = Reject(reason="Tidak memenuhi kriteria.")
RETURN = Return(reason="Penilaian ulang diperlukan.")
WITHDRAW = Withdraw(reason="Data tidak terkonfirmasi.")


@pytest.mark.parametrize(
    ("stage", "command", "expected", "next_stage"),
    [
        (
            Stage.PROPOSED,
            COORDINATE,
            CandidacyCoordinated(
                held_on=dt.date(2024, 2, 19),
                venue="Aula Kantor Imigrasi Bogor",
                agencies=("Pengadilan Negeri Cibinong", "Polres Bogor"),
                minutes_ref="UND-0219",
                notes="Dimoderatori Kasi Inteldakim.",
            ),
            Stage.COORDINATED,
        ),
        (
            Stage.COORDINATED,
            SOCIALIZE,
            CandidacySocialized(
                held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85, topics=("TPPO",)
            ),
            Stage.SOCIALIZED,
        ),
        (
            Stage.SOCIALIZED,
            ASSESS,
            CandidacyAssessed(
                assessed_on=dt.date(2024, 3, 20),
                score=86,
                meets_criteria=True,
                criteria={"migrant_worker_base": True},
            ),
            Stage.ASSESSED,
        ),
        (
            Stage.ASSESSED,
            DESIGNATE,
            CandidacyDesignated(
                decree_number="W11.IMI.IMI.4-UM.01.01-0416",
                decree_date=dt.date(2024, 4, 16),
                fostering_officers=("Rina Marlina",),
            ),
            Stage.DESIGNATED,
        ),
        (Stage.ASSESSED, REJECT, CandidacyRejected(reason="Tidak memenuhi kriteria."), Stage.REJECTED),
        (Stage.ASSESSED, RETURN, CandidacyReturned(reason="Penilaian ulang diperlukan."), Stage.SOCIALIZED),
        (Stage.PROPOSED, WITHDRAW, CandidacyWithdrawn(reason="Data tidak terkonfirmasi."), Stage.WITHDRAWN),
        (Stage.ASSESSED, WITHDRAW, CandidacyWithdrawn(reason="Data tidak terkonfirmasi."), Stage.WITHDRAWN),
    ],
    ids=lambda v: v.__class__.__name__ if isinstance(v, Event | CaseCommand) else str(v),
)
def test_decide_every_command(stage: Stage, command: CaseCommand, expected: Event, next_stage: Stage) -> None:
    case = case_at(stage)
    event = decide(case, command, HEAD, now=NOW, expected_version=case.version)
    assert event == expected
    assert case.apply(event, HEAD.person).stage is next_stage


def test_the_assessments_criteria_are_copied() -> None:
    criteria = {"poverty": True}
    event = decide(case_at(Stage.SOCIALIZED), replace(ASSESS, criteria=criteria), SECTION_HEAD, now=NOW)
    criteria["poverty"] = False
    assert isinstance(event, CandidacyAssessed)
    assert event.criteria == {"poverty": True}


def test_an_assessment_may_name_any_of_the_criteria() -> None:
    every = {criterion.value: index % 2 == 0 for index, criterion in enumerate(Criterion)}
    assert len(every) == 5
    for criteria in [every, {"border_or_port": False}, {"village_commitment": True, "poverty": False}]:
        event = decide(case_at(Stage.SOCIALIZED), replace(ASSESS, criteria=criteria), SECTION_HEAD, now=NOW)
        assert isinstance(event, CandidacyAssessed)
        assert event.criteria == criteria


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"banyak_pmi": True}, "criteria.banyak_pmi"),
        ({"poverty": True, "Poverty": True}, "criteria.Poverty"),
        ({"poverty": "ya"}, "criteria.poverty"),
        ({"poverty": 1}, "criteria.poverty"),
        ({}, "criteria"),
    ],
)
def test_an_assessment_names_only_the_fixed_criteria_each_true_or_false(
    criteria: dict[str, object], field: str
) -> None:
    command = replace(ASSESS, criteria=criteria)
    with pytest.raises(InvalidInput) as refused:
        decide(case_at(Stage.SOCIALIZED), command, SECTION_HEAD, now=NOW)  # type: ignore[arg-type]
    assert list(refused.value.errors) == [field]
    if field != "criteria.poverty":
        # The message says which names there are.
        assert all(c.value in refused.value.errors[field][0] for c in Criterion)


def test_an_old_assessment_with_other_criteria_still_folds() -> None:
    """Assessments recorded before the set was fixed are read as they are: the set binds new ones."""
    old = replace(ASSESSED_MET, criteria={"banyak_pmi": True, "rawan_tppo": False})
    case = history((PROPOSED, OFFICER), (COORDINATED, SECTION_HEAD), (SOCIALIZED, HEAD), (old, HEAD))
    assert (case.stage, case.assessment_met_criteria) == (Stage.ASSESSED, True)
    assert isinstance(decide(case, DESIGNATE, ACTING_HEAD, now=NOW), CandidacyDesignated)


@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (OFFICER, COORDINATE),
        (OFFICER, WITHDRAW),
        (SECTION_HEAD, DESIGNATE),
        (SECTION_HEAD, REJECT),
        (SECTION_HEAD, RETURN),
        (SUPERVISOR, COORDINATE),
        (AUDITOR, WITHDRAW),
        (ADMIN, DESIGNATE),
    ],
    ids=lambda v: v.role.value if isinstance(v, Actor) else type(v).__name__,
)
def test_decide_refuses_roles_that_may_not_act(actor: Actor, command: CaseCommand) -> None:
    with pytest.raises(NotPermitted):
        decide(case_at(Stage.ASSESSED), command, actor, now=NOW)


# The order of checks: permission (403), version (412), stage (409), field rules (422), four eyes (409).
def test_permission_is_checked_before_the_version() -> None:
    with pytest.raises(NotPermitted):
        decide(case_at(Stage.DESIGNATED), COORDINATE, OFFICER, now=NOW, expected_version=99)


def test_the_version_is_checked_before_the_stage() -> None:
    with pytest.raises(StaleVersion) as stale:
        decide(case_at(Stage.DESIGNATED), COORDINATE, HEAD, now=NOW, expected_version=99)
    assert (stale.value.expected, stale.value.actual) == (99, 5)


def test_the_stage_is_checked_before_the_fields() -> None:
    future = replace(DESIGNATE, decree_date=dt.date(2030, 1, 1))
    with pytest.raises(ActionNotAllowed) as refused:
        decide(case_at(Stage.PROPOSED), future, HEAD, now=NOW, expected_version=1)
    assert refused.value.allowed_actions == ["coordinate", "withdraw"]


def test_the_fields_are_checked_before_four_eyes() -> None:
    case = case_at(Stage.ASSESSED, assessor=HEAD)
    with pytest.raises(InvalidInput):
        decide(case, replace(DESIGNATE, decree_date=dt.date(2030, 1, 1)), HEAD, now=NOW)
    with pytest.raises(RuleBroken):
        decide(case, DESIGNATE, HEAD, now=NOW)


@pytest.mark.parametrize(
    ("stage", "actor", "command", "allowed"),
    [
        (Stage.PROPOSED, SECTION_HEAD, SOCIALIZE, ["coordinate", "withdraw"]),
        (Stage.ASSESSED, SECTION_HEAD, ASSESS, ["withdraw"]),
        (Stage.ASSESSED, HEAD, COORDINATE, ["designate", "reject", "return", "withdraw"]),
        (Stage.DESIGNATED, HEAD, WITHDRAW, ["revoke"]),
        (Stage.REVOKED, HEAD, WITHDRAW, []),
        (Stage.WITHDRAWN, SECTION_HEAD, WITHDRAW, []),
    ],
)
def test_a_refused_action_lists_what_the_caller_may_do(
    stage: Stage, actor: Actor, command: CaseCommand, allowed: list[str]
) -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        decide(case_at(stage), command, actor, now=NOW)
    assert refused.value.allowed_actions == allowed


def test_no_designation_when_the_criteria_were_not_met() -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        decide(case_at(Stage.ASSESSED, met=False), DESIGNATE, HEAD, now=NOW)
    assert refused.value.allowed_actions == ["reject", "return", "withdraw"]


def test_socialization_not_before_the_coordination() -> None:
    case = case_at(Stage.COORDINATED)
    with pytest.raises(InvalidInput) as refused:
        decide(case, replace(SOCIALIZE, held_on=dt.date(2024, 2, 18)), HEAD, now=NOW)
    assert list(refused.value.errors) == ["held_on"]
    decide(case, replace(SOCIALIZE, held_on=dt.date(2024, 2, 19)), HEAD, now=NOW)


def test_assessment_not_before_the_socialization() -> None:
    case = case_at(Stage.SOCIALIZED)
    with pytest.raises(InvalidInput) as refused:
        decide(case, replace(ASSESS, assessed_on=dt.date(2024, 2, 20)), HEAD, now=NOW)
    assert list(refused.value.errors) == ["assessed_on"]
    decide(case, replace(ASSESS, assessed_on=dt.date(2024, 2, 21)), HEAD, now=NOW)


def test_decree_not_before_the_assessment() -> None:
    case = case_at(Stage.ASSESSED)
    with pytest.raises(InvalidInput) as refused:
        decide(case, replace(DESIGNATE, decree_date=dt.date(2024, 3, 19)), HEAD, now=NOW)
    assert list(refused.value.errors) == ["decree_date"]
    decide(case, replace(DESIGNATE, decree_date=dt.date(2024, 3, 20)), HEAD, now=NOW)


# Each dated command on the stage it applies to, and the name of its date field.
DATED = [
    (Stage.PROPOSED, COORDINATE, "held_on"),
    (Stage.COORDINATED, SOCIALIZE, "held_on"),
    (Stage.SOCIALIZED, ASSESS, "assessed_on"),
    (Stage.ASSESSED, DESIGNATE, "decree_date"),
]


@pytest.mark.parametrize(("stage", "command", "field"), DATED, ids=[f"{c.action}" for _, c, _ in DATED])
def test_dates_may_not_lie_in_the_future(stage: Stage, command: CaseCommand, field: str) -> None:
    case = case_at(stage)
    # 15:00 UTC on 1 June: already 2 June in WIT, still 1 June in WIB.
    now = dt.datetime(2024, 6, 1, 15, 0, tzinfo=dt.UTC)
    decide(case, replace(command, **{field: dt.date(2024, 6, 2)}), HEAD, now=now)
    with pytest.raises(InvalidInput) as refused:
        decide(case, replace(command, **{field: dt.date(2024, 6, 3)}), HEAD, now=now)
    assert list(refused.value.errors) == [field]


def test_four_eyes_the_proposer_may_not_designate() -> None:
    case = case_at(Stage.ASSESSED, proposer=HEAD, assessor=SECTION_HEAD)
    with pytest.raises(RuleBroken) as refused:
        decide(case, DESIGNATE, HEAD, now=NOW)
    assert refused.value.rule == "four_eyes"


def test_four_eyes_the_assessor_may_not_designate() -> None:
    case = case_at(Stage.ASSESSED, proposer=OFFICER, assessor=HEAD)
    with pytest.raises(RuleBroken) as refused:
        decide(case, DESIGNATE, HEAD, now=NOW)
    assert refused.value.rule == "four_eyes"


def test_four_eyes_an_acting_head_may_designate_what_the_head_proposed_and_assessed() -> None:
    case = case_at(Stage.ASSESSED, proposer=HEAD, assessor=HEAD)
    assert isinstance(decide(case, DESIGNATE, ACTING_HEAD, now=NOW), CandidacyDesignated)


def test_a_returned_assessment_no_longer_binds_its_assessor() -> None:
    # The head assessed, sent it back, and the acting head assessed again: the head now approves
    # the acting head's assessment, not his own.
    case = history(
        (PROPOSED, OFFICER),
        (COORDINATED, SECTION_HEAD),
        (SOCIALIZED, SECTION_HEAD),
        (ASSESSED_MET, HEAD),
    )
    with pytest.raises(RuleBroken):
        decide(case, DESIGNATE, HEAD, now=NOW)
    case = case.apply(decide(case, RETURN, HEAD, now=NOW), HEAD.person)
    reassessment = decide(case, replace(ASSESS, assessed_on=dt.date(2024, 4, 1)), ACTING_HEAD, now=NOW)
    case = case.apply(reassessment, ACTING_HEAD.person)
    assert (case.stage, case.version, case.assessed_by) == (Stage.ASSESSED, 6, ACTING_HEAD.person)
    # The decree follows the new assessment's date, not the returned one's.
    with pytest.raises(InvalidInput):
        decide(case, replace(DESIGNATE, decree_date=dt.date(2024, 3, 25)), HEAD, now=NOW)
    assert isinstance(
        decide(case, replace(DESIGNATE, decree_date=dt.date(2024, 4, 2)), HEAD, now=NOW), CandidacyDesignated
    )
    with pytest.raises(RuleBroken):
        decide(case, DESIGNATE, ACTING_HEAD, now=NOW)


def test_a_reassessment_is_still_not_before_the_socialization() -> None:
    case = history(
        (PROPOSED, OFFICER), (COORDINATED, SECTION_HEAD), (SOCIALIZED, SECTION_HEAD), (ASSESSED_MET, HEAD)
    ).apply(RETURNED, "head")
    with pytest.raises(InvalidInput):
        decide(case, replace(ASSESS, assessed_on=dt.date(2024, 2, 20)), SECTION_HEAD, now=NOW)


# ---- allowed_actions --------------------------------------------------------------------------

A = Action
ALLOWED_BY_ROLE: dict[tuple[Stage, bool], dict[Role, list[Action]]] = {
    (Stage.PROPOSED, True): {
        Role.SECTION_HEAD: [A.COORDINATE, A.WITHDRAW],
        Role.HEAD_OF_OFFICE: [A.COORDINATE, A.WITHDRAW],
    },
    (Stage.COORDINATED, True): {
        Role.SECTION_HEAD: [A.SOCIALIZE, A.WITHDRAW],
        Role.HEAD_OF_OFFICE: [A.SOCIALIZE, A.WITHDRAW],
    },
    (Stage.SOCIALIZED, True): {
        Role.SECTION_HEAD: [A.ASSESS, A.WITHDRAW],
        Role.HEAD_OF_OFFICE: [A.ASSESS, A.WITHDRAW],
    },
    (Stage.ASSESSED, True): {
        Role.SECTION_HEAD: [A.WITHDRAW],
        Role.HEAD_OF_OFFICE: [A.DESIGNATE, A.REJECT, A.RETURN, A.WITHDRAW],
    },
    (Stage.ASSESSED, False): {
        Role.SECTION_HEAD: [A.WITHDRAW],
        Role.HEAD_OF_OFFICE: [A.REJECT, A.RETURN, A.WITHDRAW],
    },
    (Stage.DESIGNATED, True): {Role.HEAD_OF_OFFICE: [A.REVOKE]},
    (Stage.REJECTED, True): {},
    (Stage.WITHDRAWN, True): {},
    (Stage.REVOKED, True): {},
}


@pytest.mark.parametrize(("stage", "met"), list(ALLOWED_BY_ROLE))
@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_for_each_role(stage: Stage, met: bool, role: Role) -> None:
    # Officers, supervisors, auditors and admins never act on a case: absent roles expect [].
    expected = ALLOWED_BY_ROLE[(stage, met)].get(role, [])
    someone = person("someone", role, office=None if role not in OFFICE_ROLES else "BOGOR")
    assert (
        allowed_actions(stage, met, someone, Person(None, "officer"), Person(None, "section_head"))
        == expected
    )


@pytest.mark.parametrize(("proposer", "assessor"), [(OFFICER, HEAD), (HEAD, SECTION_HEAD), (HEAD, HEAD)])
def test_designate_is_not_offered_to_whoever_proposed_or_assessed(proposer: Actor, assessor: Actor) -> None:
    """Four eyes: the list says what this person may do, so the head who proposed or assessed the
    case is not offered `designate`, and the acting head is."""
    case = case_at(Stage.ASSESSED, proposer=proposer, assessor=assessor)
    facts = (case.stage, case.assessment_met_criteria)
    assert allowed_actions(*facts, HEAD, case.proposed_by, case.assessed_by) == [
        A.REJECT,
        A.RETURN,
        A.WITHDRAW,
    ]
    assert A.DESIGNATE in allowed_actions(*facts, ACTING_HEAD, case.proposed_by, case.assessed_by)
    with pytest.raises(RuleBroken):
        decide(case, DESIGNATE, HEAD, now=NOW)


# ---- what a case waits for -------------------------------------------------------------------------


def test_a_case_waits_for_its_next_step_or_a_decision_never_for_a_withdrawal() -> None:
    assert awaited_actions([Action.COORDINATE, Action.WITHDRAW]) == [Action.COORDINATE]
    assert awaited_actions([Action.WITHDRAW]) == []
    decision = [Action.DESIGNATE, Action.REJECT, Action.RETURN, Action.WITHDRAW]
    assert awaited_actions(decision) == [Action.DESIGNATE, Action.REJECT, Action.RETURN]


def test_an_officer_has_no_case_waiting_for_them() -> None:
    for stage in (Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED):
        allowed = allowed_actions(stage, True, OFFICER, SECTION_HEAD.person, None)
        assert awaited_actions(allowed) == []
