"""HTTP to the server, sync and async: headers, retries, and the server's
one error shape turned into exceptions. The key is only ever in a header."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Sequence, Union

import httpx

from ._config import Settings
from ._errors import ApiError, ConnectionError, api_error
from ._retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

ParamValue = Union[str, int, float, bool, datetime, Sequence[str], None]
Params = Mapping[str, ParamValue]


def query(params: Optional[Params]) -> Dict[str, str]:
    """Query parameters as the server reads them: None dropped, booleans as
    true/false, times as RFC 3339, lists comma-separated."""
    out: Dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{name}: give a timezone-aware datetime (e.g. UTC)")
            out[name] = value.isoformat()
        elif isinstance(value, (str, int, float)):
            out[name] = str(value)
        else:
            out[name] = ",".join(str(v) for v in value)
    return out


def error_from(response: httpx.Response, body: bytes) -> ApiError:
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        details = doc.get("details")
        return api_error(
            response.status_code,
            str(doc.get("code") or "error"),
            doc["error"],
            details if isinstance(details, list) else None,
            retry_after,
        )
    text = body.decode("utf-8", "replace").strip()[:200] or response.reason_phrase
    return api_error(response.status_code, "http_error", text, None, retry_after)


def _unreachable(settings: Settings, exc: Exception) -> ConnectionError:
    # httpx's messages name the URL at most, never headers, so the key stays out.
    return ConnectionError(settings.server, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError):
        return True
    return isinstance(exc, ApiError) and exc.status in RETRYABLE_STATUS


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0))


class SyncTransport:
    def __init__(self, settings: Settings, retry: RetryPolicy, http: Optional[httpx.Client] = None) -> None:
        self.settings = settings
        self.retry = retry
        self._http = http or httpx.Client(
            base_url=settings.server, headers=settings.headers(), timeout=_timeout(settings)
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Params] = None,
        content: Optional[bytes] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> Any:
        """Sends, retrying what may pass; answers the decoded JSON (None for 204)."""
        policy = retry or self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, path, params, content)
            except (ApiError, ConnectionError) as e:
                wait = policy.delay(attempt, getattr(e, "retry_after", None)) if retryable(e) else None
                if wait is None:
                    raise
                time.sleep(wait)

    def _once(self, method: str, path: str, params: Optional[Params], content: Optional[bytes]) -> Any:
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            r = self._http.request(method, path, params=query(params), content=content, headers=headers)
        except httpx.TransportError as e:
            raise _unreachable(self.settings, e) from None
        if r.status_code >= 400:
            raise error_from(r, r.content)
        if r.status_code == 204 or not r.content:
            return None
        if r.headers.get("content-type", "").startswith("application/json"):
            return r.json()
        return r.text

    @contextmanager
    def stream(self, path: str, params: Optional[Params] = None) -> Iterator[httpx.Response]:
        """A streamed GET; opening it is retried, reading the body is the caller's."""
        r = self.open(path, params, self.settings.timeout)
        try:
            yield r
        finally:
            r.close()

    def open(self, path: str, params: Optional[Params], read_timeout: Optional[float]) -> httpx.Response:
        """Opens a streamed GET (the caller closes it); `read_timeout` None
        waits for ever between chunks, as a followed replay must."""
        timeout = httpx.Timeout(self.settings.timeout, read=read_timeout)
        request = self._http.build_request("GET", path, params=query(params), timeout=timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                r = self._http.send(request, stream=True)
                if r.status_code < 400:
                    return r
                err: Union[ApiError, ConnectionError] = error_from(r, r.read())
                r.close()
            except httpx.TransportError as e:
                err = _unreachable(self.settings, e)
            wait = self.retry.delay(attempt, err.retry_after if isinstance(err, ApiError) else None) if retryable(err) else None
            if wait is None:
                raise err
            time.sleep(wait)


class AsyncTransport:
    def __init__(self, settings: Settings, retry: RetryPolicy, http: Optional[httpx.AsyncClient] = None) -> None:
        self.settings = settings
        self.retry = retry
        self._http = http or httpx.AsyncClient(
            base_url=settings.server, headers=settings.headers(), timeout=_timeout(settings)
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Params] = None,
        content: Optional[bytes] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> Any:
        policy = retry or self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, path, params, content)
            except (ApiError, ConnectionError) as e:
                wait = policy.delay(attempt, getattr(e, "retry_after", None)) if retryable(e) else None
                if wait is None:
                    raise
                await asyncio.sleep(wait)

    async def _once(self, method: str, path: str, params: Optional[Params], content: Optional[bytes]) -> Any:
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            r = await self._http.request(method, path, params=query(params), content=content, headers=headers)
        except httpx.TransportError as e:
            raise _unreachable(self.settings, e) from None
        if r.status_code >= 400:
            raise error_from(r, r.content)
        if r.status_code == 204 or not r.content:
            return None
        if r.headers.get("content-type", "").startswith("application/json"):
            return r.json()
        return r.text

    @asynccontextmanager
    async def stream(self, path: str, params: Optional[Params] = None) -> AsyncIterator[httpx.Response]:
        r = await self.open(path, params, self.settings.timeout)
        try:
            yield r
        finally:
            await r.aclose()

    async def open(self, path: str, params: Optional[Params], read_timeout: Optional[float]) -> httpx.Response:
        timeout = httpx.Timeout(self.settings.timeout, read=read_timeout)
        request = self._http.build_request("GET", path, params=query(params), timeout=timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                r = await self._http.send(request, stream=True)
                if r.status_code < 400:
                    return r
                err: Union[ApiError, ConnectionError] = error_from(r, await r.aread())
                await r.aclose()
            except httpx.TransportError as e:
                err = _unreachable(self.settings, e)
            wait = self.retry.delay(attempt, err.retry_after if isinstance(err, ApiError) else None) if retryable(err) else None
            if wait is None:
                raise err
            await asyncio.sleep(wait)
