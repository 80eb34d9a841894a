"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Optional

# 408, 429 and 5xx may pass; client-assigned ids make a resend safe.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: after failed attempt n (from 1)
    wait a random time up to ``initial_delay * 2**(n-1)``, at most
    ``max_delay``; a server's ``Retry-After`` is a floor."""

    max_attempts: int = 6
    initial_delay: float = 0.2
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> Optional[float]:
        """The wait after failed attempt `attempt`, or None when it was the last."""
        if attempt >= self.max_attempts:
            return None
        ceiling = min(self.initial_delay * (2 ** min(attempt - 1, 30)), self.max_delay)
        # Full jitter: clients that failed together do not retry together.
        return max(random.uniform(0, ceiling), retry_after or 0.0)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
