"""What a document is, from its bytes alone: PDF, JPEG or PNG, only that, within the limits."""

from __future__ import annotations

import hashlib

import pytest

from domain import documents
from domain.actors import Actor, Role
from domain.documents import DocumentTooLarge, MediaType, UnsupportedDocument
from domain.errors import NotPermitted
from tests import samples


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (samples.pdf(), MediaType.PDF),
        (samples.pdf() + b"\r\n", MediaType.PDF),  # a line break after %%EOF is allowed
        (samples.photo(), MediaType.JPEG),
        (samples.png(), MediaType.PNG),
    ],
)
def test_the_type_comes_from_the_bytes(content: bytes, expected: MediaType) -> None:
    assert documents.media_type_of(content) is expected


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"GIF89a" + b"\x00" * 20,
        samples.HTML_AS_PDF,
        samples.zip_archive(),
        b" %PDF-1.4\n%%EOF",  # the signature must open the file
        samples.pdf()[:-6],  # no end marker
        samples.pdf() + b"tail",
        samples.png()[:-12],  # cut before IEND
        *samples.polyglots().values(),
    ],
)
def test_anything_else_or_anything_more_is_refused(content: bytes) -> None:
    with pytest.raises(UnsupportedDocument):
        documents.media_type_of(content)


def test_the_size_limit_is_inclusive() -> None:
    content = samples.pdf()
    assert documents.media_type_of(content, limit=len(content)) is MediaType.PDF
    with pytest.raises(DocumentTooLarge, match=f"at most {len(content) - 1} bytes"):
        documents.media_type_of(content, limit=len(content) - 1)


def test_an_image_of_more_pixels_than_a_photo_is_refused() -> None:
    documents.check_image_size(8000, 6000)  # 48 megapixels: a phone's largest
    with pytest.raises(UnsupportedDocument, match="20000 x 20000"):
        documents.check_image_size(20_000, 20_000)


def test_a_document_is_addressed_by_the_sha256_of_its_bytes() -> None:
    content = samples.pdf()
    address = documents.content_address(content)
    assert address == hashlib.sha256(content).hexdigest()
    assert documents.is_content_address(address)
    assert not documents.is_content_address(address.upper())
    assert not documents.is_content_address(address[:-1])


@pytest.mark.parametrize("role", list(Role))
def test_who_may_upload(role: Role) -> None:
    actor = Actor("u", "U", role, office_code="BOGOR")
    if role in (Role.OFFICER, Role.SECTION_HEAD, Role.HEAD_OF_OFFICE, Role.REGIONAL_SUPERVISOR):
        documents.check_may_upload(actor)
    else:
        with pytest.raises(NotPermitted):
            documents.check_may_upload(actor)
