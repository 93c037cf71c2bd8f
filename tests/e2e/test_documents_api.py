"""Documents over HTTP: uploads checked from their bytes and stored once by SHA-256, read back only by
those who may, named by the acts that use them; hostile uploads refused with nothing stored; a changed
document refused when read and named by `ledger verify`."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select, text

from events.schema import case_documents, document_uploads, documents, events
from service.application import Application
from tests import samples
from tests.e2e.conftest import CASES, Api, assert_problem
from tests.e2e.test_fostering_api import ACTIVITY, fostered, post

pytestmark = pytest.mark.usefixtures("registry")
DOCUMENTS = "/api/v1/documents"


def upload(api: Api, username: str, content: bytes, filename: str = "bukti.pdf", mimetype: str = "") -> Any:
    file = (io.BytesIO(content), filename, mimetype or "application/octet-stream")
    return api.client.post(
        DOCUMENTS,
        data={"file": file},
        content_type="multipart/form-data",
        headers=api.world.headers(username),
    )


def uploaded(api: Api, username: str, content: bytes, filename: str = "bukti.pdf") -> str:
    response = upload(api, username, content, filename)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()["sha256"]


def stored(application: Application) -> int:
    with application.db.read() as conn:
        return conn.execute(select(func.count()).select_from(documents)).scalar_one()


def test_a_pdf_is_stored_by_its_hash_and_the_same_bytes_again_are_the_same_document(api: Api) -> None:
    content = samples.pdf()
    first = upload(api, "officer", content, "Daftar Hadir.pdf")
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json() == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "media_type": "application/pdf",
        "filename": "Daftar Hadir.pdf",
    }
    again = upload(api, "officer", content, "lagi.pdf")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    by_another = upload(api, "section_head", content)
    assert (by_another.status_code, by_another.get_json()["sha256"]) == (200, first.get_json()["sha256"])


def test_the_type_comes_from_the_bytes_not_the_name(api: Api) -> None:
    response = upload(api, "officer", samples.photo(), "laporan.pdf", "application/pdf")
    assert response.status_code == 201
    assert response.get_json()["media_type"] == "image/jpeg"
    assert response.get_json()["filename"] == "laporan.pdf.jpg"
    assert upload(api, "officer", samples.png(), "x").get_json()["media_type"] == "image/png"


def test_the_uploader_reads_it_back_verified_a_pdf_as_an_attachment_a_photo_inline(api: Api) -> None:
    pdf_hash = uploaded(api, "officer", samples.pdf(), "SK.pdf")
    response = api.get("officer", f"{DOCUMENTS}/{pdf_hash}")
    assert response.status_code == 200
    assert response.data == samples.pdf()
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "SK.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]

    photo_hash = uploaded(api, "officer", samples.photo(1600, 1200), "foto.jpg")
    shown = api.get("officer", f"{DOCUMENTS}/{photo_hash}")
    assert (shown.mimetype, shown.headers["Content-Disposition"].split(";")[0]) == ("image/jpeg", "inline")
    thumbnail = api.get("officer", f"{DOCUMENTS}/{photo_hash}/thumbnail")
    assert thumbnail.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail.data)) as small:
        assert small.size == (320, 240)
    assert_problem(api.get("officer", f"{DOCUMENTS}/{pdf_hash}/thumbnail"), 404)


def test_a_document_is_read_by_its_uploader_and_by_readers_of_a_case_naming_it(api: Api) -> None:
    case = fostered(api)
    photo = uploaded(api, "officer", samples.photo(), "kegiatan.jpg")
    # Before any case names it: its uploader only.
    assert_problem(api.get("auditor", f"{DOCUMENTS}/{photo}"), 404)
    assert_problem(api.get("section_head", f"{DOCUMENTS}/{photo}"), 404)

    created = post(api, "officer", f"{case['id']}/activities", {**ACTIVITY, "documents": [photo]})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["documents"] == [photo]
    for reader in ("section_head", "head", "supervisor", "auditor"):
        assert api.get(reader, f"{DOCUMENTS}/{photo}").status_code == 200, reader
    assert_problem(api.get("sukabumi_head", f"{DOCUMENTS}/{photo}"), 404)
    assert_problem(api.get("admin", f"{DOCUMENTS}/{photo}"), 404)
    assert_problem(api.get("officer", f"{DOCUMENTS}/{'0' * 64}"), 404)
    assert_problem(api.get("officer", f"{DOCUMENTS}/not-a-hash"), 404)


def test_the_decree_minutes_and_attendance_list_go_with_the_lifecycle(api: Api) -> None:
    minutes = uploaded(api, "section_head", samples.pdf("Notulen rapat koordinasi"), "notulen.pdf")
    case = api.proposed()
    coordinated = api.acted(
        "section_head",
        case["id"],
        "coordinate",
        {
            "held_on": "2024-02-19",
            "venue": "Aula",
            "agencies": ["Polres"],
            "minutes_ref": "UND-1",
            "documents": [minutes],
        },
    )
    assert coordinated["coordinated"]["documents"] == [minutes]
    # The officer who proposed the case reads the minutes through it now.
    assert api.get("officer", f"{DOCUMENTS}/{minutes}").status_code == 200
    case = api.acted("section_head", case["id"], "socialize")
    case = api.acted("section_head", case["id"], "assess")
    decree = uploaded(api, "head", samples.pdf("SK Desa Binaan"), "SK.pdf")
    body = {
        "decree_number": "W11.IMI.4-UM.01.01-0416",
        "decree_date": "2024-04-16",
        "fostering_officers": ["Officer"],
        "documents": [decree],
    }
    designated = api.acted("head", case["id"], "designate", body)
    assert designated["designated"]["documents"] == [decree]
    history = api.get("auditor", f"{CASES}/{case['id']}/events").get_json()["items"]
    assert history[-1]["data"]["documents"] == [decree]


def test_an_act_naming_an_unknown_or_unreadable_document_is_refused_and_changes_nothing(
    api: Api, application: Application
) -> None:
    case = fostered(api)
    elsewhere = uploaded(api, "sukabumi_head", samples.pdf("Sukabumi"), "lain.pdf")
    with application.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(events)).scalar_one()
    for named in (["a" * 64], [elsewhere]):
        body = {**ACTIVITY, "documents": named}
        problem = assert_problem(post(api, "officer", f"{case['id']}/activities", body), 422, "documents")
        assert named[0] in problem["errors"]["documents"][0]
    for bad in (["not-a-hash"], ["A" * 64], ["b" * 64, "b" * 64], ["c" * 64] * 21):
        assert_problem(post(api, "officer", f"{case['id']}/activities", {**ACTIVITY, "documents": bad}), 422)
    with application.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == before
        assert conn.execute(select(func.count()).select_from(case_documents)).scalar_one() == 0


def test_who_may_upload(api: Api) -> None:
    for role in ("officer", "section_head", "head", "supervisor"):
        assert upload(api, role, samples.png()).status_code in (200, 201), role
    assert_problem(upload(api, "auditor", samples.png()), 403)
    assert_problem(upload(api, "admin", samples.png()), 403)


@pytest.mark.parametrize(
    ("content", "filename", "status"),
    [
        pytest.param(samples.HTML_AS_PDF, "surat.pdf", 415, id="markup-named-pdf"),
        pytest.param(samples.zip_archive(), "arsip.pdf", 415, id="zip-named-pdf"),
        pytest.param(b"", "kosong.pdf", 415, id="empty"),
        pytest.param(samples.decompression_bomb(), "bom.png", 415, id="decompression-bomb"),
        pytest.param(samples.photo()[:-600], "terpotong.jpg", 415, id="truncated-photo"),
        pytest.param(samples.pdf()[:-6], "tanpa-akhir.pdf", 415, id="pdf-without-end"),
        *(pytest.param(c, "foto.jpg", 415, id=name) for name, c in samples.polyglots().items()),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    api: Api, application: Application, content: bytes, filename: str, status: int
) -> None:
    problem = assert_problem(upload(api, "officer", content, filename, "application/pdf"), status)
    assert problem["errors"]["file"]
    assert stored(application) == 0


def test_a_document_over_the_limit_is_refused_with_413(
    api: Api, app: Flask, application: Application
) -> None:
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    at_limit = samples.pdf()
    at_limit = at_limit[:9] + b"%" + b"x" * (limit - len(at_limit) - 2) + b"\n" + at_limit[9:]
    assert len(at_limit) == limit
    assert upload(api, "officer", at_limit).status_code == 201
    over = at_limit[:9] + b"x" + at_limit[9:]
    assert_problem(upload(api, "officer", over), 413)
    much_over = over + b"x" * (limit * 2)  # past the request's own limit: refused before it is read
    assert_problem(upload(api, "officer", much_over), 413)
    assert stored(application) == 1


def test_an_upload_without_its_file_is_a_422_naming_the_field(api: Api) -> None:
    response = api.client.post(
        DOCUMENTS,
        data={"other": "x"},
        content_type="multipart/form-data",
        headers=api.world.headers("officer"),
    )
    assert_problem(response, 422, "file")
    response = api.client.post(DOCUMENTS, json={"file": "x"}, headers=api.world.headers("officer"))
    assert_problem(response, 422, "file")


def test_documents_are_insert_only(api: Api, application: Application) -> None:
    sha256 = uploaded(api, "officer", samples.pdf())
    for statement in (
        f"UPDATE documents SET filename = 'x' WHERE sha256 = '{sha256}'",
        f"DELETE FROM documents WHERE sha256 = '{sha256}'",
        f"DELETE FROM document_uploads WHERE sha256 = '{sha256}'",
    ):
        with pytest.raises(Exception, match="insert-only"), application.db.engine.begin() as conn:
            conn.execute(text(statement))
    with application.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(document_uploads)).scalar_one() == 1


def change_stored_bytes(application: Application, sha256: str, content: bytes) -> None:
    """What someone with write access to the database could do, past its triggers."""
    with application.db.engine.begin() as conn:
        if application.db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER documents_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE documents DISABLE TRIGGER USER")
        conn.execute(documents.update().where(documents.c.sha256 == sha256).values(content=content))


def test_a_changed_document_is_not_served_and_ledger_verify_names_it(
    api: Api, app: Flask, application: Application
) -> None:
    case = fostered(api)
    photo = uploaded(api, "officer", samples.photo(), "foto.jpg")
    attendance = uploaded(api, "officer", samples.pdf(), "hadir.pdf")
    body = {**ACTIVITY, "documents": [photo, attendance]}
    assert post(api, "officer", f"{case['id']}/activities", body).status_code == 201
    intact = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "documents intact: 2 stored, 2 named" in intact.output
    # The read model of which case names which document replays from the log as it stands.
    replayed = app.test_cli_runner().invoke(args=["projections", "verify"])
    assert replayed.exit_code == 0, replayed.output

    change_stored_bytes(application, attendance, samples.pdf("Daftar hadir yang dipalsukan"))

    problem = assert_problem(api.get("auditor", f"{DOCUMENTS}/{attendance}"), 500)
    assert problem["type"].endswith("document-damaged")
    assert api.get("auditor", f"{DOCUMENTS}/{photo}").status_code == 200
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"document {attendance}" in result.output
    assert "do not match its hash" in result.output
    assert photo not in result.output


def test_a_forged_document_is_named_by_ledger_verify(api: Api, app: Flask, application: Application) -> None:
    """A row slipped into the table under an address its bytes do not have."""
    forged = hashlib.sha256(b"the genuine decree").hexdigest()
    with application.db.engine.begin() as conn:
        conn.execute(
            documents.insert().values(
                sha256=forged,
                media_type="application/pdf",
                size=10,
                filename="SK.pdf",
                content=samples.pdf("a forged decree"),
                uploaded_at="2024-01-01T00:00:00.000000Z",
            )
        )
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"document {forged} (named by no event): its bytes do not match its hash" in result.output
