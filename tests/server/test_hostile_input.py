"""Hostile input against the real server, on both databases: bodies over the limit (with and without
Content-Length), JSON nested 10,000 deep, megabyte strings, wrong types, unicode oddities, SQL and path
fragments in every string field, every query parameter and every path parameter.

Each request is refused with a 4xx problem+json (or, where the hostile string is a legitimate value of
a free-text filter, answered with exactly the rows that filter matches) and leaves the log and every
table as they were: the ledger head and the row counts are compared after every request, every row of
every table after every group. Text that is merely unusual (SQL, paths, emoji, RTL marks, combining
accents) is data: the last test stores it and reads it back exactly.

Requests go out over a plain socket: requests/urllib3 would remove `..` segments and refuse some bytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, insert, select

from events.schema import candidacies, events, ledger_head, offices
from service.tables import areas, idempotency_keys, metadata
from tests.conftest import ACTION_BODIES, proposal
from tests.server.conftest import Deployment

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
LIMIT = 64 * 1024
TIMEOUT_S = 30.0
MIN_REQUESTS_PER_DATABASE = 1000

# ---- the hostile values -----------------------------------------------------------------------------

SQL = {
    "sql-or": "' OR 1=1 --",
    "sql-drop": '"; DROP TABLE events; --',
    "percent": "%",
    "underscore": "_",
    "backslash": "\\",
}
PATHS = {
    "traversal": "../../etc/passwd",
    "encoded-traversal": "%2e%2e%2f",
    "encoded-nul": "%00",
    "double-slash": "//",
}
FRAGMENTS = SQL | PATHS
# Unusual but legitimate text: free-text fields take it (and must give it back exactly, see the end).
UNICODE = {
    "rtl-override": "Desa \u202eatawiW\u202c",
    "emoji": "Desa \U0001f33e\U0001f1ee\U0001f1e9",
    "combining": "Cafe\u0301 Sunda\u0308",
    "zero-width": "Desa\u200bUji\u200d",
    "scripts": "Desa \u6751 \u0642\u0631\u064a\u0629",
}
CONTROLS = {
    "nul": "a\x00b",
    "bell": "a\x07b",
    "escape": "a\x1b[2Jb",
    "vertical-tab": "a\x0bb",
    "del": "a\x7fb",
    "c1-csi": "a\x9b31mb",
    "c1-next-line": "a\x85b",
}
# Written into the JSON text as escapes: valid JSON, but no UTF-8 text can hold them.
SURROGATES = {"lone-high": "\\ud800", "lone-low": "\\udfff", "reversed-pair": "\\udc00\\ud800"}
NEAR_LIMIT = "x" * 60_000  # under the body limit, over every field's length
ONE_MB = "x" * (1024 * 1024)
SENTINEL = "\ue000hostile\ue000"  # replaced in the JSON text by raw JSON (escapes, literals)


# ---- a client that sends exactly what it is given ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def mimetype(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self) -> Any:
        return json.loads(self.body)


def _parse(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2 :]
        body = decoded
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return Answer(status, headers, body)


def chunked(payload: bytes, size: int = 8192) -> bytes:
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@dataclass
class Wire:
    """HTTP/1.1 over a plain socket, one connection per request (gunicorn's sync workers close it)."""

    base_url: str
    tokens: dict[str, str]

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None,
        body: bytes | None = None,
        content_type: str = "application/json",
        chunk: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: close"]
        if user is not None:
            lines.append(f"Authorization: Bearer {self.tokens[user]}")
        payload = b""
        if body is not None:
            lines.append(f"Content-Type: {content_type}")
            if chunk:
                lines.append("Transfer-Encoding: chunked")
                payload = chunked(body)
            else:
                lines.append(f"Content-Length: {len(body)}")
                payload = body
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return self.raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def raw(self, data: bytes, *, half_close: bool = False) -> Answer:
        received: list[bytes] = []
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT_S) as sock:
            try:
                sock.sendall(data)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered before reading everything (a 413) and closed: read the answer
            while True:
                try:
                    piece = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not piece:
                    break
                received.append(piece)
        return _parse(b"".join(received))

    def head(self, user: str) -> str:
        """The headers every request carries, for requests written by hand."""
        host = f"Host: {self.host}:{self.port}\r\nConnection: close\r\n"
        return f"{host}Authorization: Bearer {self.tokens[user]}\r\n"


# ---- the state that must not change -----------------------------------------------------------------

TABLES = sorted(metadata.tables.values(), key=lambda table: table.name)
# After every request: the ledger head, the row count of every table the API writes, and the offices as
# they stand (a change that kept their count). The village registry is only compared after every group.
_HEAD = select(ledger_head.c.position, ledger_head.c.hash).where(ledger_head.c.id == 1)
FINGERPRINT = select(
    _HEAD.with_only_columns(ledger_head.c.position).scalar_subquery().label("position"),
    _HEAD.with_only_columns(ledger_head.c.hash).scalar_subquery().label("hash"),
    *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in TABLES if t is not areas),
)


def fingerprint(deployment: Deployment) -> tuple[Any, ...]:
    with deployment.application.db.read() as conn:
        return (
            tuple(conn.execute(FINGERPRINT).one()),
            tuple(conn.execute(select(offices).order_by(offices.c.code)).all()),
        )


def full_snapshot(deployment: Deployment) -> dict[str, list[Any]]:
    """Every row of every table, after every group."""
    with deployment.application.db.read() as conn:
        return {
            t.name: [tuple(row) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in TABLES
        }


# ---- the scene: real cases for the path parameters to point at --------------------------------------


@dataclass
class Scene:
    proposed: str
    assessed: str
    withdrawn: str
    sukabumi: str
    held_village: str  # the village of the live case `proposed`


def must(deployment: Deployment, user: str, method: str, path: str, body: dict[str, Any], status: int) -> Any:
    outcome = deployment.client().write(user, method, path, body)
    assert outcome.answer is not None and outcome.answer.status == status, outcome.answer
    return outcome.answer.body


def case_at(deployment: Deployment, actions: list[tuple[str, str]], village: str | None = None) -> str:
    village = village or next(deployment.villages)
    case_id = must(deployment, "officer", "POST", "/candidacies", proposal(village), 201)["id"]
    for action, user in actions:
        must(deployment, user, "POST", f"/candidacies/{case_id}/{action}", ACTION_BODIES[action], 200)
    return case_id


@pytest.fixture(scope="module")
def scene(deployment: Deployment) -> Scene:
    walk = [("coordinate", "section_head"), ("socialize", "section_head"), ("assess", "section_head")]
    held = next(deployment.villages)
    proposed = case_at(deployment, [], held)
    assessed = case_at(deployment, walk)
    withdrawn = case_at(deployment, [("withdraw", "section_head")])
    sukabumi = must(
        deployment,
        "sukabumi_officer",
        "POST",
        "/candidacies",
        proposal(next(deployment.sukabumi_villages), "SUKABUMI"),
        201,
    )["id"]
    must(deployment, "supervisor", "PUT", "/targets/BOGOR/2024", {"target": 4, "basis": "SK 2024"}, 200)
    return Scene(proposed, assessed, withdrawn, sukabumi, held)


@pytest.fixture(scope="module")
def wire(deployment: Deployment) -> Wire:
    return Wire(deployment.server.url, deployment.world.tokens)


@pytest.fixture(scope="module")
def tally(deployment: Deployment, request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Hostile requests sent per group; the total is printed when the deployment goes."""
    counts: Counter[str] = Counter()
    started = time.monotonic()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and counts:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhostile input on {deployment.application.db.dialect}: {sum(counts.values())} "
                f"requests in {len(counts)} groups, {time.monotonic() - started:.1f} s"
            )


# ---- the table ---------------------------------------------------------------------------------------


@dataclass
class Hostile:
    """One request and what it must get. `expect`: the statuses allowed; `fields`: what a 422 names;
    `items`: for a 200 list, exactly the ids it must hold."""

    name: str
    method: str
    path: str
    user: str | None
    expect: frozenset[int]
    body: bytes | None = None
    content_type: str = "application/json"
    chunk: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    items: list[str] | None = None
    raw: bytes | None = None
    half_close: bool = False
    # Refused by gunicorn before the application sees it: gunicorn's own short answer, not a problem.
    by_gunicorn: bool = False


def statuses(*codes: int) -> frozenset[int]:
    return frozenset(codes)


AS_KEY = object()  # the value goes in as the (only) key of the dict at this path


@dataclass(frozen=True)
class Field:
    """A field of a body: its path, its kind, and what a well-formed but wrong value of it gets."""

    path: tuple[Any, ...]
    kind: str  # text, code, date, int, bool, list, dict, object
    refused: frozenset[int] = statuses(422)  # fragments and unicode in a code or date
    nullable: bool = False
    empty_ok: bool = False

    @property
    def name(self) -> str:
        return ".".join(str(p) for p in self.path if p is not AS_KEY)


@dataclass(frozen=True)
class Operation:
    """A write, its user, a valid body, and what that body gets from the rules (409, 412, 404: a
    refusal that proves the body passed validation without changing anything)."""

    name: str
    method: str
    path: str
    user: str
    template: dict[str, Any]
    outcome: int
    fields: tuple[Field, ...]
    headers: dict[str, str] = field(default_factory=dict)


def operations(scene: Scene) -> dict[str, Operation]:
    def action(name: str, user: str, *fields: Field) -> Operation:
        path = f"{API}/candidacies/{scene.withdrawn}/{name}"  # a closed case: every action is a 409
        return Operation(name, "POST", path, user, ACTION_BODIES[name], 409, fields)

    reason = (Field(("reason",), "text"),)
    office_fields = (
        Field(("name",), "text"),
        Field(("region_code",), "code"),
        Field(("region_name",), "text"),
        Field(("regencies",), "list"),
        Field(("regencies", 0), "code"),
        Field(("take_over",), "bool"),
    )
    office = {
        "name": "Kantor Imigrasi",
        "region_code": "JABAR",
        "region_name": "Kanwil",
        "regencies": ["32.76"],
    }
    ops = [
        Operation(
            "propose",
            "POST",
            f"{API}/candidacies",
            "officer",
            proposal(scene.held_village),
            409,  # the village has a live case
            (
                Field(("village_code",), "code"),
                Field(("office_code",), "code", refused=statuses(403)),  # not the officer's office
                Field(("rationale",), "text"),
                # With the registry loaded, a name beside the code must be the registry's, as a code.
                Field(("village_name",), "code"),
                Field(("indicators",), "object"),
                Field(("indicators", "migrant_workers"), "int"),
                Field(("indicators", "prospective_migrant_workers"), "int"),
                Field(("indicators", "trafficking_cases"), "int"),
                Field(("indicators", "border_area"), "bool"),
                Field(("proposed_on",), "date", nullable=True),
            ),
        ),
        action(
            "coordinate",
            "section_head",
            Field(("held_on",), "date"),
            Field(("venue",), "text"),
            Field(("agencies",), "list"),
            Field(("agencies", 0), "text"),
            Field(("minutes_ref",), "text"),
            Field(("notes",), "text", nullable=True),
        ),
        action(
            "socialize",
            "section_head",
            Field(("held_on",), "date"),
            Field(("speakers",), "list"),
            Field(("speakers", 0), "text"),
            Field(("attendees",), "int"),
            Field(("topics",), "list", empty_ok=True),
            Field(("topics", 0), "text"),
        ),
        action(
            "assess",
            "section_head",
            Field(("assessed_on",), "date"),
            Field(("score",), "int"),
            Field(("meets_criteria",), "bool"),
            Field(("criteria",), "dict"),
            Field(("criteria", AS_KEY), "code"),
            Field(("criteria", "migrant_worker_base"), "bool"),
            Field(("notes",), "text", nullable=True),
        ),
        action(
            "designate",
            "head",
            Field(("decree_number",), "text"),
            Field(("decree_date",), "date"),
            Field(("fostering_officers",), "list"),
            Field(("fostering_officers", 0), "text"),
        ),
        action("reject", "head", *reason),
        action("return", "head", *reason),
        action("withdraw", "section_head", *reason),
        Operation(
            "put_target",
            "PUT",
            f"{API}/targets/BOGOR/2024",
            "supervisor",
            {"target": 5, "basis": "SK Kakanwil"},
            412,  # the target is at version 1
            (Field(("target",), "int"), Field(("basis",), "text")),
            headers={"If-Match": '"999"'},
        ),
        Operation(
            "post_office",
            "POST",
            f"{API}/offices",
            "admin",
            {"code": "BOGOR", **office},
            409,  # BOGOR exists
            (Field(("code",), "code"), *office_fields),
        ),
        Operation("put_office", "PUT", f"{API}/offices/NOPE", "admin", office, 404, office_fields),
    ]
    return {op.name: op for op in ops}


def put(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = path
    target: Any = body
    for part in parents:
        target = target[part]
    if last is AS_KEY:
        target.clear()
        target[value] = True
    else:
        target[last] = value
    return body


def encode(body: Any, raw: str | None = None) -> bytes:
    """The body as JSON; `raw` replaces the sentinel (a string in the body) with raw JSON text."""
    text = json.dumps(body, ensure_ascii=False)
    if raw is not None:
        text = text.replace(json.dumps(SENTINEL, ensure_ascii=False), raw)
    return text.encode("utf-8")


WRONG_TYPES: dict[str, list[Any]] = {
    "string": [42, 4.2, True, ["x"], {"x": "y"}],
    "int": ["1", 1.5, True, [1], {}, -1, 10**30],
    "bool": ["true", 1, 0, [], "yes"],
    "list": ["x", 42, {}, [42], [None], [["x"]]],
    "dict": [[], "x", 42, {"k": "yes"}, {"k": 1}, {}],
    "object": [[], "x", 42, {}],
}


def field_rows(op: Operation, f: Field) -> Iterator[Hostile]:
    def row(name: str, body: bytes, expect: frozenset[int], *names: str) -> Hostile:
        return Hostile(
            f"{op.name}.{f.name}: {name}",
            op.method,
            op.path,
            op.user,
            expect,
            body=body,
            headers=op.headers,
            fields=names,
        )

    accepted = statuses(op.outcome)
    if f.kind in ("text", "code", "date"):
        passes = accepted if f.kind == "text" else f.refused
        for name, value in (FRAGMENTS | UNICODE).items():
            yield row(name, encode(put(op.template, f.path, value)), passes, *_named(passes, f))
        for name, value in CONTROLS.items():
            yield row(name, encode(put(op.template, f.path, value)), statuses(422), f.name)
        for name, escape in SURROGATES.items():
            body = encode(put(op.template, f.path, SENTINEL), f'"{escape}"')
            yield row(name, body, statuses(400))
        yield row("60 KB string", encode(put(op.template, f.path, NEAR_LIMIT)), statuses(422), f.name)
        yield row("1 MB string", encode(put(op.template, f.path, ONE_MB)), statuses(413))
        if f.path[-1] is AS_KEY:
            return  # a JSON key is always a string
    for value in WRONG_TYPES["string" if f.kind in ("text", "code", "date") else f.kind]:
        yield row(
            f"wrong type {value!r}"[:60], encode(put(op.template, f.path, value)), statuses(422), f.name
        )
    null = accepted if f.nullable else statuses(422)
    yield row("null", encode(put(op.template, f.path, None)), null, *_named(null, f))
    if f.kind == "list":
        empty = accepted if f.empty_ok else statuses(422)
        yield row("empty list", encode(put(op.template, f.path, [])), empty, *_named(empty, f))
    if f.kind == "int":
        for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
            yield row(literal, encode(put(op.template, f.path, SENTINEL), literal), statuses(422), f.name)
        yield row("5,000 digits", encode(put(op.template, f.path, SENTINEL), "9" * 5000), statuses(400))


def _named(expect: frozenset[int], f: Field) -> tuple[str, ...]:
    return (f.name,) if 422 in expect else ()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def body_rows(op: Operation, wire: Wire) -> Iterator[Hostile]:
    """The body as a whole: size (with and without Content-Length), framing, nesting, syntax."""

    def row(name: str, expect: int, body: bytes | None = None, **options: Any) -> Hostile:
        options.setdefault("headers", op.headers)
        return Hostile(f"{op.name}: {name}", op.method, op.path, op.user, statuses(expect), body, **options)

    valid = encode(op.template)
    text = next(f for f in op.fields if f.kind in ("text", "code")).path
    padded = valid + b" " * LIMIT
    yield row("the template (control)", op.outcome, valid)
    yield row("the template, chunked (control)", op.outcome, valid, chunk=True)
    yield row("exactly 64 KiB, chunked", op.outcome, valid + b" " * (LIMIT - len(valid)), chunk=True)
    yield row("valid JSON, then padding over 64 KiB", 413, padded)
    yield row("valid JSON, then padding over 64 KiB, chunked", 413, padded, chunk=True)
    yield row("1 MB string, chunked", 413, encode(put(op.template, text, ONE_MB)), chunk=True)
    yield row("nested 10,000 deep", 400, nested(10_000).encode())
    yield row("nested 10,000 deep in a field", 400, encode(put(op.template, text, SENTINEL), nested(10_000)))
    yield row("not JSON", 400, b"village_code=' OR 1=1 --")
    yield row("text/plain", 400, valid, content_type="text/plain")
    yield row("a form", 400, valid, content_type="application/x-www-form-urlencoded")
    yield row("empty", 400, b"")
    yield row("truncated", 400, valid[: len(valid) // 2])
    yield row("not UTF-8", 400, valid.replace(b'"', b'"\xff\xfe', 1))
    yield row("a lone surrogate as a field name", 400, b'{"\\ud800": 1}')
    yield row("array", 422, json.dumps([op.template]).encode(), fields=("_body",))
    yield row("string", 422, json.dumps("' OR 1=1 --").encode(), fields=("_body",))
    yield row("null", 422, b"null", fields=("_body",))
    for name in ("' OR 1=1 --", "../../etc/passwd", '"; DROP TABLE events; --'):
        yield row(f"unknown field {name!r}", 422, encode({**op.template, name: 1}), fields=(name,))
    start = f"{op.method} {op.path} HTTP/1.1\r\n{wire.head(op.user)}".encode()
    framing = start + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    yield row("malformed chunk size", 400, raw=framing + b"zz\r\n{}\r\n0\r\n\r\n")
    yield row("chunk without its terminator", 400, raw=framing + b"2\r\n{}XX0\r\n\r\n")
    short = start + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + valid[:10]
    yield row("the client stops before its Content-Length", 400, raw=short, half_close=True)
    yield row(
        "raw bytes in the request line",
        400,
        raw=f"{op.method} {op.path}\xff HTTP/1.1\r\n".encode("latin-1"),
        by_gunicorn=True,
    )


# Path segments as sent (already percent-encoded where that is the point).
PATH_VALUES = {
    **{name: quote(value, safe="") for name, value in SQL.items()},
    "traversal": "../../etc/passwd",
    "encoded-traversal": "%2e%2e%2f",
    "encoded-slashes": "..%2f..%2fetc%2fpasswd",
    "encoded-nul": "%00",
    "double-slash": "",
    "bad-escape": "%zz",
    "rtl-override": quote("\u202e", safe=""),
    "long-segment": "s" * 300,
}
TOO_LONG = "s" * 9000  # over the request line gunicorn reads (gunicorn.conf.py): gunicorn answers


def path_rows(scene: Scene, ops: dict[str, Operation]) -> Iterator[Hostile]:
    missing = statuses(404)

    def row(label: str, method: str, path: str, user: str, body: bytes | None = None) -> Hostile:
        return Hostile(label, method, f"{API}{path}", user, missing, body)

    ids = {
        **PATH_VALUES,
        "real id + sql": scene.proposed + quote("' OR 1=1 --", safe=""),
        "real id + nul": scene.proposed + "%00",
        "real id/../real id": f"{scene.sukabumi}/../{scene.proposed}",
        "another office's case": scene.sukabumi,
    }
    for name, value in ids.items():
        yield row(f"GET /candidacies/{{{name}}}", "GET", f"/candidacies/{value}", "officer")
        yield row(f"GET /candidacies/{{{name}}}/events", "GET", f"/candidacies/{value}/events", "officer")
        for action in ACTION_BODIES:
            op = ops[action]
            label = f"POST /candidacies/{{{name}}}/{action}"
            yield row(label, "POST", f"/candidacies/{value}/{action}", op.user, encode(op.template))
    office = encode(ops["put_office"].template)
    target = encode(ops["put_target"].template)
    codes = {**PATH_VALUES, "lower case": "bogor", "trailing nul": "BOGOR%00", "trailing space": "BOGOR%20"}
    for name, value in codes.items():
        yield row(f"GET /offices/{{{name}}}", "GET", f"/offices/{value}", "auditor")
        yield row(f"PUT /offices/{{{name}}}", "PUT", f"/offices/{value}", "admin", office)
        yield row(f"PUT /targets/{{{name}}}/2024", "PUT", f"/targets/{value}/2024", "supervisor", target)
    years = {**PATH_VALUES, "trailing nul": "2024%00", "decimal": "2024.0", "hex": "0x7e8", "exponent": "2e3"}
    for name, value in years.items():
        yield row(f"PUT /targets/BOGOR/{{{name}}}", "PUT", f"/targets/BOGOR/{value}", "supervisor", target)
    for value in ("-1", "0", "99999999999999999999"):
        path = f"{API}/targets/BOGOR/{value}"
        yield Hostile(f"PUT {path}", "PUT", path, "supervisor", statuses(422), target, fields=("year",))
    actions = {
        **PATH_VALUES,
        "capitalised": "Coordinate",
        "trailing nul": "withdraw%00",
        "unknown": "approve",
        "trailing slash": "withdraw/",
    }
    for name, value in actions.items():
        path = f"/candidacies/{scene.assessed}/{value}"
        yield row(f"POST /candidacies/{{id}}/{{{name}}}", "POST", path, "head", b'{"reason": "x"}')
    path = f"{API}/candidacies/{scene.assessed}/events"  # a route, but not for POST
    yield Hostile("POST /candidacies/{id}/events", "POST", path, "head", statuses(405), b'{"reason": "x"}')
    for path in ("/candidacies", "/offices", "/targets/BOGOR", f"/candidacies/{scene.proposed}"):
        url = f"{API}{path}/{TOO_LONG}"
        yield Hostile(f"GET {path}/<9,000 bytes>", "GET", url, "auditor", statuses(414), by_gunicorn=True)


# Every list's query parameters and who reads it. `q` is free text: a hostile value is a legitimate
# (if odd) search, answered with exactly the cases whose village name holds it.
QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/candidacies": ("officer", ("office", "region", "stage", "year", "q", "limit", "cursor")),
    "/designations": ("auditor", ("year", "office", "region", "format", "limit", "cursor")),
    "/targets": ("auditor", ("year", "limit", "cursor")),
    "/events": ("auditor", ("after", "limit", "cursor")),
    "/offices": ("auditor", ("limit", "cursor")),
    "/reports/performance": ("auditor", ("year", "region", "as_of", "format")),
}
SEARCHABLE = FRAGMENTS | UNICODE | {"non-ascii digits": "\u0662\u0660\u0662\u0664"}
UNSEARCHABLE = {
    **{name: CONTROLS[name] for name in ("nul", "escape", "c1-csi")},
    "newline": "BOGOR\n",
    "long": "s" * 300,
}


def officer_cases(deployment: Deployment) -> list[tuple[str, str]]:
    """(id, village name) of the cases the BOGOR officer reads, newest proposal first."""
    query = (
        select(candidacies.c.id, candidacies.c.village_name)
        .where(candidacies.c.office_code == "BOGOR")
        .order_by(candidacies.c.proposed_position.desc())
    )
    with deployment.application.db.read() as conn:
        return [(row.id, row.village_name) for row in conn.execute(query)]


def query_rows(deployment: Deployment) -> Iterator[Hostile]:
    visible = officer_cases(deployment)

    def matching(q: str) -> list[str]:
        return [case_id for case_id, name in visible if q.lower() in name.lower()]

    assert matching("Desa Uji"), "the controls below need cases to find"

    for path, (user, params) in QUERIES.items():
        for param in params:
            values = (FRAGMENTS | UNICODE | UNSEARCHABLE) if param != "q" else (SEARCHABLE | UNSEARCHABLE)
            for name, value in values.items():
                url = f"{API}{path}?{param}={quote(value, safe='')}"
                label = f"GET {path}?{param}={{{name}}}"
                if param == "q" and name in SEARCHABLE:
                    yield Hostile(label, "GET", url, user, statuses(200), items=matching(value))
                else:
                    yield Hostile(label, "GET", url, user, statuses(422), fields=(param,))
        url = f"{API}{path}?{params[0]}={TOO_LONG}"
        yield Hostile(
            f"GET {path} with a 9,000-byte query", "GET", url, user, statuses(414), by_gunicorn=True
        )
    # The controls: a plain search finds exactly the office's cases, and none of SUKABUMI's.
    for q in ("Desa Uji", "desa uji 32.01", "zzz"):
        url = f"{API}/candidacies?q={quote(q)}"
        yield Hostile(
            f"GET /candidacies?q={q} (control)", "GET", url, "officer", statuses(200), items=matching(q)
        )


# ---- running the table ------------------------------------------------------------------------------


def judge(row: Hostile, answer: Answer) -> str | None:
    """What is wrong with the answer, if anything."""
    text = answer.body.decode("utf-8", errors="replace")
    if answer.status not in row.expect:
        return f"status {answer.status}, not {sorted(row.expect)}: {text[:300]!r}"
    if row.by_gunicorn:
        return None if "Traceback" not in text else f"a traceback: {text[:300]!r}"
    if "Traceback" in text or "<html" in text.lower():
        return f"a traceback or an HTML page: {text[:300]!r}"
    if answer.status < 400:
        if answer.mimetype != "application/json":
            return f"content type {answer.mimetype!r}"
        if row.items is not None and [item["id"] for item in answer.json()["items"]] != row.items:
            return f"items {[item['id'] for item in answer.json()['items']]}, not {row.items}"
        return None
    if answer.mimetype != PROBLEM_JSON:
        return f"content type {answer.mimetype!r}: {text[:300]!r}"
    try:
        body = answer.json()
    except ValueError:
        return f"not JSON: {text[:300]!r}"
    if body.get("status") != answer.status:
        return f"problem status {body.get('status')!r}"
    for member in ("type", "title", "detail"):
        if not isinstance(body.get(member), str) or not body[member]:
            return f"problem without {member}: {body}"
    if answer.status == 422:
        errors = body.get("errors")
        if not isinstance(errors, dict) or not errors:
            return f"a 422 without errors: {body}"
        for name, messages in errors.items():
            if not messages or not all(isinstance(m, str) and m for m in messages):
                return f"errors[{name!r}] is {messages!r}"
        for wanted in row.fields:
            if not any(name == wanted or name.startswith(wanted + ".") for name in errors):
                return f"errors do not name {wanted!r}: {sorted(errors)[:5]}"
    return None


def send(wire: Wire, row: Hostile, serial: int) -> Answer:
    if row.raw is not None:
        return wire.raw(row.raw, half_close=row.half_close)
    headers = dict(row.headers)
    if row.method != "GET":  # a key the service must not keep for a refused request
        headers["Idempotency-Key"] = f"' OR 1=1 -- {serial}"
    return wire.request(
        row.method,
        row.path,
        user=row.user,
        body=row.body,
        content_type=row.content_type,
        chunk=row.chunk,
        headers=headers,
    )


def run(deployment: Deployment, wire: Wire, tally: Counter[str], group: str, rows: list[Hostile]) -> None:
    """Send every row; after each, the ledger head and row counts are as before; after all, every row."""
    everything = full_snapshot(deployment)
    state = fingerprint(deployment)
    failures: list[str] = []
    for serial, row in enumerate(rows):
        tally[group] += 1
        try:
            answer = send(wire, row, serial)
        except OSError as error:  # a timeout included: the server hung
            failures.append(f"{row.name}: no answer ({error!r})")
            continue
        wrong = judge(row, answer)
        if wrong:
            failures.append(f"{row.name}: {wrong}")
        after = fingerprint(deployment)
        if after != state:
            failures.append(f"{row.name}: changed the database")
            state = after
    shown = "\n".join(failures[:40])
    assert not failures, f"{len(failures)} of {len(rows)} hostile requests went wrong:\n{shown}"
    assert full_snapshot(deployment) == everything


WRITES = [
    "propose",
    "coordinate",
    "socialize",
    "assess",
    "designate",
    "reject",
    "return",
    "withdraw",
    "put_target",
    "post_office",
    "put_office",
]
GROUPS = [*WRITES, "paths", "queries"]


def rows_of(group: str, deployment: Deployment, scene: Scene, wire: Wire) -> list[Hostile]:
    ops = operations(scene)
    if group in ops:
        op = ops[group]
        return [row for f in op.fields for row in field_rows(op, f)] + list(body_rows(op, wire))
    if group == "paths":
        return list(path_rows(scene, ops))
    return list(query_rows(deployment))


@pytest.mark.parametrize("group", GROUPS)
def test_hostile_requests_are_refused_and_change_nothing(
    deployment: Deployment, scene: Scene, wire: Wire, tally: Counter[str], group: str
) -> None:
    run(deployment, wire, tally, group, rows_of(group, deployment, scene, wire))


def test_several_hundred_hostile_requests_per_database(tally: Counter[str]) -> None:
    missing = [group for group in GROUPS if group not in tally]
    if missing:
        pytest.skip(f"only part of the table ran (not {missing})")
    assert sum(tally.values()) >= MIN_REQUESTS_PER_DATABASE, tally


# ---- unusual text is data: stored and given back exactly ---------------------------------------------

ODD_TEXT = " | ".join([*FRAGMENTS.values(), *UNICODE.values()])
ODD_MULTILINE = f"{ODD_TEXT}\nbaris kedua\twith a tab\r\n"
ODD_ITEMS = [*FRAGMENTS.values(), *UNICODE.values()]


def test_unusual_text_is_stored_and_given_back_exactly(deployment: Deployment, wire: Wire) -> None:
    """SQL, paths, RTL overrides, emoji, combining accents and zero-width characters in free text are
    legitimate data: recorded as the events of each write (one, or two for an office with its new
    region), read back byte for byte, the chain intact."""
    assert len(ODD_TEXT) <= 200
    key = "' OR 1=1 --; DROP TABLE idempotency_keys"
    with deployment.application.db.read() as conn:
        events_before = conn.execute(select(func.count()).select_from(events)).scalar_one()

    def write(user: str, method: str, path: str, body: dict[str, Any], status: int, **options: Any) -> Any:
        answer = wire.request(method, f"{API}{path}", user=user, body=encode(body), **options)
        assert answer.status == status, answer.body[:500]
        return answer.json()

    proposed = write(
        "officer",
        "POST",
        "/candidacies",
        proposal(next(deployment.villages), rationale=ODD_MULTILINE),  # its name is the registry's
        201,
        headers={"Idempotency-Key": key},
    )
    case_id = proposed["id"]
    coordination = {
        "held_on": "2024-02-19",
        "venue": ODD_TEXT,
        "agencies": ODD_ITEMS,
        "minutes_ref": ODD_TEXT,
        "notes": ODD_MULTILINE,
    }
    write("section_head", "POST", f"/candidacies/{case_id}/coordinate", coordination, 200, chunk=True)
    write("section_head", "POST", f"/candidacies/{case_id}/withdraw", {"reason": ODD_MULTILINE}, 200)
    year = dt.date.today().year
    write("supervisor", "PUT", f"/targets/SUKABUMI/{year}", {"target": 3, "basis": ODD_TEXT}, 200)
    # A new region (an existing one keeps its name), serving a regency of the registry no office serves.
    with deployment.application.db.write() as conn:
        conn.execute(insert(areas).values(code="32.76", name="Kota Depok", level=2))
    office = {"code": "ODD", "name": ODD_TEXT, "region_code": "ODD", "region_name": ODD_TEXT}
    write("admin", "POST", "/offices", {**office, "regencies": ["32.76"]}, 201)

    case = wire.request("GET", f"{API}/candidacies/{case_id}", user="officer").json()
    assert case["rationale"] == ODD_MULTILINE
    assert {k: case["coordinated"][k] for k in coordination if k != "held_on"} == {
        k: v for k, v in coordination.items() if k != "held_on"
    }
    assert case["closed"]["reason"] == ODD_MULTILINE
    history = wire.request("GET", f"{API}/candidacies/{case_id}/events", user="officer").json()["items"]
    assert history[0]["data"]["rationale"] == ODD_MULTILINE
    assert history[1]["data"]["agencies"] == ODD_ITEMS
    targets = wire.request("GET", f"{API}/targets?year={year}", user="supervisor").json()["items"]
    assert [t["basis"] for t in targets if t["office_code"] == "SUKABUMI"] == [ODD_TEXT]
    stored = wire.request("GET", f"{API}/offices/ODD", user="auditor").json()
    assert (stored["name"], stored["region_name"]) == (ODD_TEXT, ODD_TEXT)
    listed = wire.request("GET", f"{API}/regions", user="auditor").json()["items"]
    assert [r for r in listed if r["code"] == "ODD"] == [
        {"code": "ODD", "name": ODD_TEXT, "offices": ["ODD"]}
    ]

    with deployment.application.db.read() as conn:
        # The case's three events and the target's; the new region's and the office's.
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == events_before + 6
        organised = select(events.c.type, events.c.data).where(
            events.c.stream_id.in_(["region:ODD", "office:ODD"])
        )
        opened = dict(conn.execute(organised.order_by(events.c.position)).all())
        keys = conn.execute(select(idempotency_keys.c.key).where(idempotency_keys.c.key == key)).all()
        assert len(keys) == 1
        of_case = select(events.c.data).where(events.c.stream_id == case_id).order_by(events.c.position)
        recorded = conn.execute(of_case).scalars().all()
    assert json.loads(recorded[0])["rationale"] == ODD_MULTILINE
    assert list(opened) == ["RegionAdded", "OfficeOpened"]
    assert json.loads(opened["RegionAdded"])["name"] == json.loads(opened["OfficeOpened"])["name"] == ODD_TEXT
    verified = wire.request("GET", f"{API}/ledger/verify", user="auditor").json()
    assert verified["ok"] is True and verified["first_bad_position"] is None
