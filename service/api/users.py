"""`/api/v1/me` for everyone signed in; `/api/v1/users` for administrators and auditors, read only."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from domain import rules
from domain.errors import NotFound
from service import accounts, web
from service.api import docs
from service.pagination import decode_cursor, encode_cursor
from service.schemas import UserPageSchema, UserQuerySchema, UserSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts.")

account_readers = web.checked_before_body(rules.check_may_read_accounts)


@blp.route("/me")
@blp.response(200, UserSchema)
@docs.errors(401)
def me() -> Response:
    """The caller's own account: role, scope, and when its newest token expires."""
    user = web.application().query(accounts.get_user, web.actor().username)
    if user is None:  # deleted between the token's check and this read: it signs in no more
        raise NotFound("no such user")
    return web.json_response(accounts.user_as_dict(user))


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


@blp.route("/users/<username>")
@account_readers
@blp.response(200, UserSchema)
@docs.errors(401, 403, 404)
def get_user(username: str) -> Response:
    """One user (admin, auditor)."""
    # No username is longer, or holds a control character (a NUL is an error on PostgreSQL).
    plausible = len(username) <= 64 and username.isprintable()
    user = web.application().query(accounts.get_user, username) if plausible else None
    if user is None:
        raise NotFound(f"no user {username}")
    return web.json_response(accounts.user_as_dict(user))
