"""The real village registry (Kepmendagri 300.2.2-2138/2025), the copy shipped with the package,
imported through the CLI, on both databases."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.application import Application
from service.registry import BUNDLED_AREAS
from service.tables import areas
from tests.e2e.conftest import Api

AREA_COUNT = 91_599
VILLAGE_COUNT = 83_762  # mission.md: desa and kelurahan of Indonesia


def area_counts(application: Application) -> dict[int, int]:
    with application.db.read() as conn:
        return dict(conn.execute(select(areas.c.level, func.count()).group_by(areas.c.level)).all())


@pytest.mark.usefixtures("world")
def test_the_whole_registry_imports_twice_and_names_tugu_selatan(
    app: Flask, application: Application, api: Api
) -> None:
    runner = app.test_cli_runner()
    started = time.perf_counter()
    first = runner.invoke(args=["villages", "import", str(BUNDLED_AREAS)])
    first_seconds = time.perf_counter() - started
    assert first.exit_code == 0, first.output
    assert f"{AREA_COUNT} areas imported" in first.stdout
    counts = area_counts(application)
    assert sum(counts.values()) == AREA_COUNT
    assert counts[4] == VILLAGE_COUNT
    assert counts[2] == 514  # regencies and cities

    second = runner.invoke(args=["villages", "import", str(BUNDLED_AREAS)])
    assert second.exit_code == 0, second.output
    assert f"{AREA_COUNT} areas imported" in second.stdout
    assert sum(area_counts(application).values()) == AREA_COUNT
    # A generous bound: the import is a few seconds on a modest machine, on either database.
    assert first_seconds < 60, f"the first import took {first_seconds:.1f} s"

    case = api.proposed("officer", village_code="32.01.25.2006")
    assert case["village"] == {
        "code": "32.01.25.2006",
        "name": "Tugu Selatan",
        "district": "Cisarua",
        "regency": "Kabupaten Bogor",
        "province": "Jawa Barat",
    }
    # With the real registry, a well-shaped code that names no village is refused.
    response = api.propose("officer", village_code="32.01.25.2999", village_name="Desa Khayalan")
    assert response.status_code == 422
    assert "village_code" in response.get_json()["errors"]
