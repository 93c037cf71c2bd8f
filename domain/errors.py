"""Domain errors: each says which rule was broken; the service maps them to HTTP statuses."""

from __future__ import annotations

from typing import Any


class Message(str):
    """An English sentence that keeps its template and values, so that a page can say it in the
    user's language (the template is the catalog's message id); everywhere else it is the plain text."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        message = super().__new__(cls, template.format(**values) if values else template)
        message.template = template
        message.values = values
        return message


class DomainError(Exception):
    """A command was refused by a rule."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotPermitted(DomainError):
    """The actor's role may not do this (HTTP 403)."""


class NotFound(DomainError):
    """Unknown, or outside what the actor may read; the two look the same on purpose (HTTP 404)."""


class ActionNotAllowed(DomainError):
    """The action does not apply in the case's current stage (HTTP 409)."""

    def __init__(self, detail: str, allowed_actions: list[str]) -> None:
        super().__init__(detail)
        self.allowed_actions = allowed_actions


class RuleBroken(DomainError):
    """A business rule forbids the action: duplicate live candidacy, four-eyes (HTTP 409)."""

    def __init__(self, detail: str, rule: str) -> None:
        super().__init__(detail)
        self.rule = rule


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule tied to a field (HTTP 422)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str) -> InvalidInput:
        return cls({name: [message]})


class StaleVersion(DomainError):
    """`If-Match` named a version the case no longer has (HTTP 412)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the case is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual
