"""The fostering forms of a designated village's case page: officers, activities, residents' reports
and their steps, evaluations. Each form (forms.FOSTERING_ACTS says which act it is) is read into the
body the API's schema for the act checks, then the same command runs with the same handler, for the
version of the case the form was shown with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from domain.calendar import SYSTEM_TIMEZONE
from domain.errors import InvalidInput, NotFound, RuleBroken, StaleVersion
from domain.fostering import fostering_command
from service import handlers, web
from service.pages import forms
from service.pages.views import blp, case_page_with, sent_documents, signed_in_user
from service.problems import flatten_errors
from service.schemas import FOSTERING_SCHEMAS
from service.web import application

LINES = frozenset({"topics"})
INTEGERS = frozenset({"participants"})


def body_of(schema: type[Schema], form: MultiDict[str, str]) -> dict[str, Any]:
    """The JSON body the form stands for; a field left empty is left out (the schema says if it is
    required). A report's time is entered as the office's clock shows it: WIB."""
    body: dict[str, Any] = {}
    for name in schema().fields:
        if name == "officers":
            body[name] = form.getlist("officers")
            continue
        raw = form.get(name, "").replace("\r\n", "\n").strip()
        if name in LINES:
            body[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif not raw:
            continue
        elif name in INTEGERS:
            body[name] = int(raw) if raw.isdigit() else raw
        elif name == "received_at":
            body[name] = _with_offset(raw)
        else:
            body[name] = raw
    return body


def _with_offset(local: str) -> str:
    """`2024-05-21T07:30` from a datetime-local field, as WIB; anything else as sent, for the schema."""
    try:
        return dt.datetime.fromisoformat(local).replace(tzinfo=SYSTEM_TIMEZONE).isoformat()
    except ValueError:
        return local


@blp.post("/kasus/<candidacy_id>/pembinaan/<form_name>")
@blp.post("/kasus/<candidacy_id>/laporan/<report_id>/<form_name>")
@web.takes_uploads(forms.MAX_FILES_PER_FORM)
def foster(candidacy_id: str, form_name: str, report_id: str | None = None) -> BaseResponse | tuple[str, int]:
    actor = signed_in_user()
    on_a_report = form_name in ("verifikasi", "tutup")
    if form_name not in forms.FOSTERING_ACTS or (report_id is not None) != on_a_report:
        raise NotFound(f"no form {form_name}")
    act = forms.FOSTERING_ACTS[form_name]
    schema = FOSTERING_SCHEMAS[act]
    version = request.form.get("version", type=int)
    if version is None:
        return render_template("problem.html", problem="stale_form"), 400
    failed = form_name if report_id is None else f"{form_name}-{report_id}"
    retry = {"actor": actor, "candidacy_id": candidacy_id, "failed": failed, "sent": request.form}
    try:
        body = body_of(schema, request.form)
        uploads = sent_documents()
        body["documents"] = [upload.sha256 for upload in uploads]
        values = schema().load(body)
        command = fostering_command(act, values, report_id or "")
        foster = handlers.FosterCase(candidacy_id, command, expected_version=version)
        with_files = handlers.WithUploads(uploads, handlers.FOSTERING_HANDLERS[act], foster)
        application().execute(handlers.with_uploads, actor, with_files, request_id=g.request_id)
    except ValidationError as error:
        return case_page_with(**retry, errors=flatten_errors(error.messages)), 422
    except InvalidInput as error:
        return case_page_with(**retry, errors=error.errors), 422
    except StaleVersion:
        stale = str(_l("The case changed since this form was opened: see what changed, then send it again."))
        return case_page_with(**retry, refusal=stale), 409
    except RuleBroken as error:
        return case_page_with(**retry, refusal=error.detail), 409
    session["fostering_notice"] = form_name
    return redirect(url_for("pages.case_page", candidacy_id=candidacy_id), 303)
