"""Event payloads: JSON-safe encoding, faithful decoding, and upcasting of old schema versions."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import ClassVar

import pytest

from domain.events import (
    CANDIDACY_EVENTS,
    DOCUMENT_EVENTS,
    REGISTRY,
    ActivityRecorded,
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
    EventRegistry,
    FosteringOfficersAssigned,
    JsonDict,
    VillageEvaluated,
    VillageReportClosed,
    VillageReportReceived,
    VillageReportVerified,
    documents_named,
)

SAMPLES: list[Event] = [
    CandidacyProposed(
        candidacy_id="c-1",
        village={"code": "32.01.25.2006", "name": "Tugu Selatan", "district": None, "regency": None},
        office_code="BOGOR",
        region_code="JABAR",
        rationale="Kantong PMI.",
        indicators={"migrant_workers": 412, "border_area": False},
    ),
    CandidacyCoordinated(
        held_on=dt.date(2024, 2, 19),
        venue="Aula",
        agencies=("Polres Bogor", "Kodim 0621"),
        minutes_ref="UND-0219",
        notes="Dimoderatori Kasi Inteldakim.",
    ),
    CandidacyCoordinated(
        held_on=dt.date(2024, 2, 19), venue="Aula", agencies=("Polres Bogor",), minutes_ref="U"
    ),
    CandidacySocialized(
        held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85, topics=("TPPO", "PMI")
    ),
    CandidacySocialized(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=1),
    CandidacyAssessed(
        assessed_on=dt.date(2024, 3, 20),
        score=86,
        meets_criteria=True,
        criteria={"migrant_worker_base": True},
    ),
    CandidacyDesignated(
        decree_number="W11.IMI.IMI.4-UM.01.01-0416",
        decree_date=dt.date(2024, 4, 16),
        fostering_officers=("Rina Marlina", "Agus"),
    ),
    CandidacyRejected(reason="Tidak memenuhi kriteria."),
    CandidacyReturned(reason="Penilaian ulang diperlukan."),
    CandidacyWithdrawn(reason="Data tidak terkonfirmasi."),
    CandidacyProposed(
        candidacy_id="c-2",
        village={"code": "32.01.25.2005", "name": "Citeko", "district": None, "regency": None},
        office_code="BOGOR",
        region_code="JABAR",
        rationale="Dimulai sebelum dicatat.",
        indicators={"migrant_workers": 180},
        proposed_on=dt.date(2024, 1, 8),
    ),
    CandidacyTransferred(
        from_office="BOGOR",
        to_office="DEPOK",
        region_code="JABAR",
        effective_on=dt.date(2026, 1, 26),
        cause_position=42,
    ),
    CandidacyRevoked(reason="Desa tidak lagi aktif.", decree_number="SK-9", decree_date=dt.date(2025, 5, 20)),
    FosteringOfficersAssigned(
        officers=({"username": "rina", "name": "Rina Marlina"}, {"username": "agus", "name": "Agus"}),
        decree_number="SK-2",
        decree_date=dt.date(2024, 5, 2),
    ),
    ActivityRecorded(
        activity_id="a-1",
        kind="counseling",
        held_on=dt.date(2024, 8, 14),
        participants=60,
        summary="Penyuluhan Triwulan III.",
        topics=("Paspor", "TPPO"),
    ),
    VillageReportReceived(
        report_id="r-1",
        received_at="2024-08-20T02:00:00.000000Z",
        channel="whatsapp",
        category="suspected_trafficking",
        summary="Perekrut tanpa izin.",
        verify_by="2024-08-20T08:00:00.000000Z",
    ),
    VillageReportVerified(
        report_id="r-1",
        notes="Dicek ke lapangan.",
        verified_at="2024-08-20T05:00:00.000000Z",
        close_by="2024-08-23T05:00:00.000000Z",
    ),
    VillageReportClosed(
        report_id="r-1",
        outcome="referred",
        notes="Diteruskan.",
        closed_at="2024-08-21T05:00:00.000000Z",
        referred_to="Polres Bogor",
    ),
    VillageEvaluated(period="2024-Q3", rating="active", notes="Aktif."),
]

# A proposal entered after the fact, with the day the case began.
LATE_PROPOSAL = next(e for e in SAMPLES if isinstance(e, CandidacyProposed) and e.proposed_on is not None)


def test_the_samples_cover_every_candidacy_event() -> None:
    assert {type(e) for e in SAMPLES} == set(CANDIDACY_EVENTS)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type_name)
def test_round_trip_through_json(event: Event) -> None:
    # The store keeps the payload as JSON: what comes back must equal what went in.
    stored = json.loads(json.dumps(event.to_data()))
    assert type(event).from_data(stored) == event
    assert REGISTRY.decode(event.type_name, event.schema_version, stored) == event


def test_a_proposal_of_version_1_has_no_day_of_its_own() -> None:
    """Proposals recorded before `proposed_on` existed are read as proposals that gave none."""
    current = SAMPLES[0].to_data()
    recorded_v1 = {name: value for name, value in current.items() if name != "proposed_on"}
    assert REGISTRY.upcast("CandidacyProposed", 1, recorded_v1) == (2, current)
    assert REGISTRY.decode("CandidacyProposed", 1, recorded_v1) == SAMPLES[0]
    assert LATE_PROPOSAL.to_data()["proposed_on"] == "2024-01-08"


@pytest.mark.parametrize("event_type", DOCUMENT_EVENTS, ids=lambda t: t.type_name)
def test_an_event_of_version_1_names_no_documents(event_type: type[Event]) -> None:
    """Events recorded before documents existed are read as naming none; their stored data is not
    rewritten (the chain's hashes cover it as it was)."""
    sample = next(e for e in SAMPLES if type(e) is event_type)
    current = sample.to_data()
    recorded_v1 = {name: value for name, value in current.items() if name != "documents"}
    assert REGISTRY.upcast(event_type.type_name, 1, recorded_v1) == (2, current)
    assert documents_named(REGISTRY.decode(event_type.type_name, 1, recorded_v1)) == ()


def test_an_event_names_its_documents_in_its_data() -> None:
    sha256 = "ab" * 32
    event = ActivityRecorded(
        activity_id="a-1",
        kind="visit",
        held_on=dt.date(2025, 2, 3),
        participants=12,
        summary="Sambang desa.",
        documents=(sha256,),
    )
    assert event.to_data()["documents"] == [sha256]
    assert documents_named(REGISTRY.decode("ActivityRecorded", 2, event.to_data())) == (sha256,)
    assert documents_named(CandidacyRejected(reason="x")) == ()


def test_dates_become_iso_strings_and_tuples_lists() -> None:
    data = SAMPLES[1].to_data()
    assert data == {
        "held_on": "2024-02-19",
        "venue": "Aula",
        "agencies": ["Polres Bogor", "Kodim 0621"],
        "minutes_ref": "UND-0219",
        "notes": "Dimoderatori Kasi Inteldakim.",
        "documents": [],
    }
    assert CandidacyDesignated.from_data(SAMPLES[6].to_data()).fostering_officers == ("Rina Marlina", "Agus")


def test_decoded_fields_have_their_declared_types() -> None:
    decoded = CandidacySocialized.from_data(
        {"held_on": "2024-02-21", "speakers": ["BP3MI"], "attendees": 85, "topics": [], "documents": []}
    )
    assert isinstance(decoded, CandidacySocialized)
    assert decoded.held_on == dt.date(2024, 2, 21)
    assert decoded.speakers == ("BP3MI",)
    assert decoded.topics == ()


def test_type_names_are_unique_and_registered() -> None:
    names = [cls.type_name for cls in CANDIDACY_EVENTS]
    assert names == [cls.__name__ for cls in CANDIDACY_EVENTS]
    assert all(name in REGISTRY for name in names)


def test_an_unknown_type_is_not_in_the_registry() -> None:
    assert "CandidacyTeleported" not in REGISTRY
    assert "candidacyproposed" not in REGISTRY


# ---- upcasting, with test-only event types ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class BannerRaised(Event):
    """Version 1 was {"title", "date"}; version 2 renamed them and made the date optional."""

    type_name: ClassVar[str] = "BannerRaised"
    schema_version: ClassVar[int] = 2
    text: str
    raised_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class BannerLowered(Event):
    """Version 3: `reason` (v2: `why`; v1 had neither)."""

    type_name: ClassVar[str] = "BannerLowered"
    schema_version: ClassVar[int] = 3
    reason: str


def banner_v1_to_v2(data: JsonDict) -> JsonDict:
    return {"text": data["title"], "raised_on": data["date"]}


def registry() -> EventRegistry:
    events = EventRegistry([BannerRaised, BannerLowered])
    events.register_upcaster("BannerRaised", 1, banner_v1_to_v2)
    events.register_upcaster("BannerLowered", 1, lambda data: {**data, "why": "unknown"})
    events.register_upcaster("BannerLowered", 2, lambda data: {"reason": data["why"]})
    return events


def test_a_v1_payload_decodes_to_the_current_event() -> None:
    decoded = registry().decode("BannerRaised", 1, {"title": "Desa Binaan", "date": "2024-02-21"})
    assert decoded == BannerRaised(text="Desa Binaan", raised_on=dt.date(2024, 2, 21))


def test_an_optional_date_decodes_to_a_date() -> None:
    # `dt.date | None` must decode like a plain date field, and None stay None.
    assert BannerRaised.from_data({"text": "x", "raised_on": "2024-02-21"}).raised_on == dt.date(2024, 2, 21)
    assert BannerRaised.from_data({"text": "x", "raised_on": None}).raised_on is None


def test_a_current_payload_is_not_upcast() -> None:
    events = EventRegistry([BannerRaised])

    def must_not_run(data: JsonDict) -> JsonDict:
        raise AssertionError("a v2 payload went through the v1 upcaster")

    events.register_upcaster("BannerRaised", 1, must_not_run)
    assert events.decode("BannerRaised", 2, {"text": "x", "raised_on": None}) == BannerRaised(text="x")


def test_upcasters_chain_one_version_at_a_time() -> None:
    events = registry()
    assert events.upcast("BannerLowered", 1, {}) == (3, {"reason": "unknown"})
    assert events.upcast("BannerLowered", 2, {"why": "rain"}) == (3, {"reason": "rain"})
    assert events.decode("BannerLowered", 1, {}) == BannerLowered(reason="unknown")


def test_a_missing_upcaster_is_an_error_not_a_silent_pass() -> None:
    events = EventRegistry([BannerRaised])
    with pytest.raises(KeyError):
        events.decode("BannerRaised", 1, {"title": "x", "date": None})


def test_the_system_day_of_a_stored_timestamp_turns_at_17_utc() -> None:
    from events.folds import day_of_timestamp

    assert day_of_timestamp("2024-06-01T16:59:59.999999Z").isoformat() == "2024-06-01"
    assert day_of_timestamp("2024-06-01T17:00:00.000000Z").isoformat() == "2024-06-02"
    assert day_of_timestamp("2024-12-31T23:30:00.000000Z").isoformat() == "2025-01-01"
