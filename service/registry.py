"""The village registry: every official area code with its name (Kepmendagri 300.2.2-2138/2025)."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from domain import rules
from domain.actors import Actor
from domain.errors import InvalidInput
from domain.places import Village
from events.schema import HOLDS_VILLAGE, candidacies
from service import organisation
from service.tables import areas

# ASCII digits only: a bare \d also matches other scripts' digits.
AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", re.ASCII)
IMPORT_BATCH = 5000
# The national list shipped with the package (its source and licence: NOTICE beside it).
BUNDLED_AREAS = Path(__file__).parent / "data" / "kode-wilayah.csv.gz"


def read_areas(path: Path) -> Iterator[dict[str, object]]:
    """Rows of a `code,name` CSV (gzip-compressed if its name ends in .gz); a malformed row stops the
    import before anything is written."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"code", "name"} <= set(reader.fieldnames):
            raise InvalidInput.field("path", f"{path.name} has no header row naming the columns code,name")
        for line, row in enumerate(reader, start=2):
            code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
            if not AREA_CODE.fullmatch(code) or not name:
                raise InvalidInput.field(
                    "path", f"line {line}: not an area code and name: {code!r}, {name!r}"
                )
            yield {"code": code, "name": name, "level": code.count(".") + 1}


def import_areas(conn: Connection, path: Path) -> int:
    """Insert or update every area of the file; importing the same file again changes nothing."""
    rows = list(read_areas(path))
    dialect = conn.dialect.name
    for start in range(0, len(rows), IMPORT_BATCH):
        statement = sqlite.insert(areas) if dialect == "sqlite" else postgresql.insert(areas)
        statement = statement.on_conflict_do_update(
            index_elements=[areas.c.code],
            set_={"name": statement.excluded.name, "level": statement.excluded.level},
        )
        conn.execute(statement, rows[start : start + IMPORT_BATCH])
    return len(rows)


_ANY_VILLAGE = select(areas.c.code).where(areas.c.level == 4).limit(1)
_ANCESTRY = ("province", "regency", "district", "village")
_NAMES_OF = select(areas.c.code, areas.c.name).where(
    areas.c.code.in_([bindparam(part) for part in _ANCESTRY])
)


def load_bundled_if_empty(conn: Connection) -> int:
    """Load the national list shipped with the package into an empty registry; returns the areas
    loaded (none where a registry is there already: a newer one may have been imported)."""
    if conn.execute(select(areas.c.code).limit(1)).first() is not None:
        return 0
    return import_areas(conn, BUNDLED_AREAS)


def is_loaded(conn: Connection) -> bool:
    """Whether a registry is loaded: one that knows any village is the authority on every village code."""
    return conn.execute(_ANY_VILLAGE).first() is not None


def find_village(conn: Connection, code: str) -> Village | None:
    """The village with the names of its district, regency and province, if the registry knows it."""
    parts = dict(zip(_ANCESTRY, (code[:2], code[:5], code[:8], code), strict=True))
    names = dict(conn.execute(_NAMES_OF, parts).all())
    if code not in names:
        return None
    return Village(
        code=code,
        name=names[code],
        district=names.get(code[:8]),
        regency=names.get(code[:5]),
        province=names.get(code[:2]),
    )


def regency_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """The regencies and cities (level 2) among `codes` that the registry knows, with their names."""
    query = select(areas.c.code, areas.c.name).where(areas.c.code.in_(sorted(codes)), areas.c.level == 2)
    return dict(conn.execute(query).all())


class FoundVillage(NamedTuple):
    village: Village
    held_by: str | None  # the stage of the live or designated case that holds it, if any


def search_villages(
    conn: Connection, actor: Actor, office_code: str | None, q: str, limit: int
) -> list[FoundVillage]:
    """Villages of an office's working area whose name holds `q` (any case) or whose code starts with
    it, by name: the caller's own office, or the office given, which the caller must read. Each says
    whether a case holds it already (such a village cannot be proposed again)."""
    rules.check_may_read_cases(actor)
    office = organisation.get_office(conn, office_code or actor.office_code or "")
    if office is None or not rules.may_read_office(actor, office.code, office.region_code):
        raise InvalidInput.field("office", f"no office {office_code} of yours: name an office you may read")
    within = [
        # A regency's villages are the codes from "PP.KK." up to, not including, "PP.KK/".
        and_(areas.c.code >= f"{regency}.", areas.c.code < f"{regency}/")
        for regency in sorted(office.regencies)
    ]
    needle = q.strip().lower()
    matching = or_(
        func.lower(areas.c.name).contains(needle, autoescape=True),
        areas.c.code.startswith(needle, autoescape=True),
    )
    rows = conn.execute(
        select(areas.c.code, areas.c.name)
        .where(areas.c.level == 4, or_(*within), matching)
        .order_by(areas.c.name, areas.c.code)
        .limit(limit)
    ).all()
    parents = {prefix for code, _ in rows for prefix in (code[:2], code[:5], code[:8])}
    names = dict(
        conn.execute(select(areas.c.code, areas.c.name).where(areas.c.code.in_(sorted(parents)))).all()
    )
    held = dict(
        conn.execute(
            select(candidacies.c.village_code, candidacies.c.stage).where(
                candidacies.c.village_code.in_([code for code, _ in rows]), text(HOLDS_VILLAGE)
            )
        ).all()
    )
    return [
        FoundVillage(
            Village(code, name, names.get(code[:8]), names.get(code[:5]), names.get(code[:2])), held.get(code)
        )
        for code, name in rows
    ]
