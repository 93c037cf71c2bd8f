"""Fostering a designated village: who may do what, the deadlines of residents' reports (and whether a
report was overdue at any moment, from the log alone), evaluations and revocation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from domain.actors import Actor, Person, Role
from domain.calendar import format_timestamp
from domain.candidacy import Candidacy, decide
from domain.commands import Revoke
from domain.errors import InvalidInput, NotFound, NotPermitted, RuleBroken
from domain.events import (
    ActivityRecorded,
    CandidacyAssessed,
    CandidacyCoordinated,
    CandidacyDesignated,
    CandidacyProposed,
    CandidacyRevoked,
    CandidacySocialized,
    Event,
    FosteringOfficersAssigned,
    VillageEvaluated,
    VillageReportClosed,
    VillageReportReceived,
    VillageReportVerified,
)
from domain.fostering import (
    ActivityKind,
    AssignOfficers,
    Channel,
    CloseReport,
    Evaluate,
    FosteringCommand,
    Outcome,
    Rating,
    ReceiveReport,
    RecordActivity,
    ReportCategory,
    ReportStatus,
    StaffMember,
    VerifyReport,
    VillageReport,
    close_by,
    quarter_bounds,
    verify_by,
)
from domain.fostering import decide as foster
from domain.lifecycle import Stage

UTC = dt.UTC
NOW = dt.datetime(2024, 9, 2, 3, 0, tzinfo=UTC)
DECREE_DATE = dt.date(2024, 4, 16)


def person(username: str, role: Role, office: str | None = "BOGOR", region: str | None = None) -> Actor:
    return Actor(username, username.title(), role, office, region)


OFFICER = person("rina", Role.OFFICER)
OTHER_OFFICER = person("agus", Role.OFFICER)
SECTION_HEAD = person("kasi", Role.SECTION_HEAD)
HEAD = person("kakan", Role.HEAD_OF_OFFICE)
SUPERVISOR = person("pengawas", Role.REGIONAL_SUPERVISOR, office=None, region="JABAR")
AUDITOR = person("auditor", Role.AUDITOR, office=None)
STAFF = {
    "rina": StaffMember("rina", "Rina Marlina", "BOGOR", active=True),
    "agus": StaffMember("agus", "Agus Salim", "BOGOR", active=True),
    "budi": StaffMember("budi", "Budi", "SUKABUMI", active=True),
    "lama": StaffMember("lama", "Lama", "BOGOR", active=False),
}


def designated_case(*more: Event) -> Candidacy:
    proposed = CandidacyProposed(
        candidacy_id="c-1",
        village={"code": "32.01.25.2006", "name": "Tugu Selatan"},
        office_code="BOGOR",
        region_code="JABAR",
        rationale="Kantong PMI.",
        indicators={},
    )
    steps: list[Event] = [
        proposed,
        CandidacyCoordinated(dt.date(2024, 2, 19), "Balai Desa", ("Polres",), "UND-1"),
        CandidacySocialized(dt.date(2024, 2, 21), ("BP3MI",), 85),
        CandidacyAssessed(dt.date(2024, 3, 20), 86, True, {"migrant_worker_base": True}),
        CandidacyDesignated("SK-1", DECREE_DATE, ("Rina",)),
        *more,
    ]
    who = [Person(None, "petugas"), Person(None, "kasi"), Person(None, "kasi"), Person(None, "kasi")]
    return Candidacy.from_history(zip(steps, who + [Person(None, "kakan")] * (len(steps) - 4), strict=True))


RINA = {"username": "rina", "name": "Rina Marlina"}
AGUS = {"username": "agus", "name": "Agus Salim"}
ASSIGNED = FosteringOfficersAssigned((RINA,), "SK-2", dt.date(2024, 5, 2))


def act(case: Candidacy, command: FosteringCommand, actor: Actor, now: dt.datetime = NOW) -> Event:
    assert case.fostering is not None
    return foster(
        case.fostering, case.stage, case.office_code, command, actor, now=now, new_id="new-1", staff=STAFF
    )


def received(at: dt.datetime, category: ReportCategory = ReportCategory.FOREIGN_NATIONAL) -> Event:
    return VillageReportReceived(
        report_id="r-1",
        received_at=format_timestamp(at),
        channel="whatsapp",
        category=category.value,
        summary="Orang asing menginap di rumah warga.",
        verify_by=format_timestamp(verify_by(at, category)),
    )


# ---- deadlines -------------------------------------------------------------------------------------


def test_a_report_is_verified_within_48_hours_and_suspected_trafficking_within_6() -> None:
    at = dt.datetime(2024, 8, 20, 2, 0, tzinfo=UTC)
    assert verify_by(at, ReportCategory.FOREIGN_NATIONAL) == at + dt.timedelta(hours=48)
    assert verify_by(at, ReportCategory.NON_PROCEDURAL_MIGRATION) == at + dt.timedelta(hours=48)
    assert verify_by(at, ReportCategory.OTHER) == at + dt.timedelta(hours=48)
    assert verify_by(at, ReportCategory.SUSPECTED_TRAFFICKING) == at + dt.timedelta(hours=6)


def test_a_verified_report_is_closed_within_72_hours_of_its_verification() -> None:
    at = dt.datetime(2024, 8, 20, 5, 0, tzinfo=UTC)
    assert close_by(at) == at + dt.timedelta(hours=72)


RECEIVED_AT = dt.datetime(2024, 8, 20, 2, 0, tzinfo=UTC)
URGENT = VillageReport(
    "r-1",
    ReportCategory.SUSPECTED_TRAFFICKING,
    RECEIVED_AT,
    verify_by(RECEIVED_AT, ReportCategory.SUSPECTED_TRAFFICKING),
)


def hours(n: float) -> dt.datetime:
    return RECEIVED_AT + dt.timedelta(hours=n)


def test_overdue_is_judged_at_a_moment_exactly_across_the_deadline() -> None:
    assert URGENT.status_at(hours(5)) is ReportStatus.OPEN
    assert not URGENT.overdue_at(hours(6))  # at the deadline itself, still in time
    assert URGENT.overdue_at(hours(6) + dt.timedelta(microseconds=1))


def test_a_report_verified_late_was_overdue_until_verified_and_its_next_deadline_counts_from_then() -> None:
    late = VillageReport(
        URGENT.id, URGENT.category, URGENT.received_at, URGENT.verify_by, hours(8), close_by(hours(8))
    )
    assert late.overdue_at(hours(7)) and late.status_at(hours(7)) is ReportStatus.OPEN
    assert late.status_at(hours(8)) is ReportStatus.VERIFIED and not late.overdue_at(hours(8))
    assert not late.overdue_at(hours(8 + 72)) and late.overdue_at(hours(8 + 73))
    closed = VillageReport(*[getattr(late, f) for f in ("id", "category", "received_at", "verify_by")],
                           late.verified_at, late.close_by, hours(20))  # fmt: skip
    assert closed.status_at(hours(19)) is ReportStatus.VERIFIED
    assert closed.status_at(hours(20)) is ReportStatus.CLOSED and not closed.overdue_at(hours(500))
    assert not closed.closed_in_time()  # verified two hours late


def test_a_report_is_closed_in_time_only_when_both_steps_met_their_deadlines() -> None:
    in_time = VillageReport(
        URGENT.id,
        URGENT.category,
        URGENT.received_at,
        URGENT.verify_by,
        hours(5),
        close_by(hours(5)),
        hours(50),
    )
    assert in_time.closed_in_time()
    closed_late = VillageReport(
        URGENT.id,
        URGENT.category,
        URGENT.received_at,
        URGENT.verify_by,
        hours(5),
        close_by(hours(5)),
        hours(78),
    )
    assert not closed_late.closed_in_time()
    assert not URGENT.closed_in_time()  # not closed at all


# ---- officers --------------------------------------------------------------------------------------


def test_the_head_of_office_assigns_officers_of_the_office_by_decree() -> None:
    event = act(designated_case(), AssignOfficers(("rina", "agus"), "SK-2", dt.date(2024, 5, 2)), HEAD)
    assert event == FosteringOfficersAssigned((RINA, AGUS), "SK-2", dt.date(2024, 5, 2))
    case = designated_case(event)
    assert case.fostering is not None and case.fostering.officers == ("rina", "agus")
    assert (case.stage, case.version) == (Stage.DESIGNATED, 6)
    reassigned = designated_case(event, FosteringOfficersAssigned((AGUS,), "SK-3", dt.date(2024, 7, 1)))
    assert reassigned.fostering is not None and reassigned.fostering.officers == ("agus",)


@pytest.mark.parametrize(
    ("officers", "reason"),
    [(("budi",), "budi is no active user of office BOGOR"), (("lama",), "lama is no active user"),
     (("nobody",), "nobody is no active user"), (("rina", "rina"), "an officer is named twice")],
)  # fmt: skip
def test_only_active_users_of_the_office_are_assigned(officers: tuple[str, ...], reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(designated_case(), AssignOfficers(officers, "SK-2", dt.date(2024, 5, 2)), HEAD)
    assert reason in " ".join(refused.value.errors["officers"])


def test_an_assignment_decree_is_dated_from_the_designation_until_today() -> None:
    with pytest.raises(InvalidInput) as early:
        act(designated_case(), AssignOfficers(("rina",), "SK-2", dt.date(2024, 4, 15)), HEAD)
    assert "decree_date" in early.value.errors
    with pytest.raises(InvalidInput):
        act(designated_case(), AssignOfficers(("rina",), "SK-2", dt.date(2024, 9, 5)), HEAD)


@pytest.mark.parametrize("actor", [SECTION_HEAD, OFFICER, SUPERVISOR, AUDITOR])
def test_only_the_head_of_office_assigns_officers(actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        act(designated_case(), AssignOfficers(("rina",), "SK-2", dt.date(2024, 5, 2)), actor)


# ---- activities ------------------------------------------------------------------------------------

ACTIVITY = RecordActivity(
    ActivityKind.COUNSELING, dt.date(2024, 8, 14), 60, "Penyuluhan Triwulan III.", ("TPPO",)
)


def test_an_assigned_officer_records_an_activity() -> None:
    event = act(designated_case(ASSIGNED), ACTIVITY, OFFICER)
    assert event == ActivityRecorded(
        "new-1", "counseling", dt.date(2024, 8, 14), 60, "Penyuluhan Triwulan III.", ("TPPO",)
    )


@pytest.mark.parametrize("actor", [SECTION_HEAD, HEAD])
def test_the_section_head_and_the_head_record_activities_without_being_assigned(actor: Actor) -> None:
    assert isinstance(act(designated_case(ASSIGNED), ACTIVITY, actor), ActivityRecorded)


@pytest.mark.parametrize("actor", [OTHER_OFFICER, SUPERVISOR, AUDITOR])
def test_whoever_is_not_assigned_records_no_activity(actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        act(designated_case(ASSIGNED), ACTIVITY, actor)


def test_an_activity_is_held_between_the_designation_and_today() -> None:
    for held_on in (dt.date(2024, 4, 15), dt.date(2024, 9, 3)):
        with pytest.raises(InvalidInput) as refused:
            act(
                designated_case(ASSIGNED),
                RecordActivity(ActivityKind.VISIT, held_on, 3, "Sambang desa."),
                OFFICER,
            )
        assert "held_on" in refused.value.errors


@pytest.mark.parametrize("stage", [Stage.ASSESSED, Stage.REVOKED])
def test_only_a_designated_village_is_fostered(stage: Stage) -> None:
    case = designated_case(ASSIGNED, CandidacyRevoked("Tidak aktif.", "SK-9", dt.date(2024, 8, 1)))
    if stage is Stage.ASSESSED:
        case = replace(case, stage=Stage.ASSESSED)
    with pytest.raises(RuleBroken) as refused:
        act(case, ACTIVITY, HEAD)
    assert refused.value.rule == ("revoked" if stage is Stage.REVOKED else "not_designated")


# ---- village reports -------------------------------------------------------------------------------


def test_a_report_is_received_with_its_deadline_decided_then() -> None:
    command = ReceiveReport(
        dt.datetime(2024, 9, 1, 23, 0, tzinfo=UTC),
        Channel.WHATSAPP,
        ReportCategory.SUSPECTED_TRAFFICKING,
        "Perekrut.",
    )
    event = act(designated_case(), command, OTHER_OFFICER)  # any user of the office takes a report
    assert isinstance(event, VillageReportReceived)
    assert (event.received_at, event.verify_by) == (
        "2024-09-01T23:00:00.000000Z",
        "2024-09-02T05:00:00.000000Z",
    )


def test_a_report_is_received_in_the_past_not_the_future_and_not_before_the_designation() -> None:
    for at in (NOW + dt.timedelta(minutes=1), dt.datetime(2024, 4, 15, 12, 0, tzinfo=UTC)):
        with pytest.raises(InvalidInput) as refused:
            act(designated_case(), ReceiveReport(at, Channel.PHONE, ReportCategory.OTHER, "x"), OFFICER)
        assert "received_at" in refused.value.errors


def test_a_report_is_verified_then_closed_each_step_timed_when_recorded() -> None:
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)))
    verified = act(case, VerifyReport("r-1", "Dicek."), OFFICER)
    assert verified == VillageReportVerified(
        "r-1", "Dicek.", "2024-09-02T03:00:00.000000Z", "2024-09-05T03:00:00.000000Z"
    )
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)), verified)
    later = NOW + dt.timedelta(hours=1)
    closed = act(
        case, CloseReport("r-1", Outcome.REFERRED, "Diteruskan.", "Polres Bogor"), SECTION_HEAD, later
    )
    assert closed == VillageReportClosed(
        "r-1", "referred", "Diteruskan.", "2024-09-02T04:00:00.000000Z", "Polres Bogor"
    )
    assert case.fostering is not None
    report = designated_case(
        *[ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)), verified, closed]
    )
    assert report.fostering is not None and report.fostering.reports["r-1"].closed_in_time()


def test_report_steps_come_in_order() -> None:
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)))
    with pytest.raises(RuleBroken, match="verified before it is closed"):
        act(case, CloseReport("r-1", Outcome.RESOLVED, "Selesai."), OFFICER)
    verified = act(case, VerifyReport("r-1", "Dicek."), OFFICER)
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)), verified)
    with pytest.raises(RuleBroken, match="verified already"):
        act(case, VerifyReport("r-1", "Lagi."), OFFICER)
    with pytest.raises(NotFound):
        act(case, VerifyReport("r-404", "?"), OFFICER)


def test_a_referred_report_names_whom_it_was_referred_to() -> None:
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)))
    case = designated_case(
        ASSIGNED,
        received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)),
        act(case, VerifyReport("r-1", "Dicek."), HEAD),
    )
    with pytest.raises(InvalidInput) as refused:
        act(case, CloseReport("r-1", Outcome.REFERRED, "Diteruskan."), HEAD)
    assert "referred_to" in refused.value.errors


def test_an_officer_not_assigned_does_not_verify_or_close() -> None:
    case = designated_case(ASSIGNED, received(dt.datetime(2024, 9, 1, 1, 0, tzinfo=UTC)))
    with pytest.raises(NotPermitted):
        act(case, VerifyReport("r-1", "Dicek."), OTHER_OFFICER)


# ---- evaluation and revocation ---------------------------------------------------------------------


def test_quarters() -> None:
    assert quarter_bounds("2024-Q1") == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert quarter_bounds("2024-Q4") == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    assert quarter_bounds("9999-Q4") == (dt.date(9999, 10, 1), dt.date(9999, 12, 31))
    assert quarter_bounds("2024-Q2") == (dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    for wrong in ("2024-Q5", "2024Q1", "24-Q1", "2024-q1", "0000-Q1"):
        with pytest.raises(InvalidInput):
            quarter_bounds(wrong)


@pytest.mark.parametrize("actor", [SECTION_HEAD, HEAD, SUPERVISOR])
def test_a_quarter_is_evaluated_by_the_section_head_the_head_or_the_regional_supervisor(actor: Actor) -> None:
    event = act(designated_case(), Evaluate("2024-Q3", Rating.NEEDS_ATTENTION, "Kegiatan kurang."), actor)
    assert event == VillageEvaluated("2024-Q3", "needs_attention", "Kegiatan kurang.")


@pytest.mark.parametrize("actor", [OFFICER, AUDITOR])
def test_officers_and_auditors_do_not_evaluate(actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        act(designated_case(ASSIGNED), Evaluate("2024-Q3", Rating.ACTIVE, "Baik."), actor)


@pytest.mark.parametrize("period", ["2024-Q4", "2024-Q1"])
def test_the_quarter_evaluated_has_begun_and_ends_after_the_designation(period: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(designated_case(), Evaluate(period, Rating.ACTIVE, "Baik."), HEAD)
    assert "period" in refused.value.errors


def test_the_head_revokes_a_designated_village_by_decree_and_fostering_ends() -> None:
    revoke = Revoke("Desa tidak lagi aktif.", "SK-9", dt.date(2024, 8, 30))
    event = decide(designated_case(ASSIGNED), revoke, HEAD, now=NOW)
    assert event == CandidacyRevoked("Desa tidak lagi aktif.", "SK-9", dt.date(2024, 8, 30))
    assert designated_case(ASSIGNED, event).stage is Stage.REVOKED
    with pytest.raises(InvalidInput):
        decide(designated_case(), Revoke("x", "SK-9", dt.date(2024, 4, 1)), HEAD, now=NOW)
    with pytest.raises(NotPermitted):
        decide(designated_case(), revoke, SECTION_HEAD, now=NOW)
