"""UUIDv7 (RFC 9562) ids, made on the client so a retried event keeps its id."""

from __future__ import annotations

import random
import time

# random's global generator is reseeded in a forked child (Python >= 3.7), so
# two processes never share a sequence; ids need to be unique, not secret.
_bits = random.getrandbits


def uuid7() -> str:
    """A new UUIDv7 string: 48 bits of Unix milliseconds, then the
    sub-millisecond fraction (RFC 9562 method 3) so ids from one process
    sort by time, then 62 random bits."""
    ns = time.time_ns()
    ms, rest = divmod(ns, 1_000_000)
    frac = (rest << 12) // 1_000_000  # 12 bits of the millisecond's fraction
    rand = _bits(62)
    # version 7 over the fraction; variant 0b10 over the top random bits
    return "%08x-%04x-%04x-%04x-%012x" % (
        ms >> 16,
        ms & 0xFFFF,
        0x7000 | frac,
        0x8000 | (rand >> 48),
        rand & 0xFFFF_FFFF_FFFF,
    )
