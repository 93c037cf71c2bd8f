"""The HTTP edge shared by every blueprint: who is calling, request ids, body checks, running a
command, replies."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request, send_file
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from domain import rules
from domain.actors import Actor
from domain.lifecycle import Action
from service import documents
from service.application import Application, C, Handler, R
from service.auth import hash_token, holder_of_digest
from service.documents import Document
from service.idempotency import IdempotencyRequest, Reply, fingerprint
from service.problems import problem
from service.spreadsheet import XLSX
from service.throttle import FailedAttempts

API_PREFIX = "/api/v1"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ETAG = re.compile(r'\s*"(\d{1,9})"\s*')
MAX_IDEMPOTENCY_KEY = 200


def application() -> Application:
    return current_app.extensions["desa_binaan"]


def actor() -> Actor:
    return g.actor


def request_id() -> str:
    return g.request_id


def assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


_CHALLENGE = 'Bearer realm="desa-binaan"'


def authenticate() -> Response | None:
    """Every API path needs a live bearer token; the answer to a bad one says no more than that (an
    expired one says so, and when). An address that keeps sending bad tokens is told to wait."""
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        challenge = {"WWW-Authenticate": _CHALLENGE}
        return problem(401, "send Authorization: Bearer <token>", kind="unauthenticated", headers=challenge)
    failed_tokens: FailedAttempts = current_app.extensions["failed_tokens"]
    address = request.remote_addr or "unknown"
    wait = failed_tokens.wait_seconds(address)
    if wait is not None:
        return problem(
            429,
            f"too many unknown tokens from this address; try again in {wait} s",
            kind="too-many-failed-tokens",
            headers={"Retry-After": str(wait)},
        )
    holder = application().lookup(holder_of_digest, hash_token(token.strip()))
    refusal = None
    if holder is None:
        refusal = "the token is unknown or revoked"
    elif holder.expired(application().clock()):
        refusal = (
            f"the token expired on {holder.expires_at:%Y-%m-%d %H:%M} UTC;"
            " ask an administrator for a new one (users token)"
        )
    if refusal is not None:
        failed_tokens.count_failure(address)
        challenge = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'}
        return problem(401, refusal, kind="unauthenticated", headers=challenge)
    g.actor = holder.actor
    return None


# Room for a multipart body's boundaries, part headers and other fields around its files.
MULTIPART_OVERHEAD = 64 * 1024


def takes_uploads(files: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view takes a multipart body of up to `files` documents: its body may be that much larger
    than a JSON body (`allow_uploads`). Put it innermost: the decorators around it keep the mark."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.uploads = files  # type: ignore[attr-defined]
        return view

    return mark


def uploads_taken() -> int:
    """How many documents the request's view takes (0: none)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "uploads", 0)


def allow_uploads() -> None:
    """A view that takes documents reads a body of up to that many documents, each at most
    MAX_ATTACHMENT_BYTES; any other keeps the small limit of a JSON body or a form."""
    files = uploads_taken()
    if files:
        request.max_content_length = files * current_app.config["MAX_ATTACHMENT_BYTES"] + MULTIPART_OVERHEAD


def uploaded_files(field: str, limit: int) -> list[tuple[str | None, bytes]]:
    """The files sent in `field` (a file input left empty sends one with no name and no bytes): each
    name and at most `limit` + 1 bytes, enough to tell that a file is over the limit."""
    return [
        (sent.filename, sent.stream.read(limit + 1))
        for sent in request.files.getlist(field)
        if sent.filename or sent.content_length
    ]


def check_json_body() -> Response | None:
    """A body that is not JSON is a 400 before any field is looked at (413 if it is too large)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith(API_PREFIX):
        return None
    if request.routing_exception is not None:
        return None  # no such path, or not this method on it: the router's 404 or 405 says so
    if uploads_taken():
        return None  # a multipart body, which the view reads
    if not request.is_json:
        return problem(400, "send a JSON body with Content-Type: application/json", kind="malformed-body")
    try:
        data = read_body()
    except HTTPException:
        raise  # 413: over the limit
    except Exception:  # the server's reader refuses a malformed chunked framing: the client's fault
        return problem(400, "the body's chunked transfer encoding is malformed", kind="malformed-body")
    try:
        g.json_body = json.loads(data or b"")
        # A lone surrogate escape ("\ud800") parses, but no UTF-8 text can hold it: storing, hashing
        # or echoing it (as an unknown field's name) would fail later with a 500.
        json.dumps(g.json_body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        return problem(400, "the body is not valid UTF-8 JSON (or nests too deeply)", kind="malformed-body")
    return None


def read_body() -> bytes:
    """The raw body. A chunked body (no Content-Length) is cut at the limit without a word, and the
    cut-off part may even be valid JSON: if anything is left after the limit, the body is too large."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    chunked = request.content_length is None
    if chunked and limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return data


def checked_before_body(check: Callable[[Actor], None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run an authorization check before the body is read: a caller who may never do this gets a 403,
    not a 422 that would let it probe the schema."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            check(actor())
            return view(*args, **kwargs)

        return guarded

    return decorate


def permits(action: Action) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return checked_before_body(lambda caller: rules.check_may_perform(caller, action))


def perform(
    handler: Handler[C, R], command: C, respond: Callable[[R], Reply], *, idempotent: bool = True
) -> Response:
    """Run a command for the caller in one unit of work; `respond` makes the reply from its result.
    With `idempotent`, an `Idempotency-Key` makes a retry get the first reply and record nothing."""
    key = idempotency_request() if idempotent else None
    if isinstance(key, Response):
        return key
    done = application().reply_to(
        handler, actor(), command, request_id=request_id(), respond=respond, idempotency_request=key
    )
    return reply(done)


def idempotency_request() -> IdempotencyRequest | Response | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable():
        return problem(
            400,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
            kind="bad-idempotency-key",
        )
    return IdempotencyRequest(key=key, fingerprint=fingerprint(request.method, request.path, g.json_body))


def expected_version() -> int | None:
    """The version `If-Match` names (`"3"`); `*` or no header: any. Anything else is a 400 that
    names the expected form."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.fullmatch(header)
    if match is None:
        raise BadRequest(
            f'If-Match must be one quoted version as the ETag gives it, such as "3"; not {header[:40]!r}'
        )
    return int(match.group(1))


def reply(stored: Reply) -> Response:
    if not stored.body:
        return Response(status=stored.status)
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    for name, value in stored.headers.items():
        response.headers[name] = value
    return response


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name] = value
    return response


FORMATS = {"json": "application/json", "csv": "text/csv", "xlsx": XLSX}


def wanted_format(format_argument: str | None) -> str:
    """`?format=`, else what the Accept header prefers to JSON (`json`, `csv` or `xlsx`)."""
    if format_argument is not None:
        return format_argument
    accepted = request.accept_mimetypes
    best = accepted.best_match(list(FORMATS.values()), default="application/json")
    if best == "application/json" or accepted[best] <= accepted["application/json"]:
        return "json"
    return next(name for name, mimetype in FORMATS.items() if mimetype == best)


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Text as entered, except that text a spreadsheet would run as a formula is quoted with `'`."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(columns: list[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV download: the header, then each row's cells in the header's order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# A document never changes under its address: a browser may keep it, for this user only.
_DOCUMENT_CACHE = "private, max-age=31536000, immutable"
# Served bytes are never run as a page, whatever a browser might make of them.
_DOCUMENT_POLICY = "default-src 'none'; sandbox"


def document_response(document: Document) -> Response:
    """The document's bytes: an image shown inline, a PDF downloaded; named as its uploader named it."""
    response = send_file(
        io.BytesIO(document.content),
        mimetype=document.media_type.value,
        as_attachment=not document.media_type.is_image,
        download_name=document.filename,
        etag=document.sha256,
        conditional=True,
    )
    return _as_document(response)


def thumbnail_response(document: Document) -> Response:
    response = send_file(
        io.BytesIO(documents.thumbnail(document)),
        mimetype="image/jpeg",
        etag=f"{document.sha256}-thumbnail",
        conditional=True,
    )
    return _as_document(response)


def _as_document(response: Response) -> Response:
    response.headers["Cache-Control"] = _DOCUMENT_CACHE
    response.headers["Content-Security-Policy"] = _DOCUMENT_POLICY
    return response
