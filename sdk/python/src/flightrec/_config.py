"""Where the server is and which key to send: from arguments or the
environment (FLIGHTREC_SERVER, FLIGHTREC_API_KEY)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional
from urllib.parse import urlsplit

from ._errors import ConfigurationError

DEFAULT_SERVER = "http://127.0.0.1:7340"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "flightrec-python/0.1.0"


@dataclass(frozen=True)
class Settings:
    """A resolved server URL and key. The key never shows in its repr."""

    server: str
    api_key: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def headers(self) -> Dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }


def resolve(server: Optional[str], api_key: Optional[str], timeout: float) -> Settings:
    server = server or os.environ.get("FLIGHTREC_SERVER") or DEFAULT_SERVER
    api_key = api_key or os.environ.get("FLIGHTREC_API_KEY")
    if not api_key:
        raise ConfigurationError(
            "no API key: pass api_key=... or set FLIGHTREC_API_KEY "
            "(create one with `flightrec keys create` or the dashboard)"
        )
    if any(c.isspace() for c in api_key) or not api_key.isprintable():
        raise ConfigurationError("the API key holds whitespace or control characters")
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"the server must be an http:// or https:// URL, not {server!r}"
        )
    if parts.username or parts.password:
        raise ConfigurationError("the server URL must not hold credentials; pass api_key instead")
    if not timeout > 0:
        raise ConfigurationError(f"timeout must be above 0 seconds, not {timeout!r}")
    return Settings(server=server.rstrip("/"), api_key=api_key, timeout=float(timeout))
