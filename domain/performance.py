"""How performance against target is measured (realisasi target kinerja)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

from domain import rules
from domain.calendar import day_of

QUARTERS = ("Q1", "Q2", "Q3", "Q4")

# The usual bands (percent achievement, rounded to one decimal): lower bound and name, best first.
RATING_BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(91), "Sangat Baik"),
    (Decimal(76), "Baik"),
    (Decimal(66), "Cukup"),
    (Decimal(51), "Kurang"),
)
LOWEST_RATING = "Sangat Kurang"


def achievement_pct(designated: int, target: int | None) -> float | None:
    """Designated as a percentage of target, one decimal, half up; None without a (non-zero) target."""
    if not target:
        return None
    pct = (Decimal(designated) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(pct)


def rating(pct: float | None) -> str | None:
    """>= 91 Sangat Baik, 76-90 Baik, 66-75 Cukup, 51-65 Kurang, <= 50 Sangat Kurang.

    Between two bands (90.5 %) the lower applies: a band is earned by reaching its lower bound.
    """
    if pct is None:
        return None
    value = Decimal(str(pct))
    for lower_bound, name in RATING_BANDS:
        if value >= lower_bound:
            return name
    return LOWEST_RATING


def quarter_of(day: dt.date) -> str:
    """The quarter (triwulan) a decree date falls in."""
    return QUARTERS[(day.month - 1) // 3]


def median_of_ascending(days: Sequence[int]) -> float | None:
    """The middle value of days in ascending order, or the mean of the two middle ones; None of no
    days."""
    count = len(days)
    if not count:
        return None
    middle = count // 2
    return float(days[middle]) if count % 2 else (days[middle - 1] + days[middle]) / 2


class AsOfBasis(StrEnum):
    """Why a report answers as of its day."""

    REQUESTED = "requested"  # the caller named the day
    YEAR_END = "year_end"  # a past year: as it stood when the year ended
    TODAY = "today"  # this year, or one to come: as it stands now


class AsOf(NamedTuple):
    day: dt.date
    basis: AsOfBasis


def requested_report(year: int | None, requested: dt.date | None, now: dt.datetime) -> tuple[int, AsOf]:
    """A report's year and the day it answers as of, from what was asked: `as_of` (never a day to
    come), else the last day of a past year, else today; the year, if not asked, is `as_of`'s or this."""
    today = day_of(now)
    if requested is not None:
        rules.check_not_in_future("as_of", requested, now)
    year = year or (requested or today).year
    return year, report_as_of(year, requested, today)


def report_as_of(year: int, requested: dt.date | None, today: dt.date) -> AsOf:
    """The day a report of `year` answers as of: the one asked for; else a past year as it closed on
    31 December (so that later work, a proposal of the new year, does not change it); else today."""
    if requested is not None:
        return AsOf(requested, AsOfBasis.REQUESTED)
    if year < today.year:
        return AsOf(dt.date(year, 12, 31), AsOfBasis.YEAR_END)
    return AsOf(today, AsOfBasis.TODAY)
