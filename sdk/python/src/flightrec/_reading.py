"""Reading: runs, events and alerts, sync and async, with auto-paging."""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, AsyncIterator, Dict, Iterator, Optional, Sequence, Union
from urllib.parse import quote

from ._transport import AsyncTransport, Params, SyncTransport
from ._types import Event, RunState, Time

if TYPE_CHECKING:
    from ._replay import Replay

PathLike = Union[str, "os.PathLike[str]"]


def seg(value: str) -> str:
    """One path segment, escaped (an id may hold '/')."""
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


def time_param(value: Optional[Time]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
        return value.isoformat()
    raise TypeError(f"a time is a datetime or an RFC 3339 string, not {type(value).__name__}")


def run_get_params(
    include: Optional[Sequence[str]],
    from_: Optional[Time],
    to: Optional[Time],
    types: Optional[Sequence[str]],
    limit: Optional[int],
) -> Dict[str, Any]:
    if isinstance(include, str) or isinstance(types, str):
        raise TypeError("include and types are lists of strings, e.g. include=[\"audit_log\"]")
    return {
        "include": list(include) if include else None,
        "from": time_param(from_),
        "to": time_param(to),
        "types": list(types) if types else None,
        "limit": limit,
    }


def state_params(event: Optional[int], at: Optional[Time]) -> Dict[str, Any]:
    if event is not None and at is not None:
        raise ValueError("give event or at, not both")
    if event is not None and (isinstance(event, bool) or not isinstance(event, int) or event < 0):
        raise ValueError(f"event is an index in the run from 0, not {event!r}")
    return {"event": event, "at": time_param(at)}


def filters(given: Dict[str, Any]) -> Dict[str, Any]:
    """Filter keyword arguments as query parameters (`from_` → `from`).
    Paging is the iterator's: `limit` and `cursor` are not filters."""
    out: Dict[str, Any] = {}
    for name, value in given.items():
        if name in ("limit", "cursor"):
            raise TypeError(
                f"{name} is not a filter: the iterator pages by itself (page_size=…); "
                "to take fewer, stop iterating (itertools.islice)"
            )
        key = name[:-1] if name.endswith("_") else name
        out[key] = time_param(value) if isinstance(value, datetime) else value
    return out


def _sink(path: Optional[PathLike], file: Optional[IO[bytes]]) -> None:
    if (path is None) == (file is None):
        raise ValueError("give exactly one of path= (a file name) or file= (a binary file object)")


class Runs:
    """`client.runs`: listing, reading, state, export and replay of runs."""

    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def list(self, *, status: Optional[str] = None, agent_id: Optional[str] = None, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Every run, most recently active first, fetched a page at a time."""
        return _pages(self._t, "/v1/runs", "runs", {"status": status, "agent_id": agent_id, "limit": page_size})

    def get(
        self,
        run_id: str,
        *,
        include: Optional[Sequence[str]] = None,
        from_: Optional[Time] = None,
        to: Optional[Time] = None,
        types: Optional[Sequence[str]] = None,
        limit: Optional[int] = None,
    ) -> Dict[str, Any]:
        """The run's summary; with ``include=["audit_log"]`` also its events in
        run order (filtered by `from_`, `to` inclusive and `types`). Without
        `limit` every page is fetched; with it, at most `limit` events and
        `next_cursor` for the rest."""
        params = run_get_params(include, from_, to, types, limit)
        run: Dict[str, Any] = self._t.request("GET", f"/v1/runs/{seg(run_id)}", params=params)
        while limit is None and run.get("audit_log") is not None and run.get("next_cursor"):
            more = self._t.request("GET", f"/v1/runs/{seg(run_id)}", params={**params, "cursor": run["next_cursor"]})
            run["audit_log"].extend(more.get("audit_log") or [])
            run["next_cursor"] = more.get("next_cursor")
        return run

    def audit_log(
        self,
        run_id: str,
        *,
        from_: Optional[Time] = None,
        to: Optional[Time] = None,
        types: Optional[Sequence[str]] = None,
        page_size: int = 1000,
    ) -> Iterator[Event]:
        """The run's events in run order, a page at a time (for long runs)."""
        params = run_get_params(["audit_log"], from_, to, types, page_size)
        return _pages(self._t, f"/v1/runs/{seg(run_id)}", "audit_log", params)

    def state(self, run_id: str, *, event: Optional[int] = None, at: Optional[Time] = None) -> RunState:
        """Files, context, status, changes and problems after event `event`
        (index from 0) or at time `at`; at the end without either."""
        answer: RunState = self._t.request("GET", f"/v1/runs/{seg(run_id)}/state", params=state_params(event, at))
        return answer

    def tree(self, run_id: str) -> Dict[str, Any]:
        """The run's span tree."""
        answer: Dict[str, Any] = self._t.request("GET", f"/v1/runs/{seg(run_id)}/tree")
        return answer

    def export_audit_log(
        self,
        run_id: str,
        *,
        format: str = "json",
        path: Optional[PathLike] = None,
        file: Optional[IO[bytes]] = None,
    ) -> int:
        """Streams the run's export (`json`, `jsonl`, `csv`, `transcript`,
        `asciicast`, `html`) into `path` or `file`; answers the bytes written."""
        _sink(path, file)
        return _download(self._t, f"/v1/runs/{seg(run_id)}/export", {"format": format}, path, file)

    def replay(
        self,
        run_id: str,
        *,
        speed: float = 1.0,
        from_event: int = 0,
        max_gap: float = 2.0,
        follow: bool = True,
    ) -> "Replay":
        """A replay cursor: ``async for event in client.runs.replay(id)``."""
        from ._replay import Replay

        return Replay.for_settings(self._t.settings, self._t.retry, run_id, speed=speed, from_event=from_event, max_gap=max_gap, follow=follow)


class Events:
    """`client.events`: search, one event, proofs and the verifiable export."""

    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def search(self, *, page_size: int = 200, **filters_: Any) -> Iterator[Event]:
        """Every event matching the filters of ``GET /v1/events`` (type,
        run_id, agent_id, status, since, until, q, …), newest first,
        fetched a page at a time as you iterate."""
        return _pages(self._t, "/v1/events", "events", {**filters(filters_), "limit": page_size})

    def get(self, event_id: str, *, proof: bool = False) -> Event:
        """One event; with ``proof=True`` also its header, body, salt, leaf hash,
        inclusion proof and signed checkpoint."""
        answer: Event = self._t.request("GET", f"/v1/events/{seg(event_id)}", params={"proof": True if proof else None})
        return answer

    def proof(self, event_id: str, *, format: Optional[str] = None) -> Any:
        """The event's inclusion proof: a dict, or with ``format="tlog-proof"``
        the C2SP tlog-proof file as text."""
        answer: Any = self._t.request("GET", f"/v1/events/{seg(event_id)}/proof", params={"format": format})
        return answer

    def export(
        self,
        *,
        format: str = "jsonl",
        path: Optional[PathLike] = None,
        file: Optional[IO[bytes]] = None,
        **filters_: Any,
    ) -> int:
        """Streams the export of every matching event (``jsonl``, the default,
        verifies offline) into `path` or `file`; answers the bytes written."""
        _sink(path, file)
        return _download(self._t, "/v1/events/export", {**filters(filters_), "format": format}, path, file)


class Alerts:
    """`client.alerts`: compliance alerts raised at ingest."""

    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def list(self, *, page_size: int = 100, **filters_: Any) -> Iterator[Dict[str, Any]]:
        """Every alert matching status, severity, rule_id, run_id, agent_id,
        policy_id, event_id, since; newest first, paged as you iterate."""
        return _pages(self._t, "/v1/alerts", "alerts", {**filters(filters_), "limit": page_size})

    def get(self, alert_id: str) -> Dict[str, Any]:
        answer: Dict[str, Any] = self._t.request("GET", f"/v1/alerts/{seg(alert_id)}")
        return answer

    def resolve(self, alert_id: str) -> Dict[str, Any]:
        """Marks the alert resolved (needs an admin key)."""
        answer: Dict[str, Any] = self._t.request("POST", f"/v1/alerts/{seg(alert_id)}/resolve")
        return answer


def _pages(t: SyncTransport, path: str, key: str, params: Params) -> Iterator[Dict[str, Any]]:
    cursor: Optional[str] = None
    while True:
        page = t.request("GET", path, params={**params, "cursor": cursor})
        yield from page.get(key) or []
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _download(t: SyncTransport, path: str, params: Params, dest: Optional[PathLike], file: Optional[IO[bytes]]) -> int:
    written = 0
    with t.stream(path, params) as r:
        if file is not None:
            for chunk in r.iter_bytes():
                file.write(chunk)
                written += len(chunk)
            return written
        assert dest is not None
        # Into a temporary name first: a broken download never looks complete.
        partial = os.fspath(dest) + ".part"
        with open(partial, "wb") as out:
            for chunk in r.iter_bytes():
                out.write(chunk)
                written += len(chunk)
        os.replace(partial, dest)
        return written


# ---- async ---------------------------------------------------------------


class AsyncRuns:
    """`async_client.runs`: as :class:`Runs`, awaited."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    def list(self, *, status: Optional[str] = None, agent_id: Optional[str] = None, page_size: int = 100) -> AsyncIterator[Dict[str, Any]]:
        return _apages(self._t, "/v1/runs", "runs", {"status": status, "agent_id": agent_id, "limit": page_size})

    async def get(
        self,
        run_id: str,
        *,
        include: Optional[Sequence[str]] = None,
        from_: Optional[Time] = None,
        to: Optional[Time] = None,
        types: Optional[Sequence[str]] = None,
        limit: Optional[int] = None,
    ) -> Dict[str, Any]:
        params = run_get_params(include, from_, to, types, limit)
        run: Dict[str, Any] = await self._t.request("GET", f"/v1/runs/{seg(run_id)}", params=params)
        while limit is None and run.get("audit_log") is not None and run.get("next_cursor"):
            more = await self._t.request("GET", f"/v1/runs/{seg(run_id)}", params={**params, "cursor": run["next_cursor"]})
            run["audit_log"].extend(more.get("audit_log") or [])
            run["next_cursor"] = more.get("next_cursor")
        return run

    def audit_log(
        self,
        run_id: str,
        *,
        from_: Optional[Time] = None,
        to: Optional[Time] = None,
        types: Optional[Sequence[str]] = None,
        page_size: int = 1000,
    ) -> AsyncIterator[Event]:
        params = run_get_params(["audit_log"], from_, to, types, page_size)
        return _apages(self._t, f"/v1/runs/{seg(run_id)}", "audit_log", params)

    async def state(self, run_id: str, *, event: Optional[int] = None, at: Optional[Time] = None) -> RunState:
        answer: RunState = await self._t.request("GET", f"/v1/runs/{seg(run_id)}/state", params=state_params(event, at))
        return answer

    async def tree(self, run_id: str) -> Dict[str, Any]:
        answer: Dict[str, Any] = await self._t.request("GET", f"/v1/runs/{seg(run_id)}/tree")
        return answer

    async def export_audit_log(
        self,
        run_id: str,
        *,
        format: str = "json",
        path: Optional[PathLike] = None,
        file: Optional[IO[bytes]] = None,
    ) -> int:
        _sink(path, file)
        return await _adownload(self._t, f"/v1/runs/{seg(run_id)}/export", {"format": format}, path, file)

    def replay(
        self,
        run_id: str,
        *,
        speed: float = 1.0,
        from_event: int = 0,
        max_gap: float = 2.0,
        follow: bool = True,
    ) -> "Replay":
        from ._replay import Replay

        return Replay(self._t, run_id, speed=speed, from_event=from_event, max_gap=max_gap, follow=follow)


class AsyncEvents:
    """`async_client.events`: as :class:`Events`, awaited."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    def search(self, *, page_size: int = 200, **filters_: Any) -> AsyncIterator[Event]:
        return _apages(self._t, "/v1/events", "events", {**filters(filters_), "limit": page_size})

    async def get(self, event_id: str, *, proof: bool = False) -> Event:
        answer: Event = await self._t.request("GET", f"/v1/events/{seg(event_id)}", params={"proof": True if proof else None})
        return answer

    async def proof(self, event_id: str, *, format: Optional[str] = None) -> Any:
        answer: Any = await self._t.request("GET", f"/v1/events/{seg(event_id)}/proof", params={"format": format})
        return answer

    async def export(
        self,
        *,
        format: str = "jsonl",
        path: Optional[PathLike] = None,
        file: Optional[IO[bytes]] = None,
        **filters_: Any,
    ) -> int:
        _sink(path, file)
        return await _adownload(self._t, "/v1/events/export", {**filters(filters_), "format": format}, path, file)


class AsyncAlerts:
    """`async_client.alerts`: as :class:`Alerts`, awaited."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    def list(self, *, page_size: int = 100, **filters_: Any) -> AsyncIterator[Dict[str, Any]]:
        return _apages(self._t, "/v1/alerts", "alerts", {**filters(filters_), "limit": page_size})

    async def get(self, alert_id: str) -> Dict[str, Any]:
        answer: Dict[str, Any] = await self._t.request("GET", f"/v1/alerts/{seg(alert_id)}")
        return answer

    async def resolve(self, alert_id: str) -> Dict[str, Any]:
        answer: Dict[str, Any] = await self._t.request("POST", f"/v1/alerts/{seg(alert_id)}/resolve")
        return answer


async def _apages(t: AsyncTransport, path: str, key: str, params: Params) -> AsyncIterator[Dict[str, Any]]:
    cursor: Optional[str] = None
    while True:
        page = await t.request("GET", path, params={**params, "cursor": cursor})
        for item in page.get(key) or []:
            yield item
        cursor = page.get("next_cursor")
        if not cursor:
            return


async def _adownload(t: AsyncTransport, path: str, params: Params, dest: Optional[PathLike], file: Optional[IO[bytes]]) -> int:
    written = 0
    async with t.stream(path, params) as r:
        if file is not None:
            async for chunk in r.aiter_bytes():
                file.write(chunk)
                written += len(chunk)
            return written
        assert dest is not None
        partial = os.fspath(dest) + ".part"
        with open(partial, "wb") as out:
            async for chunk in r.aiter_bytes():
                out.write(chunk)
                written += len(chunk)
        os.replace(partial, dest)
        return written

