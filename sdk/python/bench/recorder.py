"""Benchmark of the Python Recorder: throughput into a local flightrec
(events/s, from the first log() until close() has every event
acknowledged) and the cost of one log() call on the caller's thread
(µs, median and p99).

    python bench/recorder.py [--events 50000] [--batch-size 200]

Uses FLIGHTREC_SERVER and FLIGHTREC_API_KEY when set; otherwise starts
$FLIGHTREC_BIN (default target/debug/flightrec) on a temporary data dir.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, List, Tuple
from contextlib import contextmanager

import flightrec

REPO = Path(__file__).resolve().parents[3]


@contextmanager
def local_server() -> Iterator[Tuple[str, str]]:
    if os.environ.get("FLIGHTREC_SERVER") and os.environ.get("FLIGHTREC_API_KEY"):
        yield os.environ["FLIGHTREC_SERVER"], os.environ["FLIGHTREC_API_KEY"]
        return
    # REPO / an absolute CARGO_TARGET_DIR is that directory itself.
    binary = os.environ.get("FLIGHTREC_BIN") or str(REPO / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "flightrec")
    key = "fr_bench_" + "b" * 40
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTREC_")}
    env.update(
        FLIGHTREC_BOOTSTRAP_API_KEY=key,
        FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL="bench@example.com",
        FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD="bench-password-123",
        FLIGHTREC_LOG="warn",
    )
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [binary, "serve", "--data-dir", f"{tmp}/data", "--listen", "127.0.0.1:0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise SystemExit("flightrec did not start")
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        try:
            yield url, key
        finally:
            proc.terminate()
            proc.wait()


def log_args(i: int) -> dict:  # type: ignore[type-arg]
    return dict(
        prompt={"path": "src/lib.rs", "line": i},
        response="ok",
        agent_id="bench-agent",
        trace_id="bench-run",
        metadata={"model": "m", "tokens": 12},
        tool="read",
    )


def overhead(client: flightrec.Client, n: int, sending: bool) -> List[int]:
    """Nanoseconds of each of n log() calls. Not sending: the worker stays
    asleep while a chunk of 10,000 calls (the default max_queue) is timed,
    then sends it untimed, so this is the call alone; sending: the worker
    batches and posts meanwhile, competing for the GIL."""
    chunk = 10_000
    if sending:
        recorder = flightrec.Recorder(client, batch_size=200, max_queue=n + 1000)
    else:
        recorder = flightrec.Recorder(client, batch_size=1000, flush_interval=3600, max_queue=chunk + 1000)
        recorder._batch_size = chunk + 1  # never woken by size while timed
    times = []
    clock = time.perf_counter_ns
    log = recorder.log
    gc.collect()
    for i in range(n):
        kw = log_args(i)
        t = clock()
        log("tool_call", **kw)
        times.append(clock() - t)
        if not sending and (i + 1) % chunk == 0:
            recorder.flush(timeout=300)
    report = recorder.close(timeout=300)
    assert report.complete, report
    return times


def server_alone(client: flightrec.Client, n: int, batch_size: int) -> float:
    """The server's own rate for the same events: record_batch in a loop,
    no recorder (the ceiling the recorder can reach)."""
    events = [dict(type="tool_call", input={"path": "src/lib.rs", "line": i}, output="ok", agent_id="bench-agent",
                   run_id="bench-direct", metadata={"model": "m", "tokens": 12}, tool="read") for i in range(n)]
    start = time.perf_counter()
    for k in range(0, n, batch_size):
        client.record_batch(events[k:k + batch_size])
    return n / (time.perf_counter() - start)


def throughput(client: flightrec.Client, n: int, batch_size: int) -> float:
    recorder = flightrec.Recorder(client, batch_size=batch_size, max_queue=max(10_000, batch_size))
    start = time.perf_counter()
    for i in range(n):
        recorder.log("tool_call", **log_args(i))
    report = recorder.close(timeout=600)
    elapsed = time.perf_counter() - start
    assert report.complete and report.sent == n, report
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=100_000, help="log() calls timed for the overhead")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()
    with local_server() as (url, key):
        client = flightrec.Client(url, key)
        print(f"python {sys.version.split()[0]}, flightrec SDK {flightrec.__version__}, server {url}")
        for sending in (False, True):
            t = overhead(client, args.calls, sending)
            us = sorted(x / 1000 for x in t)
            label = "while sending" if sending else "call alone   "
            print(
                f"log() overhead, {label}: median {statistics.median(us):.2f} µs, "
                f"p99 {us[int(len(us) * 0.99)]:.2f} µs, max {us[-1]:.0f} µs over {len(us):,} calls"
            )
        for batch in sorted({args.batch_size, 1000}):
            rate = throughput(client, args.events, batch)
            print(f"throughput, batch_size {batch}: {rate:,.0f} events/s ({args.events:,} events, log() to close())")
        direct = server_alone(client, args.events, 1000)
        print(f"the server alone (record_batch of 1,000, no recorder): {direct:,.0f} events/s")


if __name__ == "__main__":
    main()
