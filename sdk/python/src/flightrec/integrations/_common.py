"""What both integrations share: a sink for events and JSON-safe values."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Optional, Protocol


class EventSink(Protocol):
    """What the integrations record into: a `flightrec.Recorder` (or anything
    with its `record(event) -> id`)."""

    def record(self, event: Mapping[str, Any]) -> str: ...


_MAX_DEPTH = 20


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of a framework value: pydantic models dumped, mappings
    and sequences copied, anything else as its str()."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if depth >= _MAX_DEPTH:
        return str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(mode="json", exclude_none=True), depth + 1)
        except Exception:  # a model that will not dump is still recorded, as text
            return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def duration_ms(start: Optional[_dt.datetime], end: Optional[_dt.datetime]) -> Optional[float]:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 3)


def parse_time(text: Optional[str]) -> Optional[_dt.datetime]:
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)
