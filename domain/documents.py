"""Documents: the evidence an event names (a decree, minutes, an attendance list, a photo).

A document is its bytes, addressed by their SHA-256: an event that uses one carries the hash, so the
ledger's chain covers the evidence. What a document is, is decided here from its bytes alone; the
client's file name and media type are never trusted. Only PDF, JPEG and PNG are taken, and a file that
is also something else (a polyglot: a PDF or a ZIP hidden in an image, anything after a PDF's end) is
refused, because some reader would open it as the other thing.
"""

from __future__ import annotations

import enum
import hashlib
import re
import struct

from domain.actors import OFFICE_ROLES, Actor, Role
from domain.errors import DomainError, Message, NotPermitted

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# More pixels than a phone's 48-megapixel photo is not a photo but a decompression bomb: a small file
# that would take gigabytes to decode.
MAX_IMAGE_PIXELS = 50_000_000
# The documents one act may name.
MAX_DOCUMENTS_PER_ACT = 20
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)

PDF_SIGNATURE = b"%PDF-"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# A PDF reader looks for its end marker this far from the end of the file.
_PDF_TAIL = 1024
# A ZIP reader looks for its end record (and a comment of up to 64 KiB) at the end of the file.
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 65_536 + 22
_ZIP_START = b"PK\x03\x04"
# Markup a browser would render, within the first bytes it sniffs.
_MARKUP = re.compile(rb"<\s*(html|script|svg|body|iframe|!doctype)", re.IGNORECASE)
_SNIFFED_BYTES = 1024


class MediaType(enum.StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"

    @property
    def is_image(self) -> bool:
        return self is not MediaType.PDF


class DocumentTooLarge(DomainError):
    """Over MAX_ATTACHMENT_BYTES (HTTP 413)."""


class UnsupportedDocument(DomainError):
    """Not a PDF, JPEG or PNG, or not only one (HTTP 415)."""


def content_address(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def is_content_address(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))


def media_type_of(content: bytes, *, limit: int = MAX_ATTACHMENT_BYTES) -> MediaType:
    """What the bytes are (PDF, JPEG or PNG), checked to be that alone; else DocumentTooLarge or
    UnsupportedDocument saying why."""
    if len(content) > limit:
        raise DocumentTooLarge(
            Message("a document is at most {limit} bytes; this one is {size}", limit=limit, size=len(content))
        )
    if content.startswith(PDF_SIGNATURE):
        _check_pdf_ends(content)
        return MediaType.PDF
    if content.startswith(PNG_SIGNATURE):
        _check_png_ends(content)
        found = MediaType.PNG
    elif content.startswith(JPEG_SIGNATURE):
        found = MediaType.JPEG
    else:
        raise UnsupportedDocument(Message("only PDF, JPEG and PNG documents are taken"))
    _check_image_is_only_an_image(content)
    return found


def check_image_size(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise UnsupportedDocument(
            Message(
                "an image of {width} x {height} pixels is more than {limit} pixels",
                width=width,
                height=height,
                limit=MAX_IMAGE_PIXELS,
            )
        )


def _check_pdf_ends(content: bytes) -> None:
    """A PDF ends with its last %%EOF (and perhaps a line break): anything after it is another file."""
    end = content.rfind(b"%%EOF")
    if end < 0 or end < len(content) - _PDF_TAIL:
        raise UnsupportedDocument(Message("the PDF has no end marker at its end"))
    if content[end + len(b"%%EOF") :].strip(b"\r\n\t \x00"):
        raise UnsupportedDocument(Message("the PDF carries other data after its end"))


def _check_png_ends(content: bytes) -> None:
    """Walk the PNG's chunks to its IEND: a PNG ends there."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(content):
        length, kind = struct.unpack(">I4s", content[offset : offset + 8])
        offset += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            if offset != len(content):
                raise UnsupportedDocument(Message("the PNG carries other data after its end"))
            return
    raise UnsupportedDocument(Message("the PNG is cut short"))


def _check_image_is_only_an_image(content: bytes) -> None:
    head = content[:_SNIFFED_BYTES]
    if PDF_SIGNATURE in content or _ZIP_END in content[-_ZIP_TAIL:] or _ZIP_START in head:
        raise UnsupportedDocument(Message("the image carries another file (a PDF or an archive)"))
    if _MARKUP.search(head):
        raise UnsupportedDocument(Message("the image carries markup a browser would run"))


# Who may upload: everyone who may name a document in an act (`domain.fostering.ACT_ROLES` and the
# lifecycle's actions), that is the office's staff and the regional supervisor who evaluates.
UPLOADERS = OFFICE_ROLES | {Role.REGIONAL_SUPERVISOR}


def check_may_upload(actor: Actor) -> None:
    if actor.role not in UPLOADERS:
        raise NotPermitted(Message("the role {role} does not upload documents", role=actor.role.value))
