"""Verification speed of flightrec.verify on a large real export.

    python bench/verify.py [--records 100000] [--keep DIR]
    python bench/verify.py --export FILE --trust FILE     (time an existing export)

Starts `flightrec serve` ($FLIGHTREC_BIN, else target/debug/flightrec) on a
temp data dir, ingests --records events with batch ingest (1,000 a request),
downloads the unfiltered export, and times `verify_export` on it (JSON
parsing, JCS, body hashes, leaf hashes, the tree rebuild and the checkpoint
signature). Prints records/s and total seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import httpx

from flightrec.verify import read_trust_file, verify_export

API_KEY = "fr_bench_" + "v" * 40
REPO = Path(__file__).resolve().parents[3]


def flightrec_bin() -> str:
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    return os.environ.get("FLIGHTREC_BIN") or str((target if target.is_absolute() else REPO / target) / "debug" / "flightrec")


def event(i: int) -> dict:  # type: ignore[type-arg]
    # A realistic mix: tool calls with arguments, model calls with numbers, runs of 50.
    run = f"run-{i // 50}"
    if i % 3 == 0:
        return {"type": "tool_call", "run_id": run, "span_id": f"s{i}", "tool": "bash",
                "input": {"cmd": f"grep -n TODO src/file_{i}.py", "timeout_s": 30}, "output": {"exit": 0, "lines": i % 17}}
    if i % 3 == 1:
        return {"type": "llm_call", "run_id": run, "span_id": f"s{i}", "parent_span_id": f"s{i - 1}",
                "input": {"model": "m-1", "temperature": 0.2, "prompt": "Summarise the diff " * 3},
                "output": {"text": f"Change {i}: fixed an off-by-one \u2014 tests pass.", "tokens": 123 + i % 50},
                "duration_ms": 812.5}
    return {"type": "thinking", "run_id": run, "content": f"Step {i}: next I will read the failing test.", "metadata": {"step": i}}


def generate(records: int, workdir: Path) -> tuple:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTREC_")}
    env.update(FLIGHTREC_BOOTSTRAP_API_KEY=API_KEY, FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL="bench@example.com",
               FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD="bench password 123", FLIGHTREC_LOG="warn")
    proc = subprocess.Popen([flightrec_bin(), "serve", "--data-dir", str(workdir / "data"), "--listen", "127.0.0.1:0",
                             "--durability", "os"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        if not url:
            raise RuntimeError("flightrec did not start")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120) as http:
            started = time.perf_counter()
            for first in range(0, records, 1000):
                batch: List[dict] = [event(i) for i in range(first, min(first + 1000, records))]  # type: ignore[type-arg]
                http.post("/v1/events/batch", json=batch).raise_for_status()
            print(f"ingested {records:,} events in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            export = workdir / "export.jsonl"
            with http.stream("GET", "/v1/events/export") as response, export.open("wb") as out:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    out.write(chunk)
            trust = workdir / "trust.txt"
            trust.write_text(http.get("/v1/log/trust").text, encoding="utf-8")
        return export, trust
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--export", type=Path)
    parser.add_argument("--trust", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the generated export and trust file in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.export:
            if not args.trust:
                parser.error("--export needs --trust")
            export, trust = args.export, args.trust
        else:
            workdir = args.keep or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            export, trust = generate(args.records, workdir)
        keys = read_trust_file(trust.read_text(encoding="utf-8"))
        size_mb = export.stat().st_size / 1e6
        started = time.perf_counter()
        report = verify_export(export, trust=keys)
        elapsed = time.perf_counter() - started
    if not report.ok:
        sys.exit(report.summary())
    print(report.summary())
    print(f"verified {report.records:,} records ({size_mb:.1f} MB) in {elapsed:.2f} s: "
          f"{report.records / elapsed:,.0f} records/s "
          f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
