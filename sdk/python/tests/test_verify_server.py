"""flightrec.verify against what the real server writes: exports (whole log,
filtered with proofs, a run's jsonl), a store of record format 1 with format 2
records appended, tlog-proof files, consistency proofs, a real witness's
cosignatures — and tampered copies of each, every one rejected with a reason."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from flightrec.verify import (
    Report,
    VerificationError,
    parse_vkey,
    read_trust_file,
    verify_checkpoint,
    verify_checkpoint_consistency,
    verify_consistency,
    verify_event_proof,
    verify_export,
    verify_proof_file,
)

EVENTS: List[Dict[str, Any]] = [
    {"id": "run-a-start", "type": "start", "run_id": "run-a", "agent_id": "coder", "input": {"task": "fix the bug \u00e9\U0001f600"}},
    {"type": "llm_call", "run_id": "run-a", "span_id": "s1", "input": {"temperature": 0.7, "n": 12345678901234567890,
                                                                       "tiny": 1e-7, "big": 1e21, "ratio": 1.0}},
    {"type": "tool_call", "run_id": "run-a", "span_id": "s2", "parent_span_id": "s1", "tool": "bash",
     "input": {"cmd": "ls", "env": {"API_TOKEN": "not-a-real-secret-but-masked"}}, "status": "warn"},
    {"type": "thinking", "run_id": "run-b", "content": "line one\nline two\t\"quoted\"\u2028"},
    {"type": "complete", "run_id": "run-a", "output": {"ok": True, "items": [None, False, -0.0, [], {}]}},
]


def http(server: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30)


def ingest(server: Any, events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    with http(server) as client:
        response = client.post("/v1/events/batch", json=events)
        response.raise_for_status()
        receipts: List[Dict[str, Any]] = response.json()["receipts"]
        return receipts


def fetch(server: Any, path: str, **params: Any) -> str:
    with http(server) as client:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.text


def trust_of(server: Any) -> List[Any]:
    return read_trust_file(fetch(server, "/v1/log/trust"))


def lines_of(text: str) -> List[str]:
    return [line for line in text.split("\n") if line]


def assert_ok(report: Report) -> None:
    assert report.ok, "\n".join(str(p) for p in report.problems)


def test_unfiltered_export_rebuilds_the_checkpoint(flightrec_server: Any) -> None:
    ingest(flightrec_server, EVENTS)
    export = fetch(flightrec_server, "/v1/events/export")
    report = verify_export(lines_of(export), trust=trust_of(flightrec_server))
    assert_ok(report)
    assert report.mode == "whole log"
    assert report.checkpoint is not None and report.records == report.checkpoint.size
    assert report.records >= len(EVENTS) + 3  # the tenant's opening records, then ours
    assert report.versions == {2: report.records}


def test_filtered_and_run_exports_verify_by_their_proofs(flightrec_server: Any, tmp_path: Path) -> None:
    ingest(flightrec_server, EVENTS)
    trust = trust_of(flightrec_server)
    filtered = tmp_path / "filtered.jsonl"
    filtered.write_text(fetch(flightrec_server, "/v1/events/export", run_id="run-a"), encoding="utf-8")
    report = verify_export(filtered, trust=trust)
    assert_ok(report)
    assert (report.mode, report.records) == ("inclusion proofs", 4)

    run_export = fetch(flightrec_server, "/v1/runs/run-a/export", format="jsonl")
    assert '"proof"' in run_export
    report = verify_export(lines_of(run_export), trust=trust)
    assert_ok(report)
    assert report.records == 4


def test_a_store_of_record_format_1_with_format_2_appended(flightrec_v1_server: Any, repo_root: Path) -> None:
    ingest(flightrec_v1_server, EVENTS[:3])
    # The fixture's own trust file, not the server's word.
    trust = read_trust_file((repo_root / "tests/fixtures/store-v1/trust.txt").read_text(encoding="utf-8"))
    report = verify_export(lines_of(fetch(flightrec_v1_server, "/v1/events/export")), trust=trust)
    assert_ok(report)
    assert report.versions == {1: 46, 2: 3}
    filtered = verify_export(lines_of(fetch(flightrec_v1_server, "/v1/events/export", run_id="v1-run")), trust=trust)
    assert_ok(filtered)
    assert filtered.versions == {1: 3}


def _record_of(export: str, event_id: str) -> Dict[str, Any]:
    for line in lines_of(export):
        item = json.loads(line)
        if item.get("header", {}).get("id") == event_id:
            return {k: item[k] for k in ("header", "body", "salt")}
    raise AssertionError(f"{event_id} is not in the export")


def test_tlog_proof_file_and_json_proof(flightrec_server: Any, tmp_path: Path) -> None:
    ingest(flightrec_server, EVENTS)
    trust = trust_of(flightrec_server)
    proof = tmp_path / "run-a-start.tlog-proof"
    proof.write_text(fetch(flightrec_server, "/v1/events/run-a-start/proof", format="tlog-proof"), encoding="utf-8")
    record = tmp_path / "run-a-start.tlog-proof.json"
    record.write_text(json.dumps(_record_of(fetch(flightrec_server, "/v1/events/export"), "run-a-start")), encoding="utf-8")
    assert_ok(verify_proof_file(proof, record, trust=trust))

    as_json = json.loads(fetch(flightrec_server, "/v1/events/run-a-start/proof"))
    assert_ok(verify_event_proof(as_json, trust=trust))
    as_json["header"]["type"] = "stop"
    assert "leaf_hash" in str(verify_event_proof(as_json, trust=trust).problems[0])

    # The proof of another record does not prove this one.
    other = json.loads(record.read_text(encoding="utf-8"))
    other["header"]["seq"] += 1
    assert "the record is seq" in str(verify_proof_file(proof, other, trust=trust).problems[0])
    # Nor does a changed header, or a proof hash changed by one bit.
    changed = json.loads(record.read_text(encoding="utf-8"))
    changed["header"]["time"] = _flip_char(changed["header"]["time"])  # 2026 -> 3026
    assert "leads to root" in str(verify_proof_file(proof, changed, trust=trust).problems[0])
    lines = proof.read_text(encoding="utf-8").split("\n")
    raw = bytearray(base64.b64decode(lines[2]))
    raw[31] ^= 1
    lines[2] = base64.b64encode(bytes(raw)).decode()
    bad = "\n".join(lines)
    problems = verify_proof_file(bad, record, trust=trust, proof_is_text=True).problems
    assert "leads to root" in str(problems[0])


def _flip_signature(note: str) -> str:
    """Flip one bit of the first signature's Ed25519 bytes."""
    text, _, block = note.rpartition("\n\n")
    first, *rest = block.split("\n")
    dash, name, sig = first.split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    return text + "\n\n" + " ".join([dash, name, base64.b64encode(bytes(raw)).decode()]) + "\n" + "\n".join(rest)


Tamper = Callable[[List[Dict[str, Any]]], List[Dict[str, Any]]]


def _at(seq_index: int, edit: Callable[[Dict[str, Any]], None]) -> Tamper:
    def tamper(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        records = [i for i in items if "header" in i]
        edit(records[seq_index])
        return items

    return tamper


def _flip_char(value: str, at: int = 0) -> str:
    return value[:at] + chr(ord(value[at]) ^ 1) + value[at + 1 :]


def _other_digit(value: str, at: int) -> str:
    """Another digit at `at`, so hex or base64 text stays well formed
    (flipping a bit of `a`, `f` or `A` would not)."""
    return value[:at] + ("1" if value[at] == "0" else "0") + value[at + 1 :]


def _flip_checkpoint_signature(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    for item in items:
        if "checkpoint" in item:
            item["checkpoint"] = _flip_signature(item["checkpoint"])
    return items


def _flip_checkpoint_size(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    for item in items:
        if "checkpoint" in item:
            origin, size, rest = item["checkpoint"].split("\n", 2)
            item["checkpoint"] = f"{origin}\n{int(size) - 1}\n{rest}"
    return items


def _drop_line(index: int) -> Tamper:
    def tamper(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        del items[index]
        return items

    return tamper


def _flip_proof_hash(record: Dict[str, Any]) -> None:
    record["proof"]["hashes"][0] = _other_digit(record["proof"]["hashes"][0], 5)


def _set_body(record: Dict[str, Any]) -> None:
    record["body"]["input"]["task"] = _flip_char(record["body"]["input"]["task"], 3)


WHOLE_LOG_CASES: Dict[str, Tuple[Tamper, str]] = {
    "a byte of a body": (_at(3, _set_body), r"line 4 \(seq 3\): body_hash does not match the body"),
    "a byte of a salt": (_at(4, lambda r: r.update(salt=_other_digit(r["salt"], 10))), r"line 5 \(seq 4\): body_hash does not match"),
    "a byte of a header": (_at(5, lambda r: r["header"].update(type=_flip_char(r["header"]["type"]))),
                           r"the records rebuild root [0-9a-f]{64}, not the checkpoint's"),
    "a byte of the checkpoint's signature": (_flip_checkpoint_signature, r"checkpoint: the signature by flightrec.local/default .* does not verify"),
    "the checkpoint's size": (_flip_checkpoint_size, r"checkpoint: the signature by .* does not verify"),
    "a dropped line": (_drop_line(4), r"line 5 \(seq 5\): expected seq 4, found 5: a record is missing"),
    "a body erased without a log.erased record": (_at(6, lambda r: r.update(body=None, salt=None)),
                                                  r"line 7 \(seq 6\): the body is gone but no log.erased record"),
    "a v2 header without submitted_by": (_at(2, lambda r: r["header"].pop("submitted_by")), r"line 3 \(seq 2\): the version 2 header lacks submitted_by"),
    "an unknown version": (_at(2, lambda r: r["header"].update(v=3)), r"line 3 \(seq 2\): unknown record format version 3"),
}

FILTERED_CASES: Dict[str, Tuple[Tamper, str]] = {
    "a byte of a body": (_at(0, _set_body), r"line 1 \(seq 3\): body_hash does not match the body"),
    "a byte of a header": (_at(1, lambda r: r["header"].update(status="fail")),
                           r"line 2 \(seq 4\): the inclusion proof leads to root [0-9a-f]{64}, not the checkpoint's"),
    "a byte of a proof hash": (_at(2, _flip_proof_hash), r"line 3 \(seq 5\): the inclusion proof leads to root"),
    "a proof for another leaf": (_at(2, lambda r: r["proof"].update(leaf_index=4)), r"line 3 \(seq 5\): the proof is for leaf 4"),
    "a byte of the checkpoint's signature": (_flip_checkpoint_signature, r"does not verify"),
}


def _check_cases(text: str, cases: Dict[str, Tuple[Tamper, str]], trust: List[Any]) -> None:
    failures = []
    for name, (tamper, reason) in cases.items():
        items = tamper([json.loads(line) for line in lines_of(text)])
        report = verify_export([json.dumps(i, ensure_ascii=False) for i in items], trust=trust)
        messages = [str(p) for p in report.problems]
        if report.ok or not any(re.search(reason, m) for m in messages):
            failures.append(f"{name}: expected /{reason}/, got {messages}")
    assert not failures, "\n".join(failures)


def test_tampered_exports_are_rejected_with_a_reason(flightrec_server: Any) -> None:
    ingest(flightrec_server, EVENTS)
    trust = trust_of(flightrec_server)
    whole = fetch(flightrec_server, "/v1/events/export")
    assert_ok(verify_export(lines_of(whole), trust=trust))
    _check_cases(whole, WHOLE_LOG_CASES, trust)
    filtered = fetch(flightrec_server, "/v1/events/export", run_id="run-a")
    assert_ok(verify_export(lines_of(filtered), trust=trust))
    _check_cases(filtered, FILTERED_CASES, trust)


def test_a_key_that_did_not_sign_is_not_trusted(flightrec_server_factory: Any) -> None:
    first, second = flightrec_server_factory(), flightrec_server_factory()
    ingest(first, EVENTS[:1])
    export = lines_of(fetch(first, "/v1/events/export"))
    # Same name (flightrec.local/default), another server's key.
    report = verify_export(export, trust=trust_of(second))
    assert not report.ok
    assert re.search(r"checkpoint: no signature by a trusted key", str(report.problems[0]))
    with pytest.raises(ValueError, match="no trusted log key"):
        verify_export(export, trust=[])


def test_consistency_between_two_real_checkpoints(flightrec_server: Any) -> None:
    trust = trust_of(flightrec_server)
    ingest(flightrec_server, EVENTS[:2])
    fetch(flightrec_server, "/v1/events/export")  # signs a checkpoint over everything so far
    old = verify_checkpoint(fetch(flightrec_server, "/v1/log/checkpoint"), trust)
    ingest(flightrec_server, EVENTS[2:])
    fetch(flightrec_server, "/v1/events/export")
    new = verify_checkpoint(fetch(flightrec_server, "/v1/log/checkpoint"), trust)
    assert new.size > old.size
    proof = json.loads(fetch(flightrec_server, "/v1/log/proof/consistency", **{"from": old.size, "to": new.size}))
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    verify_consistency(old.size, new.size, old.root, new.root, hashes)
    with pytest.raises(VerificationError):
        verify_consistency(old.size, new.size, old.root, new.root, hashes[::-1])
    with pytest.raises(VerificationError, match="old root"):
        verify_consistency(old.size, new.size, new.root, new.root, hashes)
    old_note, new_note = old.note.text + "\n" + _signature_block(old), new.note.text + "\n" + _signature_block(new)
    verify_checkpoint_consistency(old_note, new_note, proof, trust=trust)
    with pytest.raises(VerificationError, match="the proof is between sizes"):
        verify_checkpoint_consistency(old_note, new_note, {**proof, "old_size": old.size - 1}, trust=trust)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_checkpoint_consistency(_flip_signature(old_note), new_note, proof, trust=trust)


def _signature_block(cp: Any) -> str:
    return "".join(
        f"\u2014 {s.name} {base64.b64encode(s.key_id + s.signature).decode()}\n" for s in cp.note.signatures
    )


def _flightrec_bin() -> str:
    # The binary the servers run (conftest's rule): $FLIGHTREC_BIN, else this repository's debug build.
    repo = Path(__file__).resolve().parents[3]
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    return os.environ.get("FLIGHTREC_BIN") or str((target if target.is_absolute() else repo / target) / "debug" / "flightrec")


def _start_witness(log_vkey: str, data_dir: Path, witness_bin: str) -> Tuple["subprocess.Popen[str]", str, str]:
    proc = subprocess.Popen(
        [witness_bin, "witness", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), "--log", log_vkey],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    key = url = ""
    for line in proc.stdout:
        if line.startswith("witness key:"):
            key = line.split()[-1]
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    if not (key and url):
        proc.kill()
        raise RuntimeError("the witness did not start")
    return proc, key, url


def _cosigned_checkpoint(server: Any, size: int, deadline_s: float = 15) -> str:
    deadline = time.monotonic() + deadline_s
    while True:
        note = fetch(server, "/v1/log/checkpoint")
        if note.split("\n")[1] == str(size) and note.count("\u2014 ") >= 2:
            return note
        if time.monotonic() > deadline:
            raise AssertionError(f"no cosignature within {deadline_s}s:\n{note}")
        time.sleep(0.2)


@pytest.fixture
def witnessed_server(flightrec_server_factory: Any, tmp_path: Path) -> Any:
    server = flightrec_server_factory()
    log_vkey = next(k.text for k in trust_of(server))
    proc, witness_key, url = _start_witness(log_vkey, tmp_path / "witness", _flightrec_bin())
    try:
        server.args = ["--witnesses", f"{url} {witness_key}"]
        server.restart()
        server.witness_key = witness_key
        yield server
    finally:
        proc.terminate()
        proc.wait(10)


def test_cosignatures_of_a_real_witness(witnessed_server: Any, tmp_path: Path) -> None:
    server = witnessed_server
    receipts = ingest(server, EVENTS)
    trust = trust_of(server)
    witness = parse_vkey(server.witness_key)
    last = receipts[-1]
    proof_text = fetch(server, f"/v1/events/{last['id']}/proof", format="tlog-proof")
    note = _cosigned_checkpoint(server, last["seq"] + 1)
    if note.count("\u2014 ") > proof_text.count("\u2014 "):
        proof_text = fetch(server, f"/v1/events/{last['id']}/proof", format="tlog-proof")
    record = _record_of(fetch(server, "/v1/events/export"), last["id"])

    cp = verify_checkpoint(note, trust, [witness])
    assert list(cp.cosigned_by) == [witness.name]
    report = verify_proof_file(proof_text, record, trust=trust, witnesses=[witness], proof_is_text=True)
    assert_ok(report)
    assert report.checkpoint is not None and list(report.checkpoint.cosigned_by) == [witness.name]

    # A witness that did not cosign, or a cosignature changed by one bit, fails.
    other = flightrec_witness_key_of_another()
    assert "missing" in str(verify_proof_file(proof_text, record, trust=trust, witnesses=[other], proof_is_text=True).problems[0])
    lines = proof_text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("\u2014 " + witness.name))
    dash, name, sig = lines[at].split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[20] ^= 1
    lines[at] = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}"
    problems = verify_proof_file("\n".join(lines), record, trust=trust, witnesses=[witness], proof_is_text=True).problems
    assert re.search(r"the cosignature by witness flightrec-witness .* does not verify", str(problems[0]))


def flightrec_witness_key_of_another() -> Any:
    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = "other-witness.example"
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    key_b64 = base64.b64encode(b"\x04" + public).decode()
    return parse_vkey(f"{name}+{key_id.hex()}+{key_b64}")


def test_an_export_of_a_witnessed_log_carries_its_cosignatures(witnessed_server: Any) -> None:
    server = witnessed_server
    receipts = ingest(server, EVENTS)
    _cosigned_checkpoint(server, receipts[-1]["seq"] + 1)
    report = verify_export(lines_of(fetch(server, "/v1/events/export")), trust=trust_of(server),
                           witnesses=[parse_vkey(server.witness_key)])
    assert_ok(report)
