"""Every rule that guards a command, each stated once as a `check_...` function."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from domain import criteria as assessment_criteria
from domain.actors import OFFICE_ROLES, Actor, Person, Role
from domain.calendar import latest_today
from domain.errors import InvalidInput, Message, NotFound, NotPermitted, RuleBroken, StaleVersion
from domain.lifecycle import Action, Stage
from domain.places import Office, Village, is_village_code

ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.PROPOSE: OFFICE_ROLES,
    Action.COORDINATE: frozenset({Role.SECTION_HEAD, Role.HEAD_OF_OFFICE}),
    Action.SOCIALIZE: frozenset({Role.SECTION_HEAD, Role.HEAD_OF_OFFICE}),
    Action.ASSESS: frozenset({Role.SECTION_HEAD, Role.HEAD_OF_OFFICE}),
    Action.WITHDRAW: frozenset({Role.SECTION_HEAD, Role.HEAD_OF_OFFICE}),
    Action.DESIGNATE: frozenset({Role.HEAD_OF_OFFICE}),
    Action.REJECT: frozenset({Role.HEAD_OF_OFFICE}),
    Action.RETURN: frozenset({Role.HEAD_OF_OFFICE}),
    Action.REVOKE: frozenset({Role.HEAD_OF_OFFICE}),
}

CASE_READERS = OFFICE_ROLES | {Role.REGIONAL_SUPERVISOR, Role.AUDITOR}


def may_perform(role: Role, action: Action) -> bool:
    return role in ACTION_ROLES[action]


def check_may_perform(actor: Actor, action: Action) -> None:
    if not may_perform(actor.role, action):
        allowed = ", ".join(sorted(r.value for r in ACTION_ROLES[action]))
        raise NotPermitted(f"the role {actor.role.value} may not {action.value}; only {allowed} may")


def check_may_read_cases(actor: Actor) -> None:
    if actor.role not in CASE_READERS:
        raise NotPermitted(f"the role {actor.role.value} has no access to candidacies")


def check_may_read_reports(actor: Actor) -> None:
    """Targets, the register and the reports are read by whoever reads cases, in the same scope."""
    if actor.role not in CASE_READERS:
        raise NotPermitted(f"the role {actor.role.value} may not read reports")


def may_read_office(actor: Actor, office_code: str, region_code: str) -> bool:
    """Office staff read their office, regional supervisors their region, auditors everything."""
    if actor.role in OFFICE_ROLES:
        return actor.office_code == office_code
    if actor.role is Role.REGIONAL_SUPERVISOR:
        return actor.region_code == region_code
    return actor.role is Role.AUDITOR


def may_read_everything(actor: Actor) -> bool:
    return actor.role is Role.AUDITOR


def check_may_read_case(actor: Actor, office_code: str, region_code: str, case_id: str) -> None:
    """A case outside the actor's scope is reported as unknown, so that its existence does not leak."""
    check_may_read_cases(actor)
    if not may_read_office(actor, office_code, region_code):
        raise NotFound(f"no candidacy {case_id}")


def check_proposes_for_own_office(actor: Actor, office_code: str) -> None:
    if actor.office_code != office_code:
        raise NotPermitted(f"{actor.username} proposes for office {actor.office_code}, not {office_code}")


def check_expected_version(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise StaleVersion(expected, actual)


def check_not_in_future(field: str, value: dt.date, now: dt.datetime) -> None:
    if value > latest_today(now):
        raise InvalidInput.field(field, Message("{day} lies in the future", day=value))


def check_not_before(field: str, value: dt.date, earlier_field: str, earlier: dt.date | None) -> None:
    if earlier is not None and value < earlier:
        raise InvalidInput.field(
            field,
            Message(
                "{day} is before the {earlier_field} ({earlier})",
                day=value,
                earlier_field=earlier_field,
                earlier=earlier,
            ),
        )


def check_criteria(criteria: Mapping[str, object]) -> None:
    """An assessment records one or more of the fixed criteria (`domain/criteria.py`), each true or
    false; a criterion left out was not assessed."""
    if not criteria:
        raise InvalidInput.field("criteria", assessment_criteria.NONE_NAMED)
    errors: dict[str, list[str]] = {}
    for name, value in criteria.items():
        if name not in assessment_criteria.ALLOWED:
            errors[f"criteria.{name}"] = [assessment_criteria.UNKNOWN]
        elif not isinstance(value, bool):
            errors[f"criteria.{name}"] = [Message("must be true or false")]
    if errors:
        raise InvalidInput(errors)


def passes_four_eyes(approver: Person, proposer: Person, assessor: Person | None) -> bool:
    """The approver is another person than the proposer and the assessor (people, not roles:
    an acting head may hold the same role as the assessor; nor usernames: `Person.is_same`)."""
    return not approver.is_same(proposer) and (assessor is None or not approver.is_same(assessor))


def check_four_eyes(approver: Person, proposer: Person, assessor: Person | None) -> None:
    if approver.is_same(proposer):
        raise RuleBroken(Message("four eyes: the approver proposed this candidacy"), rule="four_eyes")
    if assessor is not None and approver.is_same(assessor):
        raise RuleBroken(Message("four eyes: the approver assessed this candidacy"), rule="four_eyes")


def check_village_code(code: str) -> None:
    if not is_village_code(code):
        raise InvalidInput.field(
            "village_code",
            Message("a village code has the shape PP.KK.CC.DDDD, DDDD starting with 1, 2 or 3"),
        )


def check_same_village_name(code: str, given: str | None, registered: str) -> None:
    """Letter case and spacing aside."""
    if given is not None and " ".join(given.split()).casefold() != " ".join(registered.split()).casefold():
        raise InvalidInput.field(
            "village_name",
            Message(
                "the village registry names {code} {registered!r}, not {given!r}",
                code=code,
                registered=registered,
                given=given,
            ),
        )


def check_in_working_area(office: Office, village_code: str) -> None:
    if not office.serves(village_code):
        served = ", ".join(sorted(office.regencies)) or "none"
        raise InvalidInput.field(
            "village_code",
            Message(
                "{village} lies outside the working area of {office} (regencies {served})",
                village=village_code,
                office=office.code,
                served=served,
            ),
        )


def check_village_free(village: Village, holding_stage: Stage | None) -> None:
    """One live candidacy per village; a designated village is never proposed again."""
    if holding_stage is Stage.DESIGNATED:
        raise RuleBroken(
            Message("{code} {name} is already designated", code=village.code, name=village.name),
            rule="village_designated",
        )
    if holding_stage is not None:
        raise RuleBroken(
            Message(
                "{code} {name} already has a live candidacy ({stage})",
                code=village.code,
                name=village.name,
                stage=holding_stage,
            ),
            rule="duplicate_candidacy",
        )


def check_may_manage_accounts(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted(f"only an admin manages offices and users, not the role {actor.role.value}")


def check_not_last_admin(role: Role, active: bool, other_active_admins: int) -> None:
    """Somebody must be left to manage accounts: the last active administrator is not deactivated."""
    if role is Role.ADMIN and active and other_active_admins == 0:
        raise RuleBroken(
            Message("the last active administrator cannot be deactivated: make someone else an admin first"),
            rule="last_admin",
        )


def check_not_own_case_role(actor: Actor, user_id: str, new_role: Role) -> None:
    """Whoever manages accounts does not hand themselves the power to act on cases: an administrator
    may not give their own account a case role (another administrator may)."""
    if actor.id is not None and actor.id == user_id and new_role is not Role.ADMIN:
        raise RuleBroken(
            Message(
                "an administrator may not give themselves the role {role}: ask another administrator",
                role=new_role,
            ),
            rule="own_case_role",
        )


def check_not_last_admin_demoted(role: Role, active: bool, new_role: Role, other_active_admins: int) -> None:
    """Nor may the last active administrator be given another role."""
    if role is Role.ADMIN and active and new_role is not Role.ADMIN and other_active_admins == 0:
        raise RuleBroken(
            Message("the last active administrator keeps the role admin: make someone else an admin first"),
            rule="last_admin",
        )


def check_account_active(username: str, active: bool) -> None:
    if not active:
        raise RuleBroken(
            Message("user {username} is deactivated: reactivate the account first", username=username),
            rule="user_deactivated",
        )


USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# The actor of the command line: no account may take its name.
RESERVED_USERNAMES = frozenset({"cli"})


def check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidInput.field(
            "username", Message("1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        )
    if username in RESERVED_USERNAMES:
        raise InvalidInput.field(
            "username", Message("{username!r} names the command line in the log", username=username)
        )


MIN_PASSWORD_LENGTH = 12


def check_password(password: str) -> None:
    """Long enough to resist guessing; anything else (spaces, any script) is the user's choice."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.field(
            "password", Message("at least {length} characters", length=MIN_PASSWORD_LENGTH)
        )


def check_region_exists(code: str, regions: Mapping[str, str]) -> None:
    if code not in regions:
        raise NotFound(f"no region {code}")


def check_office_exists(code: str, offices: Mapping[str, Office]) -> None:
    if code not in offices:
        raise NotFound(f"no office {code}")


def check_may_read_accounts(actor: Actor) -> None:
    """Administrators manage accounts; auditors read them, to follow who could act as whom."""
    if actor.role not in (Role.ADMIN, Role.AUDITOR):
        raise NotPermitted(f"only an admin or an auditor reads accounts, not the role {actor.role.value}")


def check_may_audit(actor: Actor) -> None:
    """The whole log and its chain are for auditors: they hold every office's cases at once."""
    if actor.role is not Role.AUDITOR:
        raise NotPermitted(
            f"only an auditor reads the event feed and the ledger, not the role {actor.role.value}"
        )
