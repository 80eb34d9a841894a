"""The background recorder: `log()` and `record()` only build the event,
give it an id and queue it; a thread batches, serialises and sends,
retrying what may pass. Ids are assigned before queueing, so a batch sent
again after its answer was lost is recorded once."""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple, Type, Union

from ._client import MAX_BATCH, AsyncClient, Client
from ._errors import (
    ApiError,
    ConnectionError,
    DeliveryError,
    QueueFullError,
    RecorderClosedError,
)
from ._events import dumps, log_event, receipts, rfc3339_from_ns
from ._retry import RetryPolicy
from ._transport import SyncTransport, retryable
from ._uuid7 import uuid7

log = logging.getLogger("flightrec")

ON_FULL = ("block", "drop", "raise")
# After a batch failed through every retry, the pause before the recorder
# tries again by itself (a flush or close tries at once).
PAUSE_AFTER_FAILURE = 5.0
# At most this many ids are listed in a report; its counts are exact.
REPORT_IDS = 10_000


@dataclass(frozen=True)
class Rejected:
    """An event the server refused for good (invalid, too large, forbidden)."""

    id: str
    reason: str


@dataclass
class DeliveryReport:
    """What the recorder achieved since the previous report.

    ``sent``: events the server acknowledged (durable). ``rejected``:
    refused for good, with the server's reason. ``dropped``: ids refused
    because the queue was full (``on_full="drop"``). ``undelivered``: only
    at close, ids still unacknowledged when it gave up — the server may or
    may not hold those. Id lists hold at most 10,000 entries; the
    ``*_count`` fields are exact."""

    sent: int = 0
    rejected: List[Rejected] = field(default_factory=list)
    rejected_count: int = 0
    dropped: List[str] = field(default_factory=list)
    dropped_count: int = 0
    undelivered: List[str] = field(default_factory=list)
    undelivered_count: int = 0

    @property
    def complete(self) -> bool:
        """True when every event was delivered."""
        return not (self.rejected_count or self.dropped_count or self.undelivered_count)


@dataclass(frozen=True)
class RecorderStats:
    """Totals over the recorder's life."""

    sent: int
    rejected: int
    dropped: int
    buffered: int


class _Flush:
    """A flush request, queued behind the events it covers."""

    __slots__ = ("done", "error", "report")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: Optional[str] = None
        self.report: Optional[DeliveryReport] = None


Item = Tuple[Dict[str, Any], int]  # (event, Unix ns to stamp as its time, or 0)
Queued = Union[Item, _Flush]


class Recorder:
    """Records without waiting: ``with Recorder(client) as rec: rec.log(...)``.

    Batches of up to `batch_size` events are sent at least every
    `flush_interval` seconds. At most `max_queue` events wait (plus the
    batch being sent); when full, `on_full` decides: ``"block"`` (the
    default: wait for room, at most `block_timeout` seconds, then raise
    QueueFullError), ``"drop"`` (refuse the event, count and list it in the
    report) or ``"raise"`` (QueueFullError at once). 408, 429 (its
    Retry-After honoured), 5xx and connection errors are retried with
    exponential backoff and full jitter; a batch that fails every retry
    stays queued and is tried again every 5 s. ``close()``, leaving the
    ``with`` block and interpreter exit flush; ``close()`` answers a
    DeliveryReport of what could not be delivered."""

    def __init__(
        self,
        client: Union[Client, AsyncClient],
        *,
        batch_size: int = 200,
        flush_interval: float = 0.25,
        max_queue: int = 10_000,
        on_full: str = "block",
        block_timeout: Optional[float] = None,
        retry: Optional[RetryPolicy] = None,
        close_timeout: float = 10.0,
    ) -> None:
        if not isinstance(client, (Client, AsyncClient)):
            raise TypeError("Recorder takes a flightrec.Client or AsyncClient")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}, not {batch_size}")
        if max_queue < batch_size:
            raise ValueError(f"max_queue ({max_queue}) must hold at least one batch ({batch_size})")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be above 0 seconds, not {flush_interval}")
        if on_full not in ON_FULL:
            raise ValueError(f"on_full must be one of {', '.join(ON_FULL)}, not {on_full!r}")
        self._batch_size = batch_size
        self._interval = flush_interval
        self._max_queue = max_queue
        self._on_full = on_full
        self._block_timeout = block_timeout
        self._retry = retry or client.retry_policy
        self._close_timeout = close_timeout
        # The worker's own connection pool; it never retries by itself.
        self._transport = SyncTransport(client.settings, RetryPolicy(max_attempts=1))

        self._queue: Deque[Queued] = collections.deque()  # callers append, the worker pops
        self._pending: Deque[Queued] = collections.deque()  # the worker's alone
        self._held = 0  # events in _pending and in flight (written by the worker only)
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._abandon = threading.Event()
        self._stopping = False
        self._closed = False
        self._final: Optional[DeliveryReport] = None
        self._report = DeliveryReport()
        self._report_lock = threading.Lock()
        self._totals = [0, 0, 0]  # sent, rejected, dropped
        self._inflight: List[Item] = []

        self._thread = threading.Thread(target=self._run, name="flightrec-recorder", daemon=True)
        self._thread.start()
        self._atexit = _register_atexit(self)

    # ---- the caller's side: cheap ----------------------------------------

    def log(
        self,
        action: str,
        *,
        prompt: Any = None,
        response: Any = None,
        agent_id: Optional[str] = None,
        trace_id: Optional[str] = None,
        parent_span_id: Optional[str] = None,
        span_id: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        **fields: Any,
    ) -> str:
        """Queues one agent-audit log (see Client.log); answers its id."""
        event = log_event(action, prompt, response, agent_id, trace_id, parent_span_id, span_id, metadata, fields)
        return self._enqueue(event)

    def record(self, event: Mapping[str, Any]) -> str:
        """Queues one canonical event (copied; do not change nested values
        afterwards); answers its id, assigning a UUIDv7 if it has none."""
        if not isinstance(event, Mapping):
            raise TypeError(f"an event is a mapping (dict), not {type(event).__name__}")
        return self._enqueue(dict(event))

    def _enqueue(self, event: Dict[str, Any]) -> str:
        if self._closed:
            raise RecorderClosedError("the recorder is closed")
        event_id = event.get("id")
        if event_id is None:
            event_id = event.get("execution_id")
            if event_id is None:
                event_id = event["id"] = uuid7()
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("an event's id must be a non-empty string")
        stamp = 0 if ("time" in event or "timestamp" in event) else time.time_ns()
        queue = self._queue
        if len(queue) + self._held >= self._max_queue and not self._room_for(event_id):
            return event_id
        queue.append((event, stamp))
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return event_id

    def _room_for(self, event_id: str) -> bool:
        """The queue is full: apply the policy. True when there is room now."""
        if self._on_full == "raise":
            raise QueueFullError(f"the recorder's queue is full ({self._max_queue} events)")
        if self._on_full == "drop":
            with self._report_lock:
                self._totals[2] += 1
                self._report.dropped_count += 1
                if len(self._report.dropped) < REPORT_IDS:
                    self._report.dropped.append(event_id)
            return False
        deadline = None if self._block_timeout is None else time.monotonic() + self._block_timeout
        self._wake.set()
        with self._room:
            while len(self._queue) + self._held >= self._max_queue:
                if self._closed:
                    raise RecorderClosedError("the recorder closed while waiting for room")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise QueueFullError(f"the recorder's queue stayed full ({self._max_queue} events) for {self._block_timeout} s")
                self._room.wait(0.5 if left is None else min(left, 0.5))
        return True

    # ---- flushing and closing --------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> DeliveryReport:
        """Sends everything queued before this call and waits until the server
        has acknowledged (or refused) it; answers what happened since the last
        report. Raises DeliveryError when a batch failed every retry (the
        events stay queued), TimeoutError after `timeout` seconds."""
        if self._closed:
            raise RecorderClosedError("the recorder is closed")
        marker = _Flush()
        self._queue.append(marker)
        self._wake.set()
        if not marker.done.wait(timeout):
            raise TimeoutError(f"flush did not finish within {timeout} s; the events stay queued")
        if marker.error is not None:
            raise DeliveryError(marker.error)
        assert marker.report is not None
        return marker.report

    def close(self, timeout: Optional[float] = None) -> DeliveryReport:
        """Flushes, trying for at most `timeout` seconds (default the
        recorder's `close_timeout`), then stops. Answers the report, with
        `undelivered` listing what was still unacknowledged, and logs a
        warning on the "flightrec" logger when anything was not delivered.
        Closing again answers the same report."""
        if self._final is not None:
            return self._final
        self._closed = True
        _unregister_atexit(self._atexit)
        budget = self._close_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        self._stopping = True
        self._wake.set()
        with self._room:
            self._room.notify_all()
        # The worker ends once everything is delivered; past the budget, it
        # is told to give up (its request under way may still finish).
        self._thread.join(max(budget, 0.0))
        if self._thread.is_alive():
            self._abandon.set()
            self._wake.set()
            self._thread.join(self._transport.settings.timeout + 1.0)
        self._fail_flushes("the recorder closed before these events were delivered")
        report = self._take_report()
        undelivered = [
            _event_id(item[0])
            for item in list(self._inflight) + list(self._pending) + list(self._queue)
            if not isinstance(item, _Flush)
        ]
        report.undelivered = undelivered[:REPORT_IDS]
        report.undelivered_count = len(undelivered)
        self._transport.close()
        self._final = report
        if not report.complete:
            log.warning(
                "flightrec recorder closed with %d event(s) undelivered, %d rejected, %d dropped",
                report.undelivered_count,
                report.rejected_count,
                report.dropped_count,
            )
        return report

    def stats(self) -> RecorderStats:
        sent, rejected, dropped = self._totals
        buffered = sum(1 for q in list(self._queue) if not isinstance(q, _Flush)) + self._held
        return RecorderStats(sent=sent, rejected=rejected, dropped=dropped, buffered=buffered)

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"Recorder(server={self._transport.settings.server!r}, closed={self._closed})"

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    # ---- the worker thread ------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:  # pragma: no cover - a bug; flushes must not hang on it
            log.exception("the flightrec recorder's sending thread failed")
            self._fail_flushes("the recorder's sending thread failed (see the flightrec log)")
            raise

    def _loop(self) -> None:
        wait = self._interval
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            pending = self._pending
            queue = self._queue
            while queue:
                item = queue.popleft()
                pending.append(item)
                if not isinstance(item, _Flush):
                    self._held += 1
            ok = self._send_pending()
            if self._abandon.is_set() or (self._stopping and not pending and not queue):
                return
            # A stopping recorder retries at once until close gives up.
            wait = self._interval if ok else (0.05 if self._stopping else PAUSE_AFTER_FAILURE)

    def _send_pending(self) -> bool:
        """Sends pending events in order, answering flushes as their events
        are done. False when a batch failed every retry."""
        pending = self._pending
        while pending:
            head = pending[0]
            if isinstance(head, _Flush):
                pending.popleft()
                if not head.done.is_set():  # not already failed
                    head.report = self._take_report()
                    head.done.set()
                continue
            batch: List[Item] = []
            while pending and len(batch) < self._batch_size:
                item = pending[0]
                if isinstance(item, _Flush):
                    break
                batch.append(item)
                pending.popleft()
            self._inflight = batch
            left, reason = self._deliver(batch)
            self._inflight = []
            if left:
                pending.extendleft(reversed(left))
                for item in pending:
                    if isinstance(item, _Flush):
                        item.error = f"{len(left)} event(s) could not be delivered yet ({reason}); they stay queued"
                        item.done.set()
                return False
            self._held -= len(batch)
            with self._room:
                self._room.notify_all()
        return True

    def _deliver(self, batch: List[Item]) -> Tuple[List[Item], str]:
        """Sends one batch, retrying what may pass. Answers the events still
        undelivered (when retries ran out) and why."""
        events = []
        for event, stamp in batch:
            if stamp:
                event["time"] = rfc3339_from_ns(stamp)
            events.append(event)
        try:
            body = dumps(events)
        except (TypeError, ValueError, RecursionError):
            # Some event cannot be JSON (a cycle): set it aside, send the rest.
            sendable = []
            for item in batch:
                try:
                    dumps([item[0]])
                    sendable.append(item)
                except (TypeError, ValueError, RecursionError) as e:
                    self._reject(_event_id(item[0]), f"the event cannot be serialised as JSON: {e}")
            return self._deliver(sendable) if sendable else ([], "")
        attempt = 0
        while True:
            attempt += 1
            try:
                receipts(self._transport.request("POST", "/v1/events/batch", content=body))
            except (ApiError, ConnectionError) as e:
                if retryable(e):
                    delay = self._retry.delay(attempt, getattr(e, "retry_after", None))
                    if delay is None or self._abandon.is_set():
                        return batch, str(e)
                    if self._abandon.wait(delay):
                        return batch, str(e)
                    continue
                return self._refused(batch, e)
            except ValueError as e:  # a 2xx without receipts: a proxy in the way
                return batch, str(e)
            self._sent(len(batch))
            return [], ""

    def _refused(self, batch: List[Item], e: Union[ApiError, ConnectionError]) -> Tuple[List[Item], str]:
        assert isinstance(e, ApiError)
        if e.status == 413 and len(batch) > 1:
            half = len(batch) // 2
            left, reason = self._deliver(batch[:half])
            if left:
                return left + batch[half:], reason
            return self._deliver(batch[half:])
        named = sorted({d["index"] for d in e.details if isinstance(d.get("index"), int) and 0 <= d["index"] < len(batch)})
        if e.status == 400 and named and len(batch) > 1:
            reasons: Dict[int, List[str]] = {}
            for d in e.details:
                if d.get("index") in named:
                    reasons.setdefault(d["index"], []).append(f"{d.get('field')}: {d.get('message')}")
            for i in named:
                self._reject(_event_id(batch[i][0]), f"{e.code}: " + "; ".join(reasons[i]))
            rest = [item for i, item in enumerate(batch) if i not in set(named)]
            return self._deliver(rest) if rest else ([], "")
        # Refused for good (a bad key, a forbidden agent, an event too large
        # alone): reported, never retried.
        for event, _ in batch:
            self._reject(_event_id(event), str(e))
        return [], ""

    def _fail_flushes(self, reason: str) -> None:
        """Answers every flush still waiting, so none waits for ever."""
        for item in list(self._pending) + list(self._queue):
            if isinstance(item, _Flush) and not item.done.is_set():
                item.error = reason
                item.done.set()

    def _sent(self, n: int) -> None:
        with self._report_lock:
            self._totals[0] += n
            self._report.sent += n

    def _reject(self, event_id: str, reason: str) -> None:
        with self._report_lock:
            self._totals[1] += 1
            self._report.rejected_count += 1
            if len(self._report.rejected) < REPORT_IDS:
                self._report.rejected.append(Rejected(event_id, reason))

    def _take_report(self) -> DeliveryReport:
        with self._report_lock:
            report, self._report = self._report, DeliveryReport()
        return report


def _event_id(event: Mapping[str, Any]) -> str:
    """The id _enqueue settled on: `id`, or its alias `execution_id` (the
    server refuses both at once, so the alias is never copied to `id`)."""
    given = event.get("id")
    return str(given if given is not None else event["execution_id"])


# Interpreter exit closes recorders still open; a weak reference, so an
# abandoned recorder can still be collected.
_open: "weakref.WeakSet[Recorder]" = weakref.WeakSet()
_open_lock = threading.Lock()


def _register_atexit(recorder: Recorder) -> "weakref.ref[Recorder]":
    with _open_lock:
        _open.add(recorder)
    return weakref.ref(recorder)


def _unregister_atexit(ref: "weakref.ref[Recorder]") -> None:
    recorder = ref()
    if recorder is not None:
        with _open_lock:
            _open.discard(recorder)


@atexit.register
def _close_all_at_exit() -> None:
    with _open_lock:
        recorders = list(_open)
    for recorder in recorders:
        try:
            recorder.close()
        except Exception:  # pragma: no cover - exit must go on
            log.exception("flightrec recorder failed to close at exit")
