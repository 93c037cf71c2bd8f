"""Who may change the organisation, and the rules of effective dates and working areas
(`domain/organisation.py`)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain import organisation
from domain.actors import Actor, Role
from domain.errors import InvalidInput, NotFound, NotPermitted, RuleBroken
from domain.events import OfficeChanged, OfficeOpened, RegionAdded, RegionRenamed
from domain.organisation import Days, OfficeRequest, OfficeState, Organisation
from domain.places import Office

ADMIN = Actor("admin", "Admin", Role.ADMIN, id="a")
DAYS = Days(today=dt.date(2026, 1, 26), latest=dt.date(2026, 1, 26))
BOGOR = Office("BOGOR", "Kanim Bogor", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01", "32.71"}))


def org(**last: dt.date | None) -> Organisation:
    return Organisation(
        offices={"BOGOR": BOGOR},
        last_effective={"BOGOR": last.get("BOGOR")},
        regions={"JABAR": "Kanwil Jawa Barat"},
        regency_names={"32.01": "Kabupaten Bogor", "32.71": "Kota Bogor", "32.76": "Kota Depok"},
    )


def request(**fields: object) -> OfficeRequest:
    base: dict[str, object] = {
        "code": "DEPOK",
        "name": "Kanim Depok",
        "region_code": "JABAR",
        "regencies": frozenset({"32.76"}),
    }
    return OfficeRequest(**{**base, **fields})  # type: ignore[arg-type]


def test_an_office_opens_today_as_a_kanim_by_default() -> None:
    [(stream, event)] = organisation.open_office(ADMIN, request(), org(), DAYS)
    assert stream == "office:DEPOK"
    assert event == OfficeOpened("DEPOK", "Kanim Depok", "kanim", "JABAR", ("32.76",), dt.date(2026, 1, 26))


def test_a_new_region_comes_with_its_office() -> None:
    recorded = organisation.open_office(
        ADMIN, request(region_code="JKT", region_name="Kanwil DKI"), org(), DAYS
    )
    assert recorded[0] == ("region:JKT", RegionAdded("JKT", "Kanwil DKI"))
    with pytest.raises(InvalidInput) as refused:
        organisation.open_office(ADMIN, request(region_code="JKT"), org(), DAYS)
    assert "region_name" in refused.value.errors


def test_taking_regencies_over_changes_the_other_office_from_the_same_day() -> None:
    asked = request(regencies=frozenset({"32.76", "32.01"}), effective_on=dt.date(2026, 1, 26))
    with pytest.raises(RuleBroken) as refused:
        organisation.open_office(ADMIN, asked, org(), DAYS)
    assert refused.value.rule == "regency_served"
    taken = request(regencies=asked.regencies, effective_on=asked.effective_on, take_over=True)
    recorded = organisation.open_office(ADMIN, taken, org(), DAYS)
    assert recorded[1] == (
        "office:BOGOR",
        OfficeChanged(
            "Kanim Bogor",
            "kanim",
            "JABAR",
            ("32.71",),
            dt.date(2026, 1, 26),
            ("regencies",),
            taken_by="DEPOK",
        ),
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"effective_on": dt.date(2026, 1, 27)}, "effective_on"),
        ({"unit_type": "kanwil"}, "unit_type"),
        ({"regencies": frozenset({"32.99"})}, "regencies"),
        ({"region_name": "Kanwil Jabar"}, "region_name"),
    ],
)
def test_a_bad_office_names_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        organisation.open_office(ADMIN, request(**fields), org(), DAYS)
    assert field in refused.value.errors


def test_a_change_holds_from_no_earlier_than_the_last_one() -> None:
    last = org(BOGOR=dt.date(2026, 1, 10))
    with pytest.raises(InvalidInput) as refused:
        organisation.change_office(
            ADMIN, OfficeRequest("BOGOR", name="X", effective_on=dt.date(2026, 1, 9)), last, DAYS
        )
    assert "effective_on" in refused.value.errors
    [(_, event)] = organisation.change_office(
        ADMIN, OfficeRequest("BOGOR", name="X", effective_on=dt.date(2026, 1, 10)), last, DAYS
    )
    assert isinstance(event, OfficeChanged) and event.changed == ("name",)


def test_a_change_to_nothing_records_nothing_and_an_unknown_office_is_404() -> None:
    assert organisation.change_office(ADMIN, OfficeRequest("BOGOR", name="Kanim Bogor"), org(), DAYS) == []
    with pytest.raises(NotFound):
        organisation.change_office(ADMIN, OfficeRequest("NOPE", name="X"), org(), DAYS)


def test_regions_are_added_once_and_renamed() -> None:
    with pytest.raises(RuleBroken):
        organisation.add_region(ADMIN, "JABAR", "X", {"JABAR": "Kanwil Jawa Barat"})
    assert organisation.rename_region(
        ADMIN, "JABAR", "Kanwil Ditjen Imigrasi Jawa Barat", {"JABAR": "Kanwil Jawa Barat"}
    ) == RegionRenamed("Kanwil Ditjen Imigrasi Jawa Barat")
    assert (
        organisation.rename_region(ADMIN, "JABAR", "Kanwil Jawa Barat", {"JABAR": "Kanwil Jawa Barat"})
        is None
    )
    with pytest.raises(NotFound):
        organisation.rename_region(ADMIN, "BALI", "X", {})


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_an_admin_changes_the_organisation(role: Role) -> None:
    someone = Actor("x", "X", role)
    with pytest.raises(NotPermitted):
        organisation.open_office(someone, request(), org(), DAYS)
    with pytest.raises(NotPermitted):
        organisation.add_region(someone, "BALI", "Kanwil Bali", {})


# ---- the region a designation counts in ----------------------------------------------------------

MOVED = [
    OfficeState(None, "JABAR"),  # imported: since before the records
    OfficeState("2025-07-01", "JATIM"),
    OfficeState("2026-01-26", "JABAR"),
]


@pytest.mark.parametrize(
    ("day", "region"),
    [
        ("2020-01-01", "JABAR"),
        ("2025-06-30", "JABAR"),
        ("2025-07-01", "JATIM"),  # the day a change is effective belongs to it
        ("2026-01-25", "JATIM"),
        ("2026-01-26", "JABAR"),
    ],
)
def test_a_designation_counts_in_the_region_of_its_decree_date(day: str, region: str) -> None:
    assert organisation.region_on(MOVED, day) == region


def test_a_decree_before_the_office_opened_counts_in_its_first_region() -> None:
    states = [OfficeState("2026-01-26", "JABAR"), OfficeState("2026-06-01", "JATIM")]
    assert organisation.region_on(states, "2025-12-01") == "JABAR"
