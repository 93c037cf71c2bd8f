"""`/api/v1/documents`: upload a document (PDF, JPEG or PNG), read one back, a photo's thumbnail."""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint

from domain import documents as document_rules
from domain.errors import InvalidInput, Message
from service import documents, handlers, web
from service.api import docs
from service.idempotency import Reply
from service.schemas import DocumentSchema

blp = Blueprint(
    "documents",
    __name__,
    url_prefix="/api/v1",
    description="Documents (the decree, minutes, attendance lists, photos), addressed by their SHA-256.",
)

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}
_BYTES = {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
}


@blp.route("/documents", methods=["POST"])
@web.checked_before_body(document_rules.check_may_upload)
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(201, DocumentSchema, description="Stored")
@blp.alt_response(200, schema=DocumentSchema, description="The same bytes were stored before")
@docs.errors(400, 401, 403, 413, 415, 422)
@web.takes_uploads(1)
def upload_document() -> Response:
    """Upload a document (office staff and regional supervisors): a PDF, JPEG or PNG as the bytes say,
    whatever its name; the same bytes again are the same document."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    sent = web.uploaded_files("file", limit)
    if len(sent) != 1:
        raise InvalidInput.field("file", Message("send one document in the multipart field file"))
    filename, content = sent[0]
    upload = documents.inspect_upload(filename, content, limit=limit)
    return web.perform(
        handlers.store_document,
        upload,
        lambda stored: Reply.json(201 if stored.new else 200, stored.shown()),
        idempotent=False,  # the same bytes are the same document: a retry is harmless by itself
    )


@blp.route("/documents/<sha256>", methods=["GET"])
@blp.doc(responses={"200": {"description": "The document's bytes", "content": _BYTES}})
@docs.errors(*docs.READ)
def download_document(sha256: str) -> Response:
    """The document's bytes, checked against its hash (its uploader, or a reader of a case whose
    events name it): a PDF as an attachment, an image inline."""
    return web.document_response(web.application().query(documents.read, web.actor(), sha256))


@blp.route("/documents/<sha256>/thumbnail", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "A JPEG at most 320 pixels on its longer side",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
@docs.errors(*docs.READ)
def document_thumbnail(sha256: str) -> Response:
    """A photo's thumbnail, for the same readers as the photo (404 for a PDF)."""
    document = web.application().query(documents.read, web.actor(), sha256)
    return web.thumbnail_response(document)
