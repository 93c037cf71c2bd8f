"""How the pages word what the domain and the API say in codes and in English: the names of stages,
actions, roles and fields, and the messages of refusals and field errors, in the user's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from domain.actors import Role
from domain.errors import Message
from domain.lifecycle import Action, Stage

STAGES = {
    "proposed": _l("Proposed"),
    "coordinated": _l("Coordinated"),
    "socialized": _l("Socialized"),
    "assessed": _l("Assessed"),
    "designated": _l("Designated"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "revoked": _l("Revoked"),
}
ACTIONS = {
    "propose": _l("Propose"),
    "coordinate": _l("Coordinate"),
    "socialize": _l("Socialize"),
    "assess": _l("Assess"),
    "designate": _l("Designate"),
    "reject": _l("Reject"),
    "return": _l("Return for reassessment"),
    "withdraw": _l("Withdraw"),
    "revoke": _l("Revoke the designation"),
}
ROLES = {
    "officer": _l("Officer"),
    "section_head": _l("Section head"),
    "head_of_office": _l("Head of office"),
    "regional_supervisor": _l("Regional supervisor"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
}
RATINGS = {
    "Sangat Baik": _l("Very good"),
    "Baik": _l("Good"),
    "Cukup": _l("Fair"),
    "Kurang": _l("Poor"),
    "Sangat Kurang": _l("Very poor"),
}
FIELDS = {
    "held_on": _l("Date"),
    "venue": _l("Venue"),
    "agencies": _l("Agencies present (one per line)"),
    "minutes_ref": _l("Minutes reference"),
    "notes": _l("Notes"),
    "speakers": _l("Speakers (one per line)"),
    "attendees": _l("Attendees"),
    "topics": _l("Topics (one per line)"),
    "assessed_on": _l("Date of assessment"),
    "score": _l("Score (0 to 100)"),
    "meets_criteria": _l("Does the village meet the criteria?"),
    "criteria": _l("Findings"),
    "decree_number": _l("Decree number"),
    "decree_date": _l("Decree date"),
    "fostering_officers": _l("Fostering officers (one per line)"),
    "reason": _l("Reason"),
    "documents": _l("Documents (photos, PDF)"),
    "village_code": _l("Village"),
    "rationale": _l("Why this village"),
    "migrant_workers": _l("Migrant workers from the village"),
    "prospective_migrant_workers": _l("Prospective migrant workers"),
    "trafficking_cases": _l("Trafficking cases recorded"),
    "border_area": _l("In a border area"),
    "proposed_on": _l("Day the case began (if entered late)"),
    "indicators": _l("Indicators"),
}
CRITERIA = {
    "migrant_worker_base": _l("A base of migrant workers"),
    "trafficking_vulnerability": _l("Vulnerable to trafficking or non-procedural migration"),
    "border_or_port": _l("Border area, or near a port or crossing"),
    "poverty": _l("Poverty or a lack of local work"),
    "village_commitment": _l("The village government commits to fostering"),
}
EVENTS = {
    "CandidacyProposed": _l("Proposed"),
    "CandidacyCoordinated": _l("Coordination held"),
    "CandidacySocialized": _l("Socialization held"),
    "CandidacyAssessed": _l("Assessed"),
    "CandidacyDesignated": _l("Designated by decree"),
    "CandidacyRejected": _l("Rejected"),
    "CandidacyReturned": _l("Returned for reassessment"),
    "CandidacyWithdrawn": _l("Withdrawn"),
    "CandidacyTransferred": _l("Moved to another office"),
    "CandidacyRevoked": _l("Designation revoked"),
    "FosteringOfficersAssigned": _l("Fostering officers assigned"),
    "ActivityRecorded": _l("Activity recorded"),
    "VillageReportReceived": _l("Residents' report received"),
    "VillageReportVerified": _l("Residents' report verified"),
    "VillageReportClosed": _l("Residents' report closed"),
    "VillageEvaluated": _l("Evaluated"),
}


# A fostered village's life.
ACTIVITY_KINDS = {
    "socialization": _l("Socialization"),
    "counseling": _l("Counseling"),
    "coordination": _l("Coordination"),
    "visit": _l("Village visit"),
    "passport_service": _l("Passport service"),
    "other": _l("Other"),
}
REPORT_CATEGORIES = {
    "foreign_national": _l("Foreign national"),
    "suspected_trafficking": _l("Suspected trafficking"),
    "non_procedural_migration": _l("Non-procedural migration"),
    "other": _l("Other"),
}
REPORT_STATUSES = {"open": _l("Open"), "verified": _l("Verified"), "closed": _l("Closed")}
REPORT_CHANNELS = {
    "whatsapp": _l("WhatsApp"),
    "phone": _l("Phone"),
    "visit": _l("In person"),
    "letter": _l("Letter"),
    "other": _l("Other"),
}
REPORT_OUTCOMES = {"resolved": _l("Resolved"), "referred": _l("Referred"), "unfounded": _l("Unfounded")}
FOSTERING_NOTICES = {
    "petugas": _l("Officers assigned."),
    "kegiatan": _l("Activity recorded."),
    "laporan": _l("Report recorded."),
    "verifikasi": _l("Report verified."),
    "tutup": _l("Report closed."),
    "evaluasi": _l("Evaluation recorded."),
}
EVALUATION_RATINGS = {
    "active": _l("Active"),
    "needs_attention": _l("Needs attention"),
    "inactive": _l("Inactive"),
}

# Fields the case and proposal forms do not label, named where a field error points at them.
OTHER_FIELDS = {
    "year": _l("Year"),
    "as_of": _l("As of"),
    "office": _l("Office"),
    "office_code": _l("Office"),
    "region": _l("Region"),
    "region_code": _l("Region"),
    "username": _l("Username"),
    "name": _l("Name"),
    "role": _l("Role"),
    "password": _l("Password"),
    "again": _l("Password again"),
    "digest": _l("Digest"),
    "position": _l("Position"),
    "village_name": _l("Village name"),
    "kind": _l("Activity"),
    "participants": _l("Participants"),
    "summary": _l("Summary"),
    "received_at": _l("Received at (WIB)"),
    "channel": _l("Channel"),
    "category": _l("Category"),
    "outcome": _l("Outcome"),
    "referred_to": _l("Referred to (if referred)"),
    "period": _l("Quarter"),
    "rating": _l("Rating"),
    "officers": _l("Fostering officers"),
    "code": _l("Code"),
    "unit_type": _l("Type"),
    "regencies": _l("Working area"),
    "effective_on": _l("Holds from"),
}

# Messages marshmallow gives a form field; listed so that the catalog carries them.
FORM_MESSAGES = (
    _l("Missing data for required field."),
    _l("Not a valid integer."),
    _l("Not a valid string."),
    _l("Not a valid boolean."),
    _l("Field may not be null."),
    _l("Unknown field."),
    _l("not a date: write it YYYY-MM-DD"),
    _l("String does not match expected pattern."),
)


def field_label(path: str) -> str:
    """A field error's dotted path as the form names it: `criteria.poverty` is the finding on poverty,
    `indicators.migrant_workers` the indicator; a path no form labels is shown as it is."""
    head, _, rest = path.partition(".")
    if head == "criteria" and rest:
        return f"{FIELDS['criteria']} ({CRITERIA.get(rest, rest)})"
    name = rest if head == "indicators" and rest else head
    return str(FIELDS.get(name) or OTHER_FIELDS.get(name) or path)


def say(message: str) -> str:
    """A message of the domain or of a form check in the user's language: a `Message` is looked up by
    its template and filled with its values, each named in turn; a plain string by itself; what the
    catalog lacks stays in English."""
    if not message:
        return message
    template = getattr(message, "template", message)
    values = {name: _named(value) for name, value in getattr(message, "values", {}).items()}
    translated = gettext(template)
    return translated.format(**values) if values else translated


def _named(value: Any) -> Any:
    match value:
        case Message():
            return say(value)
        case Stage():
            return STAGES[value.value]
        case Action():
            return ACTIONS[value.value]
        case Role():
            return ROLES[value.value]
        case dt.date():
            return format_date(value, "d MMMM y")
    return value
