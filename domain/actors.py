"""Who acts: roles, and what each role may read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Message


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
    id: str | None = None  # the user's stable id; the command line acts without one

    @property
    def person(self) -> Person:
        return Person(self.id, self.username)


@dataclass(frozen=True, slots=True)
class Person:
    """Who did something, as the log recorded them: the user's id (events before accounts were
    recorded as events have none) and the username they had."""

    id: str | None
    username: str

    def is_same(self, other: Person) -> bool:
        """The same ids, or the same username: usernames are never given to anybody else, so a
        username alone still names one person, and one person renamed keeps their id."""
        if self.id is not None and self.id == other.id:
            return True
        return self.username == other.username


def scope_problem(role: Role, office_code: str | None, region_code: str | None) -> dict[str, list[str]]:
    """What is missing or superfluous in a user's scope for the role, by the field at fault; empty when
    it fits."""
    errors: dict[str, list[str]] = {}
    if role in OFFICE_ROLES and not office_code:
        errors["office_code"] = [Message("the role {role} belongs to one office", role=role)]
    if role is Role.REGIONAL_SUPERVISOR and not region_code:
        errors["region_code"] = [Message("the role regional_supervisor watches one region")]
    if role not in OFFICE_ROLES and office_code:
        errors["office_code"] = [Message("the role {role} has no office", role=role)]
    if role is not Role.REGIONAL_SUPERVISOR and region_code:
        errors["region_code"] = [Message("the role {role} has no region of its own", role=role)]
    return errors
