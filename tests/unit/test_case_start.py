"""When a case starts: the proposer's `proposed_on` (not in the future, and no stage dated before it),
else the earliest day recorded on the case; and durations counted from that start, never negative."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from domain.actors import Actor
from domain.candidacy import Candidacy, decide
from domain.commands import CaseCommand
from domain.errors import InvalidInput
from domain.events import CandidacyDesignated, CandidacyProposed, Event
from domain.lifecycle import Stage
from events.folds import Tally
from events.store import EventMetadata, RecordedEvent, format_timestamp
from tests.unit.test_candidacy import (
    ASSESS,
    ASSESSED_MET,
    COORDINATE,
    COORDINATED,
    DESIGNATE,
    HEAD,
    NOW,
    OFFICER,
    PROPOSAL,
    PROPOSED,
    SECTION_HEAD,
    SOCIALIZE,
    SOCIALIZED,
    proposing,
)

# 15:00 UTC on 1 June: already 2 June in eastern Indonesia (WIT), still 1 June in WIB.
EVENING = dt.datetime(2024, 6, 1, 15, 0, tzinfo=dt.UTC)


# ---- the rule: proposed_on ------------------------------------------------------------------------


def test_a_proposal_records_the_day_the_case_began() -> None:
    event = proposing(replace(PROPOSAL, proposed_on=dt.date(2024, 1, 8)))
    assert event.proposed_on == dt.date(2024, 1, 8)
    assert event.to_data()["proposed_on"] == "2024-01-08"
    assert proposing().proposed_on is None


def test_proposed_on_may_not_lie_in_the_future() -> None:
    def propose_on(day: dt.date, now: dt.datetime) -> CandidacyProposed:
        return proposing(replace(PROPOSAL, proposed_on=day), now=now)

    assert propose_on(dt.date(2024, 6, 1), NOW).proposed_on == dt.date(2024, 6, 1)  # today is not
    with pytest.raises(InvalidInput) as refused:
        propose_on(dt.date(2024, 6, 2), NOW)
    assert list(refused.value.errors) == ["proposed_on"]
    assert "future" in refused.value.errors["proposed_on"][0]
    # The same calendar as every other date: the day that has begun somewhere in Indonesia.
    assert propose_on(dt.date(2024, 6, 2), EVENING).proposed_on == dt.date(2024, 6, 2)
    with pytest.raises(InvalidInput):
        propose_on(dt.date(2024, 6, 3), EVENING)


BEGAN = dt.date(2024, 2, 19)
STARTED = replace(PROPOSED, proposed_on=BEGAN)


def case_from(proposal: CandidacyProposed, stage: Stage) -> Candidacy:
    """A case proposed as given, moved to `stage` with the usual dates (19 Feb, 21 Feb, 20 Mar)."""
    steps: list[tuple[Event, Actor]] = [(proposal, OFFICER)]
    steps += [(COORDINATED, SECTION_HEAD), (SOCIALIZED, SECTION_HEAD), (ASSESSED_MET, SECTION_HEAD)]
    count = [Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED].index(stage) + 1
    return Candidacy.from_history((event, actor.person) for event, actor in steps[:count])


def test_the_case_remembers_the_day_it_began() -> None:
    assert case_from(STARTED, Stage.PROPOSED).proposed_on == BEGAN
    assert case_from(STARTED, Stage.ASSESSED).proposed_on == BEGAN
    assert case_from(PROPOSED, Stage.ASSESSED).proposed_on is None


# Each dated command, the stage it applies to, and its date field; each on the earliest day it may be.
STAGE_DATES: list[tuple[Stage, CaseCommand, str]] = [
    (Stage.PROPOSED, replace(COORDINATE, held_on=BEGAN), "held_on"),
    (Stage.COORDINATED, replace(SOCIALIZE, held_on=BEGAN), "held_on"),
    (Stage.SOCIALIZED, replace(ASSESS, assessed_on=dt.date(2024, 2, 21)), "assessed_on"),
    (Stage.ASSESSED, replace(DESIGNATE, decree_date=dt.date(2024, 3, 20)), "decree_date"),
]


@pytest.mark.parametrize(
    ("stage", "command", "field"), STAGE_DATES, ids=[f"{c.action}" for _, c, _ in STAGE_DATES]
)
def test_no_stage_is_dated_before_the_day_the_case_began(
    stage: Stage, command: CaseCommand, field: str
) -> None:
    """Begun on 19 February: the coordination may be held that day, not the day before; each later
    stage is on or after the one before it, so on or after that day too."""
    case = case_from(STARTED, stage)
    assert decide(case, command, HEAD, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        decide(case, replace(command, **{field: dt.date(2024, 2, 18)}), HEAD, now=NOW)
    assert list(refused.value.errors) == [field]
    assert "before the" in refused.value.errors[field][0]


def test_a_coordination_before_the_day_the_case_began_is_refused_saying_so() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(
            case_from(STARTED, Stage.PROPOSED),
            replace(COORDINATE, held_on=dt.date(2024, 2, 18)),
            HEAD,
            now=NOW,
        )
    assert refused.value.errors == {"held_on": ["2024-02-18 is before the proposal date (2024-02-19)"]}


def test_without_proposed_on_stages_may_be_dated_before_the_recording() -> None:
    """A case entered after the fact: its meetings happened before anyone recorded the proposal."""
    case = case_from(PROPOSED, Stage.PROPOSED)
    assert decide(case, replace(COORDINATE, held_on=dt.date(2023, 11, 2)), SECTION_HEAD, now=NOW)


# ---- the start, and the days to designation, in the read models -----------------------------------

# Recorded on 1 June 2024 (WIB), in one sitting: a case whose every step happened months before.
ENTERED_LATE = dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)
DECREE = CandidacyDesignated("SK-1", dt.date(2024, 4, 16), ("Rina Marlina",))


def fold(proposal: CandidacyProposed, *stages: Event) -> tuple[dict[str, Any], Tally]:
    """The case's row after its events, recorded a minute apart from ENTERED_LATE, and the tally
    (the register's rows among it)."""
    tally, row = Tally(), None
    for version, event in enumerate([proposal, *stages], start=1):
        at = format_timestamp(ENTERED_LATE + dt.timedelta(minutes=version))
        metadata = EventMetadata.of(OFFICER if version == 1 else HEAD, f"req-{version}")
        row = tally.apply(
            row,
            RecordedEvent.first_recorded(event, version, "candidacy", "c-1", version, metadata, at, "0" * 64),
        )
    assert row is not None
    return row, tally


def test_a_case_entered_after_the_fact_starts_on_its_earliest_date() -> None:
    """Coordinated 19 Feb, socialized 21 Feb, assessed 20 Mar, decree 16 Apr: all before 1 June."""
    row, tally = fold(PROPOSED, COORDINATED, SOCIALIZED, ASSESSED_MET, DECREE)
    assert row["proposed_on"] is None
    assert row["started_on"] == "2024-02-19"  # the coordination, not the recording (1 June)
    [designation] = tally.register
    # The decree minus the earliest date recorded on the case; counted from the recording it was -46.
    assert designation["days_to_designation"] == (dt.date(2024, 4, 16) - dt.date(2024, 2, 19)).days == 57


def test_a_case_starts_on_the_proposed_on_given() -> None:
    row, tally = fold(
        replace(PROPOSED, proposed_on=dt.date(2024, 1, 8)), COORDINATED, SOCIALIZED, ASSESSED_MET, DECREE
    )
    assert (row["proposed_on"], row["started_on"]) == ("2024-01-08", "2024-01-08")
    assert tally.register[0]["days_to_designation"] == (dt.date(2024, 4, 16) - dt.date(2024, 1, 8)).days


def test_a_case_recorded_as_it_happens_starts_on_the_day_it_was_recorded() -> None:
    assert fold(PROPOSED)[0]["started_on"] == "2024-06-01"
    # A stage dated later moves nothing; one dated earlier moves the start back to it.
    assert fold(PROPOSED, replace(COORDINATED, held_on=dt.date(2024, 6, 1)))[0]["started_on"] == "2024-06-01"
    assert fold(PROPOSED, COORDINATED)[0]["started_on"] == "2024-02-19"


def test_the_decree_bounds_the_start_even_in_a_log_that_broke_the_date_rules() -> None:
    """Old logs are read as they are: even a decree dated before every other day recorded on the case
    (no rule refused it then) gives 0 days, never a negative number."""
    early = replace(DECREE, decree_date=dt.date(2024, 1, 2))
    row, tally = fold(PROPOSED, COORDINATED, SOCIALIZED, ASSESSED_MET, early)
    assert row["started_on"] == "2024-01-02"
    assert tally.register[0]["days_to_designation"] == 0
