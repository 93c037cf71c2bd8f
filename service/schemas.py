"""Marshmallow schemas: the shape of every request (unknown fields rejected) and, for the OpenAPI
document, of every response."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from domain import criteria as assessment_criteria
from domain.actors import Role
from domain.documents import MAX_DOCUMENTS_PER_ACT, SHA256_PATTERN, MediaType
from domain.errors import Message
from domain.fostering import (
    ActivityKind,
    Channel,
    FosteringAct,
    Outcome,
    Rating,
    ReportCategory,
    ReportStatus,
)
from domain.lifecycle import Action, Stage
from domain.performance import AsOfBasis
from domain.places import UNIT_TYPES
from service.auth import MAX_TOKEN_DAYS, MIN_TOKEN_DAYS

# Control characters (C0, DEL and C1: "\x9b" starts a terminal escape as "\x1b[" does) have no place
# in names, references or reasons; long free text may hold line breaks (\n, \r) and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"
REGENCY_PATTERN = r"^[0-9]{2}\.[0-9]{2}$"
# A ledger digest: SHA-256 in lowercase hexadecimal, as GET /ledger gives it.
DIGEST_PATTERN = r"^[0-9a-f]{64}$"


class FullMatch(validate.Regexp):
    """The whole value matches: `Regexp` lets "BOGOR\\n" through (`$` matches before a final newline),
    and a code with a newline breaks the `Location` header after the office is stored."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class IsoDate(fields.Date):
    """A calendar date, and an error that says how to write one."""

    default_error_messages = {
        "invalid": "not a date: write it YYYY-MM-DD",
        "format": "{input} cannot be formatted as a date.",
    }


class Text(fields.String):
    """A non-blank string without control characters, of bounded length."""

    def __init__(self, *, max_length: int = 200, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.control = _CONTROL_EXCEPT_WHITESPACE if multiline else _CONTROL
        self.metadata.setdefault("maxLength", max_length)
        self.metadata.setdefault("minLength", 1)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ValidationError(Message("must not be blank"))
        if len(text) > self.max_length:
            raise ValidationError(Message("must be at most {length} characters", length=self.max_length))
        if self.control.search(text):
            raise ValidationError(Message("must not contain control characters"))
        return text


class StrictBoolean(fields.Boolean):
    """JSON true or false, nothing that merely looks like one ("yes", 1)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(Message("must be true or false"))
        return value


def _int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


def _non_empty_list(item: fields.Field, max_items: int = 50, **kwargs: Any) -> fields.List:
    return fields.List(item, validate=validate.Length(min=1, max=max_items), **kwargs)


def _documents() -> fields.List:
    """`documents`: the SHA-256 of each document the act names, each uploaded first (POST /documents)."""
    return fields.List(
        fields.String(
            validate=FullMatch(
                SHA256_PATTERN, error="a document is named by its SHA-256: 64 hexadecimal digits"
            )
        ),
        load_default=list,
        validate=[validate.Length(max=MAX_DOCUMENTS_PER_ACT), _each_once],
        metadata={"description": "the SHA-256 of each document it names (uploaded first: POST /documents)"},
    )


def _each_once(hashes: list[str]) -> None:
    if len(set(hashes)) != len(hashes):
        raise ValidationError(Message("a document is named once"))


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


# ---- requests ---------------------------------------------------------------------------------


class IndicatorsSchema(StrictSchema):
    migrant_workers = _int(required=True, validate=validate.Range(min=0, max=10_000_000))
    prospective_migrant_workers = _int(required=True, validate=validate.Range(min=0, max=10_000_000))
    trafficking_cases = _int(required=True, validate=validate.Range(min=0, max=1_000_000))
    border_area = StrictBoolean(required=True)


class ProposeSchema(StrictSchema):
    village_code = Text(required=True, max_length=13, metadata={"example": "32.01.25.2006"})
    office_code = Text(required=True, max_length=32, metadata={"example": "BOGOR"})
    rationale = Text(required=True, max_length=5000, multiline=True)
    indicators = fields.Nested(IndicatorsSchema, required=True)
    village_name = Text(
        max_length=200, metadata={"description": "required unless the registry knows the code"}
    )
    proposed_on = IsoDate(
        allow_none=True,
        metadata={
            "description": "the day the case began, for a case entered after the fact: not in the "
            "future; every stage's date is on or after it (default: the case starts on the earliest "
            "day recorded on it)"
        },
    )


class CoordinateSchema(StrictSchema):
    held_on = IsoDate(required=True)
    venue = Text(required=True, max_length=300)
    agencies = _non_empty_list(Text(max_length=200), required=True)
    minutes_ref = Text(required=True, max_length=200)
    notes = Text(max_length=5000, multiline=True, allow_none=True)
    documents = _documents()


class SocializeSchema(StrictSchema):
    held_on = IsoDate(required=True)
    speakers = _non_empty_list(Text(max_length=200), required=True)
    attendees = _int(required=True, validate=validate.Range(min=1, max=1_000_000))
    topics = fields.List(Text(max_length=300), required=True, validate=validate.Length(max=50))
    documents = _documents()


class _CriteriaFields(StrictSchema):
    # A name outside the set is refused under `criteria.<name>`, saying which names there are.
    error_messages = {"unknown": assessment_criteria.UNKNOWN}


# One boolean per criterion of the domain's set, so that the OpenAPI document lists them.
CriteriaSchema = _CriteriaFields.from_dict(
    {
        c.value: StrictBoolean(metadata={"description": assessment_criteria.MEANING[c]})
        for c in assessment_criteria.Criterion
    },
    name="CriteriaSchema",
)


def _names_one_or_more(criteria: dict[str, bool]) -> None:
    # Not validate.Length: the OpenAPI document would say minItems, which objects do not have.
    if not criteria:
        raise ValidationError(assessment_criteria.NONE_NAMED)


class AssessSchema(StrictSchema):
    assessed_on = IsoDate(required=True)
    score = _int(required=True, validate=validate.Range(min=0, max=100))
    meets_criteria = StrictBoolean(required=True)
    criteria = fields.Nested(
        CriteriaSchema,
        required=True,
        validate=_names_one_or_more,
        metadata={
            "description": "the findings: one or more of the criteria; one left out was not assessed",
            "minProperties": 1,
        },
    )
    notes = Text(max_length=5000, multiline=True, allow_none=True)
    documents = _documents()


class DesignateSchema(StrictSchema):
    decree_number = Text(required=True, max_length=200)
    decree_date = IsoDate(required=True)
    fostering_officers = _non_empty_list(Text(max_length=200), required=True)
    documents = _documents()


class ReasonSchema(StrictSchema):
    reason = Text(required=True, max_length=2000, multiline=True)


class RevokeSchema(StrictSchema):
    reason = Text(required=True, max_length=2000, multiline=True)
    decree_number = Text(required=True, max_length=200)
    decree_date = IsoDate(required=True, metadata={"description": "on or after the designation's decree"})
    documents = _documents()


ACTION_SCHEMAS: dict[Action, type[Schema]] = {
    Action.COORDINATE: CoordinateSchema,
    Action.SOCIALIZE: SocializeSchema,
    Action.ASSESS: AssessSchema,
    Action.DESIGNATE: DesignateSchema,
    Action.REJECT: ReasonSchema,
    Action.RETURN: ReasonSchema,
    Action.WITHDRAW: ReasonSchema,
    Action.REVOKE: RevokeSchema,
}


# ---- fostering requests ---------------------------------------------------------------------------


def _one_of(values: type[StrEnum]) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf([v.value for v in values]))


class OfficersSchema(StrictSchema):
    officers = _non_empty_list(
        Text(max_length=64),
        required=True,
        metadata={
            "description": "usernames of active users of the case's office; they replace the set before"
        },
    )
    decree_number = Text(required=True, max_length=200)
    decree_date = IsoDate(required=True, metadata={"description": "on or after the designation's decree"})
    documents = _documents()


class ActivityCreateSchema(StrictSchema):
    kind = _one_of(ActivityKind)
    held_on = IsoDate(required=True, metadata={"description": "on or after the designation's decree"})
    participants = _int(required=True, validate=validate.Range(min=0, max=1_000_000))
    summary = Text(required=True, max_length=5000, multiline=True)
    topics = fields.List(Text(max_length=300), load_default=list, validate=validate.Length(max=50))
    documents = _documents()


class VillageReportCreateSchema(StrictSchema):
    received_at = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "when the report reached the office, with its UTC offset; not in the future"
        },
    )
    channel = _one_of(Channel)
    category = _one_of(ReportCategory)
    summary = Text(required=True, max_length=5000, multiline=True)
    documents = _documents()


class VerifyReportSchema(StrictSchema):
    notes = Text(required=True, max_length=5000, multiline=True)
    documents = _documents()


class CloseReportSchema(StrictSchema):
    outcome = _one_of(Outcome)
    notes = Text(required=True, max_length=5000, multiline=True)
    referred_to = Text(max_length=300, allow_none=True, metadata={"description": "required when referred"})
    documents = _documents()


class EvaluationCreateSchema(StrictSchema):
    period = fields.String(
        required=True,
        validate=FullMatch(r"^[1-9]\d{3}-Q[1-4]$", error="a quarter is written YYYY-Qn, e.g. 2025-Q3"),
        metadata={"example": "2025-Q3", "description": "a quarter begun, ending on or after the designation"},
    )
    rating = _one_of(Rating)
    notes = Text(required=True, max_length=5000, multiline=True)
    documents = _documents()


# The request schema of each fostering act, for the API and the pages alike.
FOSTERING_SCHEMAS: dict[FosteringAct, type[Schema]] = {
    FosteringAct.ASSIGN_OFFICERS: OfficersSchema,
    FosteringAct.RECORD_ACTIVITY: ActivityCreateSchema,
    FosteringAct.RECEIVE_REPORT: VillageReportCreateSchema,
    FosteringAct.VERIFY_REPORT: VerifyReportSchema,
    FosteringAct.CLOSE_REPORT: CloseReportSchema,
    FosteringAct.EVALUATE: EvaluationCreateSchema,
}


class VillageReportQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in ReportStatus]))
    overdue = fields.Boolean(metadata={"description": "true or false: whether its next deadline has passed"})


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Length(max=200))


class CandidacyQuerySchema(PageQuerySchema):
    office = fields.String(validate=FullMatch(CODE_PATTERN))
    region = fields.String(validate=FullMatch(CODE_PATTERN))
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    year = fields.Integer(validate=validate.Range(min=1900, max=9999))
    # Text: no control characters (PostgreSQL refuses a NUL in a parameter with a 500).
    q = Text(max_length=100)


class TargetBodySchema(StrictSchema):
    target = _int(required=True, validate=validate.Range(min=0, max=100_000))
    basis = Text(
        required=True,
        max_length=500,
        metadata={"example": "Keputusan Menteri Hukum dan HAM M.HH-01.OT.01.01 Tahun 2024"},
    )


class TargetQuerySchema(PageQuerySchema):
    year = fields.Integer(validate=validate.Range(min=1900, max=9999))


FORMAT = fields.String(
    validate=validate.OneOf(["json", "csv", "xlsx"]),
    metadata={"description": "csv: the same rows as CSV; xlsx: as a spreadsheet, under a header block"},
)


class RegisterQuerySchema(PageQuerySchema):
    year = fields.Integer(
        validate=validate.Range(min=1900, max=9999), metadata={"description": "year of the decree"}
    )
    office = fields.String(validate=FullMatch(CODE_PATTERN))
    region = fields.String(validate=FullMatch(CODE_PATTERN))
    format = FORMAT


class PerformanceQuerySchema(Schema):
    year = fields.Integer(
        validate=validate.Range(min=1900, max=9999), metadata={"description": "default: this year"}
    )
    region = fields.String(validate=FullMatch(CODE_PATTERN))
    as_of = IsoDate(
        validate=validate.Range(min=dt.date(1900, 1, 1), error="no report reaches back before 1900"),
        metadata={
            "description": "answer as the system stood at the end of this day (WIB), from 1900 on; default: "
            "the last day of a past year, else today"
        },
    )
    format = FORMAT


def _regencies(**kwargs: Any) -> fields.List:
    return _non_empty_list(
        fields.String(validate=FullMatch(REGENCY_PATTERN, error="a regency code is PP.KK")),
        max_items=100,
        metadata={"description": "regencies and cities of the village registry, each served by one office"},
        **kwargs,
    )


class OfficeChangeSchema(StrictSchema):
    """`PUT /offices/{code}`: any of the office's fields, from `effective_on` on."""

    name = Text(max_length=200)
    unit_type = fields.String(
        validate=validate.OneOf(UNIT_TYPES), metadata={"description": "kanim (Kantor Imigrasi) or rudenim"}
    )
    region_code = fields.String(validate=FullMatch(CODE_PATTERN))
    region_name = Text(
        max_length=200,
        metadata={
            "description": "required for a region not yet added (it is added with the office); for an "
            "existing one, its name or nothing (rename a region with PUT /regions/{code})"
        },
    )
    regencies = _regencies()
    effective_on = IsoDate(
        metadata={
            "description": "the day the change holds from (default today; not in the future, nor "
            "before the office's last change)"
        }
    )
    take_over = StrictBoolean(
        load_default=False,
        metadata={
            "description": "move regencies that another office serves to this one (otherwise 409), "
            "from effective_on"
        },
    )


class OfficeCreateSchema(OfficeChangeSchema):
    code = fields.String(
        required=True,
        validate=FullMatch(CODE_PATTERN, error="capital letters, digits, - and _, up to 32"),
    )
    name = Text(required=True, max_length=200)
    region_code = fields.String(required=True, validate=FullMatch(CODE_PATTERN))
    regencies = _regencies(required=True)


class RegionCreateSchema(StrictSchema):
    code = fields.String(
        required=True, validate=FullMatch(CODE_PATTERN, error="capital letters, digits, - and _, up to 32")
    )
    name = Text(required=True, max_length=200, metadata={"example": "Kanwil Ditjen Imigrasi Jawa Barat"})


class RegionRenameSchema(StrictSchema):
    name = Text(required=True, max_length=200)


class UserCreateSchema(StrictSchema):
    username = Text(required=True, max_length=64, metadata={"example": "kasi.bogor"})
    name = Text(required=True, max_length=200)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    office_code = fields.String(
        allow_none=True,
        validate=FullMatch(CODE_PATTERN),
        metadata={"description": "the office of an office role (officer, section_head, head_of_office)"},
    )
    region_code = fields.String(
        allow_none=True,
        validate=FullMatch(CODE_PATTERN),
        metadata={"description": "the region a regional_supervisor watches"},
    )


class UserChangeSchema(StrictSchema):
    name = Text(max_length=200)
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    office_code = fields.String(
        allow_none=True, validate=FullMatch(CODE_PATTERN), metadata={"description": "null: none"}
    )
    region_code = fields.String(
        allow_none=True, validate=FullMatch(CODE_PATTERN), metadata={"description": "null: none"}
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give any of name, role, office_code, region_code", "_schema")


class TokenRequestSchema(StrictSchema):
    expires_in_days = _int(
        validate=validate.Range(min=MIN_TOKEN_DAYS, max=MAX_TOKEN_DAYS),
        metadata={"description": "how long the token lives (default: TOKEN_DAYS, 90)"},
    )


# ---- responses (documentation; responses are built as plain JSON) ----------------------------


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    allowed_actions = fields.List(fields.String())
    rule = fields.String()
    current_version = fields.Integer()
    request_id = fields.String(
        metadata={"description": "on a 500: the request id the error was logged with (also X-Request-ID)"}
    )


class OfficeSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    unit_type = fields.String(required=True, validate=validate.OneOf(UNIT_TYPES))
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)
    regencies = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True, metadata={"description": "whether it serves any regency"})


class OfficeHistoryEntrySchema(Schema):
    position = fields.Integer(required=True)
    effective_on = fields.String(
        allow_none=True,
        required=True,
        metadata={"format": "date", "description": "null: since before records"},
    )
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    changed = fields.List(fields.String(), required=True)
    taken_by = fields.String(allow_none=True, required=True)
    office = fields.Nested(OfficeSchema, required=True)


class OfficeHistorySchema(Schema):
    items = fields.List(fields.Nested(OfficeHistoryEntrySchema), required=True)


class OfficePageSchema(Schema):
    items = fields.List(fields.Nested(OfficeSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class PersonSchema(Schema):
    username = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    id = fields.String(metadata={"description": "the user's stable id (acts recorded before ids: none)"})


class StageRecordSchema(Schema):
    """`at` and `by`, and the data recorded with the action."""

    class Meta:
        unknown = "include"

    at = fields.String(required=True, metadata={"format": "date-time"})
    by = fields.Nested(PersonSchema, required=True)
    position = fields.Integer(required=True, metadata={"description": "the event's ledger position"})


class VillageSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    district = fields.String(allow_none=True)
    regency = fields.String(allow_none=True)
    province = fields.String(allow_none=True)


class VillageQuerySchema(Schema):
    q = Text(required=True, max_length=100, metadata={"description": "part of the name, or the code's start"})
    office = fields.String(
        validate=FullMatch(CODE_PATTERN),
        metadata={"description": "the office whose working area is searched (default: the caller's)"},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class FoundVillageSchema(VillageSchema):
    held_by = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the stage of the case that holds the village (it cannot be proposed)"},
    )


class VillageListSchema(Schema):
    items = fields.List(fields.Nested(FoundVillageSchema), required=True)


class OfficerSchema(Schema):
    username = fields.String(required=True)
    name = fields.String(required=True)


def _stage_record() -> fields.Nested:
    return fields.Nested(StageRecordSchema, allow_none=True, required=True)


class FosteringSchema(Schema):
    since = fields.String(
        required=True, metadata={"format": "date", "description": "the designation's decree"}
    )
    officers = fields.List(fields.Nested(OfficerSchema), required=True)
    assigned = fields.Nested(
        StageRecordSchema, allow_none=True, required=True, metadata={"description": "the officers' decree"}
    )
    revoked = fields.Nested(StageRecordSchema, allow_none=True, required=True)


class CandidacySchema(Schema):
    id = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf([s.value for s in Stage]))
    version = fields.Integer(required=True)
    village = fields.Nested(VillageSchema, required=True)
    office_code = fields.String(required=True)
    region_code = fields.String(required=True)
    allowed_actions = fields.List(fields.String(), required=True)
    proposed = fields.Nested(StageRecordSchema, required=True)
    proposed_on = fields.String(
        allow_none=True, required=True, metadata={"format": "date", "description": "as the proposer gave it"}
    )
    started_on = fields.String(
        required=True,
        metadata={
            "format": "date",
            "description": "the day the case began: `proposed_on` if given, else the earliest day "
            "recorded on the case (its proposal's recording, any stage's date)",
        },
    )
    coordinated = _stage_record()
    socialized = _stage_record()
    assessed = _stage_record()
    designated = _stage_record()
    closed = _stage_record()
    returned = _stage_record()
    fostering = fields.Nested(
        FosteringSchema, allow_none=True, required=True, metadata={"description": "from the designation on"}
    )
    indicators = fields.Dict(required=True)
    rationale = fields.String(required=True)
    proposed_year = fields.Integer(required=True)
    updated_at = fields.String(required=True, metadata={"format": "date-time"})


class CandidacyPageSchema(Schema):
    items = fields.List(fields.Nested(CandidacySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class EventActorSchema(Schema):
    username = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    office_code = fields.String(allow_none=True, required=True)
    id = fields.String(
        metadata={"description": "the user's stable id, when recorded (then covered by the hash)"}
    )


class EventSchema(Schema):
    position = fields.Integer(required=True)
    event_id = fields.String(required=True)
    stream_type = fields.String(required=True)
    stream_id = fields.String(required=True)
    version = fields.Integer(required=True)
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True)
    data = fields.Dict(required=True)
    actor = fields.Nested(EventActorSchema, required=True)
    request_id = fields.String(required=True)
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_cursor = fields.String(
        allow_none=True, required=True, metadata={"description": "always null: a case's events fit one page"}
    )


class EventFeedQuerySchema(PageQuerySchema):
    after = fields.Integer(
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "the last position the caller has seen (default 0: from the start)"},
    )


class LedgerHeadSchema(Schema):
    position = fields.Integer(required=True, metadata={"description": "0 while the log is empty"})
    digest = fields.String(required=True, metadata={"description": "hash of the newest event"})
    recorded_at = fields.String(allow_none=True, required=True, metadata={"format": "date-time"})


class EventFeedSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_cursor = fields.String(
        allow_none=True, required=True, metadata={"description": "null once the page reaches the head"}
    )
    ledger = fields.Nested(LedgerHeadSchema, required=True, metadata={"description": "the head when read"})


class LedgerVerifyQuerySchema(Schema):
    position = fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "a position whose digest the caller kept (with `digest`)"},
    )
    digest = fields.String(
        validate=FullMatch(DIGEST_PATTERN, error="must be 64 lowercase hexadecimal digits"),
        metadata={"description": "the digest kept for `position` (with `position`)"},
    )

    @validates_schema
    def _together(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for given, missing in (("position", "digest"), ("digest", "position")):
            if given in data and missing not in data:
                raise ValidationError(f"give {missing} with {given}", field_name=missing)


class LedgerPositionSchema(Schema):
    position = fields.Integer(required=True)
    digest = fields.String(required=True)


class LedgerVerificationSchema(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "no break found (so far, if not complete)"})
    checked = fields.Integer(required=True, metadata={"description": "events verified after verified_from"})
    first_bad_position = fields.Integer(allow_none=True, required=True)
    reason = fields.String(allow_none=True, required=True, metadata={"description": "why it is not ok"})
    complete = fields.Boolean(
        required=True,
        metadata={"description": "false: the time allowed ran out first; ask again from continue_from"},
    )
    verified_from = fields.Integer(
        required=True, metadata={"description": "the position given (its digest matched), 0: the start"}
    )
    verified_to = fields.Integer(required=True, metadata={"description": "the last position found good"})
    continue_from = fields.Nested(
        LedgerPositionSchema,
        allow_none=True,
        required=True,
        metadata={"description": "the position and digest to pass next while not complete, else null"},
    )


class TargetChangeSchema(Schema):
    version = fields.Integer(required=True)
    target = fields.Integer(required=True)
    basis = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    by = fields.Nested(PersonSchema, required=True)


class TargetSchema(Schema):
    office_code = fields.String(required=True)
    office_name = fields.String(required=True)
    region_code = fields.String(required=True)
    year = fields.Integer(required=True)
    target = fields.Integer(required=True)
    basis = fields.String(required=True)
    version = fields.Integer(required=True)
    set_at = fields.String(required=True, metadata={"format": "date-time"})
    set_by = fields.Nested(PersonSchema, required=True)
    history = fields.List(fields.Nested(TargetChangeSchema), required=True)


class TargetPageSchema(Schema):
    items = fields.List(fields.Nested(TargetSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class AuthoritySchema(Schema):
    position = fields.Integer(
        required=True,
        metadata={
            "description": "the ledger position of the event that gave the signer the role they acted in "
            "(for acts recorded before accounts were events: the account's imported opening)"
        },
    )


class SignatureSchema(PersonSchema):
    at = fields.String(required=True, metadata={"format": "date-time"})
    position = fields.Integer(required=True, metadata={"description": "the signed event's ledger position"})
    authority = fields.Nested(AuthoritySchema, required=True, allow_none=True)


class DesignationSchema(Schema):
    candidacy_id = fields.String(required=True)
    village = fields.Nested(VillageSchema, required=True)
    office_code = fields.String(required=True)
    region_code = fields.String(required=True)
    decree_number = fields.String(required=True)
    decree_date = fields.String(required=True, metadata={"format": "date"})
    quarter = fields.String(required=True)
    fostering_officers = fields.List(fields.String(), required=True)
    proposed_by = fields.Nested(SignatureSchema, required=True)
    coordinated_by = fields.Nested(SignatureSchema, required=True)
    socialized_by = fields.Nested(SignatureSchema, required=True)
    assessed_by = fields.Nested(SignatureSchema, required=True)
    approved_by = fields.Nested(SignatureSchema, required=True)
    days_to_designation = fields.Integer(required=True)


class DesignationPageSchema(Schema):
    items = fields.List(fields.Nested(DesignationSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class QuartersSchema(Schema):
    Q1 = fields.Integer(required=True)
    Q2 = fields.Integer(required=True)
    Q3 = fields.Integer(required=True)
    Q4 = fields.Integer(required=True)


class PipelineSchema(Schema):
    proposed = fields.Integer(required=True)
    coordinated = fields.Integer(required=True)
    socialized = fields.Integer(required=True)
    assessed = fields.Integer(required=True)


class FiguresSchema(Schema):
    target = fields.Integer(allow_none=True, required=True)
    designated = fields.Integer(required=True)
    achievement_pct = fields.Float(allow_none=True, required=True)
    rating = fields.String(allow_none=True, required=True)
    by_quarter = fields.Nested(QuartersSchema, required=True)
    pipeline = fields.Nested(PipelineSchema, required=True)
    rejected = fields.Integer(required=True)
    withdrawn = fields.Integer(required=True)
    median_days_to_designation = fields.Float(allow_none=True, required=True)


class OfficeFiguresSchema(FiguresSchema):
    office_code = fields.String(required=True)
    office_name = fields.String(required=True)
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)


class RegionFiguresSchema(FiguresSchema):
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)
    offices = fields.Integer(required=True)


class NationalFiguresSchema(FiguresSchema):
    offices = fields.Integer(required=True)


class LedgerSchema(Schema):
    position = fields.Integer(required=True)
    digest = fields.String(required=True)


class PerformanceReportSchema(Schema):
    year = fields.Integer(required=True)
    as_of = fields.String(required=True, metadata={"format": "date", "description": "the day answered as of"})
    as_of_basis = fields.String(
        required=True,
        validate=validate.OneOf([basis.value for basis in AsOfBasis]),
        metadata={
            "description": "why that day: `requested` (as_of), `year_end` (a past year, as it closed on "
            "31 December) or `today` (this year or one to come, as it stands now)"
        },
    )
    ledger = fields.Nested(LedgerSchema, required=True)
    offices = fields.List(fields.Nested(OfficeFiguresSchema), required=True)
    regions = fields.List(fields.Nested(RegionFiguresSchema), required=True)
    national = fields.Nested(NationalFiguresSchema, allow_none=True, required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)


class ReadinessCheckSchema(Schema):
    ok = fields.Boolean(required=True)
    detail = fields.String()
    revision = fields.String(allow_none=True)
    expected = fields.String(allow_none=True)
    waited_ms = fields.Integer()
    free_bytes = fields.Integer()


class ReadinessChecksSchema(Schema):
    schema = fields.Nested(ReadinessCheckSchema, required=True)
    write_lock = fields.Nested(ReadinessCheckSchema, required=True)
    disk = fields.Nested(ReadinessCheckSchema, required=True)


class ReadinessSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Nested(ReadinessChecksSchema, required=True)


class UserSchema(Schema):
    id = fields.String(required=True, metadata={"description": "the person, whatever their username (UUID)"})
    username = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    office_code = fields.String(allow_none=True, required=True)
    region_code = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    token_expires_at = fields.String(
        allow_none=True,
        required=True,
        metadata={"format": "date-time", "description": "when the newest live token expires; null: none"},
    )


class IssuedTokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "shown once: only its hash is kept"})
    token_id = fields.String(required=True, metadata={"description": "names the token in the log"})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class UserQuerySchema(PageQuerySchema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    office = fields.String(validate=FullMatch(CODE_PATTERN))
    region = fields.String(validate=FullMatch(CODE_PATTERN))
    active = fields.Boolean(metadata={"description": "true or false"})


class RegionSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    offices = fields.List(fields.String(), required=True, metadata={"description": "its offices' codes"})


class RegionListSchema(Schema):
    items = fields.List(fields.Nested(RegionSchema), required=True)


# ---- fostering replies ----------------------------------------------------------------------------


class ActivitySchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    held_on = fields.String(required=True, metadata={"format": "date"})
    participants = fields.Integer(required=True)
    summary = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    documents = fields.List(fields.String(), required=True, metadata={"description": "SHA-256 of each"})
    by = fields.Nested(PersonSchema, required=True)
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    position = fields.Integer(required=True)


class ActivityPageSchema(Schema):
    items = fields.List(fields.Nested(ActivitySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class VillageReportSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ReportStatus]))
    overdue = fields.Boolean(required=True, metadata={"description": "its next deadline has passed, now"})
    received_at = fields.String(required=True, metadata={"format": "date-time"})
    channel = fields.String(required=True)
    category = fields.String(required=True)
    summary = fields.String(required=True)
    verify_by = fields.String(required=True, metadata={"format": "date-time"})
    close_by = fields.String(allow_none=True, required=True, metadata={"format": "date-time"})
    outcome = fields.String(allow_none=True, required=True)
    closed_in_time = fields.Boolean(
        allow_none=True,
        required=True,
        metadata={"description": "each step by its deadline (null: not closed)"},
    )
    received = fields.Nested(StageRecordSchema, required=True)
    verified = fields.Nested(StageRecordSchema, allow_none=True, required=True)
    closed = fields.Nested(StageRecordSchema, allow_none=True, required=True)
    documents = fields.List(
        fields.String(), required=True, metadata={"description": "SHA-256 of each named with its receipt"}
    )


class VillageReportListSchema(Schema):
    items = fields.List(fields.Nested(VillageReportSchema), required=True)


class EvaluationSchema(Schema):
    period = fields.String(required=True)
    rating = fields.String(required=True)
    notes = fields.String(required=True)
    documents = fields.List(fields.String(), required=True, metadata={"description": "SHA-256 of each"})
    by = fields.Nested(PersonSchema, required=True)
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    position = fields.Integer(required=True)


class EvaluationListSchema(Schema):
    items = fields.List(fields.Nested(EvaluationSchema), required=True)


class MyVillageSchema(Schema):
    candidacy_id = fields.String(required=True)
    village = fields.Nested(VillageSchema, required=True)
    office_code = fields.String(required=True)
    since = fields.String(required=True, metadata={"format": "date"})
    open_reports = fields.Integer(required=True)
    overdue_reports = fields.Integer(required=True)


class MyVillageListSchema(Schema):
    items = fields.List(fields.Nested(MyVillageSchema), required=True)


class FosteringActivitiesSchema(Schema):
    total = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_quarter = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class FosteringReportsSchema(Schema):
    received = fields.Integer(required=True, metadata={"description": "received in the year (WIB)"})
    closed = fields.Integer(required=True)
    closed_within_deadline_pct = fields.Float(
        allow_none=True, required=True, metadata={"description": "of those closed, each step by its deadline"}
    )
    open = fields.Integer(required=True, metadata={"description": "open or verified, not closed"})
    overdue = fields.Integer(required=True, metadata={"description": "past their next deadline"})


class FosteringFiguresSchema(Schema):
    villages_fostered = fields.Integer(required=True)
    officers_assigned = fields.Integer(required=True)
    activities = fields.Nested(FosteringActivitiesSchema, required=True)
    participants = fields.Integer(required=True)
    villages_without_activity = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(allow_none=True),
        required=True,
        metadata={"description": "per quarter begun by the report's day (null: not yet begun)"},
    )
    village_reports = fields.Nested(FosteringReportsSchema, required=True)
    evaluations = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "each village's latest evaluation of each quarter, by rating"},
    )
    revoked = fields.Integer(required=True, metadata={"description": "revocations decreed in the year"})


class OfficeFosteringSchema(FosteringFiguresSchema):
    office_code = fields.String(required=True)
    office_name = fields.String(required=True)
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)


class RegionFosteringSchema(FosteringFiguresSchema):
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)
    offices = fields.Integer(required=True)


class NationalFosteringSchema(FosteringFiguresSchema):
    offices = fields.Integer(required=True)


class FosteringReportSchema(Schema):
    year = fields.Integer(required=True)
    as_of = fields.String(required=True, metadata={"format": "date"})
    as_of_basis = fields.String(required=True, validate=validate.OneOf([basis.value for basis in AsOfBasis]))
    ledger = fields.Nested(LedgerSchema, required=True)
    offices = fields.List(fields.Nested(OfficeFosteringSchema), required=True)
    regions = fields.List(fields.Nested(RegionFosteringSchema), required=True)
    national = fields.Nested(NationalFosteringSchema, allow_none=True, required=True)


# ---- documents ------------------------------------------------------------------------------------


class DocumentSchema(Schema):
    sha256 = fields.String(required=True, metadata={"description": "its address: the SHA-256 of its bytes"})
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    media_type = fields.String(required=True, validate=validate.OneOf([t.value for t in MediaType]))
    filename = fields.String(required=True, metadata={"description": "as its first uploader named it"})
