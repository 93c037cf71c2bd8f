"""`/api/v1/me` for everyone signed in; `/api/v1/users`: administrators manage accounts (each change an
event in the log), auditors read them."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from domain import rules
from domain.accounts import AccountChange, AccountDraft
from domain.actors import Role
from domain.errors import NotFound
from service import accounts, handlers, web
from service.api import docs
from service.idempotency import Reply
from service.pagination import decode_cursor, encode_cursor
from service.schemas import (
    IssuedTokenSchema,
    ReasonSchema,
    TokenRequestSchema,
    UserChangeSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQuerySchema,
    UserSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts.")

account_readers = web.checked_before_body(rules.check_may_read_accounts)
admin_only = web.checked_before_body(rules.check_may_manage_accounts)


def checked_username(username: str) -> str:
    """No username is longer, or holds a control character (a NUL is an error on PostgreSQL): such a
    path names nobody, said before the database sees it."""
    if len(username) > 64 or not username.isprintable():
        raise NotFound(f"no user {username}")
    return username


def _user_reply(status: int) -> Any:
    return lambda user: Reply.json(status, accounts.user_as_dict(user))


@blp.route("/me")
@blp.response(200, UserSchema)
@docs.errors(401)
def me() -> Response:
    """The caller's own account: role, scope, and when its newest token expires."""
    user = web.application().query(accounts.get_user, web.actor().username)
    if user is None:  # deleted between the token's check and this read: it signs in no more
        raise NotFound("no such user")
    return web.json_response(accounts.user_as_dict(user))


@blp.route("/users", methods=["POST"])
@admin_only
@blp.arguments(UserCreateSchema())
@blp.response(201, UserSchema, headers=docs.LOCATION)
@docs.errors(400, 401, 403, 409, 413, 422)
def create_user(data: dict[str, Any]) -> Response:
    """Open an account (admin); issue its token with `POST /users/{username}/tokens`."""
    draft = AccountDraft(
        username=data["username"],
        name=data["name"],
        role=Role(data["role"]),
        office_code=data.get("office_code"),
        region_code=data.get("region_code"),
    )
    location = f"{blp.url_prefix}/users/{draft.username}"
    created = lambda user: Reply.json(201, accounts.user_as_dict(user), Location=location)  # noqa: E731
    return web.perform(handlers.create_user, draft, created, idempotent=False)


@blp.route("/users/<username>", methods=["PATCH"])
@admin_only
@blp.arguments(UserChangeSchema())
@blp.response(200, UserSchema)
@docs.errors(400, 401, 403, 404, 409, 413, 422)
def change_user(data: dict[str, Any], username: str) -> Response:
    """Change an account's name, role or scope (admin). An administrator may not give themselves a case
    role, nor take the role admin from the last active administrator (409)."""
    change = AccountChange(
        name=data.get("name"),
        role=Role(data["role"]) if "role" in data else None,
        office_code=data.get("office_code"),
        region_code=data.get("region_code"),
        clear=frozenset(k for k in ("office_code", "region_code") if k in data and data[k] is None),
    )
    command = handlers.ChangeUser(checked_username(username), change)
    return web.perform(handlers.change_user, command, _user_reply(200), idempotent=False)


@blp.route("/users/<username>/deactivate", methods=["POST"])
@admin_only
@blp.arguments(ReasonSchema())
@blp.response(200, UserSchema)
@docs.errors(400, 401, 403, 404, 409, 413, 422)
def deactivate_user(data: dict[str, Any], username: str) -> Response:
    """Shut an account (admin): every token it holds ends. Not the last active administrator (409)."""
    command = handlers.UserWithReason(checked_username(username), data["reason"])
    return web.perform(handlers.deactivate_user, command, _user_reply(200), idempotent=False)


@blp.route("/users/<username>/reactivate", methods=["POST"])
@admin_only
@blp.arguments(ReasonSchema())
@blp.response(200, UserSchema)
@docs.errors(400, 401, 403, 404, 413, 422)
def reactivate_user(data: dict[str, Any], username: str) -> Response:
    """Open a shut account again (admin); the tokens its deactivation ended stay ended."""
    command = handlers.UserWithReason(checked_username(username), data["reason"])
    return web.perform(handlers.reactivate_user, command, _user_reply(200), idempotent=False)


@blp.route("/users/<username>/tokens", methods=["POST"])
@admin_only
@blp.arguments(TokenRequestSchema())
@blp.response(201, IssuedTokenSchema)
@docs.errors(400, 401, 403, 404, 409, 413, 422)
def issue_token(data: dict[str, Any], username: str) -> Response:
    """Issue a token to an active user (admin): shown once in the reply, kept only as a hash; the log
    records its id and expiry. Never kept with an Idempotency-Key."""
    days = data.get("expires_in_days", current_app.config["TOKEN_DAYS"])
    command = handlers.IssueToken(checked_username(username), days)
    issued = lambda t: Reply.json(201, t._asdict())  # noqa: E731
    return web.perform(handlers.issue_token, command, issued, idempotent=False)


@blp.route("/users/<username>/tokens", methods=["DELETE"])
@admin_only
@blp.response(204)
@docs.errors(401, 403, 404)
def revoke_tokens(username: str) -> Response:
    """End every token of the user at once (admin); the account stays active."""
    ended = lambda _count: Reply.empty(204)  # noqa: E731
    return web.perform(handlers.revoke_tokens, checked_username(username), ended, idempotent=False)


@blp.route("/users")
@account_readers
@blp.arguments(UserQuerySchema(), location="query")
@blp.response(200, UserPageSchema)
@docs.errors(401, 403, 422)
def list_users(args: dict[str, Any]) -> Response:
    """Users by username (admin, auditor), filtered by `role`, `office`, `region` and `active`."""
    limit, cursor = args["limit"], args.get("cursor")
    found = web.application().query(
        accounts.list_users,
        role=args.get("role"),
        office_code=args.get("office"),
        region_code=args.get("region"),
        active=args.get("active"),
        after_username=decode_cursor("u", cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [accounts.user_as_dict(user) for user in found[:limit]]
    next_cursor = encode_cursor("u", found[limit - 1].username) if len(found) > limit else None
    return web.json_response({"items": items, "next_cursor": next_cursor})


@blp.route("/users/<username>", methods=["GET"])
@account_readers
@blp.response(200, UserSchema)
@docs.errors(401, 403, 404)
def get_user(username: str) -> Response:
    """One user (admin, auditor)."""
    user = web.application().query(accounts.get_user, checked_username(username))
    if user is None:
        raise NotFound(f"no user {username}")
    return web.json_response(accounts.user_as_dict(user))
