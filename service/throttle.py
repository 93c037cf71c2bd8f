"""Failed attempts, counted per key (a client address, a username): a key with more than `per_minute`
failures within a minute is refused (429) until the oldest falls out of the window. It counts bad
bearer tokens per address, and failed sign-ins per username and per address. Counts live in memory
by default, one count per process (`RATE_LIMIT_STORAGE` takes any storage URI of the `limits`
library, e.g. a shared Redis)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class FailedAttempts:
    def __init__(self, per_minute: int, storage_uri: str = "memory://", namespace: str = "") -> None:
        self._limit = RateLimitItemPerMinute(per_minute, namespace=namespace or "failed")
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def wait_seconds(self, key: str) -> int | None:
        """Seconds until the key may try again, or None when it may try now."""
        if self._limiter.test(self._limit, key):
            return None
        reset_at = self._limiter.get_window_stats(self._limit, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def count_failure(self, key: str) -> None:
        self._limiter.hit(self._limit, key)
