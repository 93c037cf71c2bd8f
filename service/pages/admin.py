"""The administrator's pages (users and offices) and the one-time link with which a user sets their
own password. Every change is the same command as over the API, recorded in the log."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from domain import rules
from domain.accounts import AccountChange, AccountDraft
from domain.actors import Actor, Role
from domain.errors import DomainError, InvalidInput, NotFound
from service import accounts, handlers, organisation
from service.pages.views import blp, signed_in_user
from service.problems import flatten_errors
from service.schemas import UserChangeSchema, UserCreateSchema
from service.web import application

SCOPE = ("role", "office_code", "region_code")


def _admin() -> Actor:
    actor = signed_in_user()
    rules.check_may_manage_accounts(actor)
    return actor


def _user_form(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a user's form as the API's schema reads them: an office or region left empty is
    none."""
    body: dict[str, Any] = {}
    for name in names:
        value = form.get(name, "").strip()
        if name in ("office_code", "region_code"):
            body[name] = value or None
        elif value:
            body[name] = value
    return body


@blp.get("/pengguna")
def users_page() -> str:
    _admin()
    return _users_page()


def _users_page(**extra: Any) -> str:
    listed = application().query(accounts.list_users)
    offices = application().query(organisation.list_office_headings)
    regions = application().query(organisation.list_regions)
    return render_template(
        "users.html", users=listed, offices=offices, regions=regions, sent={}, errors={}, **extra
    )


@blp.post("/pengguna")
def create_user() -> BaseResponse | tuple[str, int]:
    actor = _admin()
    try:
        data = UserCreateSchema().load(
            _user_form(request.form, ("username", "name", "role", "office_code", "region_code"))
        )
        draft = AccountDraft(
            data["username"],
            data["name"],
            Role(data["role"]),
            data.get("office_code"),
            data.get("region_code"),
        )
        application().execute(handlers.create_user, actor, draft, request_id=g.request_id)
    except ValidationError as error:
        return _users_page(sent=request.form, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return _users_page(sent=request.form, errors=error.errors), 422
    except DomainError as error:
        return _users_page(sent=request.form, refusal=error.detail), 409
    session["notice"] = "created"
    return redirect(url_for(".user_page", username=data["username"]), 303)


@blp.get("/pengguna/<username>")
def user_page(username: str) -> str:
    _admin()
    return _user_page(username, notice=session.pop("notice", None))


def _user_page(username: str, **extra: Any) -> str:
    user = application().query(accounts.get_user, username)
    if user is None:
        raise NotFound(f"no user {username}")
    offices = application().query(organisation.list_office_headings)
    regions = application().query(organisation.list_regions)
    return render_template(
        "user.html", shown=user, offices=offices, regions=regions, errors=extra.pop("errors", {}), **extra
    )


def _user_action(username: str, run: Any) -> BaseResponse | tuple[str, int]:
    """Run an administrator's change of the user; a refusal is shown on the user's page."""
    try:
        run()
    except ValidationError as error:
        return _user_page(username, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return _user_page(username, errors=error.errors), 422
    except NotFound:
        raise
    except DomainError as error:
        return _user_page(username, refusal=error.detail), 409
    session["notice"] = "changed"
    return redirect(url_for(".user_page", username=username), 303)


@blp.post("/pengguna/<username>/ubah")
def change_user(username: str) -> BaseResponse | tuple[str, int]:
    actor = _admin()

    def run() -> None:
        data = UserChangeSchema().load(
            _user_form(request.form, ("name", "role", "office_code", "region_code"))
        )
        change = AccountChange(
            name=data.get("name"),
            role=Role(data["role"]) if "role" in data else None,
            office_code=data.get("office_code"),
            region_code=data.get("region_code"),
            clear=frozenset(k for k in ("office_code", "region_code") if data.get(k) is None),
        )
        command = handlers.ChangeUser(username, change)
        application().execute(handlers.change_user, actor, command, request_id=g.request_id)

    return _user_action(username, run)


@blp.post("/pengguna/<username>/<switch>")
def switch_user(username: str, switch: str) -> BaseResponse | tuple[str, int]:
    """Deactivate (every token and session ends) or reactivate, with the reason."""
    actor = _admin()
    handler = {"nonaktifkan": handlers.deactivate_user, "aktifkan": handlers.reactivate_user}.get(switch)
    if handler is None:
        raise NotFound(f"no action {switch}")
    reason = request.form.get("reason", "").strip()

    def run() -> None:
        if not reason:
            raise InvalidInput.field("reason", str(_l("Give the reason.")))
        command = handlers.UserWithReason(username, reason)
        application().execute(handler, actor, command, request_id=g.request_id)

    return _user_action(username, run)


@blp.post("/pengguna/<username>/sandi")
def set_password(username: str) -> BaseResponse | tuple[str, int]:
    actor = _admin()
    password = request.form.get("password", "")

    def run() -> None:
        command = handlers.SetPassword(username, password)
        application().execute(handlers.set_password, actor, command, request_id=g.request_id)

    return _user_action(username, run)


@blp.post("/pengguna/<username>/tautan")
def issue_password_link(username: str) -> str | tuple[str, int]:
    """A one-time link for the user to set their own password, shown here once."""
    actor = _admin()
    try:
        issued = application().execute(handlers.issue_password_link, actor, username, request_id=g.request_id)
    except NotFound:
        raise
    except DomainError as error:
        return _user_page(username, refusal=error.detail), 409
    link = url_for(".password_with_link", secret=issued.secret, _external=True)
    return _user_page(username, link=link, link_expires_at=issued.expires_at)


@blp.get("/kantor")
def offices_page() -> str:
    _admin()
    return render_template("offices.html", offices=application().query(organisation.list_offices))


# ---- a user sets their own password ------------------------------------------------------------------


@blp.get("/sandi/<secret>")
def password_with_link(secret: str) -> str | tuple[str, int]:
    holder = application().lookup(accounts.holder_of_link, secret, application().clock())
    if holder is None:
        return render_template("problem.html", problem="link"), 404
    return render_template("set_password.html", holder=holder.actor, errors={})


@blp.post("/sandi/<secret>")
def set_password_with_link(secret: str) -> BaseResponse | tuple[str, int]:
    holder = application().lookup(accounts.holder_of_link, secret, application().clock())
    if holder is None:
        return render_template("problem.html", problem="link"), 404
    password, again = request.form.get("password", ""), request.form.get("again", "")
    try:
        if password != again:
            raise InvalidInput.field("again", str(_l("The two passwords differ.")))
        command = handlers.PasswordWithLink(secret, password)
        application().execute(handlers.set_password_with_link, holder.actor, command, request_id=g.request_id)
    except InvalidInput as error:
        return render_template("set_password.html", holder=holder.actor, errors=error.errors), 422
    except NotFound:
        return render_template("problem.html", problem="link"), 404
    session.clear()
    session["notice"] = "password_set"
    return redirect(url_for(".front_door"), 303)
