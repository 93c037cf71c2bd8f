"""Target decisions: only the regional supervisor of the office's region sets a target, for a year in
range, of zero villages or more; each office and year is its own stream."""

from __future__ import annotations

import datetime as dt

import pytest

from domain import targets
from domain.actors import OFFICE_ROLES, Actor, Role
from domain.errors import InvalidInput, NotFound, NotPermitted
from domain.events import REGISTRY, TargetSet
from domain.places import Office
from events.schema import events

BOGOR = Office("BOGOR", "Kantor Imigrasi Bogor", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01", "32.71"}))
SURABAYA = Office("SURABAYA", "Kantor Imigrasi Surabaya", "JATIM", "Kanwil Jawa Timur", frozenset({"35.78"}))
SUPERVISOR = Actor("sup", "Sup", Role.REGIONAL_SUPERVISOR, None, "JABAR")
NOW = dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)
BASIS = "Surat Kakanwil W11-UM.01.01-123"

NON_SUPERVISORS = [
    Actor(role.value, role.value.title(), role, "BOGOR" if role in OFFICE_ROLES else None)
    for role in Role
    if role is not Role.REGIONAL_SUPERVISOR
]


def decide(actor: Actor = SUPERVISOR, office: Office = BOGOR, **changes: object) -> TargetSet:
    args: dict = {"year": 2024, "target": 12, "basis": BASIS, "now": NOW, **changes}
    return targets.set_target(actor, office, args["year"], args["target"], args["basis"], args["now"])


def test_the_supervisor_of_the_region_sets_a_target() -> None:
    assert decide() == TargetSet(office_code="BOGOR", year=2024, target=12, basis=BASIS)
    assert targets.office_for_target(SUPERVISOR, BOGOR, "BOGOR") is BOGOR


def test_a_target_of_zero_is_a_target() -> None:
    assert decide(target=0).target == 0


def test_the_five_other_roles_are_named() -> None:
    assert {a.role for a in NON_SUPERVISORS} == set(Role) - {Role.REGIONAL_SUPERVISOR}
    assert len(NON_SUPERVISORS) == 5


@pytest.mark.parametrize("someone", NON_SUPERVISORS, ids=lambda a: a.role.value)
def test_no_other_role_sets_targets(someone: Actor) -> None:
    with pytest.raises(NotPermitted) as refused:
        targets.check_may_set_targets(someone)
    assert someone.role.value in refused.value.detail
    with pytest.raises(NotPermitted):
        targets.office_for_target(someone, BOGOR, "BOGOR")
    with pytest.raises(NotPermitted):
        decide(someone)


@pytest.mark.parametrize("someone", NON_SUPERVISORS, ids=lambda a: a.role.value)
def test_the_role_is_refused_before_the_office_is_looked_at(someone: Actor) -> None:
    """Whoever may not set targets learns nothing about which offices exist."""
    with pytest.raises(NotPermitted):
        targets.office_for_target(someone, None, "NOWHERE")
    with pytest.raises(NotPermitted):
        targets.office_for_target(someone, SURABAYA, "SURABAYA")


def test_the_supervisor_may_set_targets() -> None:
    targets.check_may_set_targets(SUPERVISOR)


def test_an_office_of_another_region_is_not_found() -> None:
    with pytest.raises(NotFound) as refused:
        targets.office_for_target(SUPERVISOR, SURABAYA, "SURABAYA")
    assert "SURABAYA" in refused.value.detail
    with pytest.raises(NotFound):
        decide(office=SURABAYA)
    jatim = Actor("jatim", "Jatim", Role.REGIONAL_SUPERVISOR, None, "JATIM")
    assert decide(jatim, SURABAYA).office_code == "SURABAYA"
    with pytest.raises(NotFound):
        decide(jatim, BOGOR)


def test_an_unknown_office_is_not_found() -> None:
    with pytest.raises(NotFound) as refused:
        targets.office_for_target(SUPERVISOR, None, "NOWHERE")
    assert "NOWHERE" in refused.value.detail


def test_another_regions_office_is_not_found_whatever_else_is_wrong() -> None:
    """Scope first: a bad year or target for an office outside the region still reads as unknown."""
    with pytest.raises(NotFound):
        decide(office=SURABAYA, year=1990, target=-1)


@pytest.mark.parametrize("year", [2000, 2001, 2023, 2024, 2025])
def test_years_from_2000_to_next_year(year: int) -> None:
    assert decide(year=year).year == year


@pytest.mark.parametrize("year", [1999, 1, 0, -2024, 2026, 2030, 9999])
def test_years_out_of_range(year: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(year=year)
    assert list(refused.value.errors) == ["year"]


def test_next_year_starts_with_the_new_year_in_the_east() -> None:
    """Today is the latest Indonesian today (WIT, UTC+9): 2026 is next year from 15:00 UTC on 31 Dec."""
    with pytest.raises(InvalidInput):
        decide(year=2026, now=dt.datetime(2024, 12, 31, 14, 59, 59, tzinfo=dt.UTC))
    assert decide(year=2026, now=dt.datetime(2024, 12, 31, 15, 0, tzinfo=dt.UTC)).year == 2026
    targets.check_target_year(2025, dt.datetime(2024, 12, 31, 14, 59, 59, tzinfo=dt.UTC))


@pytest.mark.parametrize("target", [-1, -12])
def test_a_negative_target_is_invalid(target: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(target=target)
    assert list(refused.value.errors) == ["target"]


def test_the_year_is_checked_before_the_target() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide(year=1999, target=-1)
    assert list(refused.value.errors) == ["year"]


def test_one_stream_per_office_and_year() -> None:
    assert targets.target_stream_id("BOGOR", 2024) == "target:BOGOR:2024"
    ids = {targets.target_stream_id(o, y) for o in ("BOGOR", "SUKABUMI") for y in (2024, 2025)}
    assert len(ids) == 4


def test_the_longest_stream_id_fits_the_log() -> None:
    longest = targets.target_stream_id("X" * 32, 2099)  # offices' codes are at most 32 characters
    assert len(longest) <= events.c.stream_id.type.length


def test_the_event_round_trips_through_the_registry() -> None:
    event = decide()
    assert "TargetSet" in REGISTRY
    assert event.to_data() == {"office_code": "BOGOR", "year": 2024, "target": 12, "basis": BASIS}
    assert REGISTRY.decode("TargetSet", 1, event.to_data()) == event
