"""How performance against target is measured: achievement, the rating bands of mission.md, quarters
(triwulan) and medians."""

from __future__ import annotations

import datetime as dt
import random
import statistics

import pytest

from domain.errors import InvalidInput
from domain.performance import (
    QUARTERS,
    AsOf,
    AsOfBasis,
    achievement_pct,
    median_of_ascending,
    quarter_of,
    rating,
    requested_report,
)

# mission.md: >= 91 Sangat Baik, 76-90 Baik, 66-75 Cukup, 51-65 Kurang, <= 50 Sangat Kurang. The
# percentages carry one decimal; a value between two bands (90.5) has not reached the upper band's
# lower bound, so the lower band applies.
RATINGS = [
    (0.0, "Sangat Kurang"),
    (0.1, "Sangat Kurang"),
    (25.0, "Sangat Kurang"),
    (49.9, "Sangat Kurang"),
    (50.0, "Sangat Kurang"),
    (50.5, "Sangat Kurang"),
    (50.9, "Sangat Kurang"),
    (51.0, "Kurang"),
    (51.1, "Kurang"),
    (60.0, "Kurang"),
    (65.0, "Kurang"),
    (65.5, "Kurang"),
    (65.9, "Kurang"),
    (66.0, "Cukup"),
    (66.1, "Cukup"),
    (70.0, "Cukup"),
    (75.0, "Cukup"),
    (75.5, "Cukup"),
    (75.9, "Cukup"),
    (76.0, "Baik"),
    (76.1, "Baik"),
    (85.0, "Baik"),
    (90.0, "Baik"),
    (90.5, "Baik"),
    (90.9, "Baik"),
    (91.0, "Sangat Baik"),
    (91.1, "Sangat Baik"),
    (99.9, "Sangat Baik"),
    (100.0, "Sangat Baik"),
    (100.1, "Sangat Baik"),
    (150.0, "Sangat Baik"),
    (1000.0, "Sangat Baik"),
]


@pytest.mark.parametrize(("pct", "expected"), RATINGS)
def test_rating_bands_at_and_around_every_boundary(pct: float, expected: str) -> None:
    assert rating(pct) == expected


@pytest.mark.parametrize(
    ("pct", "expected"), [(91, "Sangat Baik"), (76, "Baik"), (66, "Cukup"), (51, "Kurang")]
)
def test_rating_of_whole_numbers(pct: int, expected: str) -> None:
    assert rating(pct) == expected
    assert rating(pct - 1) != expected


def test_no_rating_without_an_achievement() -> None:
    assert rating(None) is None


def test_every_band_is_reachable_and_bands_never_improve_as_achievement_falls() -> None:
    order = ["Sangat Baik", "Baik", "Cukup", "Kurang", "Sangat Kurang"]
    tenths = [rating(n / 10) for n in range(1200, -1, -1)]
    assert set(tenths) == set(order)
    ranks = [order.index(name) for name in tenths if name is not None]
    assert ranks == sorted(ranks)


# ---- achievement ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("designated", "target", "expected"),
    [
        (0, 5, 0.0),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 6, 16.7),
        (5, 6, 83.3),
        (1, 7, 14.3),
        (10, 11, 90.9),
        (1, 8, 12.5),
        # Exact halves round up, where round() on a float rounds half to even (6.25 -> 6.2).
        (1, 16, 6.3),
        (3, 16, 18.8),
        (1, 80, 1.3),
        (5, 16, 31.3),
        (1, 400, 0.3),
        (7, 8, 87.5),
        (5, 5, 100.0),
        # More designated than targeted: above 100, not capped.
        (6, 5, 120.0),
        (13, 8, 162.5),
        (3, 1, 300.0),
    ],
)
def test_achievement_is_rounded_half_up_to_one_decimal(designated: int, target: int, expected: float) -> None:
    pct = achievement_pct(designated, target)
    assert isinstance(pct, float)
    assert pct == expected


@pytest.mark.parametrize("designated", [0, 1, 7])
@pytest.mark.parametrize("target", [0, None])
def test_no_achievement_without_a_target(designated: int, target: int | None) -> None:
    assert achievement_pct(designated, target) is None
    assert rating(achievement_pct(designated, target)) is None


@pytest.mark.parametrize(
    ("designated", "target", "pct", "band"),
    [
        (91, 100, 91.0, "Sangat Baik"),
        (181, 200, 90.5, "Baik"),
        (10, 11, 90.9, "Baik"),
        # 90.99..% is shown as 91.0 and rated as shown.
        (10_000, 10_990, 91.0, "Sangat Baik"),
        (3, 4, 75.0, "Cukup"),
        (2, 3, 66.7, "Cukup"),
        (131, 200, 65.5, "Kurang"),
        (101, 200, 50.5, "Sangat Kurang"),
        (1, 2, 50.0, "Sangat Kurang"),
        (0, 4, 0.0, "Sangat Kurang"),
        (12, 10, 120.0, "Sangat Baik"),
    ],
)
def test_rating_of_an_achievement_as_shown(designated: int, target: int, pct: float, band: str) -> None:
    shown = achievement_pct(designated, target)
    assert shown == pct
    assert rating(shown) == band


# ---- quarters (triwulan) ----------------------------------------------------------------------


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_falls_in_its_quarter(month: int) -> None:
    expected = {1: "Q1", 2: "Q1", 3: "Q1", 4: "Q2", 5: "Q2", 6: "Q2"}
    expected |= {7: "Q3", 8: "Q3", 9: "Q3", 10: "Q4", 11: "Q4", 12: "Q4"}
    assert quarter_of(dt.date(2024, month, 1)) == expected[month]
    assert quarter_of(dt.date(2024, month, 28)) == expected[month]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2024, 1, 1), "Q1"),
        (dt.date(2024, 2, 29), "Q1"),
        (dt.date(2024, 3, 31), "Q1"),
        (dt.date(2024, 4, 1), "Q2"),
        (dt.date(2024, 6, 30), "Q2"),
        (dt.date(2024, 7, 1), "Q3"),
        (dt.date(2024, 9, 30), "Q3"),
        (dt.date(2024, 10, 1), "Q4"),
        (dt.date(2024, 12, 31), "Q4"),
        (dt.date(2025, 1, 1), "Q1"),
    ],
)
def test_quarter_boundaries(day: dt.date, expected: str) -> None:
    assert quarter_of(day) == expected


def test_quarters_are_named_in_order() -> None:
    assert QUARTERS == ("Q1", "Q2", "Q3", "Q4")


# ---- medians ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([42], 42.0),
        ([0], 0.0),
        ([0, 0], 0.0),
        ([30, 10, 20], 20.0),
        ([90, 1, 5, 7, 300], 7.0),
        ([10, 20], 15.0),
        ([1, 2], 1.5),
        ([40, 1, 3, 10], 6.5),
        ((5, 6, 7, 8), 6.5),
    ],
)
def test_median_days(days: list[int], expected: float) -> None:
    ascending = median_of_ascending(sorted(days))
    assert isinstance(ascending, float)
    assert ascending == expected


@pytest.mark.parametrize("empty", [[], ()])
def test_no_median_of_nothing(empty: list[int]) -> None:
    assert median_of_ascending(empty) is None


def test_median_of_ascending_days_is_that_of_the_standard_library() -> None:
    rng = random.Random(5)
    for count in range(1, 60):
        days = sorted(rng.randrange(0, 400) for _ in range(count))
        assert median_of_ascending(days) == statistics.median(days)


# 2025-03-10 09:00 in Jakarta.
NOW = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("year", "as_of", "expected"),
    [
        (None, None, (2025, AsOf(dt.date(2025, 3, 10), AsOfBasis.TODAY))),
        (2024, None, (2024, AsOf(dt.date(2024, 12, 31), AsOfBasis.YEAR_END))),
        (None, dt.date(2024, 6, 30), (2024, AsOf(dt.date(2024, 6, 30), AsOfBasis.REQUESTED))),
        (2024, dt.date(2025, 1, 15), (2024, AsOf(dt.date(2025, 1, 15), AsOfBasis.REQUESTED))),
    ],
)
def test_what_a_report_answers_as_of(year: int | None, as_of: dt.date | None, expected: tuple) -> None:
    assert requested_report(year, as_of, NOW) == expected


def test_a_report_as_of_a_day_to_come_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        requested_report(None, dt.date(2025, 3, 12), NOW)
    assert "as_of" in refused.value.errors
