"""Uploads against the real server, on both databases: sixteen clients upload photos and attendance
lists at once (one PDF by all of them) and record activities naming them; every upload is stored
once, read back byte for byte, and named in the log. The limits over the wire: 10 MiB taken, one byte
more refused, a body far over refused before it is read, a decompression bomb refused before it is
decoded; each measured."""

from __future__ import annotations

import hashlib
import io
import random
import statistics
import time
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from events.schema import documents
from service import documents as document_store
from tests import samples
from tests.conftest import ACTION_BODIES, proposal
from tests.server.conftest import SOAK, Deployment
from tests.server.harness import run_in_threads
from tests.server.workload import assert_ledger_verifies, assert_projections_verify

CLIENTS = 16
PHOTOS_PER_CLIENT = 3 * SOAK
MIB = 1024 * 1024
LIMIT = 10 * MIB
UPLOADERS = ("officer", "section_head", "head")


def upload(deployment: Deployment, username: str, content: bytes, filename: str) -> requests.Response:
    return requests.post(
        f"{deployment.server.url}/api/v1/documents",
        files={"file": (filename, content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {deployment.world.tokens[username]}"},
        timeout=60,
    )


def stored_count(deployment: Deployment) -> int:
    with deployment.application.db.read() as conn:
        return conn.execute(select(func.count()).select_from(documents)).scalar_one()


def noisy_photo(seed: int, width: int = 1024, height: int = 768) -> bytes:
    """A photo that compresses as a real one does (noise, not a flat colour)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def designated_case(deployment: Deployment) -> str:
    client = deployment.client()
    case = client.write("officer", "POST", "/candidacies", proposal(next(deployment.villages))).answer
    assert case is not None and case.status == 201, case
    case_id = case.body["id"]
    for action, username in (
        ("coordinate", "section_head"),
        ("socialize", "section_head"),
        ("assess", "section_head"),
        ("designate", "head"),
    ):
        done = client.write(
            username, "POST", f"/candidacies/{case_id}/{action}", ACTION_BODIES[action]
        ).answer
        assert done is not None and done.status == 200, done
    officers = {"officers": ["officer"], "decree_number": "W11-PIMPASA-1", "decree_date": "2024-05-02"}
    done = client.write("head", "PUT", f"/candidacies/{case_id}/officers", officers).answer
    assert done is not None and done.status == 200, done
    return case_id


def test_sixteen_clients_upload_and_name_documents_at_once(deployment: Deployment) -> None:
    case_id = designated_case(deployment)
    attendance = samples.pdf("Daftar hadir bersama")  # every client uploads this same list
    photos = {(c, n): noisy_photo(1000 * c + n) for c in range(CLIENTS) for n in range(PHOTOS_PER_CLIENT)}
    before = stored_count(deployment)
    latencies: list[float] = []
    statuses: dict[str, list[int]] = {}
    named: dict[int, list[str]] = {}
    errors: list[str] = []

    def work(index: int) -> None:
        username = UPLOADERS[index % len(UPLOADERS)]
        hashes = []
        for content, name in [
            (photos[(index, n)], f"foto-{index}-{n}.jpg") for n in range(PHOTOS_PER_CLIENT)
        ] + [(attendance, "hadir.pdf")]:
            started = time.perf_counter()
            response = upload(deployment, username, content, name)
            latencies.append(time.perf_counter() - started)
            statuses.setdefault(name, []).append(response.status_code)
            if response.status_code not in (200, 201):
                errors.append(f"{name}: {response.status_code} {response.text[:200]}")
                return
            assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
            hashes.append(response.json()["sha256"])
        body = {"kind": "visit", "held_on": "2024-05-20", "participants": 10, "summary": f"Sambang {index}"}
        recorded = deployment.client().write(
            username, "POST", f"/candidacies/{case_id}/activities", {**body, "documents": hashes}
        )
        if recorded.answer is None or recorded.answer.status != 201:
            errors.append(f"activity {index}: {recorded.answer}")
            return
        named[index] = recorded.answer.body["documents"]

    started = time.perf_counter()
    failures = run_in_threads(CLIENTS, work)
    elapsed = time.perf_counter() - started

    assert failures == [] and errors == []
    # The shared list: stored by exactly one of the sixteen, found stored by the others.
    assert sorted(statuses["hadir.pdf"]) == [200] * (CLIENTS - 1) + [201]
    assert stored_count(deployment) == before + len(photos) + 1
    auditor = deployment.client()
    for hashes in named.values():
        for sha256 in hashes:
            read = auditor.get("auditor", f"/documents/{sha256}")
            assert read.status_code == 200
            assert hashlib.sha256(read.content).hexdigest() == sha256
    with deployment.application.db.read() as conn:
        check = document_store.verify_stored(conn)
    assert check.ok, check.faults
    assert_ledger_verifies(auditor)
    assert_projections_verify(deployment)
    uploaded_mib = sum(len(p) for p in photos.values()) / MIB + CLIENTS * len(attendance) / MIB
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    print(
        f"uploads under load: {CLIENTS} clients, {len(latencies)} uploads ({uploaded_mib:.1f} MiB) and"
        f" {len(named)} activities in {elapsed:.1f} s; upload p50"
        f" {statistics.median(latencies) * 1000:.0f} ms, p95 {p95:.0f} ms"
    )


def padded_pdf(size: int) -> bytes:
    """A valid PDF of exactly `size` bytes (a comment line pads it)."""
    small = samples.pdf()
    return small[:9] + b"%" + b"x" * (size - len(small) - 2) + b"\n" + small[9:]


@pytest.mark.parametrize(
    ("label", "content", "status"),
    [
        ("10 MiB exactly", padded_pdf(LIMIT), 201),
        ("10 MiB + 1", padded_pdf(LIMIT + 1), 413),
        ("decompression bomb (20,000 x 20,000 PNG)", samples.decompression_bomb(), 415),
        ("a photo with a PDF after it", samples.photo() + samples.pdf(), 415),
        ("markup named .pdf", samples.HTML_AS_PDF, 415),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_limits_over_the_wire(deployment: Deployment, label: str, content: bytes, status: int) -> None:
    before = stored_count(deployment)
    started = time.perf_counter()
    response = upload(deployment, "officer", content, "berkas.pdf")
    took = (time.perf_counter() - started) * 1000
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith(
        "application/json" if status < 300 else "application/problem+json"
    )
    assert stored_count(deployment) == before + (1 if status == 201 else 0)
    print(f"upload limit: {label} ({len(content):,} bytes): {response.status_code} in {took:.0f} ms")


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(deployment: Deployment) -> None:
    before = stored_count(deployment)
    body = b"x" * (3 * LIMIT)

    def chunks() -> Any:  # no Content-Length: the server counts as it reads
        for start in range(0, len(body), MIB):
            yield body[start : start + MIB]

    started = time.perf_counter()
    try:
        response = requests.post(
            f"{deployment.server.url}/api/v1/documents",
            data=chunks(),
            headers={
                "Authorization": f"Bearer {deployment.world.tokens['officer']}",
                "Content-Type": "multipart/form-data; boundary=x",
            },
            timeout=60,
        )
        status = response.status_code
    except requests.ConnectionError:
        status = None  # the server answered and closed before the client finished sending
    took = (time.perf_counter() - started) * 1000
    assert status in (413, None)
    assert stored_count(deployment) == before
    assert upload(deployment, "officer", samples.png(), "after.png").status_code in (
        200,
        201,
    )  # still serving
    print(f"upload limit: 30 MiB chunked: {status or 'refused, connection closed'} in {took:.0f} ms")
