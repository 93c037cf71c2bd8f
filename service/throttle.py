"""Failed bearer tokens, counted per client address: an address that sent more than
`FAILED_TOKENS_PER_MINUTE` of them within a minute is answered 429 until the oldest falls out of the
window. Counts live in memory by default, one count per process (`RATE_LIMIT_STORAGE` takes any
storage URI of the `limits` library, e.g. a shared Redis)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class FailedTokens:
    def __init__(self, per_minute: int, storage_uri: str = "memory://") -> None:
        self._limit = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def wait_seconds(self, address: str) -> int | None:
        """Seconds until the address may try again, or None when it may try now."""
        if self._limiter.test(self._limit, address):
            return None
        reset_at = self._limiter.get_window_stats(self._limit, address).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def count_failure(self, address: str) -> None:
        self._limiter.hit(self._limit, address)
