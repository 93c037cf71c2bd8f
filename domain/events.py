"""Event types: frozen, named in the past tense, versioned; and their encoding to plain data.

The domain decides by creating these; the store (in `events/`) records them. Old schema versions are
upcast when read, never rewritten in the log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

JsonDict = dict[str, Any]

# The kinds of stream in the log: a candidacy's (its id), an office's target for a year, a user's
# account (the user's id).
CANDIDACY_STREAM = "candidacy"
TARGET_STREAM = "target"
USER_STREAM = "user"
REGION_STREAM = "region"
OFFICE_STREAM = "office"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event: the payload only; who, when and where in the log is the envelope's."""

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_data(self) -> JsonDict:
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: JsonDict) -> Event:
        return cls(**{name: _decode(hint, data[name]) for name, hint in _field_hints(cls)})


@functools.cache
def _field_hints(cls: type[Event]) -> tuple[tuple[str, object], ...]:
    """Each field's resolved type, worked out once per class (resolving annotations is slow, and every
    command decodes its case's history)."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _encode(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(hint: object, value: object) -> object:
    if value is None:
        return None
    # `X | None` is a types.UnionType, not a typing.Union, before Python 3.14.
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
    if hint is dt.date or (optional and dt.date in typing.get_args(hint)):
        return dt.date.fromisoformat(str(value))
    if typing.get_origin(hint) is tuple and isinstance(value, list):
        return tuple(value)
    return value


@dataclass(frozen=True, slots=True)
class CandidacyProposed(Event):
    """Version 2 added `proposed_on`, the day the case began if the proposer gave it."""

    type_name: ClassVar[str] = "CandidacyProposed"
    schema_version: ClassVar[int] = 2
    candidacy_id: str
    village: JsonDict  # code, name, district, regency, province (the last three may be null)
    office_code: str
    region_code: str
    rationale: str
    indicators: JsonDict
    proposed_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class CandidacyCoordinated(Event):
    type_name: ClassVar[str] = "CandidacyCoordinated"
    schema_version: ClassVar[int] = 2
    held_on: dt.date
    venue: str
    agencies: tuple[str, ...]
    minutes_ref: str
    notes: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class CandidacySocialized(Event):
    type_name: ClassVar[str] = "CandidacySocialized"
    schema_version: ClassVar[int] = 2
    held_on: dt.date
    speakers: tuple[str, ...]
    attendees: int
    topics: tuple[str, ...] = field(default=())
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class CandidacyAssessed(Event):
    type_name: ClassVar[str] = "CandidacyAssessed"
    schema_version: ClassVar[int] = 2
    assessed_on: dt.date
    score: int
    meets_criteria: bool
    criteria: JsonDict
    notes: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class CandidacyDesignated(Event):
    type_name: ClassVar[str] = "CandidacyDesignated"
    schema_version: ClassVar[int] = 2
    decree_number: str
    decree_date: dt.date
    fostering_officers: tuple[str, ...]
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class CandidacyRejected(Event):
    type_name: ClassVar[str] = "CandidacyRejected"
    reason: str


@dataclass(frozen=True, slots=True)
class CandidacyReturned(Event):
    type_name: ClassVar[str] = "CandidacyReturned"
    reason: str


@dataclass(frozen=True, slots=True)
class CandidacyWithdrawn(Event):
    type_name: ClassVar[str] = "CandidacyWithdrawn"
    reason: str


@dataclass(frozen=True, slots=True)
class CandidacyTransferred(Event):
    """The case passed to another office, from `effective_on`: its village's regency was taken over; or
    to another region with its office (`from_office` is then `to_office`). `cause_position`: the
    organisation's event that caused it. Its stage is unchanged; from now on the office and region
    named here hold it."""

    type_name: ClassVar[str] = "CandidacyTransferred"
    from_office: str
    to_office: str
    region_code: str
    effective_on: dt.date
    cause_position: int


@dataclass(frozen=True, slots=True)
class CandidacyRevoked(Event):
    """The head of office revoked the village's status by decree: fostering ends."""

    type_name: ClassVar[str] = "CandidacyRevoked"
    schema_version: ClassVar[int] = 2
    reason: str
    decree_number: str
    decree_date: dt.date
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


# ---- fostering: on a designated case's stream, after its designation -------------------------------


@dataclass(frozen=True, slots=True)
class FosteringOfficersAssigned(Event):
    """The head of office assigned the village's fostering officers (PIMPASA) by decree; the set
    replaces any earlier one."""

    type_name: ClassVar[str] = "FosteringOfficersAssigned"
    schema_version: ClassVar[int] = 2
    officers: tuple[JsonDict, ...]  # {username, name} of users of the office, as named then
    decree_number: str
    decree_date: dt.date
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class ActivityRecorded(Event):
    type_name: ClassVar[str] = "ActivityRecorded"
    schema_version: ClassVar[int] = 2
    activity_id: str
    kind: str
    held_on: dt.date
    participants: int
    summary: str
    topics: tuple[str, ...] = field(default=())
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class VillageReportReceived(Event):
    """A resident's report (laporan masyarakat) was received at `received_at` and must be verified by
    `verify_by`; both are UTC timestamps, the deadline decided when the report was recorded."""

    type_name: ClassVar[str] = "VillageReportReceived"
    schema_version: ClassVar[int] = 2
    report_id: str
    received_at: str
    channel: str
    category: str
    summary: str
    verify_by: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class VillageReportVerified(Event):
    """Verified at `verified_at` (when it was recorded); to be closed by `close_by`."""

    type_name: ClassVar[str] = "VillageReportVerified"
    schema_version: ClassVar[int] = 2
    report_id: str
    notes: str
    verified_at: str
    close_by: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class VillageReportClosed(Event):
    type_name: ClassVar[str] = "VillageReportClosed"
    schema_version: ClassVar[int] = 2
    report_id: str
    outcome: str
    notes: str
    closed_at: str
    referred_to: str | None = None
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class VillageEvaluated(Event):
    """The quarter's evaluation (monev) of a fostered village; a later one for the same quarter
    replaces it."""

    type_name: ClassVar[str] = "VillageEvaluated"
    schema_version: ClassVar[int] = 2
    period: str  # YYYY-Qn
    rating: str
    notes: str
    documents: tuple[str, ...] = ()  # SHA-256 of each document it names (version 2)


@dataclass(frozen=True, slots=True)
class TargetSet(Event):
    """An office's yearly target (target kinerja) was set or changed, on a recorded basis."""

    type_name: ClassVar[str] = "TargetSet"
    office_code: str
    year: int
    target: int
    basis: str


@dataclass(frozen=True, slots=True)
class UserCreated(Event):
    """An account was opened. `imported`: it existed before accounts were recorded as events, and
    `created_at` then keeps when it was made (otherwise the event's own time is the account's)."""

    type_name: ClassVar[str] = "UserCreated"
    user_id: str
    username: str
    name: str
    role: str
    office_code: str | None
    region_code: str | None
    imported: bool = False
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class UserChanged(Event):
    """The account's name, role or scope changed: all four as they now stand, and which changed."""

    type_name: ClassVar[str] = "UserChanged"
    name: str
    role: str
    office_code: str | None
    region_code: str | None
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserDeactivated(Event):
    """The account was shut, and with it every token it held (`tokens_ended`: their ids)."""

    type_name: ClassVar[str] = "UserDeactivated"
    reason: str
    tokens_ended: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserReactivated(Event):
    type_name: ClassVar[str] = "UserReactivated"
    reason: str


@dataclass(frozen=True, slots=True)
class TokenIssued(Event):
    """A token was issued: its id and expiry only; the token itself is never recorded."""

    type_name: ClassVar[str] = "TokenIssued"
    token_id: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class TokensRevoked(Event):
    type_name: ClassVar[str] = "TokensRevoked"
    token_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PasswordSet(Event):
    """A password was set; nothing of it is recorded."""

    type_name: ClassVar[str] = "PasswordSet"


@dataclass(frozen=True, slots=True)
class PasswordLinkIssued(Event):
    """An administrator issued a one-time link with which the user sets their own password: its id and
    expiry only; the link's secret is never recorded."""

    type_name: ClassVar[str] = "PasswordLinkIssued"
    link_id: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class PasswordSetWithLink(Event):
    """The user set their own password with the one-time link `link_id`; nothing of it is recorded."""

    type_name: ClassVar[str] = "PasswordSetWithLink"
    link_id: str


@dataclass(frozen=True, slots=True)
class RegionAdded(Event):
    """A region (Kanwil) was added. `imported`: it existed before the organisation was recorded."""

    type_name: ClassVar[str] = "RegionAdded"
    code: str
    name: str
    imported: bool = False


@dataclass(frozen=True, slots=True)
class RegionRenamed(Event):
    type_name: ClassVar[str] = "RegionRenamed"
    name: str


@dataclass(frozen=True, slots=True)
class OfficeOpened(Event):
    """An office (a Kantor Imigrasi, `kanim`, or a detention centre, `rudenim`) exists from
    `effective_on`; an imported one (recorded before the organisation was) since before the records,
    `effective_on` being null."""

    type_name: ClassVar[str] = "OfficeOpened"
    code: str
    name: str
    unit_type: str
    region_code: str
    regencies: tuple[str, ...]
    effective_on: dt.date | None
    imported: bool = False


@dataclass(frozen=True, slots=True)
class OfficeChanged(Event):
    """The office as it stands from `effective_on`, and which fields changed. `taken_by`: the office
    that took some of its regencies over (the change was that office's, not this one's)."""

    type_name: ClassVar[str] = "OfficeChanged"
    name: str
    unit_type: str
    region_code: str
    regencies: tuple[str, ...]
    effective_on: dt.date
    changed: tuple[str, ...]
    taken_by: str | None = None


Upcaster = Callable[[JsonDict], JsonDict]


class EventRegistry:
    """Maps stored type names to classes, and lifts old payloads to the current schema version."""

    def __init__(self, event_classes: list[type[Event]]) -> None:
        self._classes = {cls.type_name: cls for cls in event_classes}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register_upcaster(self, type_name: str, from_version: int, upcaster: Upcaster) -> None:
        """`upcaster` turns a payload of `from_version` into one of `from_version + 1`."""
        self._upcasters[(type_name, from_version)] = upcaster

    def upcast(self, type_name: str, schema_version: int, data: JsonDict) -> tuple[int, JsonDict]:
        current = self._classes[type_name].schema_version
        while schema_version < current:
            data = self._upcasters[(type_name, schema_version)](data)
            schema_version += 1
        return schema_version, data

    def decode(self, type_name: str, schema_version: int, data: JsonDict) -> Event:
        _, data = self.upcast(type_name, schema_version, data)
        return self._classes[type_name].from_data(data)

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._classes


CANDIDACY_EVENTS: list[type[Event]] = [
    CandidacyProposed,
    CandidacyCoordinated,
    CandidacySocialized,
    CandidacyAssessed,
    CandidacyDesignated,
    CandidacyRejected,
    CandidacyReturned,
    CandidacyWithdrawn,
    CandidacyTransferred,
    CandidacyRevoked,
    FosteringOfficersAssigned,
    ActivityRecorded,
    VillageReportReceived,
    VillageReportVerified,
    VillageReportClosed,
    VillageEvaluated,
]

TARGET_EVENTS: list[type[Event]] = [TargetSet]

USER_EVENTS: list[type[Event]] = [
    UserCreated,
    UserChanged,
    UserDeactivated,
    UserReactivated,
    TokenIssued,
    TokensRevoked,
    PasswordSet,
    PasswordLinkIssued,
    PasswordSetWithLink,
]

ORGANISATION_EVENTS: list[type[Event]] = [RegionAdded, RegionRenamed, OfficeOpened, OfficeChanged]

# The events that give a user a role (and with it the authority to act): a signer's `authority`.
ROLE_GRANTS = frozenset({UserCreated.type_name, UserChanged.type_name})

REGISTRY = EventRegistry(CANDIDACY_EVENTS + TARGET_EVENTS + USER_EVENTS + ORGANISATION_EVENTS)
# A proposal of version 1 gave no day of its own.
REGISTRY.register_upcaster(CandidacyProposed.type_name, 1, lambda data: {**data, "proposed_on": None})

# The events that may name documents (by their SHA-256), each since its version 2: none before.
DOCUMENT_EVENTS: list[type[Event]] = [
    CandidacyCoordinated,
    CandidacySocialized,
    CandidacyAssessed,
    CandidacyDesignated,
    CandidacyRevoked,
    FosteringOfficersAssigned,
    ActivityRecorded,
    VillageReportReceived,
    VillageReportVerified,
    VillageReportClosed,
    VillageEvaluated,
]
for _named in DOCUMENT_EVENTS:
    REGISTRY.register_upcaster(_named.type_name, 1, lambda data: {**data, "documents": []})


def documents_named(event: Event) -> tuple[str, ...]:
    """The SHA-256 of each document the event names (none, for an event that names none)."""
    return getattr(event, "documents", ())


# The field holding the day each stage happened (which may precede the day it was recorded): a case
# starts on the earliest of them, or on its `proposed_on` (`events/folds.py`).
STAGE_DATE_FIELD: dict[str, str] = {
    CandidacyCoordinated.type_name: "held_on",
    CandidacySocialized.type_name: "held_on",
    CandidacyAssessed.type_name: "assessed_on",
    CandidacyDesignated.type_name: "decree_date",
}
