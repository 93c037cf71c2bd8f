"""The pages: sign-in at the front door, the user's work, a case with its record and timeline. Each
reads through the application layer, as the API does, and answers a problem with a page of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from domain import rules
from domain.actors import Actor, Role
from domain.calendar import latest_today
from domain.commands import ActOnCase, Indicators, ProposeCandidacy, case_command
from domain.errors import (
    ActionNotAllowed,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    RuleBroken,
    StaleVersion,
)
from domain.fostering import may_foster
from domain.lifecycle import Action, Stage
from domain.performance import QUARTERS, requested_report
from events.store import parse_timestamp
from service import (
    accounts,
    audit,
    cases,
    documents,
    fostering,
    fostering_report,
    handlers,
    organisation,
    performance_report,
    register,
    registry,
    web,
)
from service.pages import LANGUAGES, forms
from service.pages.wording import (
    ACTIONS,
    ACTIVITY_KINDS,
    CRITERIA,
    EVALUATION_RATINGS,
    EVENTS,
    FIELDS,
    FOSTERING_NOTICES,
    RATINGS,
    REPORT_CATEGORIES,
    REPORT_CHANNELS,
    REPORT_OUTCOMES,
    REPORT_STATUSES,
    ROLES,
    STAGES,
    field_label,
    say,
)
from service.performance_report import PIPELINE_STAGES, figure_columns
from service.problems import flatten_errors
from service.schemas import (
    ACTION_SCHEMAS,
    LedgerVerifyQuerySchema,
    PerformanceQuerySchema,
    ProposeSchema,
    RegisterQuerySchema,
)
from service.spreadsheet import report_heading, scope_of, xlsx_response
from service.throttle import FailedAttempts
from service.web import application, csv_response

blp = Blueprint("pages", __name__)


@blp.app_template_filter("day")
def day_filter(value: str | dt.date | None) -> str:
    """A day as Indonesians write it (21 Februari 2024), or in English on the switch."""
    if not value:
        return ""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, "d MMMM y")


@blp.app_template_filter("moment")
def moment_filter(value: str) -> str:
    """A recorded time, in the system's time zone (WIB)."""
    return format_datetime(parse_timestamp(value), "d MMMM y, HH.mm")


@blp.app_context_processor
def names() -> dict[str, Any]:
    return {
        "stages": STAGES,
        "actions": ACTIONS,
        "roles": ROLES,
        "event_names": EVENTS,
        "ratings": RATINGS,
        "activity_kinds": ACTIVITY_KINDS,
        "report_categories": REPORT_CATEGORIES,
        "report_statuses": REPORT_STATUSES,
        "evaluation_ratings": EVALUATION_RATINGS,
        "report_channels": REPORT_CHANNELS,
        "report_outcomes": REPORT_OUTCOMES,
        "fostering_notices": FOSTERING_NOTICES,
        "field_label": field_label,
        "say": say,
        "get_locale": get_locale,
        "user": g.get("actor"),
        "may_propose": (actor := g.get("actor")) is not None
        and rules.may_perform(actor.role, Action.PROPOSE),
    }


# ---- who is signed in ----------------------------------------------------------------------------


@blp.before_request
def load_signed_in_user() -> BaseResponse | None:
    """Forms carry a CSRF token (checked before anything else); the session names a user, who must
    still be active, and is over once it has been idle for SESSION_IDLE_MINUTES."""
    current_app.extensions["csrf"].protect()
    g.actor = None
    user_id = session.get("user_id")
    if user_id is None:
        return None
    now = application().clock()
    idle = dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    seen = dt.datetime.fromisoformat(session.get("seen", "1970-01-01T00:00:00+00:00"))
    actor = application().lookup(accounts.active_actor, user_id) if now - seen <= idle else None
    if actor is None:
        session.clear()
        session["notice"] = "expired"
        return None
    session["seen"] = now.isoformat()
    g.actor = actor
    return None


def signed_in_user() -> Actor:
    """The signed-in user; anyone else is sent to the front door to sign in."""
    if g.actor is None:
        raise _SignInFirst()
    return g.actor


class _SignInFirst(Exception):
    pass


@blp.errorhandler(_SignInFirst)
def _to_sign_in(_: _SignInFirst) -> BaseResponse:
    return redirect(url_for(".front_door", next=request.full_path.rstrip("?")), 303)


# ---- sign-in, sign-out, language -----------------------------------------------------------------


@blp.get("/")
def front_door() -> BaseResponse | str:
    if g.actor is not None:
        return redirect(_safe_next() or _home(g.actor), 303)
    return render_template("sign_in.html", notice=session.pop("notice", None), next=_safe_next())


@blp.post("/")
def sign_in() -> BaseResponse | tuple[str, int, dict[str, str]] | tuple[str, int]:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    throttles: dict[str, FailedAttempts] = current_app.extensions["failed_sign_ins"]
    keys = {"user": username.lower(), "address": request.remote_addr or "unknown"}
    waits = [w for kind, key in keys.items() if (w := throttles[kind].wait_seconds(key)) is not None]
    if waits:
        wait = max(waits)
        page = render_template(
            "sign_in.html", error="throttled", wait=wait, username=username, next=_safe_next()
        )
        return page, 429, {"Retry-After": str(wait)}
    actor = application().query(accounts.signed_in, username, password) if username and password else None
    if actor is None:
        for kind, key in keys.items():
            throttles[kind].count_failure(key)
        return render_template("sign_in.html", error="wrong", username=username, next=_safe_next()), 401
    lang = session.get("lang")
    session.clear()  # a new session for the signed-in user: nothing carried over but the language
    session.update(user_id=actor.id, seen=application().clock().isoformat())
    if lang:
        session["lang"] = lang
    return redirect(_safe_next() or _home(actor), 303)


def _home(actor: Actor) -> str:
    """Where a user starts: their work; an administrator's is the users."""
    return url_for(".users_page") if actor.role is Role.ADMIN else url_for(".my_work")


@blp.post("/keluar")
def sign_out() -> BaseResponse:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session["notice"] = "signed_out"
    return redirect(url_for(".front_door"), 303)


@blp.post("/bahasa")
def choose_language() -> BaseResponse:
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(_safe_next() or url_for(".front_door"), 303)


def _safe_next() -> str | None:
    """Where to go after signing in or switching language: a path of this site, never elsewhere."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target


# ---- work and cases ------------------------------------------------------------------------------


@blp.get("/tugas")
def my_work() -> str:
    actor = signed_in_user()
    try:
        work = application().query(cases.my_work, actor)
    except NotPermitted:  # an administrator: accounts and offices, no cases
        return render_template("my_work.html", waiting=[], by_stage=None)
    now = application().clock()
    waiting = [
        {**case, "waited": format_timedelta(now - parse_timestamp(case["updated_at"]), threshold=1.1)}
        for case in work.waiting
    ]
    overdue = [
        {**report, "late": format_timedelta(now - report["due"], threshold=1.1)}
        for report in application().query(fostering.overdue_reports, actor, now)
    ]
    villages = application().query(fostering.my_villages, actor, now)
    return render_template(
        "my_work.html", waiting=waiting, by_stage=work.by_stage, overdue=overdue, villages=villages
    )


@blp.get("/kasus/<candidacy_id>")
def case_page(candidacy_id: str) -> str:
    return case_page_with(
        signed_in_user(),
        candidacy_id,
        notice=session.pop("notice", None),
        fostering_notice=session.pop("fostering_notice", None),
    )


@blp.post("/kasus/<candidacy_id>/<action>")
@web.takes_uploads(forms.MAX_FILES_PER_FORM)
def act_on_case(candidacy_id: str, action: str) -> BaseResponse | tuple[str, int]:
    """An action's form: checked by the action's schema, then the same command as over the API, for
    the version of the case the form was shown with (a form for an older version is refused)."""
    actor = signed_in_user()
    chosen = Action(action) if action in {a.value for a in ACTION_SCHEMAS} else None
    version = request.form.get("version", type=int)
    if chosen is None:
        raise NotFound(f"no action {action}")
    if version is None:
        return render_template("problem.html", problem="stale_form"), 400
    retry = {"actor": actor, "candidacy_id": candidacy_id, "failed": chosen.value, "sent": request.form}
    schema = ACTION_SCHEMAS[chosen]()
    try:
        body = forms.body_of(chosen, request.form)
        uploads = sent_documents() if "documents" in schema.fields else ()
        if uploads:
            body["documents"] = [upload.sha256 for upload in uploads]
        values = schema.load(body)
    except ValidationError as error:
        return case_page_with(**retry, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return case_page_with(**retry, errors=error.errors), 422
    command = ActOnCase(candidacy_id, case_command(chosen, values), expected_version=version)
    try:
        with_files = handlers.WithUploads(uploads, handlers.act, command)
        application().execute(handlers.with_uploads, actor, with_files, request_id=g.request_id)
    except StaleVersion:
        return case_page_with(
            **retry,
            refusal=str(
                _l("The case changed since this form was opened: see what changed, then send it again.")
            ),
        ), 409
    except InvalidInput as error:
        return case_page_with(**retry, errors=error.errors), 422
    except (RuleBroken, ActionNotAllowed) as error:
        return case_page_with(**retry, refusal=error.detail), 409
    session["notice"] = chosen.value
    return redirect(url_for(".case_page", candidacy_id=candidacy_id), 303)


def sent_documents() -> tuple[documents.Upload, ...]:
    """The files sent with the form, checked (InvalidInput on `documents`)."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    return forms.uploads_of(web.uploaded_files("documents", limit), limit)


def forms_for(actor: Actor, case: dict[str, Any]) -> dict[str, Any]:
    """What the case page offers the actor: the acts they may take now, the office's staff to assign,
    the quarters they may evaluate."""
    if case["stage"] != Stage.DESIGNATED.value:
        return {"acts": []}
    officers = tuple(o["username"] for o in case["fostering"]["officers"])
    acts = [name for name, act in forms.FOSTERING_ACTS.items() if may_foster(actor, act, officers)]
    today = latest_today(application().clock())
    since = dt.date.fromisoformat(case["fostering"]["since"])
    quarters = [
        f"{year}-{quarter}"
        for year in range(today.year, since.year - 1, -1)
        for number, quarter in reversed(list(enumerate(QUARTERS, start=1)))
        if dt.date(year, 3 * number - 2, 1) <= today
        and (year, number) >= (since.year, (since.month + 2) // 3)
    ]
    staff = application().query(fostering.office_staff, case["office_code"]) if "petugas" in acts else []
    return {"acts": acts, "staff": staff, "quarters": quarters, "officers": officers}


def _fostering_of(conn: Any, actor: Actor, case: dict[str, Any]) -> dict[str, Any]:
    """A designated village's activities (the newest 20), residents' reports and evaluations, read in
    one snapshot."""
    now = application().clock()
    return {
        "activities": fostering.list_activities(conn, actor, case["id"], 20, None).items,
        "reports": fostering.list_village_reports(conn, actor, case["id"], now),
        "evaluations": fostering.list_evaluations(conn, actor, case["id"]),
    }


def case_page_with(
    actor: Actor,
    candidacy_id: str,
    *,
    notice: str | None = None,
    failed: str | None = None,
    sent: Any = None,
    errors: dict[str, list[str]] | None = None,
    refusal: str | None = None,
    fostering_notice: str | None = None,
) -> str:
    """The case, its record and timeline, and a form for each action the user may take now; after a
    refused form, that form again, open, with what was sent and what is wrong."""
    case = application().query(cases.get_case, actor, candidacy_id)
    timeline = application().query(cases.case_events, actor, candidacy_id)
    fostered = application().query(_fostering_of, actor, case) if case["fostering"] else None
    named = application().query(documents.case_documents_by_position, case["id"])
    return render_template(
        "case.html",
        case=case,
        documents=named,
        upload_limits={
            "files": forms.MAX_FILES_PER_FORM,
            "megabytes": current_app.config["MAX_ATTACHMENT_BYTES"] // (1024 * 1024),
        },
        timeline=timeline,
        fostered=fostered,
        fostering_forms=forms_for(actor, case) if fostered else {"acts": []},
        fostering_notice=fostering_notice,
        notice=notice,
        failed=failed,
        sent=sent or {},
        errors=errors or {},
        refusal=refusal,
        criteria=CRITERIA,
        fields=FIELDS,
        action_fields={a.value: list(schema().fields) for a, schema in ACTION_SCHEMAS.items()},
        multiline=forms.LISTS | {"notes", "reason"},
        dates={"held_on", "assessed_on", "decree_date"},
        numbers=forms.INTEGERS,
    )


@blp.get("/usulkan")
def propose_page() -> str:
    """Find a village of the office's working area by name or code, then propose it."""
    actor = signed_in_user()
    rules.check_may_perform(actor, Action.PROPOSE)
    code = request.args.get("village", "").strip()
    if code:
        village = application().query(registry.find_village, code)
        if village is None:
            raise NotFound(f"no village {code}")
        return render_template("propose.html", village=village, sent={}, errors={}, fields=FIELDS)
    q = request.args.get("q", "").strip()[:100]
    found = application().query(registry.search_villages, actor, None, q, 30) if q else []
    return render_template("propose.html", q=q, found=found, village=None)


@blp.post("/usulkan")
def propose() -> BaseResponse | tuple[str, int]:
    actor = signed_in_user()
    rules.check_may_perform(actor, Action.PROPOSE)
    body = forms.proposal_body(actor.office_code, request.form)
    village = (
        application().query(registry.find_village, body["village_code"]) if body["village_code"] else None
    )
    if village is None:
        raise NotFound(f"no village {body['village_code']}")
    retry = {"village": village, "sent": request.form, "fields": FIELDS}
    try:
        data = ProposeSchema().load(body)
    except ValidationError as error:
        return render_template("propose.html", **retry, errors=flatten_errors(error.messages)), 422
    command = ProposeCandidacy(
        village_code=data["village_code"],
        office_code=data["office_code"],
        rationale=data["rationale"],
        indicators=Indicators(**data["indicators"]),
        proposed_on=data.get("proposed_on"),
    )
    try:
        case = application().execute(handlers.propose, actor, command, request_id=g.request_id)
    except InvalidInput as error:
        return render_template("propose.html", **retry, errors=error.errors), 422
    except RuleBroken as error:
        return render_template("propose.html", **retry, errors={}, refusal=error.detail), 409
    session["notice"] = "propose"
    return redirect(url_for(".case_page", candidacy_id=case["id"]), 303)


# ---- the register and the dashboard -------------------------------------------------------------


@blp.get("/register")
def register_page() -> str | tuple[str, int]:
    """The designation register, filtered by year, office and region, a page at a time, with its CSV."""
    actor = signed_in_user()
    rules.check_may_read_reports(actor)
    try:
        args = RegisterQuerySchema().load(_query_args("year", "office", "region", "cursor"))
    except ValidationError as error:
        return _register_page(actor, {}, errors=flatten_errors(error.messages)), 422
    return _register_page(actor, args)


@blp.get("/register.csv")
def register_csv() -> BaseResponse:
    actor = signed_in_user()
    rules.check_may_read_reports(actor)
    try:
        args = RegisterQuerySchema().load(_query_args("year", "office", "region"))
    except ValidationError as error:
        raise InvalidInput(flatten_errors(error.messages)) from error
    filters = register.RegisterFilters(args.get("year"), args.get("office"), args.get("region"))
    rows = application().query(register.register_csv_rows, actor, filters)
    name = "register-penetapan" + (f"-{filters.year}" if filters.year else "") + ".csv"
    return csv_response(register.REGISTER_CSV_COLUMNS, rows, name)


def _register_page(actor: Actor, args: dict[str, Any], errors: dict[str, list[str]] | None = None) -> str:
    filters = register.RegisterFilters(args.get("year"), args.get("office"), args.get("region"))
    page = application().query(register.designation_register, actor, filters, 50, args.get("cursor"))
    offices = application().query(organisation.visible_offices, actor)
    chosen = {
        k: v for k, v in (("year", filters.year), ("office", filters.office), ("region", filters.region)) if v
    }
    return render_template(
        "register.html",
        items=page.items,
        next_cursor=page.next_cursor,
        chosen=chosen,
        offices=offices,
        regions=sorted({(o.region_code, o.region_name) for o in offices}),
        errors=errors or {},
    )


@blp.get("/dasbor")
def dashboard() -> str | tuple[str, int]:
    """Target against realization per office (and region, and nation, for whom reads them whole), by
    quarter, the pipeline by stage and the median days to designation, as of a day: each chart drawn
    on the server with its numbers in a table beside it."""
    actor = signed_in_user()
    rules.check_may_read_reports(actor)
    try:
        args = PerformanceQuerySchema().load(_query_args("year", "region", "as_of"))
        year, when = requested_report(args.get("year"), args.get("as_of"), application().clock())
    except ValidationError as error:
        return render_template("dashboard.html", report=None, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return render_template("dashboard.html", report=None, errors=error.errors), 422
    report = application().query(performance_report.performance_report, actor, year, args.get("region"), when)
    rows = report["offices"]
    widest = max([r["target"] or 0 for r in rows] + [r["designated"] for r in rows] + [1])
    return render_template(
        "dashboard.html",
        report=report,
        widest=widest,
        quarters=QUARTERS,
        pipeline_stages=PIPELINE_STAGES,
        errors={},
    )


@blp.get("/pembinaan")
def fostering_dashboard() -> str | tuple[str, int]:
    """The year's fostering per office (and region, and nation, for whom reads them whole), as of a
    day: villages, officers, activities by quarter, residents' reports against their deadlines,
    evaluations; with the same report as a spreadsheet."""
    actor = signed_in_user()
    try:
        report, query = _fostering_report(actor)
    except ValidationError as error:
        return render_template("fostering.html", report=None, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return render_template("fostering.html", report=None, errors=error.errors), 422
    return render_template("fostering.html", report=report, quarters=QUARTERS, query=query, errors={})


@blp.get("/pembinaan.xlsx")
def fostering_spreadsheet() -> BaseResponse:
    """The fostering report of the dashboard, as the spreadsheet the API gives."""
    actor = signed_in_user()
    try:
        report, _ = _fostering_report(actor)
    except ValidationError as error:
        raise InvalidInput(flatten_errors(error.messages)) from error
    name = f"fostering-{report['year']}-as-of-{report['as_of']}.xlsx"
    return xlsx_response(
        "Laporan Pembinaan Desa Binaan Imigrasi",
        report_heading(scope_of(actor, request.args.get("region") or None, None), report),
        fostering_report.FOSTERING_CSV_COLUMNS,
        fostering_report.fostering_csv_rows(report),
        name,
        summary=figure_columns(fostering_report.FOSTERING_CSV_COLUMNS),
    )


def _fostering_report(actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report the query asks for (year, region, as_of), and the query to link to it again."""
    rules.check_may_read_reports(actor)
    args = PerformanceQuerySchema().load(_query_args("year", "region", "as_of"))
    year, when = requested_report(args.get("year"), args.get("as_of"), application().clock())
    report = application().query(fostering_report.fostering_report, actor, year, args.get("region"), when)
    requested = args.get("as_of")
    query = {"year": year} | ({"as_of": requested.isoformat()} if requested else {})
    return report, query


def _query_args(*names: str) -> dict[str, str]:
    """The query's values of these names that are not empty (an empty filter field means no filter)."""
    return {name: value for name in names if (value := request.args.get(name, "").strip())}


# ---- audit -----------------------------------------------------------------------------------------


@blp.get("/audit")
def audit_page() -> str | tuple[str, int]:
    """The log, a page at a time from the first event (or from where the last page ended), with the
    ledger's head; and the chain's check, walked from the start or from a position and digest kept
    elsewhere, a bounded stretch per click."""
    actor = signed_in_user()
    rules.check_may_audit(actor)
    try:
        after = audit.start_position(None, request.args.get("cursor") or None)
        args = LedgerVerifyQuerySchema().load(_query_args("position", "digest"))
    except ValidationError as error:
        return render_template("audit.html", page=None, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return render_template("audit.html", page=None, errors=error.errors), 422
    page, head = application().query(audit.event_feed, actor, after=after, limit=50)
    verification = None
    if request.args.get("verify"):
        seconds = current_app.config["LEDGER_VERIFY_SECONDS"]
        verification = application().query(audit.verify_ledger, actor, seconds=seconds, **args)
    return render_template("audit.html", page=page, head=head, verification=verification, errors={})


# ---- problems, as pages --------------------------------------------------------------------------


@blp.errorhandler(NotFound)
def _not_found(_: NotFound) -> tuple[str, int]:
    # A case out of the user's scope is not found, as over the API: its existence is not told.
    return render_template("problem.html", problem="not_found"), 404


@blp.errorhandler(NotPermitted)
def _not_permitted(_: NotPermitted) -> tuple[str, int]:
    return render_template("problem.html", problem="not_permitted"), 403


@blp.errorhandler(DomainError)
def _refused(error: DomainError) -> tuple[str, int]:
    return render_template("problem.html", problem="refused", detail=error.detail), 409


@blp.get("/dokumen/<sha256>")
def document(sha256: str) -> BaseResponse:
    """A document of a case the user may read (or one they uploaded): a photo shown, a PDF downloaded."""
    return web.document_response(application().query(documents.read, signed_in_user(), sha256))


@blp.get("/dokumen/<sha256>/kecil")
def document_thumbnail(sha256: str) -> BaseResponse:
    return web.thumbnail_response(application().query(documents.read, signed_in_user(), sha256))


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_: RequestEntityTooLarge) -> tuple[str, int]:
    limit = current_app.config["MAX_ATTACHMENT_BYTES"] // (1024 * 1024)
    return render_template(
        "problem.html", problem="too_large", megabytes=limit, files=forms.MAX_FILES_PER_FORM
    ), 413


@blp.errorhandler(CSRFError)
def _stale_form(_: CSRFError) -> tuple[str, int]:
    return render_template("problem.html", problem="stale_form"), 400
