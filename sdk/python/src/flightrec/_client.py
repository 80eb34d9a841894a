"""`Client` and `AsyncClient`: recording and reading over the native /v1 API."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Type

import httpx

from ._config import DEFAULT_TIMEOUT, Settings, resolve
from ._events import dumps, dumps_one, log_event, prepare, receipts
from ._reading import Alerts, AsyncAlerts, AsyncEvents, AsyncRuns, Events, Runs
from ._retry import RetryPolicy
from ._transport import AsyncTransport, SyncTransport
from ._types import Receipt

MAX_BATCH = 1000


def _batch(events: Sequence[Mapping[str, Any]]) -> bytes:
    if isinstance(events, Mapping) or not isinstance(events, Sequence):
        raise TypeError("record_batch takes a list of events")
    if not 1 <= len(events) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} events, not {len(events)} (the Recorder splits larger volumes)")
    return dumps([prepare(e) for e in events])


class Client:
    """A synchronous client of one flightrec server.

    ``Client()`` reads ``FLIGHTREC_SERVER`` and ``FLIGHTREC_API_KEY``.
    Calls that may pass (connection errors, 408, 429, 5xx) are retried
    with backoff; every event gets a client-side id first, so a retry
    never records it twice. Thread-safe; close it (or use ``with``)."""

    def __init__(
        self,
        server: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._settings = resolve(server, api_key, timeout)
        self._retry = retry or RetryPolicy()
        self._transport = SyncTransport(self._settings, self._retry, http_client)
        self.runs = Runs(self._transport)
        self.events = Events(self._transport)
        self.alerts = Alerts(self._transport)

    @property
    def server(self) -> str:
        return self._settings.server

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def __repr__(self) -> str:
        return f"Client(server={self._settings.server!r})"

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
    ) -> Receipt:
        """Records one agent-audit log now and waits for its receipt.
        `action` is the event type, `trace_id` the run; other keyword
        arguments are canonical event fields (status, tool, actor, …)."""
        event = log_event(action, prompt, response, agent_id, trace_id, parent_span_id, span_id, metadata, fields)
        return self.record(event)

    def record(self, event: Mapping[str, Any]) -> Receipt:
        """Records one canonical event (a dict) and waits until it is durable."""
        answer = self._transport.request("POST", "/v1/events", content=dumps_one(prepare(event)))
        receipt: Receipt = answer["receipt"]
        return receipt

    def record_batch(self, events: Sequence[Mapping[str, Any]]) -> List[Receipt]:
        """Records up to 1,000 events in one request, all or nothing;
        answers their receipts in order."""
        answer = self._transport.request("POST", "/v1/events/batch", content=_batch(events))
        return receipts(answer)

    def stats(self, *, since: Optional[str] = None, until: Optional[str] = None) -> Dict[str, Any]:
        """Totals (events, failures, warnings) for a time window."""
        answer: Dict[str, Any] = self._transport.request("GET", "/v1/stats", params={"since": since, "until": until})
        return answer

    def checkpoint(self) -> str:
        """The log's newest signed checkpoint (a C2SP signed note)."""
        return str(self._transport.request("GET", "/v1/log/checkpoint"))

    def public_key(self) -> str:
        """The log's verifier key (C2SP signed-note vkey)."""
        return str(self._transport.request("GET", "/v1/log/public-key")).strip()

    def health(self) -> bool:
        """True when the server answers /healthz."""
        try:
            self._transport.request("GET", "/healthz", retry=RetryPolicy(max_attempts=1))
            return True
        except Exception:
            return False

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()


class AsyncClient:
    """The asyncio client: the calls of :class:`Client`, awaited."""

    def __init__(
        self,
        server: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._settings = resolve(server, api_key, timeout)
        self._retry = retry or RetryPolicy()
        self._transport = AsyncTransport(self._settings, self._retry, http_client)
        self.runs = AsyncRuns(self._transport)
        self.events = AsyncEvents(self._transport)
        self.alerts = AsyncAlerts(self._transport)

    @property
    def server(self) -> str:
        return self._settings.server

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def __repr__(self) -> str:
        return f"AsyncClient(server={self._settings.server!r})"

    async def log(
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
    ) -> Receipt:
        event = log_event(action, prompt, response, agent_id, trace_id, parent_span_id, span_id, metadata, fields)
        return await self.record(event)

    async def record(self, event: Mapping[str, Any]) -> Receipt:
        answer = await self._transport.request("POST", "/v1/events", content=dumps_one(prepare(event)))
        receipt: Receipt = answer["receipt"]
        return receipt

    async def record_batch(self, events: Sequence[Mapping[str, Any]]) -> List[Receipt]:
        answer = await self._transport.request("POST", "/v1/events/batch", content=_batch(events))
        return receipts(answer)

    async def stats(self, *, since: Optional[str] = None, until: Optional[str] = None) -> Dict[str, Any]:
        answer: Dict[str, Any] = await self._transport.request("GET", "/v1/stats", params={"since": since, "until": until})
        return answer

    async def checkpoint(self) -> str:
        return str(await self._transport.request("GET", "/v1/log/checkpoint"))

    async def public_key(self) -> str:
        return str(await self._transport.request("GET", "/v1/log/public-key")).strip()

    async def health(self) -> bool:
        try:
            await self._transport.request("GET", "/healthz", retry=RetryPolicy(max_attempts=1))
            return True
        except Exception:
            return False

    async def aclose(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()
