"""Regions (Kanwil) and offices as their events tell them, and the decisions on them: who may change
the organisation, and by which rules a working area moves from one office to another.

Each decision returns the events to record, stream by stream; the service supplies what it looked up
(the offices as they stand, the registry's names of the regencies asked for, today's date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from domain import rules
from domain.actors import Actor
from domain.errors import InvalidInput, Message, RuleBroken
from domain.events import Event, OfficeChanged, OfficeOpened, RegionAdded, RegionRenamed
from domain.places import UNIT_TYPES, Office

OFFICE_FIELDS = ("name", "unit_type", "region_code", "regencies")


def region_stream_id(code: str) -> str:
    return f"region:{code}"


def office_stream_id(code: str) -> str:
    return f"office:{code}"


@dataclass(frozen=True, slots=True)
class OfficeRequest:
    """An office as an admin asks for it (`POST`/`PUT /offices`, `offices add`). For a change, a field
    left None stays as it is. `region_name` names a region not yet added (it is added with the office);
    `take_over` moves regencies another office serves to this one; `effective_on` defaults to today."""

    code: str
    name: str | None = None
    unit_type: str | None = None
    region_code: str | None = None
    region_name: str | None = None
    regencies: frozenset[str] | None = None
    effective_on: dt.date | None = None
    take_over: bool = False


@dataclass(frozen=True, slots=True)
class Organisation:
    """What the rules look at: every office as it stands, each office's last effective date, the regions
    by code with their names, and the registry's names of the regencies asked for."""

    offices: dict[str, Office]
    last_effective: dict[str, dt.date | None]
    regions: dict[str, str]
    regency_names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Days:
    """`today`: the system day, the default of `effective_on`; `latest`: the latest day anywhere in
    Indonesia, which `effective_on` may not pass."""

    today: dt.date
    latest: dt.date


Recorded = list[tuple[str, Event]]  # (stream id, event), in the order they are to be appended


def add_region(actor: Actor, code: str, name: str, regions: dict[str, str]) -> RegionAdded:
    rules.check_may_manage_accounts(actor)
    if code in regions:
        raise RuleBroken(
            Message("region {code} exists already ({name})", code=code, name=regions[code]),
            rule="duplicate_region",
        )
    return RegionAdded(code=code, name=name)


def rename_region(actor: Actor, code: str, name: str, regions: dict[str, str]) -> RegionRenamed | None:
    rules.check_may_manage_accounts(actor)
    rules.check_region_exists(code, regions)
    return None if regions[code] == name else RegionRenamed(name=name)


def open_office(actor: Actor, request: OfficeRequest, org: Organisation, days: Days) -> Recorded:
    """The office opened (and its region added, if new), and the offices whose regencies it takes."""
    rules.check_may_manage_accounts(actor)
    if request.code in org.offices:
        raise RuleBroken(Message("office {code} exists already", code=request.code), rule="duplicate_office")
    assert request.name is not None and request.region_code is not None and request.regencies is not None
    unit_type = request.unit_type or "kanim"
    effective_on = request.effective_on or days.today
    recorded: Recorded = []
    _check(request, org, unit_type, effective_on, days.latest)
    if request.region_code not in org.regions:
        added = RegionAdded(code=request.region_code, name=request.region_name or "")
        recorded.append((region_stream_id(request.region_code), added))
    opened = OfficeOpened(
        code=request.code,
        name=request.name,
        unit_type=unit_type,
        region_code=request.region_code,
        regencies=tuple(sorted(request.regencies)),
        effective_on=effective_on,
    )
    recorded.append((office_stream_id(request.code), opened))
    return recorded + _taken_over(request.code, request.regencies, request.take_over, org, effective_on)


def change_office(actor: Actor, request: OfficeRequest, org: Organisation, days: Days) -> Recorded:
    """The office as it stands from `effective_on`, and the offices whose regencies it takes; nothing
    when nothing changes."""
    rules.check_may_manage_accounts(actor)
    rules.check_office_exists(request.code, org.offices)
    current = org.offices[request.code]
    effective_on = request.effective_on or days.today
    unit_type = request.unit_type or current.unit_type
    wanted = Office(
        code=current.code,
        name=request.name if request.name is not None else current.name,
        region_code=request.region_code or current.region_code,
        region_name="",
        regencies=request.regencies if request.regencies is not None else current.regencies,
        unit_type=unit_type,
    )
    full = replace(request, region_code=wanted.region_code, regencies=wanted.regencies)
    _check(full, org, unit_type, effective_on, days.latest)
    rules.check_not_before(
        "effective_on", effective_on, f"last change of {current.code}", org.last_effective[current.code]
    )
    changed = tuple(f for f in OFFICE_FIELDS if getattr(wanted, f) != getattr(current, f))
    if not changed:
        return []
    recorded: Recorded = []
    if wanted.region_code not in org.regions:
        added = RegionAdded(code=wanted.region_code, name=request.region_name or "")
        recorded.append((region_stream_id(wanted.region_code), added))
    event = OfficeChanged(
        name=wanted.name,
        unit_type=unit_type,
        region_code=wanted.region_code,
        regencies=tuple(sorted(wanted.regencies)),
        effective_on=effective_on,
        changed=changed,
    )
    recorded.append((office_stream_id(current.code), event))
    gained = wanted.regencies - current.regencies
    return recorded + _taken_over(current.code, gained, request.take_over, org, effective_on)


def _check(
    request: OfficeRequest, org: Organisation, unit_type: str, effective_on: dt.date, latest: dt.date
) -> None:
    errors: dict[str, list[str]] = {}
    if unit_type not in UNIT_TYPES:
        errors["unit_type"] = [Message("one of {types}", types=", ".join(UNIT_TYPES))]
    if effective_on > latest:
        errors["effective_on"] = [
            Message("{day} lies in the future: record a change once it holds", day=effective_on)
        ]
    regencies = request.regencies or frozenset()
    if unknown := sorted(regencies - org.regency_names.keys()):
        errors["regencies"] = [
            Message("not a regency or city of the village registry: {codes}", codes=", ".join(unknown))
        ]
    region_code = request.region_code or ""
    if region_code not in org.regions and not request.region_name:
        errors["region_name"] = [Message("region {code} is new: give its name", code=region_code)]
    elif region_code in org.regions and request.region_name not in (None, org.regions[region_code]):
        errors["region_name"] = [
            Message(
                "region {code} is named {name!r}: send that name or none"
                " (rename a region with PUT /regions/{code})",
                code=region_code,
                name=org.regions[region_code],
            )
        ]
    if errors:
        raise InvalidInput(errors)


def _taken_over(
    code: str, regencies: frozenset[str], take_over: bool, org: Organisation, effective_on: dt.date
) -> Recorded:
    """Each regency is served by one office: one served by another moves only when `take_over` says
    so, and that office then serves it no more, from the same day."""
    others = [o for o in org.offices.values() if o.code != code and o.regencies & regencies]
    if others and not take_over:
        served = sorted((r, o.code) for o in others for r in o.regencies & regencies)
        listed = ", ".join(f"{regency} ({org.regency_names[regency]}) by {by}" for regency, by in served)
        raise RuleBroken(
            Message(
                "served by another office: {listed}; send take_over: true to move them to {code}",
                listed=listed,
                code=code,
            ),
            rule="regency_served",
        )
    for other in others:
        rules.check_not_before(
            "effective_on", effective_on, f"last change of {other.code}", org.last_effective[other.code]
        )
    return [
        (
            office_stream_id(other.code),
            OfficeChanged(
                name=other.name,
                unit_type=other.unit_type,
                region_code=other.region_code,
                regencies=tuple(sorted(other.regencies - regencies)),
                effective_on=effective_on,
                changed=("regencies",),
                taken_by=code,
            ),
        )
        for other in sorted(others, key=lambda o: o.code)
    ]


class OfficeState(NamedTuple):
    """One recorded state of an office: the day it holds from (None: since before the records) and the
    region it put the office in."""

    effective_on: str | None  # ISO date
    region_code: str


def region_on(states: Sequence[OfficeState], day: str) -> str:
    """The region an office belonged to on `day` (ISO date), from its states in the order recorded:
    the newest recorded state in force that day. A day before the office existed counts in the region
    it opened in, so that a decree dated before an office's opening still counts somewhere."""
    held = [state for state in states if state.effective_on is None or state.effective_on <= day]
    return (held[-1] if held else states[0]).region_code
