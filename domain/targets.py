"""Yearly performance targets: set by the regional supervisor of the office's region."""

from __future__ import annotations

import datetime as dt

from domain.actors import Actor, Role
from domain.calendar import latest_today
from domain.errors import InvalidInput, Message, NotFound, NotPermitted
from domain.events import TargetSet
from domain.places import Office

FIRST_TARGET_YEAR = 2000


def target_stream_id(office_code: str, year: int) -> str:
    """One stream per office and year, so each target's history is its own."""
    return f"target:{office_code}:{year}"


def check_may_set_targets(actor: Actor) -> None:
    if actor.role is not Role.REGIONAL_SUPERVISOR:
        raise NotPermitted(f"only a regional_supervisor sets targets, not the role {actor.role.value}")


def check_target_year(year: int, now: dt.datetime) -> None:
    """Targets are set for past years (corrections), this year, or the next (planning)."""
    latest = latest_today(now).year + 1
    if not FIRST_TARGET_YEAR <= year <= latest:
        raise InvalidInput.field(
            "year",
            Message(
                "a target year lies between {first} and {latest}", first=FIRST_TARGET_YEAR, latest=latest
            ),
        )


def office_for_target(actor: Actor, office: Office | None, office_code: str) -> Office:
    """The office whose target the actor sets; one outside the actor's region is reported as unknown."""
    check_may_set_targets(actor)
    if office is None or office.region_code != actor.region_code:
        raise NotFound(f"no office {office_code} in region {actor.region_code}")
    return office


def set_target(
    actor: Actor, office: Office, year: int, target: int, basis: str, now: dt.datetime
) -> TargetSet:
    """Decide a target change for an office found by `office_for_target`."""
    office_for_target(actor, office, office.code)
    check_target_year(year, now)
    if target < 0:
        raise InvalidInput.field("target", Message("a target is a whole number of villages, 0 or more"))
    return TargetSet(office_code=office.code, year=year, target=target, basis=basis)
