"""Shapes of what the server answers. Answers are plain dicts (the server's
JSON as is); these TypedDicts describe their main keys for type checkers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, TypedDict, Union

Event = Dict[str, Any]
"""A canonical event (docs/DESIGN.md §3)."""

Time = Union[datetime, str]
"""A timezone-aware datetime, or an RFC 3339 string."""


class Receipt(TypedDict):
    """The server's acknowledgement: the event is durably in the log."""

    id: str
    seq: int
    leaf_hash: str


class RunState(TypedDict, total=False):
    """What the agent had after an event (docs/replay.md)."""

    run_id: str
    events: int
    last_index: Optional[int]
    last_seq: Optional[int]
    last_time: Optional[str]
    status: str
    files: Dict[str, Dict[str, Any]]
    context: List[Dict[str, Any]]
    changes: List[Dict[str, Any]]
    problems: List[Dict[str, Any]]
