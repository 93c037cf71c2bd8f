"""The assessment criteria: the fixed set of findings an assessment may record, each true or false.

One list for the rule (`rules.check_criteria`) and for the API document (`service/schemas.py`), so
that reports can count findings by a name every office uses. Assessments recorded before the set was
fixed may carry other names: they are read as recorded; the set binds new assessments only.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Message


class Criterion(StrEnum):
    MIGRANT_WORKER_BASE = "migrant_worker_base"
    TRAFFICKING_VULNERABILITY = "trafficking_vulnerability"
    BORDER_OR_PORT = "border_or_port"
    POVERTY = "poverty"
    VILLAGE_COMMITMENT = "village_commitment"


# What each criterion asks of the village, as the API document shows it.
MEANING: dict[Criterion, str] = {
    Criterion.MIGRANT_WORKER_BASE: "a base of migrant workers (kantong PMI): many residents work abroad",
    Criterion.TRAFFICKING_VULNERABILITY: "vulnerable to trafficking in persons (rawan TPPO) or to "
    "non-procedural migration",
    Criterion.BORDER_OR_PORT: "in a border area, or near a port or crossing used to leave the country",
    Criterion.POVERTY: "poverty or a lack of local work pushes residents to migrate",
    Criterion.VILLAGE_COMMITMENT: "the village government commits to the fostering programme",
}

ALLOWED = frozenset(criterion.value for criterion in Criterion)
NAMES = ", ".join(criterion.value for criterion in Criterion)
UNKNOWN = Message("not an assessment criterion; the criteria are {names}", names=NAMES)
NONE_NAMED = Message("name at least one criterion of {names}", names=NAMES)
