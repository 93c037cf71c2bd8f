"""Documents for tests, made here: real photos and PDFs, and the hostile uploads a service must refuse."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from service.demo import attendance_list


def pdf(text: str = "Daftar hadir sosialisasi") -> bytes:
    """A small, valid one-page PDF (an attendance list)."""
    return attendance_list(text)


def photo(width: int = 800, height: int = 600, colour: tuple[int, int, int] = (40, 120, 60)) -> bytes:
    """A JPEG photo."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", quality=85)
    return out.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def decompression_bomb() -> bytes:
    """A PNG of a few hundred kilobytes that would decode to 400 megapixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


HTML_AS_PDF = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


def polyglots() -> dict[str, bytes]:
    """Files that are a PDF, JPEG or PNG and something else too."""
    return {
        "jpeg-with-a-zip": photo() + zip_archive(),
        "jpeg-with-a-pdf": photo() + pdf(),
        "png-with-a-pdf-after-its-end": png() + pdf(),
        "pdf-with-a-zip-after-its-end": pdf() + zip_archive(),
        "jpeg-with-markup": photo()[:20] + b"<html><script>alert(1)</script>" + photo()[20:],
    }
