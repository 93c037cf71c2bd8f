"""Who may change which account, and what each change records (`domain/accounts.py`)."""

from __future__ import annotations

import json

import pytest

from domain import accounts, rules
from domain.accounts import Account, AccountChange, AccountDraft
from domain.actors import Actor, Role
from domain.errors import InvalidInput, NotPermitted, RuleBroken
from domain.events import (
    PasswordLinkIssued,
    PasswordSet,
    TokenIssued,
    TokensRevoked,
    UserChanged,
    UserCreated,
    UserDeactivated,
    UserReactivated,
)
from domain.lifecycle import Action

ADMIN = Actor("admin", "Admin", Role.ADMIN, id="admin-id")
CLI = Actor("cli", "root", Role.ADMIN)
SCOPE = {"office_exists": True, "region_exists": True}


def account(
    role: Role = Role.OFFICER, *, user_id: str = "u-1", office: str | None = "BOGOR", **kw: object
) -> Account:
    opened = UserCreated(user_id, "someone", "Someone", role.value, office, kw.pop("region", None))  # type: ignore[arg-type]
    return Account.from_history([opened, *kw.pop("then", [])])  # type: ignore[list-item]


def change(target: Account, who: Actor = ADMIN, others: int = 1, **fields: object) -> UserChanged | None:
    return accounts.change_account(who, target, AccountChange(**fields), **SCOPE, other_active_admins=others)  # type: ignore[arg-type]


# ---- opening ----------------------------------------------------------------------------------------


def test_an_admin_opens_an_account_with_a_fitting_scope() -> None:
    draft = AccountDraft("kasi.bogor", "Kasi", Role.SECTION_HEAD, "BOGOR", None)
    event = accounts.open_account(ADMIN, "u-9", draft, **SCOPE)
    assert event == UserCreated("u-9", "kasi.bogor", "Kasi", "section_head", "BOGOR", None)


@pytest.mark.parametrize(
    ("role", "office", "region", "field"),
    [
        (Role.OFFICER, None, None, "office_code"),
        (Role.REGIONAL_SUPERVISOR, None, None, "region_code"),
        (Role.AUDITOR, "BOGOR", None, "office_code"),
        (Role.HEAD_OF_OFFICE, "BOGOR", "JABAR", "region_code"),
    ],
)
def test_the_scope_must_fit_the_role(role: Role, office: str | None, region: str | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.open_account(ADMIN, "u", AccountDraft("x", "X", role, office, region), **SCOPE)
    assert field in refused.value.errors


def test_the_office_and_region_must_exist() -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.open_account(
            ADMIN,
            "u",
            AccountDraft("x", "X", Role.OFFICER, "NOWHERE", None),
            office_exists=False,
            region_exists=False,
        )
    assert "office_code" in refused.value.errors


@pytest.mark.parametrize("username", ["", "a b", "-dash", "x" * 65, "cli", "tab\there"])
def test_a_username_is_plain_and_not_the_command_lines(username: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.open_account(ADMIN, "u", AccountDraft(username, "X", Role.AUDITOR, None, None), **SCOPE)
    assert "username" in refused.value.errors


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_an_admin_changes_accounts(role: Role) -> None:
    someone = Actor(
        "x", "X", role, "BOGOR" if role.value in ("officer", "section_head", "head_of_office") else None
    )
    with pytest.raises(NotPermitted):
        accounts.open_account(someone, "u", AccountDraft("y", "Y", Role.AUDITOR, None, None), **SCOPE)
    with pytest.raises(NotPermitted):
        change(account(), who=someone, name="Z")
    with pytest.raises(NotPermitted):
        accounts.deactivate(someone, account(), "x", other_active_admins=1)
    with pytest.raises(NotPermitted):
        accounts.issue_token(someone, account(), "t", "2025-01-01T00:00:00.000000Z")


# ---- changing ---------------------------------------------------------------------------------------


def test_a_change_records_everything_as_it_now_stands_and_what_changed() -> None:
    event = change(account(), role=Role.HEAD_OF_OFFICE)
    assert event == UserChanged("Someone", "head_of_office", "BOGOR", None, ("role",))


def test_a_change_to_nothing_records_nothing() -> None:
    assert change(account(), name="Someone", role=Role.OFFICER, office_code="BOGOR") is None


def test_a_scope_is_cleared_by_name() -> None:
    event = change(account(), role=Role.AUDITOR, clear=frozenset({"office_code"}))
    assert event is not None and (event.role, event.office_code) == ("auditor", None)


def test_an_admin_may_not_give_themselves_a_case_role() -> None:
    me = account(Role.ADMIN, user_id="admin-id", office=None)
    with pytest.raises(RuleBroken) as refused:
        change(me, role=Role.HEAD_OF_OFFICE, office_code="BOGOR", others=3)
    assert refused.value.rule == "own_case_role"
    # Another administrator may; so may the command line (it is nobody's account).
    assert change(account(Role.ADMIN, user_id="other-id", office=None), role=Role.AUDITOR, others=3)
    assert change(me, who=CLI, role=Role.AUDITOR, others=3)


def test_the_last_active_admin_keeps_the_role() -> None:
    last = account(Role.ADMIN, user_id="other-id", office=None)
    with pytest.raises(RuleBroken) as refused:
        change(last, role=Role.AUDITOR, others=0)
    assert refused.value.rule == "last_admin"
    assert change(last, name="Renamed", others=0) is not None


def test_the_last_active_admin_is_not_deactivated() -> None:
    last = account(Role.ADMIN, user_id="other-id", office=None)
    with pytest.raises(RuleBroken) as refused:
        accounts.deactivate(ADMIN, last, "x", other_active_admins=0)
    assert refused.value.rule == "last_admin"
    assert accounts.deactivate(ADMIN, last, "x", other_active_admins=1) is not None


def test_an_admin_cannot_act_on_cases() -> None:
    for action in Action:
        assert not rules.may_perform(Role.ADMIN, action)
    with pytest.raises(NotPermitted):
        rules.check_may_read_cases(ADMIN)


# ---- tokens and activity ----------------------------------------------------------------------------


def test_deactivation_ends_every_live_token_and_reactivation_none() -> None:
    issued = [TokenIssued("t-1", "2025-01-01"), TokenIssued("t-2", "2025-02-01"), TokensRevoked(("t-1",))]
    live = account(then=[*issued, TokenIssued("t-3", "2025-03-01")])
    assert live.live_tokens == ("t-2", "t-3")
    event = accounts.deactivate(ADMIN, live, "pindah", other_active_admins=1)
    assert event == UserDeactivated("pindah", ("t-2", "t-3"))
    shut = live.apply(event)
    assert (shut.active, shut.live_tokens) == (False, ())
    assert accounts.deactivate(ADMIN, shut, "again", other_active_admins=1) is None
    reopened = shut.apply(accounts.reactivate(ADMIN, shut, "kembali") or UserReactivated("?"))
    assert (reopened.active, reopened.live_tokens) == (True, ())
    assert accounts.reactivate(ADMIN, reopened, "again") is None


def test_a_deactivated_account_gets_no_token() -> None:
    shut = account(then=[UserDeactivated("x", ())])
    with pytest.raises(RuleBroken) as refused:
        accounts.issue_token(ADMIN, shut, "t", "2025-01-01T00:00:00.000000Z")
    assert refused.value.rule == "user_deactivated"


def test_revoking_no_tokens_records_nothing() -> None:
    assert accounts.revoke_tokens(ADMIN, account()) is None
    assert accounts.revoke_tokens(ADMIN, account(then=[TokenIssued("t", "x")])) == TokensRevoked(("t",))


def test_a_password_is_long_and_never_recorded() -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.set_password(ADMIN, account(), "short")
    assert "password" in refused.value.errors
    event = accounts.set_password(ADMIN, account(), "correct horse battery")
    assert event == PasswordSet() and event.to_data() == {}


def test_only_an_admin_issues_a_password_link_and_only_to_an_active_account() -> None:
    event = accounts.issue_password_link(ADMIN, account(), "link-1", "2026-12-09T00:00:00.000000Z")
    assert event == PasswordLinkIssued("link-1", "2026-12-09T00:00:00.000000Z")
    assert "secret" not in json.dumps(event.to_data())
    head = Actor("head", "Head", Role.HEAD_OF_OFFICE, "BOGOR", id="h")
    with pytest.raises(NotPermitted):
        accounts.issue_password_link(head, account(), "link-2", "2026-12-09T00:00:00.000000Z")
    with pytest.raises(RuleBroken):
        accounts.issue_password_link(ADMIN, account(then=[UserDeactivated("gone", ())]), "l", "x")


def test_a_password_set_with_a_link_keeps_the_rules_and_records_only_the_link() -> None:
    with pytest.raises(InvalidInput):
        accounts.set_password_with_link(account(), "link-1", "short")
    with pytest.raises(RuleBroken):
        accounts.set_password_with_link(
            account(then=[UserDeactivated("gone", ())]), "link-1", "long enough password"
        )
    event = accounts.set_password_with_link(account(), "link-1", "long enough password")
    assert event.to_data() == {"link_id": "link-1"}
