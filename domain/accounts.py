"""A user's account as its events tell it, and the decisions on it: who may change which account.

Each decision returns the event to record, or None when the account is already as asked (nothing is
recorded then). The service supplies what it looked up: whether an office or region exists, how many
other administrators are active.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from domain import rules
from domain.actors import Actor, Role, scope_problem
from domain.errors import InvalidInput, Message
from domain.events import (
    Event,
    PasswordLinkIssued,
    PasswordSet,
    PasswordSetWithLink,
    TokenIssued,
    TokensRevoked,
    UserChanged,
    UserCreated,
    UserDeactivated,
    UserReactivated,
)


@dataclass(frozen=True, slots=True)
class AccountDraft:
    """An account as asked for (`POST /users`, `users add`)."""

    username: str
    name: str
    role: Role
    office_code: str | None
    region_code: str | None


@dataclass(frozen=True, slots=True)
class AccountChange:
    """The fields a `PATCH /users/{username}` gives; None: unchanged. `office_code` and `region_code`
    can be cleared, hence `clear`: the fields given as null."""

    name: str | None = None
    role: Role | None = None
    office_code: str | None = None
    region_code: str | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    username: str
    name: str
    role: Role
    office_code: str | None
    region_code: str | None
    active: bool
    version: int
    live_tokens: tuple[str, ...]  # ids of the tokens issued and not yet ended (expired ones too)

    @classmethod
    def from_history(cls, history: Iterable[Event]) -> Account:
        state: Account | None = None
        for event in history:
            state = cls.opened_by(event) if state is None else state.apply(event)
        if state is None:
            raise ValueError("an account's history starts with its creation")
        return state

    @classmethod
    def opened_by(cls, event: Event) -> Account:
        if not isinstance(event, UserCreated):
            raise ValueError(f"an account's history starts with its creation, not {event.type_name}")
        return cls(
            id=event.user_id,
            username=event.username,
            name=event.name,
            role=Role(event.role),
            office_code=event.office_code,
            region_code=event.region_code,
            active=True,
            version=1,
            live_tokens=(),
        )

    def apply(self, event: Event) -> Account:
        state = replace(self, version=self.version + 1)
        match event:
            case UserChanged(name=name, role=role, office_code=office, region_code=region):
                return replace(state, name=name, role=Role(role), office_code=office, region_code=region)
            case UserDeactivated():
                return replace(state, active=False, live_tokens=())
            case UserReactivated():
                return replace(state, active=True)
            case TokenIssued(token_id=token_id):
                return replace(state, live_tokens=(*self.live_tokens, token_id))
            case TokensRevoked(token_ids=ended):
                return replace(state, live_tokens=tuple(t for t in self.live_tokens if t not in ended))
        return state


def _check_scope(
    role: Role, office_code: str | None, region_code: str | None, *, office_exists: bool, region_exists: bool
) -> None:
    errors = scope_problem(role, office_code, region_code)
    if office_code and not office_exists:
        errors.setdefault("office_code", []).append(Message("no office {code}", code=office_code))
    if region_code and not region_exists:
        errors.setdefault("region_code", []).append(
            Message(
                "no region {code}: add the region first (POST /regions, or with its first office)",
                code=region_code,
            )
        )
    if errors:
        raise InvalidInput(errors)


def open_account(
    actor: Actor, user_id: str, draft: AccountDraft, *, office_exists: bool, region_exists: bool
) -> UserCreated:
    rules.check_may_manage_accounts(actor)
    rules.check_username(draft.username)
    _check_scope(
        draft.role,
        draft.office_code,
        draft.region_code,
        office_exists=office_exists,
        region_exists=region_exists,
    )
    return UserCreated(
        user_id=user_id,
        username=draft.username,
        name=draft.name,
        role=draft.role.value,
        office_code=draft.office_code,
        region_code=draft.region_code,
    )


def change_account(
    actor: Actor,
    account: Account,
    change: AccountChange,
    *,
    office_exists: bool,
    region_exists: bool,
    other_active_admins: int,
) -> UserChanged | None:
    rules.check_may_manage_accounts(actor)
    name = change.name if change.name is not None else account.name
    role = change.role if change.role is not None else account.role
    office = None if "office_code" in change.clear else change.office_code or account.office_code
    region = None if "region_code" in change.clear else change.region_code or account.region_code
    _check_scope(role, office, region, office_exists=office_exists, region_exists=region_exists)
    if role is not account.role:
        rules.check_not_own_case_role(actor, account.id, role)
        rules.check_not_last_admin_demoted(account.role, account.active, role, other_active_admins)
    before = {
        "name": account.name,
        "role": account.role,
        "office_code": account.office_code,
        "region_code": account.region_code,
    }
    after = {"name": name, "role": role, "office_code": office, "region_code": region}
    changed = tuple(field for field in after if after[field] != before[field])
    if not changed:
        return None
    return UserChanged(name=name, role=role.value, office_code=office, region_code=region, changed=changed)


def deactivate(
    actor: Actor, account: Account, reason: str, *, other_active_admins: int
) -> UserDeactivated | None:
    """Shut the account and end every token it holds; already shut: nothing to record."""
    rules.check_may_manage_accounts(actor)
    if not account.active:
        return None
    rules.check_not_last_admin(account.role, account.active, other_active_admins)
    return UserDeactivated(reason=reason, tokens_ended=account.live_tokens)


def reactivate(actor: Actor, account: Account, reason: str) -> UserReactivated | None:
    """Open a shut account again; the tokens its deactivation ended stay ended."""
    rules.check_may_manage_accounts(actor)
    if account.active:
        return None
    return UserReactivated(reason=reason)


def issue_token(actor: Actor, account: Account, token_id: str, expires_at: str) -> TokenIssued:
    rules.check_may_manage_accounts(actor)
    rules.check_account_active(account.username, account.active)
    return TokenIssued(token_id=token_id, expires_at=expires_at)


def revoke_tokens(actor: Actor, account: Account) -> TokensRevoked | None:
    """End every token of the account; none left: nothing to record."""
    rules.check_may_manage_accounts(actor)
    if not account.live_tokens:
        return None
    return TokensRevoked(token_ids=account.live_tokens)


def set_password(actor: Actor, account: Account, password: str) -> PasswordSet:
    rules.check_may_manage_accounts(actor)
    rules.check_password(password)
    return PasswordSet()


def issue_password_link(actor: Actor, account: Account, link_id: str, expires_at: str) -> PasswordLinkIssued:
    """A one-time link for an active user to set their own password (a first one, or after forgetting
    it): only an administrator issues one."""
    rules.check_may_manage_accounts(actor)
    rules.check_account_active(account.username, account.active)
    return PasswordLinkIssued(link_id=link_id, expires_at=expires_at)


def set_password_with_link(account: Account, link_id: str, password: str) -> PasswordSetWithLink:
    """The user sets their own password with a link issued to them (the service has checked that the
    link is theirs, unused and unexpired); the account must still be active."""
    rules.check_account_active(account.username, account.active)
    rules.check_password(password)
    return PasswordSetWithLink(link_id=link_id)
