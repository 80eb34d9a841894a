"""The exceptions the SDK raises. None of them ever holds the API key."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional


class FlightrecError(Exception):
    """Base of every error this package raises."""


class ConfigurationError(FlightrecError, ValueError):
    """The client was given no server, no key, or a malformed one."""


class ConnectionError(FlightrecError):  # noqa: A001 - the SDK's own, kept in its namespace
    """The server could not be reached (refused, reset, timed out)."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach flightrec at {server}: {reason}")
        self.server = server
        self.reason = reason


class ApiError(FlightrecError):
    """The server answered with an error (its one error shape, docs/api.md)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Optional[List[Mapping[str, Any]]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: List[Mapping[str, Any]] = list(details or [])
        self.retry_after = retry_after


class InvalidRequestError(ApiError):
    """400: the event, batch or parameter is malformed; `details` names each problem."""


class AuthenticationError(ApiError):
    """401: no key, or an unknown or revoked one."""


class PermissionDeniedError(ApiError):
    """403: the key lacks the scope for this call."""


class NotFoundError(ApiError):
    """404: no such event, run or alert in this tenant."""


class PayloadTooLargeError(ApiError):
    """413: an event over 1 MiB, or a batch over 1,000 events or 16 MiB."""


class RateLimitedError(ApiError):
    """429: past the key's or tenant's rate; `retry_after` says when to retry."""


class ServerUnavailableError(ApiError):
    """503: the server is at capacity or its store is unavailable; nothing was written."""


class QueueFullError(FlightrecError):
    """A recorder with ``on_full="raise"`` had no room for the event."""


class DeliveryError(FlightrecError):
    """A recorder's flush could not get its events acknowledged (they stay buffered)."""


class RecorderClosedError(FlightrecError):
    """The recorder was closed; it takes no more events."""


_BY_STATUS = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    503: ServerUnavailableError,
}


def api_error(
    status: int,
    code: str,
    message: str,
    details: Optional[List[Mapping[str, Any]]] = None,
    retry_after: Optional[float] = None,
) -> ApiError:
    """The most specific ApiError subclass for `status`."""
    cls = _BY_STATUS.get(status, ApiError)
    return cls(status, code, message, details=details, retry_after=retry_after)
