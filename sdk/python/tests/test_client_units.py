"""The pieces that need no server: UUIDv7 ids, the retry policy, Retry-After."""

from __future__ import annotations

import time
import uuid
from email.utils import formatdate

import pytest

import flightrec
from flightrec._retry import parse_retry_after


def test_uuid7_ids_are_version_7_unique_and_ordered_by_time() -> None:
    ids = [flightrec.uuid7() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    millis = [u.int >> 80 for u in parsed]
    assert millis == sorted(millis), "the timestamp never goes back"
    assert abs(millis[-1] - time.time() * 1000) < 5_000


def test_retry_delays_grow_are_capped_jittered_and_end() -> None:
    policy = flightrec.RetryPolicy(max_attempts=5, initial_delay=0.1, max_delay=0.3)
    for _ in range(200):
        assert 0 <= policy.delay(1) <= 0.1  # type: ignore[operator]
        assert 0 <= policy.delay(2) <= 0.2  # type: ignore[operator]
        assert 0 <= policy.delay(4) <= 0.3  # type: ignore[operator]
    assert len({policy.delay(3) for _ in range(50)}) > 10, "jittered"
    assert policy.delay(5) is None, "the fifth attempt was the last"
    assert policy.delay(1, retry_after=2.5) == 2.5, "Retry-After is a floor"
    with pytest.raises(ValueError):
        flightrec.RetryPolicy(max_attempts=0)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = parse_retry_after(formatdate(time.time() + 30, usegmt=True))
    assert later is not None and 25 < later <= 30
    assert parse_retry_after(formatdate(time.time() - 30, usegmt=True)) == 0.0
