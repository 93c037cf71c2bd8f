"""The case page's action forms: what a browser sends (strings, one per field), turned into the body
the API's schema for that action reads, so that a form is checked by the same rules as a JSON body."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from domain.criteria import Criterion
from domain.documents import DocumentTooLarge, UnsupportedDocument
from domain.errors import InvalidInput, Message
from domain.fostering import FosteringAct
from domain.lifecycle import Action
from service import documents
from service.schemas import ACTION_SCHEMAS

LISTS = frozenset({"agencies", "speakers", "topics", "fostering_officers"})  # one item per line
INTEGERS = frozenset({"score", "attendees"})
YES_NO = {"yes": True, "no": False}

# The fostering forms of a case page, by the name their path gives them.
FOSTERING_ACTS = {
    "petugas": FosteringAct.ASSIGN_OFFICERS,
    "kegiatan": FosteringAct.RECORD_ACTIVITY,
    "laporan": FosteringAct.RECEIVE_REPORT,
    "verifikasi": FosteringAct.VERIFY_REPORT,
    "tutup": FosteringAct.CLOSE_REPORT,
    "evaluasi": FosteringAct.EVALUATE,
}


# The files one form may carry (photos, an attendance list, a decree), each at most
# MAX_ATTACHMENT_BYTES: what a request of the form may weigh follows.
MAX_FILES_PER_FORM = 4


def uploads_of(sent: list[tuple[str | None, bytes]], limit: int) -> tuple[documents.Upload, ...]:
    """The files a form sent in its `documents` field, each checked as an upload over the API is (the
    same file twice is one); a refusal is the field's."""
    if len(sent) > MAX_FILES_PER_FORM:
        raise InvalidInput.field(
            "documents", Message("at most {limit} files at once", limit=MAX_FILES_PER_FORM)
        )
    checked: dict[str, documents.Upload] = {}
    for filename, content in sent:
        try:
            upload = documents.inspect_upload(filename, content, limit=limit)
        except (DocumentTooLarge, UnsupportedDocument) as error:
            raise InvalidInput.field("documents", error.detail) from error
        checked.setdefault(upload.sha256, upload)
    return tuple(checked.values())


def body_of(action: Action, form: MultiDict[str, str]) -> dict[str, Any]:
    """The JSON body the form stands for. A field left empty is left out (the schema then says it
    is required, where it is); a number that is not one is passed on as text, for the schema to
    refuse under its name."""
    body: dict[str, Any] = {}
    for name in ACTION_SCHEMAS[action]().fields:
        if name == "criteria":
            body[name] = {
                criterion.value: YES_NO[answer]
                for criterion in Criterion
                if (answer := form.get(f"criteria.{criterion.value}", "")) in YES_NO
            }
            continue
        raw = form.get(name, "").replace("\r\n", "\n").strip()
        if name in LISTS:
            body[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif not raw:
            continue
        elif name == "meets_criteria":
            body[name] = YES_NO.get(raw, raw)
        elif name in INTEGERS:
            body[name] = int(raw) if raw.isdigit() else raw
        else:
            body[name] = raw
    return body


INDICATORS = ("migrant_workers", "prospective_migrant_workers", "trafficking_cases")


def proposal_body(office_code: str | None, form: MultiDict[str, str]) -> dict[str, Any]:
    """The JSON body of `POST /candidacies` the proposal form stands for, for the user's office."""

    def number(name: str) -> Any:
        raw = form.get(name, "").strip()
        return int(raw) if raw.isdigit() else (raw or None)

    body: dict[str, Any] = {
        "village_code": form.get("village_code", "").strip(),
        "office_code": office_code or "",
        "rationale": form.get("rationale", "").replace("\r\n", "\n").strip(),
        "indicators": {
            **{name: value for name in INDICATORS if (value := number(name)) is not None},
            "border_area": form.get("border_area") == "yes",
        },
    }
    if form.get("proposed_on", "").strip():
        body["proposed_on"] = form["proposed_on"].strip()
    return body
