"""Building canonical events (docs/DESIGN.md §3) from the agent-audit shape."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ._types import Event, Receipt
from ._uuid7 import uuid7


# The server's own fields; sending them is an error (docs/api.md).
_SERVER_SET = ("seq", "received_at", "redactions", "credential_masked")


def log_event(
    action: str,
    prompt: Any = None,
    response: Any = None,
    agent_id: Optional[str] = None,
    trace_id: Optional[str] = None,
    parent_span_id: Optional[str] = None,
    span_id: Optional[str] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    fields: Optional[Mapping[str, Any]] = None,
) -> Event:
    """The canonical event for one agent-audit log: action is its `type`,
    prompt its `input`, response its `output`, trace_id its `run_id`."""
    if not isinstance(action, str) or not action:
        raise ValueError("action must be a non-empty string, e.g. \"tool_call\"")
    event: Event = {"type": action}
    if prompt is not None:
        event["input"] = prompt
    if response is not None:
        event["output"] = response
    if agent_id is not None:
        event["agent_id"] = agent_id
    if trace_id is not None:
        event["run_id"] = trace_id
    if span_id is not None:
        event["span_id"] = span_id
    if parent_span_id is not None:
        event["parent_span_id"] = parent_span_id
    if metadata is not None:
        event["metadata"] = dict(metadata)
    if fields:
        for name, value in fields.items():
            if name in event:
                raise ValueError(f"{name!r} is given twice")
            event[name] = value
    return event


def ensure_id(event: Event) -> str:
    """The event's id, assigning a UUIDv7 when it has none."""
    given = event.get("id")
    if given is None:
        given = event.get("execution_id")
    if given is None:
        given = event["id"] = uuid7()
    elif not isinstance(given, str) or not given:
        raise ValueError("an event's id must be a non-empty string")
    return given


def prepare(event: Mapping[str, Any]) -> Event:
    """A copy of `event` ready to send: a Mapping, no server-set field, an id."""
    if not isinstance(event, Mapping):
        raise TypeError(f"an event is a mapping (dict), not {type(event).__name__}")
    copy = dict(event)
    for name in _SERVER_SET:
        if name in copy:
            raise ValueError(f"{name!r} is set by the server; leave it out of the event")
    ensure_id(copy)
    if "time" not in copy and "timestamp" not in copy:
        copy["time"] = now_rfc3339()
    return copy


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def rfc3339_from_ns(ns: int) -> str:
    """RFC 3339 UTC with microseconds from Unix nanoseconds."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (rest // 1000)


def dumps(events: Sequence[Mapping[str, Any]]) -> bytes:
    """A batch body. Non-JSON values (datetimes, sets…) become strings rather
    than failing on the recorder's thread."""
    return json.dumps(list(events), separators=(",", ":"), ensure_ascii=False, default=_fallback).encode("utf-8")


def dumps_one(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=_fallback).encode("utf-8")


def _fallback(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def receipts(answer: Any) -> List[Receipt]:
    if isinstance(answer, dict) and isinstance(answer.get("receipts"), list):
        return list(answer["receipts"])
    raise ValueError("the server's answer to a batch holds no receipts")
