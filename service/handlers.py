"""The command handlers: each is `(tx, actor, command) -> result`, run in one unit of work
(`Application.execute`): load what the rules need, let the domain decide, append, return what the
reply shows (the case's row as the append has just projected it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from domain import candidacy as candidacy_rules
from domain import fostering as fostering_rules
from domain import rules
from domain import targets as target_rules
from domain.accounts import AccountChange, AccountDraft
from domain.actors import Actor, Person
from domain.candidacy import Candidacy
from domain.commands import ActOnCase, ProposeCandidacy, SetTarget
from domain.errors import Message, NotFound, RuleBroken
from domain.events import CANDIDACY_STREAM, REGISTRY, TARGET_STREAM, documents_named
from domain.organisation import OfficeRequest
from domain.places import Office
from events.store import RecordedEvent
from events.unit_of_work import WriteTransaction
from service import accounts, cases, documents, fostering, organisation, registry, targets


def propose(tx: WriteTransaction, actor: Actor, command: ProposeCandidacy) -> dict[str, Any]:
    candidacy_id = str(uuid.uuid4())
    event = candidacy_rules.propose(
        command,
        actor,
        candidacy_id=candidacy_id,
        office=organisation.get_office(tx.conn, command.office_code),
        registry_village=registry.find_village(tx.conn, command.village_code),
        registry_loaded=registry.is_loaded(tx.conn),
        holding_stage=cases.stage_holding_village(tx.conn, command.village_code),
        now=tx.now,
    )
    try:
        appended = tx.append(CANDIDACY_STREAM, candidacy_id, 0, [event])
    except IntegrityError as error:
        # Only the database's backstop of the rule just checked can get here (one held candidacy
        # per village): the transaction is rolled back with it, log and read models alike.
        raise RuleBroken(
            Message("the village already has a live candidacy"), rule="duplicate_candidacy"
        ) from error
    return appended.cases[candidacy_id]


def _readable_case(tx: WriteTransaction, actor: Actor, candidacy_id: str) -> Candidacy:
    """The case as its log has it, for an actor who may read it (else it is unknown)."""
    history = tx.load(candidacy_id)
    if not history or history[0].stream_type != CANDIDACY_STREAM:
        rules.check_may_read_cases(actor)
        raise NotFound(f"no candidacy {candidacy_id}")
    case = Candidacy.from_history(
        (REGISTRY.decode(e.type, e.schema_version, e.data), Person(e.actor_id, e.actor_username))
        for e in history
    )
    rules.check_may_read_case(actor, case.office_code, case.region_code, candidacy_id)
    return case


def act(tx: WriteTransaction, actor: Actor, command: ActOnCase) -> dict[str, Any]:
    case = _readable_case(tx, actor, command.candidacy_id)
    event = candidacy_rules.decide(
        case, command.command, actor, now=tx.now, expected_version=command.expected_version
    )
    documents.check_may_name(tx.conn, actor, documents_named(event))
    appended = tx.append(CANDIDACY_STREAM, command.candidacy_id, case.version, [event])
    return appended.cases[command.candidacy_id]


# ---- fostering: each act an event on the designated case's stream (`domain.fostering`) ----


@dataclass(frozen=True, slots=True)
class FosterCase:
    candidacy_id: str
    command: fostering_rules.FosteringCommand
    expected_version: int | None = None


def _foster(tx: WriteTransaction, actor: Actor, command: FosterCase) -> tuple[dict[str, Any], RecordedEvent]:
    """Decide and append a fostering act; the case's row as now projected, and the event."""
    case = _readable_case(tx, actor, command.candidacy_id)
    rules.check_expected_version(command.expected_version, case.version)
    act = command.command
    named = act.officers if isinstance(act, fostering_rules.AssignOfficers) else ()
    event = fostering_rules.decide(
        case.fostering,
        case.stage,
        case.office_code,
        act,
        actor,
        now=tx.now,
        new_id=str(uuid.uuid4()),
        staff=fostering.staff(tx.conn, named),
    )
    documents.check_may_name(tx.conn, actor, documents_named(event))
    appended = tx.append(CANDIDACY_STREAM, command.candidacy_id, case.version, [event])
    return appended.cases[command.candidacy_id], appended.events[0]


def assign_officers(tx: WriteTransaction, actor: Actor, command: FosterCase) -> dict[str, Any]:
    return _foster(tx, actor, command)[0]


def record_activity(tx: WriteTransaction, actor: Actor, command: FosterCase) -> dict[str, Any]:
    recorded = _foster(tx, actor, command)[1]
    return fostering.get_activity(tx.conn, recorded.data["activity_id"])


def work_on_report(tx: WriteTransaction, actor: Actor, command: FosterCase) -> dict[str, Any]:
    """Receive, verify or close a residents' report; the report as it now stands."""
    recorded = _foster(tx, actor, command)[1]
    return fostering.get_report(tx.conn, recorded.data["report_id"], tx.now)


def evaluate(tx: WriteTransaction, actor: Actor, command: FosterCase) -> dict[str, Any]:
    recorded = _foster(tx, actor, command)[1]
    return fostering.get_evaluation(tx.conn, recorded.position)


# The handler of each fostering act, for the API and the pages alike.
FOSTERING_HANDLERS: dict[fostering_rules.FosteringAct, Any] = {
    fostering_rules.FosteringAct.ASSIGN_OFFICERS: assign_officers,
    fostering_rules.FosteringAct.RECORD_ACTIVITY: record_activity,
    fostering_rules.FosteringAct.RECEIVE_REPORT: work_on_report,
    fostering_rules.FosteringAct.VERIFY_REPORT: work_on_report,
    fostering_rules.FosteringAct.CLOSE_REPORT: work_on_report,
    fostering_rules.FosteringAct.EVALUATE: evaluate,
}


def set_target(tx: WriteTransaction, actor: Actor, command: SetTarget) -> dict[str, Any]:
    found = organisation.get_office(tx.conn, command.office_code)
    office = target_rules.office_for_target(actor, found, command.office_code)
    event = target_rules.set_target(actor, office, command.year, command.target, command.basis, tx.now)
    stream_id = target_rules.target_stream_id(office.code, command.year)
    version = tx.stream_version(stream_id)
    rules.check_expected_version(command.expected_version, version)
    tx.append(TARGET_STREAM, stream_id, version, [event])
    return targets.target_of(tx.conn, office, command.year)


def add_office(tx: WriteTransaction, actor: Actor, request: OfficeRequest) -> Office:
    return organisation.open_office(tx, actor, request)


def replace_office(tx: WriteTransaction, actor: Actor, request: OfficeRequest) -> Office:
    return organisation.change_office(tx, actor, request)


@dataclass(frozen=True, slots=True)
class NameRegion:
    code: str
    name: str


def add_region(tx: WriteTransaction, actor: Actor, command: NameRegion) -> organisation.Region:
    return organisation.add_region(tx, actor, command.code, command.name)


def rename_region(tx: WriteTransaction, actor: Actor, command: NameRegion) -> organisation.Region:
    return organisation.rename_region(tx, actor, command.code, command.name)


# ---- accounts: each change an event on the user's stream (`service.accounts`) ----


def create_user(tx: WriteTransaction, actor: Actor, draft: AccountDraft) -> accounts.UserListing:
    return accounts.create_user(tx, actor, draft)


@dataclass(frozen=True, slots=True)
class ChangeUser:
    username: str
    change: AccountChange


def change_user(tx: WriteTransaction, actor: Actor, command: ChangeUser) -> accounts.UserListing:
    return accounts.change_user(tx, actor, command.username, command.change)


@dataclass(frozen=True, slots=True)
class UserWithReason:
    username: str
    reason: str


def deactivate_user(tx: WriteTransaction, actor: Actor, command: UserWithReason) -> accounts.UserListing:
    accounts.deactivate_user(tx, actor, command.username, command.reason)
    return accounts.listed_user(tx.conn, command.username)


def reactivate_user(tx: WriteTransaction, actor: Actor, command: UserWithReason) -> accounts.UserListing:
    accounts.reactivate_user(tx, actor, command.username, command.reason)
    return accounts.listed_user(tx.conn, command.username)


@dataclass(frozen=True, slots=True)
class IssueToken:
    username: str
    days: int


def issue_token(tx: WriteTransaction, actor: Actor, command: IssueToken) -> accounts.IssuedToken:
    return accounts.issue_token(tx, actor, command.username, command.days)


def revoke_tokens(tx: WriteTransaction, actor: Actor, username: str) -> int:
    return accounts.revoke_tokens(tx, actor, username)


@dataclass(frozen=True, slots=True)
class SetPassword:
    username: str
    password: str


def set_password(tx: WriteTransaction, actor: Actor, command: SetPassword) -> None:
    accounts.set_password(tx, actor, command.username, command.password)


def issue_password_link(tx: WriteTransaction, actor: Actor, username: str) -> accounts.IssuedLink:
    return accounts.issue_password_link(tx, actor, username)


@dataclass(frozen=True, slots=True)
class PasswordWithLink:
    secret: str
    password: str


def set_password_with_link(tx: WriteTransaction, actor: Actor, command: PasswordWithLink) -> None:
    """The link's user, and only they, sets their password with it."""
    holder = accounts.set_password_with_link(tx, command.secret, command.password)
    if holder.id != actor.id:
        raise NotFound("the link is unknown, used or expired")


# ---- documents: stored by their hash, before (and in the same unit of work as) the act naming them ----


def store_document(tx: WriteTransaction, actor: Actor, upload: documents.Upload) -> documents.StoredDocument:
    return documents.store(tx, actor, upload)


@dataclass(frozen=True, slots=True)
class WithUploads:
    """An act sent from a page with its files: they are stored first, and the act names them."""

    uploads: tuple[documents.Upload, ...]
    handler: Any
    command: Any


def with_uploads(tx: WriteTransaction, actor: Actor, command: WithUploads) -> Any:
    for upload in command.uploads:
        documents.store(tx, actor, upload)
    return command.handler(tx, actor, command.command)
