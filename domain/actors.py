"""Who acts: roles, and what each role may read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    SECTION_HEAD = "section_head"
    HEAD_OF_OFFICE = "head_of_office"
    REGIONAL_SUPERVISOR = "regional_supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


OFFICE_ROLES = frozenset({Role.OFFICER, Role.SECTION_HEAD, Role.HEAD_OF_OFFICE})


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    name: str
    role: Role
    office_code: str | None = None
    region_code: str | None = None


def scope_problem(role: Role, office_code: str | None, region_code: str | None) -> dict[str, list[str]]:
    """What is missing or superfluous in a user's scope for the role; empty when it fits."""
    errors: dict[str, list[str]] = {}
    if role in OFFICE_ROLES and not office_code:
        errors["office"] = [f"the role {role.value} belongs to one office"]
    if role is Role.REGIONAL_SUPERVISOR and not region_code:
        errors["region"] = ["the role regional_supervisor watches one region"]
    if role not in OFFICE_ROLES and office_code:
        errors["office"] = [f"the role {role.value} has no office"]
    if role is not Role.REGIONAL_SUPERVISOR and region_code:
        errors["region"] = [f"the role {role.value} has no region of its own"]
    return errors
