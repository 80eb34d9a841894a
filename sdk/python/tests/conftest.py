"""Fixtures that run the real flightrec binary.

`flightrec_server` starts `flightrec serve` on a fresh data dir in a temp
directory and a free port; `flightrec_server_factory` starts more (on a
copy of a given data dir, with extra flags). The binary is $FLIGHTREC_BIN,
else target/debug/flightrec of this repository."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

import pytest

import flightrec

REPO = Path(__file__).resolve().parents[3]

# The ci script tests the built wheel: make sure that is what was imported.
if os.environ.get("FLIGHTREC_SDK_FROM_WHEEL") == "1" and "site-packages" not in (flightrec.__file__ or ""):
    raise RuntimeError(f"the tests imported flightrec from {flightrec.__file__}, not the installed wheel")
API_KEY = "fr_test_" + "k" * 40
ADMIN_EMAIL = "owner@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
_LISTENING = re.compile(r"flightrec listening on (http://[0-9.]+:(\d+))")


def flightrec_bin() -> Path:
    given = os.environ.get("FLIGHTREC_BIN")
    if given:
        path = Path(given)
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        path = (target if target.is_absolute() else REPO / target) / "debug" / "flightrec"
    if not path.is_file():
        pytest.fail(f"the flightrec binary is not at {path}: set FLIGHTREC_BIN or run `cargo build -p flightrec --bin flightrec`")
    return path


class FlightrecServer:
    """One `flightrec serve` process. `restart()` comes back on the same
    port and data dir; `stop()` ends it gently, `kill()` with SIGKILL."""

    def __init__(self, data_dir: Path, args: Sequence[str] = (), api_key: str = API_KEY) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.api_key = api_key
        self.admin_email = ADMIN_EMAIL
        self.admin_password = ADMIN_PASSWORD
        self.port = 0
        self.url = ""
        self.output: List[str] = []
        self._proc: Optional["subprocess.Popen[str]"] = None

    def start(self) -> "FlightrecServer":
        assert self._proc is None, "already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTREC_")}
        env.update(
            FLIGHTREC_BOOTSTRAP_API_KEY=self.api_key,
            FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL=self.admin_email,
            FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD=self.admin_password,
            FLIGHTREC_LOG="warn",
        )
        cmd = [str(flightrec_bin()), "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}", *self.args]
        deadline = time.monotonic() + 20
        while True:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            url = self._await_listening(proc)
            if url:
                break
            proc.wait()
            # The old process's port may be a moment from free after a kill.
            if self.port and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise RuntimeError("flightrec did not start:\n" + "".join(self.output[-30:]))
        self._proc = proc
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
        return self

    def _await_listening(self, proc: "subprocess.Popen[str]") -> Optional[str]:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            m = _LISTENING.search(line)
            if m:
                return m.group(1)
        return None

    def _drain(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)

    def _end(self, sig: int) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self) -> "FlightrecServer":
        self.stop()
        return self.start()

    def client(self, **options: Any) -> flightrec.Client:
        return flightrec.Client(self.url, self.api_key, **options)

    def async_client(self, **options: Any) -> flightrec.AsyncClient:
        return flightrec.AsyncClient(self.url, self.api_key, **options)


StartServer = Callable[..., FlightrecServer]


@pytest.fixture
def flightrec_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServer]:
    """start(copy_of=None, args=(), api_key=API_KEY) → a running
    FlightrecServer; with `copy_of`, its data dir is a copy of that
    directory (e.g. tests/fixtures/store-v1, whose key is
    V1_FIXTURE_API_KEY). Every server is stopped at the end of the test."""
    started: List[FlightrecServer] = []

    def start(copy_of: Union[str, Path, None] = None, args: Sequence[str] = (), api_key: str = API_KEY) -> FlightrecServer:
        data_dir = tmp_path_factory.mktemp("flightrec") / "data"
        if copy_of is not None:
            shutil.copytree(copy_of, data_dir)
        server = FlightrecServer(data_dir, args, api_key)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def flightrec_server(flightrec_server_factory: StartServer) -> FlightrecServer:
    """A fresh server on an empty data dir, stopped after the test."""
    return flightrec_server_factory()


V1_FIXTURE = REPO / "tests" / "fixtures" / "store-v1"
V1_FIXTURE_API_KEY = "fr_fixture_v1_key_0123456789abcdef"


def start_flightrec_on_copy(factory: StartServer, data_dir: Union[str, Path], args: Sequence[str] = (), api_key: str = API_KEY) -> FlightrecServer:
    """A server on a copy of `data_dir` (never the original: the server writes to it)."""
    return factory(copy_of=data_dir, args=args, api_key=api_key)


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def flightrec_v1_server(flightrec_server_factory: StartServer) -> FlightrecServer:
    """A server on a copy of tests/fixtures/store-v1 (records of format 1;
    what it appends is format 2), with that fixture's API key."""
    return start_flightrec_on_copy(flightrec_server_factory, V1_FIXTURE, api_key=V1_FIXTURE_API_KEY)


class FaultProxy:
    """A small HTTP proxy in front of a real server that can answer 503
    (with Retry-After) to the next N ingest requests, or cut them off,
    before letting requests through again. It records what it saw."""

    def __init__(self, upstream: str) -> None:
        import http.server

        import httpx

        self.upstream = upstream
        self.fail_next = 0
        self.retry_after = "0"
        self.cut_next = 0
        self.seen: List[Any] = []  # (monotonic time, method, path, status)
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=upstream, timeout=30)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                ingest = self.command == "POST" and self.path.startswith("/v1/events")
                with proxy._lock:
                    fail = ingest and proxy.fail_next > 0
                    cut = ingest and not fail and proxy.cut_next > 0
                    if fail:
                        proxy.fail_next -= 1
                    if cut:
                        proxy.cut_next -= 1
                if cut:
                    proxy.seen.append((time.monotonic(), self.command, self.path, "cut"))
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fail:
                    status, headers, content = 503, {"Content-Type": "application/json", "Retry-After": proxy.retry_after}, b'{"error":"injected","status":503,"code":"unavailable"}'
                else:
                    forward = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "x-api-key", "content-type", "accept")}
                    r = proxy._http.request(self.command, self.path, content=body, headers=forward)
                    status, content = r.status_code, r.content
                    headers = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "retry-after")}
                proxy.seen.append((time.monotonic(), self.command, self.path, status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()


@pytest.fixture
def fault_proxy(flightrec_server: FlightrecServer) -> Iterator[FaultProxy]:
    """A FaultProxy in front of `flightrec_server`."""
    proxy = FaultProxy(flightrec_server.url)
    yield proxy
    proxy.close()


@pytest.fixture
def fault_proxy_factory() -> Iterator[Callable[[str], FaultProxy]]:
    """make(upstream_url) → a FaultProxy in front of any server; all closed at the end."""
    made: List[FaultProxy] = []

    def make(upstream: str) -> FaultProxy:
        proxy = FaultProxy(upstream)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
