"""flightrec: record, read, replay and verify what AI agents do.

    import flightrec
    client = flightrec.Client()          # FLIGHTREC_SERVER, FLIGHTREC_API_KEY
    with flightrec.Recorder(client) as rec:
        rec.log("tool_call", prompt={"q": "..."}, response="...", trace_id="run-1")
"""

from ._client import AsyncClient, Client
from ._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    DeliveryError,
    FlightrecError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QueueFullError,
    RateLimitedError,
    RecorderClosedError,
    ServerUnavailableError,
)
from ._recorder import DeliveryReport, Recorder, RecorderStats, Rejected
from ._replay import Replay, ReplayEnd
from ._retry import RetryPolicy
from ._types import Event, Receipt, RunState
from ._uuid7 import uuid7

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "ConnectionError",
    "DeliveryError",
    "DeliveryReport",
    "Event",
    "FlightrecError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QueueFullError",
    "RateLimitedError",
    "Receipt",
    "Recorder",
    "RecorderClosedError",
    "RecorderStats",
    "Rejected",
    "Replay",
    "ReplayEnd",
    "RetryPolicy",
    "RunState",
    "ServerUnavailableError",
    "__version__",
    "uuid7",
]
