"""The replay cursor: plays a run back at the pace it happened.

The server sends the run as fast as it is read (its SSE replay at top
speed, following a run still being written); the cursor paces it here, so
pause, resume and set_speed act at once rather than after whatever the
server had already sent. Seeking reopens the stream at the event. This is
the Rust SDK's cursor (crates/flightrec-client/src/replay.rs) in asyncio."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple, Type, Union

import httpx

from ._config import Settings
from ._errors import ConnectionError, FlightrecError
from ._reading import seg, state_params, time_param
from ._retry import RetryPolicy
from ._transport import AsyncTransport
from ._types import Event, RunState, Time

# The fastest the server is asked to send: pacing happens here.
_SOURCE_SPEED = "10000"


@dataclass(frozen=True)
class ReplayEnd:
    """How a replay ended: events in the run, and why (`completed`,
    `cancelled`, `failed`, `caught_up` when not following, `idle`)."""

    events: int
    reason: str


@dataclass
class _Shown:
    time: Optional[datetime]
    at: float  # the loop clock when it was shown
    paused_for: float  # time paused in all, then


def parse_time(value: Any) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 takes at most 6 fraction digits.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _check_speed(speed: float) -> float:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= 10_000:
        raise ValueError(f"a replay's speed is above 0 and at most 10000, not {speed!r}")
    return float(speed)


class Replay:
    """``async for event in replay`` yields the run's events (canonical
    dicts) in run order, each when its time comes: the recorded gap over
    the speed, at most `max_gap` seconds. ``replay.position`` is the index
    the next event will have; ``replay.end`` says how it ended."""

    def __init__(
        self,
        transport: Optional[AsyncTransport],
        run_id: str,
        *,
        speed: float = 1.0,
        from_event: int = 0,
        max_gap: float = 2.0,
        follow: bool = True,
        settings: Optional[Settings] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        seg(run_id)
        if isinstance(from_event, bool) or not isinstance(from_event, int) or from_event < 0:
            raise ValueError(f"from_event is an index in the run from 0, not {from_event!r}")
        if not max_gap >= 0:
            raise ValueError(f"max_gap must be 0 seconds or more, not {max_gap!r}")
        if transport is None and (settings is None or retry is None):
            raise ValueError("a replay needs a transport, or settings and a retry policy")
        # With settings only, the replay opens its own connection in the loop
        # that iterates it, and closes it at the end (the sync Client's case).
        self._shared = transport
        self._own: Optional[AsyncTransport] = None
        self._settings = settings
        self._retry_policy = retry
        self.run_id = run_id
        self._speed = _check_speed(speed)
        self._max_gap = float(max_gap)
        self._follow = follow
        self._paused_since: Optional[float] = None
        self._paused_for = 0.0
        self._seek: Optional[int] = None
        self._changed: Optional[asyncio.Event] = None
        self._stream: Optional[httpx.Response] = None
        self._lines: Optional[AsyncIterator[str]] = None
        self._ahead: Optional[Dict[str, Any]] = None
        self._ahead_index = 0
        self._shown: Optional[_Shown] = None
        self.position = from_event
        self.end: Optional[ReplayEnd] = None

    @classmethod
    def for_settings(cls, settings: Settings, retry: RetryPolicy, run_id: str, **options: Any) -> "Replay":
        """A replay with its own async connection (for the sync Client)."""
        return cls(None, run_id, settings=settings, retry=retry, **options)

    @property
    def _t(self) -> AsyncTransport:
        if self._shared is not None:
            return self._shared
        if self._own is None:
            assert self._settings is not None and self._retry_policy is not None
            self._own = AsyncTransport(self._settings, self._retry_policy)
        return self._own

    # ---- controls (call them from any task of the replay's loop) ----------

    def pause(self) -> None:
        """Stops the clock; the next event waits until resume()."""
        if self._paused_since is None:
            self._paused_since = _now()
            self._notify()

    def resume(self) -> None:
        if self._paused_since is not None:
            self._paused_for += _now() - self._paused_since
            self._paused_since = None
            self._notify()

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Plays at `speed` (1 = as recorded, 2 = twice as fast; at most
        10000) from now on, the wait under way included."""
        self._speed = _check_speed(speed)
        self._notify()

    def seek_to_event(self, n: int) -> None:
        """Makes event `n` (run order, from 0) the next one yielded, at once."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"an event index is 0 or more, not {n!r}")
        self._seek = n
        self._notify()

    async def seek_to(self, at: Time) -> int:
        """Makes the first event after time `at` the next one; answers its index."""
        state = await self.get_state_at(at)
        index = int(state.get("events", 0))
        self.seek_to_event(index)
        return index

    async def get_state_at(self, at: Union[int, Time]) -> RunState:
        """The run's state — `files`, `context`, `status`, `changes`,
        `problems` — after event `at` (an index, from 0) or through every
        event at or before `at` (a datetime or RFC 3339 string)."""
        if isinstance(at, bool):
            raise TypeError("at is an event index or a time, not a bool")
        if isinstance(at, int):
            params = state_params(at, None)
        else:
            params = state_params(None, time_param(at))
        answer: RunState = await self._t.request("GET", f"/v1/runs/{seg(self.run_id)}/state", params=params)
        return answer

    async def state(self) -> RunState:
        """The state after the events behind the cursor (empty at the start)."""
        if self.position == 0:
            return RunState(run_id=self.run_id, events=0, status="not_started", files={}, context=[], changes=[], problems=[])
        return await self.get_state_at(self.position - 1)

    # ---- iteration ----------------------------------------------------------

    def __aiter__(self) -> "Replay":
        return self

    async def __anext__(self) -> Event:
        event = await self.next()
        if event is None:
            raise StopAsyncIteration
        return event

    async def next(self) -> Optional[Event]:
        """The next event when it is due; None at the end of the run."""
        changed = self._event()
        while True:
            if self._seek is not None:
                n, self._seek = self._seek, None
                await self._jump(n)
            if self._paused_since is not None:
                changed.clear()
                await changed.wait()
                continue
            if self._ahead is None:
                if self.end is not None:
                    await self.aclose()
                    return None
                changed.clear()
                got = await self._read_unless_seek(changed)
                if self._seek is not None:
                    continue  # a seek came in while reading: what was read is stale
                if got is None:
                    await self.aclose()
                    return None
                self._ahead_index, self._ahead = got
                continue  # the controls may have moved while reading
            next_time = parse_time(self._ahead.get("time"))
            due = 0.0
            shown = self._shown
            if shown is not None and shown.time is not None and next_time is not None:
                gap = max(0.0, (next_time - shown.time).total_seconds())
                wait = min(gap / self._speed, self._max_gap)
                # Time spent paused since that event does not count.
                due = shown.at + wait + (self._paused_for - shown.paused_for)
            left = due - _now()
            if left > 0:
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), left)
                    continue  # a control moved: work the due time out again
                except asyncio.TimeoutError:
                    pass
            event, index = self._ahead, self._ahead_index
            self._ahead = None
            self._shown = _Shown(time=next_time, at=_now(), paused_for=self._paused_for)
            self.position = index + 1
            return event

    async def aclose(self) -> None:
        """Closes the stream (and the connection the replay opened itself);
        a later call opens them again."""
        await self._close_stream()
        own, self._own = self._own, None
        if own is not None:
            await own.close()

    async def __aenter__(self) -> "Replay":
        return self

    async def __aexit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()

    # ---- the server's stream --------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _jump(self, n: int) -> None:
        await self._close_stream()
        self._ahead = None
        self._shown = None
        self.end = None
        self.position = n

    async def _close_stream(self) -> None:
        stream, self._stream, self._lines = self._stream, None, None
        if stream is not None:
            await stream.aclose()

    async def _read_unless_seek(self, changed: asyncio.Event) -> Optional[Tuple[int, Event]]:
        """`_read()`, given up (its stream closed) when a seek comes in
        meanwhile: a followed run may send nothing for minutes, and a seek
        acts at once. Answers None then, with the seek still pending."""
        read = asyncio.ensure_future(self._read())
        try:
            while True:
                waiter = asyncio.ensure_future(changed.wait())
                try:
                    await asyncio.wait({read, waiter}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                if read.done():
                    return read.result()
                changed.clear()
                if self._seek is not None:
                    return None
        finally:
            if not read.done():
                read.cancel()
                try:
                    await read
                except asyncio.CancelledError:
                    pass
                except Exception:  # the stream is dropped either way
                    pass
                await self._close_stream()

    async def _read(self) -> Optional[Tuple[int, Event]]:
        """The next (index, event) from the server, opening the stream if
        needed; None at its end message."""
        if self._lines is None:
            params = {
                "speed": _SOURCE_SPEED,
                "max_gap_ms": "0",
                "from_event": str(self.position),
                "follow": "true" if self._follow else "false",
            }
            # A followed run may be quiet for minutes: no read timeout.
            self._stream = await self._t.open(f"/v1/runs/{seg(self.run_id)}/replay", params, None)
            self._lines = self._stream.aiter_lines()
        kind: Optional[str] = None
        ident: Optional[str] = None
        data: List[str] = []
        try:
            async for line in self._lines:
                if line == "":
                    if not data and kind is None:
                        continue
                    text = "\n".join(data)
                    if kind == "end":
                        end = json.loads(text)
                        self.end = ReplayEnd(events=int(end.get("events", 0)), reason=str(end.get("reason", "")))
                        return None
                    if kind == "error":
                        raise FlightrecError(f"the server stopped the replay: {text}")
                    if kind in (None, "message"):
                        if ident is None or not ident.isdigit():
                            raise FlightrecError("the replay stream sent an event without its index")
                        return int(ident), json.loads(text)
                    kind, ident, data = None, None, []
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name == "event":
                    kind = value
                elif name == "id":
                    ident = value
        except httpx.TransportError as e:
            await self._close_stream()
            raise ConnectionError(self._t.settings.server, f"the replay stream broke: {e}") from None
        # Reopened from the current position on the next call.
        await self._close_stream()
        raise ConnectionError(self._t.settings.server, "the replay stream ended without its end message")


def _now() -> float:
    return time.monotonic()
