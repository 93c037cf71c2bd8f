"""Documents: an upload checked and stored insert-only by its SHA-256, read back only after its bytes
are checked against that hash, for those who may read it; and a photo's thumbnail.

A user may read a document they uploaded, or one that an event of a case they may read names. A user
may name in an act only a document they may read: knowing a hash gives nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from domain import documents as document_rules
from domain import rules
from domain.actors import Actor
from domain.calendar import format_timestamp
from domain.documents import MediaType, UnsupportedDocument
from domain.errors import InvalidInput, Message, NotFound
from domain.events import DOCUMENT_EVENTS
from events.schema import candidacies, case_documents, document_uploads, documents, events
from events.unit_of_work import WriteTransaction

# A thumbnail's longer side, in pixels: sharp on a phone's dense screen, small to send.
THUMBNAIL_PIXELS = 320
_PILLOW_FORMAT = {MediaType.JPEG: "JPEG", MediaType.PNG: "PNG"}
# A file name is kept for downloads only: no path, no control characters, not too long.
MAX_FILENAME = 255


class DocumentDamaged(Exception):
    """The stored bytes no longer match the hash they are stored under: changed outside the service."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"document {sha256}: the stored bytes do not match its hash")
        self.sha256 = sha256


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload whose bytes passed every check: what it is, and its address."""

    filename: str
    content: bytes
    media_type: MediaType
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredDocument:
    sha256: str
    size: int
    media_type: str
    filename: str
    new: bool  # stored by this upload (else the same bytes were stored before)

    def shown(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "filename": self.filename,
        }


@dataclass(frozen=True, slots=True)
class Document:
    sha256: str
    media_type: MediaType
    filename: str
    content: bytes


def inspect_upload(filename: str | None, content: bytes, *, limit: int) -> Upload:
    """The upload, if its bytes are one PDF, JPEG or PNG within the limits; else DocumentTooLarge or
    UnsupportedDocument. An image is decoded (at a reduced scale where the format allows) to prove it
    is one, after its dimensions are checked: a decompression bomb is refused before it is decoded."""
    media_type = document_rules.media_type_of(content, limit=limit)
    if media_type.is_image:
        _decode_image(content, media_type)
    return Upload(
        _safe_filename(filename, media_type), content, media_type, document_rules.content_address(content)
    )


def _decode_image(content: bytes, media_type: MediaType) -> None:
    try:
        with Image.open(io.BytesIO(content), formats=[_PILLOW_FORMAT[media_type]]) as image:
            document_rules.check_image_size(*image.size)
            image.draft("RGB", (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            image.load()
    except Image.DecompressionBombError as error:
        raise UnsupportedDocument(Message("the image has too many pixels to be a photo")) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UnsupportedDocument(Message("the image cannot be read: it is damaged or cut short")) from error


def _safe_filename(given: str | None, media_type: MediaType) -> str:
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?').strip(" .")
    if not name:
        name = "dokumen"
    extension = {MediaType.PDF: ".pdf", MediaType.JPEG: ".jpg", MediaType.PNG: ".png"}[media_type]
    if not name.lower().endswith((extension, ".jpeg") if media_type is MediaType.JPEG else extension):
        name += extension  # the bytes decide what it is: the name says so too
    return name[-MAX_FILENAME:]


def store(tx: WriteTransaction, actor: Actor, upload: Upload) -> StoredDocument:
    """Store the bytes once (the same bytes again are the same document) and the actor as one of its
    uploaders, in the caller's unit of work."""
    document_rules.check_may_upload(actor)
    at = format_timestamp(tx.now)
    row = {
        "sha256": upload.sha256,
        "media_type": upload.media_type.value,
        "size": len(upload.content),
        "filename": upload.filename,
        "content": upload.content,
        "uploaded_at": at,
    }
    # Two uploads of the same bytes at once: one inserts, the other finds it stored (never an update).
    inserted = _insert_new(tx.conn, documents).values(row).returning(documents.c.sha256)
    new = tx.conn.execute(inserted).first() is not None
    uploader = {"sha256": upload.sha256, "username": actor.username, "uploaded_at": at}
    tx.conn.execute(_insert_new(tx.conn, document_uploads).values(uploader))
    kept = tx.conn.execute(
        select(documents.c.media_type, documents.c.size, documents.c.filename).where(
            documents.c.sha256 == upload.sha256
        )
    ).one()
    return StoredDocument(upload.sha256, kept.size, kept.media_type, kept.filename, new)


def _insert_new(conn: Connection, table: Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def may_read(conn: Connection, actor: Actor, sha256: str) -> bool:
    """Its uploader, or a reader of a case whose events name it."""
    uploaded = conn.execute(
        select(document_uploads.c.sha256).where(
            document_uploads.c.sha256 == sha256, document_uploads.c.username == actor.username
        )
    ).first()
    if uploaded is not None:
        return True
    if actor.role not in rules.CASE_READERS:
        return False
    naming_cases = conn.execute(
        select(candidacies.c.office_code, candidacies.c.region_code)
        .join(case_documents, case_documents.c.candidacy_id == candidacies.c.id)
        .where(case_documents.c.sha256 == sha256)
        .distinct()
    )
    return any(rules.may_read_office(actor, office, region) for office, region in naming_cases)


def read(conn: Connection, actor: Actor, sha256: str) -> Document:
    """The document, its bytes checked against its hash; NotFound if unknown or not the actor's to
    read (the two look the same); DocumentDamaged if the bytes were changed where they are stored."""
    if not document_rules.is_content_address(sha256) or not may_read(conn, actor, sha256):
        raise NotFound(f"no document {sha256}")
    row = conn.execute(
        select(documents.c.media_type, documents.c.filename, documents.c.content).where(
            documents.c.sha256 == sha256
        )
    ).first()
    if row is None:
        raise NotFound(f"no document {sha256}")
    content = bytes(row.content)
    if document_rules.content_address(content) != sha256:
        raise DocumentDamaged(sha256)
    return Document(sha256, MediaType(row.media_type), row.filename, content)


def check_may_name(conn: Connection, actor: Actor, named: Iterable[str]) -> None:
    """Every document an act names is stored and the actor's to read; else a 422 on `documents`."""
    for sha256 in named:
        stored = conn.execute(select(documents.c.sha256).where(documents.c.sha256 == sha256)).first()
        if stored is None or not may_read(conn, actor, sha256):
            raise InvalidInput.field(
                "documents", Message("no document {sha256}: upload it first", sha256=sha256)
            )


def thumbnail(document: Document) -> bytes:
    """A JPEG at most THUMBNAIL_PIXELS on its longer side, turned upright as the camera recorded."""
    if not document.media_type.is_image:
        raise NotFound(f"document {document.sha256} is not an image")
    with Image.open(io.BytesIO(document.content), formats=[_PILLOW_FORMAT[document.media_type]]) as image:
        image.draft("RGB", (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()


def case_documents_by_position(conn: Connection, candidacy_id: str) -> dict[int, list[dict[str, object]]]:
    """The documents each of the case's events names, by the event's position, for its page."""
    rows = conn.execute(
        select(case_documents.c.position, documents.c.sha256, documents.c.media_type, documents.c.filename)
        .join(documents, documents.c.sha256 == case_documents.c.sha256)
        .where(case_documents.c.candidacy_id == candidacy_id)
        .order_by(case_documents.c.position, documents.c.filename)
    )
    named: dict[int, list[dict[str, object]]] = {}
    for position, sha256, media_type, filename in rows:
        named.setdefault(position, []).append(
            {"sha256": sha256, "filename": filename, "is_image": MediaType(media_type).is_image}
        )
    return named


@dataclass(frozen=True, slots=True)
class DocumentFault:
    sha256: str
    fault: str  # "missing" (named, not stored) or "changed" (its bytes do not match its hash)
    named_at: int | None  # the position of the first event naming it, if any

    def __str__(self) -> str:
        where = (
            f" (named at position {self.named_at})" if self.named_at is not None else " (named by no event)"
        )
        if self.fault == "missing":
            return f"document {self.sha256}{where}: missing"
        return f"document {self.sha256}{where}: its bytes do not match its hash"


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    checked: int  # stored documents whose bytes were hashed
    named: int  # distinct documents the log names
    faults: list[DocumentFault]

    @property
    def ok(self) -> bool:
        return not self.faults


def verify_stored(conn: Connection) -> DocumentCheck:
    """Every document the log names is stored, and every stored document's bytes hash to its address
    (what `ledger verify` adds to the chain's walk). One document's bytes are held at a time."""
    named_at: dict[str, int] = {}
    naming = select(events.c.position, events.c.data).where(events.c.type.in_(_NAMING_TYPES))
    for position, data in conn.execute(naming.order_by(events.c.position).execution_options(yield_per=1000)):
        for sha256 in json.loads(data).get("documents", ()):
            named_at.setdefault(sha256, position)
    faults, checked, stored = [], 0, set()
    rows = conn.execute(
        select(documents.c.sha256, documents.c.content)
        .order_by(documents.c.sha256)
        .execution_options(yield_per=1)
    )
    for sha256, content in rows:
        checked += 1
        stored.add(sha256)
        if document_rules.content_address(bytes(content)) != sha256:
            faults.append(DocumentFault(sha256, "changed", named_at.get(sha256)))
    faults += [DocumentFault(s, "missing", p) for s, p in named_at.items() if s not in stored]
    return DocumentCheck(checked, len(named_at), sorted(faults, key=lambda f: (f.named_at or 0, f.sha256)))


_NAMING_TYPES = [event_type.type_name for event_type in DOCUMENT_EVENTS]
