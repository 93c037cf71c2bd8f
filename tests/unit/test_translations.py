"""The pages' Indonesian: every message in the code and templates has its translation, and the
compiled catalog the application loads is the one its source says."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service" / "translations" / "id" / "LC_MESSAGES"


def messages_in_the_source() -> set[str]:
    """What `make translations` extracts: the same mapping, the same keywords (`Message` marks the
    domain's messages a page may show)."""
    found = set()
    with (ROOT / "service" / "babel.cfg").open() as mapping:
        method_map, options = parse_mapping_cfg(mapping)
    for _, _, message, _, _ in extract_from_dir(
        ROOT, method_map, options, keywords={"_": None, "_l": None, "gettext": None, "Message": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_its_indonesian() -> None:
    with (CATALOG / "messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {m.id: m.string for m in catalog if m.id}
    in_source = messages_in_the_source()
    assert in_source, "no messages found: the extraction is looking in the wrong place"
    assert sorted(in_source - translated.keys()) == []
    assert [m for m in sorted(in_source) if not translated[m]] == []
    assert sorted(translated.keys() - in_source) == []  # nothing kept that the pages no longer say


def test_the_compiled_catalog_matches_its_source() -> None:
    with (CATALOG / "messages.po").open("rb") as source:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(source))
    with (CATALOG / "messages.mo").open("rb") as kept:
        shipped = {m.id: m.string for m in read_mo(kept) if m.id}
    compiled.seek(0)
    expected = {m.id: m.string for m in read_mo(compiled) if m.id}
    assert shipped == expected, "run: pybabel compile -d service/translations"
