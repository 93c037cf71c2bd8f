"""After designation: fostering officers, activities, residents' reports with their deadlines, and
the quarterly evaluation of a fostered village. Each is an event on the designated case's stream; a
revoked village is fostered no more.

Deadlines are decided when a step is recorded and kept in its event (`verify_by`, `close_by`), and a
step's time is the time it was recorded: so whether a report was overdue at any moment follows from
the log alone, never from the clock at the time somebody reads it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from domain import rules
from domain.actors import OFFICE_ROLES, Actor, Role
from domain.calendar import day_of, format_timestamp, latest_today, parse_timestamp
from domain.errors import InvalidInput, Message, NotFound, NotPermitted, RuleBroken
from domain.events import (
    ActivityRecorded,
    Event,
    FosteringOfficersAssigned,
    VillageEvaluated,
    VillageReportClosed,
    VillageReportReceived,
    VillageReportVerified,
)
from domain.lifecycle import Stage


class ActivityKind(StrEnum):
    SOCIALIZATION = "socialization"
    COUNSELING = "counseling"
    COORDINATION = "coordination"
    VISIT = "visit"  # sambang desa
    PASSPORT_SERVICE = "passport_service"
    OTHER = "other"


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    VISIT = "visit"
    LETTER = "letter"
    OTHER = "other"


class ReportCategory(StrEnum):
    FOREIGN_NATIONAL = "foreign_national"
    SUSPECTED_TRAFFICKING = "suspected_trafficking"
    NON_PROCEDURAL_MIGRATION = "non_procedural_migration"
    OTHER = "other"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    REFERRED = "referred"
    UNFOUNDED = "unfounded"


class Rating(StrEnum):
    ACTIVE = "active"
    NEEDS_ATTENTION = "needs_attention"
    INACTIVE = "inactive"


class ReportStatus(StrEnum):
    OPEN = "open"
    VERIFIED = "verified"
    CLOSED = "closed"


class FosteringAct(StrEnum):
    ASSIGN_OFFICERS = "assign_officers"
    RECORD_ACTIVITY = "record_activity"
    RECEIVE_REPORT = "receive_report"
    VERIFY_REPORT = "verify_report"
    CLOSE_REPORT = "close_report"
    EVALUATE = "evaluate"


# Who may do what, by role; an officer records activities and works on reports only while assigned
# to the village (`check_may_foster`).
ACT_ROLES: dict[FosteringAct, frozenset[Role]] = {
    FosteringAct.ASSIGN_OFFICERS: frozenset({Role.HEAD_OF_OFFICE}),
    FosteringAct.RECORD_ACTIVITY: OFFICE_ROLES,
    FosteringAct.RECEIVE_REPORT: OFFICE_ROLES,
    FosteringAct.VERIFY_REPORT: OFFICE_ROLES,
    FosteringAct.CLOSE_REPORT: OFFICE_ROLES,
    FosteringAct.EVALUATE: frozenset({Role.SECTION_HEAD, Role.HEAD_OF_OFFICE, Role.REGIONAL_SUPERVISOR}),
}
ONLY_ASSIGNED_OFFICERS = frozenset(
    {FosteringAct.RECORD_ACTIVITY, FosteringAct.VERIFY_REPORT, FosteringAct.CLOSE_REPORT}
)

VERIFY_WITHIN = dt.timedelta(hours=48)
VERIFY_TRAFFICKING_WITHIN = dt.timedelta(hours=6)
CLOSE_WITHIN = dt.timedelta(hours=72)


def verify_by(received_at: dt.datetime, category: ReportCategory) -> dt.datetime:
    """A report is verified within 48 hours of its receipt; suspected trafficking within 6."""
    urgent = category is ReportCategory.SUSPECTED_TRAFFICKING
    return received_at + (VERIFY_TRAFFICKING_WITHIN if urgent else VERIFY_WITHIN)


def close_by(verified_at: dt.datetime) -> dt.datetime:
    """A verified report is closed with an outcome within 72 hours of its verification."""
    return verified_at + CLOSE_WITHIN


@dataclass(frozen=True, slots=True)
class VillageReport:
    """A report's steps and deadlines, as instants (UTC)."""

    id: str
    category: ReportCategory
    received_at: dt.datetime
    verify_by: dt.datetime
    verified_at: dt.datetime | None = None
    close_by: dt.datetime | None = None
    closed_at: dt.datetime | None = None

    def status_at(self, moment: dt.datetime) -> ReportStatus:
        """Where the report stood at `moment` (it was recorded by then)."""
        if self.closed_at is not None and self.closed_at <= moment:
            return ReportStatus.CLOSED
        if self.verified_at is not None and self.verified_at <= moment:
            return ReportStatus.VERIFIED
        return ReportStatus.OPEN

    def overdue_at(self, moment: dt.datetime) -> bool:
        """Whether at `moment` its next step's deadline had passed without the step."""
        match self.status_at(moment):
            case ReportStatus.OPEN:
                return moment > self.verify_by
            case ReportStatus.VERIFIED:
                assert self.close_by is not None
                return moment > self.close_by
        return False

    def closed_in_time(self) -> bool:
        """Closed, each step by its deadline."""
        return (
            self.closed_at is not None
            and self.verified_at is not None
            and self.close_by is not None
            and self.verified_at <= self.verify_by
            and self.closed_at <= self.close_by
        )


@dataclass(frozen=True, slots=True)
class Fostering:
    """What the rules need of a fostered village: since when, by whom, and its reports."""

    since: dt.date  # the designation's decree date
    officers: tuple[str, ...] = ()
    reports: Mapping[str, VillageReport] = field(default_factory=dict)

    def apply(self, event: Event) -> Fostering:
        match event:
            case FosteringOfficersAssigned(officers=officers):
                return replace(self, officers=tuple(officer["username"] for officer in officers))
            case VillageReportReceived():
                report = VillageReport(
                    id=event.report_id,
                    category=ReportCategory(event.category),
                    received_at=parse_timestamp(event.received_at),
                    verify_by=parse_timestamp(event.verify_by),
                )
                return self._with(report)
            case VillageReportVerified():
                verified = replace(
                    self.reports[event.report_id],
                    verified_at=parse_timestamp(event.verified_at),
                    close_by=parse_timestamp(event.close_by),
                )
                return self._with(verified)
            case VillageReportClosed():
                return self._with(
                    replace(self.reports[event.report_id], closed_at=parse_timestamp(event.closed_at))
                )
        return self

    def _with(self, report: VillageReport) -> Fostering:
        return replace(self, reports={**self.reports, report.id: report})


# The events of a fostered village's life: none moves the case to another stage.
FOSTERING_EVENTS = (
    FosteringOfficersAssigned,
    ActivityRecorded,
    VillageReportReceived,
    VillageReportVerified,
    VillageReportClosed,
    VillageEvaluated,
)


# ---- commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignOfficers:
    act: ClassVar[FosteringAct] = FosteringAct.ASSIGN_OFFICERS
    officers: tuple[str, ...]
    decree_number: str
    decree_date: dt.date
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class RecordActivity:
    act: ClassVar[FosteringAct] = FosteringAct.RECORD_ACTIVITY
    kind: ActivityKind
    held_on: dt.date
    participants: int
    summary: str
    topics: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class ReceiveReport:
    act: ClassVar[FosteringAct] = FosteringAct.RECEIVE_REPORT
    received_at: dt.datetime
    channel: Channel
    category: ReportCategory
    summary: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class VerifyReport:
    act: ClassVar[FosteringAct] = FosteringAct.VERIFY_REPORT
    report_id: str
    notes: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class CloseReport:
    act: ClassVar[FosteringAct] = FosteringAct.CLOSE_REPORT
    report_id: str
    outcome: Outcome
    notes: str
    referred_to: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


@dataclass(frozen=True, slots=True)
class Evaluate:
    act: ClassVar[FosteringAct] = FosteringAct.EVALUATE
    period: str  # YYYY-Qn
    rating: Rating
    notes: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names


FosteringCommand = AssignOfficers | RecordActivity | ReceiveReport | VerifyReport | CloseReport | Evaluate


def fostering_command(act: FosteringAct, values: Mapping[str, Any], report_id: str = "") -> FosteringCommand:
    """The command of an act from its validated values (a report's steps name the report); lists
    become tuples, as commands and events are frozen values."""
    documents = tuple(values.get("documents", ()))
    match act:
        case FosteringAct.ASSIGN_OFFICERS:
            return AssignOfficers(
                tuple(values["officers"]), values["decree_number"], values["decree_date"], documents
            )
        case FosteringAct.RECORD_ACTIVITY:
            return RecordActivity(
                ActivityKind(values["kind"]),
                values["held_on"],
                values["participants"],
                values["summary"],
                tuple(values.get("topics", ())),
                documents,
            )
        case FosteringAct.RECEIVE_REPORT:
            return ReceiveReport(
                values["received_at"],
                Channel(values["channel"]),
                ReportCategory(values["category"]),
                values["summary"],
                documents,
            )
        case FosteringAct.VERIFY_REPORT:
            return VerifyReport(report_id, values["notes"], documents)
        case FosteringAct.CLOSE_REPORT:
            return CloseReport(
                report_id, Outcome(values["outcome"]), values["notes"], values.get("referred_to"), documents
            )
        case FosteringAct.EVALUATE:
            return Evaluate(values["period"], Rating(values["rating"]), values["notes"], documents)
    raise ValueError(f"not a fostering act: {act!r}")


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A user as the assignment of officers needs to know them."""

    username: str
    name: str
    office_code: str | None
    active: bool


# ---- rules ------------------------------------------------------------------------------------------


def may_foster(actor: Actor, act: FosteringAct, officers: tuple[str, ...]) -> bool:
    if actor.role not in ACT_ROLES[act]:
        return False
    return not (
        act in ONLY_ASSIGNED_OFFICERS and actor.role is Role.OFFICER and actor.username not in officers
    )


def check_role_may_foster(actor: Actor, act: FosteringAct) -> None:
    """Whether the actor's role may ever do this (checked before a request's body is read)."""
    if actor.role not in ACT_ROLES[act]:
        allowed = ", ".join(sorted(r.value for r in ACT_ROLES[act]))
        raise NotPermitted(f"the role {actor.role.value} may not {act.value}; only {allowed} may")


def check_may_foster(actor: Actor, act: FosteringAct, officers: tuple[str, ...]) -> None:
    check_role_may_foster(actor, act)
    if not may_foster(actor, act, officers):
        raise NotPermitted(f"{actor.username} is not a fostering officer of this village")


def check_fostered(stage: Stage) -> None:
    """Only a designated village is fostered; a revoked one no more."""
    if stage is Stage.REVOKED:
        raise RuleBroken(Message("the village's status was revoked: it is fostered no more"), rule="revoked")
    if stage is not Stage.DESIGNATED:
        raise RuleBroken(
            Message("only a designated village is fostered; this case is {stage}", stage=stage),
            rule="not_designated",
        )


PERIOD = re.compile(r"([1-9]\d{3})-Q([1-4])")


def quarter_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period `YYYY-Qn`."""
    matched = PERIOD.fullmatch(period)
    if matched is None:
        raise InvalidInput.field("period", Message("a quarter is written YYYY-Qn, e.g. 2025-Q3"))
    year, quarter = int(matched[1]), int(matched[2])
    last_month = 3 * quarter
    return dt.date(year, last_month - 2, 1), dt.date(
        year, last_month, calendar.monthrange(year, last_month)[1]
    )


def _check_officers(officers: tuple[str, ...], office_code: str, staff: Mapping[str, StaffMember]) -> None:
    problems = []
    for username in officers:
        member = staff.get(username)
        if member is None or member.office_code != office_code or not member.active:
            problems.append(
                Message(
                    "{username} is no active user of office {office}", username=username, office=office_code
                )
            )
    if len(set(officers)) != len(officers):
        problems.append(Message("an officer is named twice"))
    if problems:
        raise InvalidInput({"officers": problems})


def decide(
    fostering: Fostering | None,
    stage: Stage,
    office_code: str,
    command: FosteringCommand,
    actor: Actor,
    *,
    now: dt.datetime,
    new_id: str,
    staff: Mapping[str, StaffMember],
) -> Event:
    """Decide a fostering act on a case the actor may read: permission, the village's stage, then the
    data. `new_id` names a new activity or report; `staff`, the users the assignment names."""
    check_may_foster(actor, command.act, fostering.officers if fostering else ())
    check_fostered(stage)
    assert fostering is not None  # a designated case has its fostering
    match command:
        case AssignOfficers():
            _check_officers(command.officers, office_code, staff)
            rules.check_not_in_future("decree_date", command.decree_date, now)
            rules.check_not_before("decree_date", command.decree_date, "designation", fostering.since)
            officers = tuple({"username": u, "name": staff[u].name} for u in command.officers)
            return FosteringOfficersAssigned(
                officers=officers,
                decree_number=command.decree_number,
                decree_date=command.decree_date,
                documents=command.documents,
            )
        case RecordActivity():
            rules.check_not_in_future("held_on", command.held_on, now)
            rules.check_not_before("held_on", command.held_on, "designation", fostering.since)
            return ActivityRecorded(
                activity_id=new_id,
                kind=command.kind.value,
                held_on=command.held_on,
                participants=command.participants,
                summary=command.summary,
                topics=command.topics,
                documents=command.documents,
            )
        case ReceiveReport():
            if command.received_at > now:
                raise InvalidInput.field("received_at", Message("a report is recorded once it is received"))
            received_on = day_of(command.received_at)
            rules.check_not_before("received_at", received_on, "designation", fostering.since)
            return VillageReportReceived(
                report_id=new_id,
                received_at=format_timestamp(command.received_at),
                channel=command.channel.value,
                category=command.category.value,
                summary=command.summary,
                verify_by=format_timestamp(verify_by(command.received_at, command.category)),
                documents=command.documents,
            )
        case VerifyReport():
            report = _report(fostering, command.report_id)
            if report.status_at(now) is not ReportStatus.OPEN:
                raise RuleBroken(Message("the report is verified already"), rule="report_verified")
            return VillageReportVerified(
                report_id=report.id,
                notes=command.notes,
                verified_at=format_timestamp(now),
                close_by=format_timestamp(close_by(now)),
                documents=command.documents,
            )
        case CloseReport():
            report = _report(fostering, command.report_id)
            status = report.status_at(now)
            if status is not ReportStatus.VERIFIED:
                reason = (
                    Message("the report is closed already")
                    if status is ReportStatus.CLOSED
                    else Message("a report is verified before it is closed")
                )
                raise RuleBroken(reason, rule="report_not_verified")
            if command.outcome is Outcome.REFERRED and not command.referred_to:
                raise InvalidInput.field("referred_to", Message("name whom the report was referred to"))
            return VillageReportClosed(
                report_id=report.id,
                outcome=command.outcome.value,
                notes=command.notes,
                closed_at=format_timestamp(now),
                referred_to=command.referred_to,
                documents=command.documents,
            )
        case Evaluate():
            first, last = quarter_bounds(command.period)
            if first > latest_today(now):
                raise InvalidInput.field("period", Message("{period} has not begun", period=command.period))
            if last < fostering.since:
                raise InvalidInput.field(
                    "period", Message("{period} ended before the designation", period=command.period)
                )
            return VillageEvaluated(
                period=command.period,
                rating=command.rating.value,
                notes=command.notes,
                documents=command.documents,
            )
    raise TypeError(f"not a fostering command: {command!r}")


def _report(fostering: Fostering, report_id: str) -> VillageReport:
    report = fostering.reports.get(report_id)
    if report is None:
        raise NotFound(f"no village report {report_id}")
    return report
