"""Opaque cursors for keyset pagination: `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput

MAX_POSITION = 2**63 - 1  # positions are BIGINTs


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The key a cursor of this kind carries; anything else is a 422 on `cursor`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        text = ""
    found, _, key = text.partition(":")
    if found != kind or not key:
        raise InvalidInput.field("cursor", "not a cursor this API gave out for this list")
    return key


def decode_position_cursor(cursor: str) -> int:
    key = decode_cursor("p", cursor)
    # A forged cursor beyond a BIGINT must be a 422, not a database overflow.
    if not key.isdigit() or int(key) > MAX_POSITION:
        raise InvalidInput.field("cursor", "not a cursor this API gave out for this list")
    return int(key)
