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
from service.schemas import (
    OfficeChangeSchema,
    OfficeCreateSchema,
    RegionCreateSchema,
    RegionRenameSchema,
    UserChangeSchema,
    UserCreateSchema,
)
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


# ---- offices and regions -----------------------------------------------------------------------------


def _filled(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    """The fields of a form that are filled in, as the API's schema reads them (one left empty is not
    sent)."""
    return {name: value for name in names if (value := form.get(name, "").strip())}


def _office_form(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """An office's form: regencies one per line or separated by commas or spaces; take-over a
    checkbox."""
    body: dict[str, Any] = _filled(form, names) | {"take_over": form.get("take_over") == "yes"}
    if "regencies" in form:
        body["regencies"] = form["regencies"].replace(",", " ").split()
    return body


OFFICE_FIELDS = ("name", "unit_type", "region_code", "effective_on")


@blp.get("/kantor")
def offices_page() -> str:
    _admin()
    return _offices_page(notice=session.pop("notice", None))


def _offices_page(**extra: Any) -> str:
    return render_template(
        "offices.html",
        offices=application().query(organisation.list_offices),
        regions=application().query(organisation.list_regions),
        sent=extra.pop("sent", {}),
        errors=extra.pop("errors", {}),
        **extra,
    )


def _organisation_change(run: Any, page: Any, done: str) -> BaseResponse | tuple[str, int]:
    """Run an administrator's change of an office or region; a refusal is shown on `page`."""
    try:
        run()
    except ValidationError as error:
        return page(errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return page(errors=error.errors), 422
    except NotFound:
        raise
    except DomainError as error:
        return page(refusal=error.detail), 409
    session["notice"] = "changed"
    return redirect(done, 303)


@blp.post("/kantor")
def open_office() -> BaseResponse | tuple[str, int]:
    """Open an office from its effective day, as `POST /api/v1/offices` does."""
    actor = _admin()
    body = _office_form(request.form, ("code", *OFFICE_FIELDS))

    def run() -> None:
        data = OfficeCreateSchema().load(body)
        command = organisation.office_request(data["code"], data)
        application().execute(handlers.add_office, actor, command, request_id=g.request_id)

    page = lambda **shown: _offices_page(sent=request.form, **shown)  # noqa: E731
    return _organisation_change(run, page, url_for(".office_page", code=body.get("code", "")))


@blp.get("/kantor/<code>")
def office_page(code: str) -> str:
    _admin()
    return _office_page(code, notice=session.pop("notice", None))


def _office_page(code: str, **extra: Any) -> str:
    office = application().query(organisation.get_office, organisation.checked_office_code(code))
    if office is None:
        raise NotFound(f"no office {code}")
    return render_template(
        "office.html",
        office=office,
        history=application().query(organisation.office_history_of, office.code),
        regions=application().query(organisation.list_regions),
        sent=extra.pop("sent", None),
        errors=extra.pop("errors", {}),
        **extra,
    )


@blp.post("/kantor/<code>")
def change_office(code: str) -> BaseResponse | tuple[str, int]:
    """Change an office's name, type, region or working area from a day, as `PUT /api/v1/offices` does."""
    actor = _admin()
    organisation.checked_office_code(code)

    def run() -> None:
        data = OfficeChangeSchema().load(_office_form(request.form, OFFICE_FIELDS))
        command = organisation.office_request(code, data)
        application().execute(handlers.replace_office, actor, command, request_id=g.request_id)

    page = lambda **shown: _office_page(code, sent=request.form, **shown)  # noqa: E731
    return _organisation_change(run, page, url_for(".office_page", code=code))


@blp.post("/kanwil")
def add_region() -> BaseResponse | tuple[str, int]:
    actor = _admin()

    def run() -> None:
        data = RegionCreateSchema().load(_filled(request.form, ("code", "name")))
        command = handlers.NameRegion(data["code"], data["name"])
        application().execute(handlers.add_region, actor, command, request_id=g.request_id)

    page = lambda **shown: _offices_page(sent=request.form, **shown)  # noqa: E731
    return _organisation_change(run, page, url_for(".offices_page"))


@blp.post("/kanwil/<code>")
def rename_region(code: str) -> BaseResponse | tuple[str, int]:
    actor = _admin()

    def run() -> None:
        data = RegionRenameSchema().load(_filled(request.form, ("name",)))
        command = handlers.NameRegion(code, data["name"])
        application().execute(handlers.rename_region, actor, command, request_id=g.request_id)

    return _organisation_change(run, _offices_page, url_for(".offices_page"))


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
