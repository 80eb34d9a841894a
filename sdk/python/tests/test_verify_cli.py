"""The installed `flightrec-verify` console script: exit codes 0 verified,
1 invalid (with the reason on stdout), 2 usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import httpx

SCRIPT = Path(sys.executable).parent / "flightrec-verify"


def run(*args: str, stdin: str = "") -> "subprocess.CompletedProcess[str]":
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "flightrec.verify.cli"]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=120)


def http_get(server: Any, path: str) -> str:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.api_key}) as http:
        response = http.get(path)
        response.raise_for_status()
        return response.text


def test_exit_codes_on_real_files(flightrec_server: Any, tmp_path: Path) -> None:
    with httpx.Client(base_url=flightrec_server.url, headers={"X-API-Key": flightrec_server.api_key}) as http:
        http.post("/v1/events/batch", json=[{"id": "cli-1", "type": "start", "run_id": "r"}, {"type": "complete", "run_id": "r"}]).raise_for_status()
        export = http.get("/v1/events/export").text
        trust = http.get("/v1/log/trust").text
        vkey = http.get("/v1/log/public-key").text.strip()
        proof = http.get("/v1/events/cli-1/proof", params={"format": "tlog-proof"}).text
    (tmp_path / "export.jsonl").write_text(export, encoding="utf-8")
    (tmp_path / "trust.txt").write_text(trust, encoding="utf-8")
    (tmp_path / "cli-1.tlog-proof").write_text(proof, encoding="utf-8")
    line = next(json.loads(x) for x in export.splitlines() if '"cli-1"' in x)
    (tmp_path / "cli-1.json").write_text(json.dumps({k: line[k] for k in ("header", "body", "salt")}), encoding="utf-8")

    ok = run("export", str(tmp_path / "export.jsonl"), "--key", vkey)
    assert (ok.returncode, ok.stdout.startswith("OK: ")) == (0, True), ok
    ok = run("export", "-", "--trust", str(tmp_path / "trust.txt"), "--json", stdin=export)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True, ok
    assert ok.stderr == ""  # no progress when stderr is not a terminal
    ok = run("proof", str(tmp_path / "cli-1.tlog-proof"), "--record", str(tmp_path / "cli-1.json"), "--trust", str(tmp_path / "trust.txt"))
    assert ok.returncode == 0, ok

    # A newer checkpoint extends the one saved now.
    (tmp_path / "old.checkpoint").write_text(http_get(flightrec_server, "/v1/log/checkpoint"), encoding="utf-8")
    old_size = int((tmp_path / "old.checkpoint").read_text(encoding="utf-8").split("\n")[1])
    with httpx.Client(base_url=flightrec_server.url, headers={"X-API-Key": flightrec_server.api_key}) as http:
        http.post("/v1/events", json={"type": "log", "message": "later"}).raise_for_status()
        http.get("/v1/events/export").raise_for_status()  # signs a checkpoint over it
        (tmp_path / "new.checkpoint").write_text(http.get("/v1/log/checkpoint").text, encoding="utf-8")
        new_size = int((tmp_path / "new.checkpoint").read_text(encoding="utf-8").split("\n")[1])
        consistency = http.get("/v1/log/proof/consistency", params={"from": old_size, "to": new_size}).text
    (tmp_path / "proof.json").write_text(consistency, encoding="utf-8")
    ok = run("consistency", str(tmp_path / "old.checkpoint"), str(tmp_path / "new.checkpoint"),
             "--proof", str(tmp_path / "proof.json"), "--key", vkey)
    assert ok.returncode == 0 and f"extends its checkpoint of size {old_size}" in ok.stdout, ok
    bad = run("consistency", str(tmp_path / "new.checkpoint"), str(tmp_path / "old.checkpoint"),
              "--proof", str(tmp_path / "proof.json"), "--key", vkey)
    assert bad.returncode == 1 and "the proof is between sizes" in bad.stdout, bad

    tampered: List[str] = export.splitlines()
    tampered[3] = tampered[3].replace('"type":"start"', '"type":"stark"')
    (tmp_path / "tampered.jsonl").write_text("\n".join(tampered), encoding="utf-8")
    bad = run("export", str(tmp_path / "tampered.jsonl"), "--key", vkey)
    assert bad.returncode == 1
    assert "the records rebuild root" in bad.stdout

    assert run("export", str(tmp_path / "export.jsonl")).returncode == 2  # no key: nothing is trusted by default
    assert run("export", str(tmp_path / "nope.jsonl"), "--key", vkey).returncode == 2
    usage = run("export", str(tmp_path / "export.jsonl"), "--key", "not-a-key")
    assert usage.returncode == 2 and "not <name>+<key id>+<base64 key>" in usage.stderr
    assert run("export", str(tmp_path / "export.jsonl"), "--key", vkey, "--witness", vkey).returncode == 2  # a log key is no witness key
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2


def test_progress_goes_to_a_terminal_only(flightrec_server: Any, tmp_path: Path) -> None:
    import os
    import pty

    export = http_get(flightrec_server, "/v1/events/export")
    (tmp_path / "export.jsonl").write_text(export, encoding="utf-8")
    vkey = http_get(flightrec_server, "/v1/log/public-key").strip()
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "flightrec.verify.cli"]
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(command + ["export", str(tmp_path / "export.jsonl"), "--key", vkey],
                              stdout=subprocess.PIPE, stderr=follower, timeout=60)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"verified " in shown and b"lines" in shown
