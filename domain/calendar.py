"""Which calendar day an instant belongs to, and which days lie in the future."""

from __future__ import annotations

import datetime as dt

# Recorded instants are attributed to days in Western Indonesian Time (WIB, UTC+7), the time of the
# capital and of most offices: a proposal recorded at 20:00 UTC on 31 December counts for the new year.
SYSTEM_TIMEZONE = dt.timezone(dt.timedelta(hours=7), "WIB")

# Indonesia's easternmost zone (WIT) is UTC+9: a date that is not yet "today" there is in the future
# for every office in the country.
LATEST_INDONESIAN_TIMEZONE = dt.timezone(dt.timedelta(hours=9), "WIT")


def latest_today(now: dt.datetime) -> dt.date:
    """The latest calendar date any Indonesian office can be living in at the instant `now`."""
    return now.astimezone(LATEST_INDONESIAN_TIMEZONE).date()


# How instants are written in the log and in events: UTC, to the microsecond.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> dt.datetime:
    # fromisoformat reads what format_timestamp writes ("...T03:00:00.000000Z") many times faster
    # than strptime; a rebuild parses every event's time.
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def day_of(instant: dt.datetime) -> dt.date:
    """The system day an instant is attributed to."""
    return instant.astimezone(SYSTEM_TIMEZONE).date()
