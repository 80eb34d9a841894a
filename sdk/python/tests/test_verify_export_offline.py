"""Export rules the server cannot be made to break on purpose: erased bodies
(there is no erasure route to call), duplicate keys, mixed proofs, empty
exports. The exports are built here and signed with a key made here."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Dict, List, Optional

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from flightrec.verify import Report, canonicalize, header_leaf, parse_vkey, root_of, verify_export

ORIGIN = "flightrec.test/acme"
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KEY_ID = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + PUBLIC).digest()[:4]
KEY_B64 = base64.b64encode(b"\x01" + PUBLIC).decode()
VKEY = parse_vkey(f"{ORIGIN}+{KEY_ID.hex()}+{KEY_B64}")


def record(seq: int, type_: str = "log", body: Optional[Dict[str, Any]] = None, by: str = "key:k1") -> Dict[str, Any]:
    body = body if body is not None else {"message": f"record {seq}", "redactions": []}
    salt = hashlib.sha256(str(seq).encode()).digest()
    header = {
        "v": 2, "tenant": "acme", "seq": seq, "id": f"e{seq}", "time": "2026-11-22T10:00:00.000000Z",
        "received_at": "2026-11-22T10:00:00.000000Z", "type": type_, "status": "ok", "submitted_by": by,
        "body_hash": hashlib.sha256(salt + canonicalize(body)).hexdigest(),
    }
    return {"header": header, "body": body, "salt": salt.hex()}


def export(records: List[Dict[str, Any]]) -> List[str]:
    root = root_of(header_leaf(r["header"]) for r in records)
    text = f"{ORIGIN}\n{len(records)}\n{base64.b64encode(root).decode()}\n"
    note = text + "\n\u2014 " + ORIGIN + " " + base64.b64encode(KEY_ID + KEY.sign(text.encode())).decode() + "\n"
    return [json.dumps(r) for r in records] + [json.dumps({"checkpoint": note}), json.dumps({"public_key": VKEY.text})]


def erase(entry: Dict[str, Any]) -> Dict[str, Any]:
    return {**entry, "body": None, "salt": None}


def problems(report: Report) -> List[str]:
    return [str(p) for p in report.problems]


def test_a_built_export_verifies() -> None:
    report = verify_export(export([record(i) for i in range(5)]), trust=[VKEY])
    assert report.ok and report.records == 5, problems(report)


def test_an_erasure_covered_by_flightrecs_log_erased_record() -> None:
    records = [record(i) for i in range(4)]
    records[1] = erase(records[1])
    records[2] = erase(records[2])
    records.append(record(4, "log.erased", {"metadata": {"erased_seqs": [[1, 2]]}, "redactions": []}, by="flightrec"))
    report = verify_export(export(records), trust=[VKEY])
    assert report.ok, problems(report)
    assert report.erased_seqs == [1, 2]


def test_an_erasure_record_sent_by_a_client_covers_nothing() -> None:
    records = [record(0), erase(record(1))]
    records.append(record(2, "log.erased", {"metadata": {"erased_seqs": [[1, 1]]}, "redactions": []}, by="key:k1"))
    assert problems(verify_export(export(records), trust=[VKEY])) == [
        "line 2 (seq 1): the body is gone but no log.erased record of flightrec's own names this seq "
        "(tampering, or the covering record is not in this export)"
    ]


def test_a_body_without_its_salt() -> None:
    records = [record(0), {**record(1), "salt": None}]
    assert "line 2 (seq 1): the record has a body without a salt" in problems(verify_export(export(records), trust=[VKEY]))[0]


def test_duplicate_keys_and_bad_lines() -> None:
    lines = export([record(0), record(1)])
    lines[0] = lines[0].replace('{"header": {', '{"header": {"seq": 0, ', 1)
    lines.insert(1, "not json")
    found = problems(verify_export(lines, trust=[VKEY]))
    assert found[0] == "line 1: the JSON repeats the key 'seq'"
    assert found[1].startswith("line 2: not valid JSON")


def test_mixed_proofs_records_after_the_checkpoint_and_empty_exports() -> None:
    lines = export([record(0), record(1)])
    mixed = list(lines)
    item = json.loads(mixed[1])
    item["proof"] = {"leaf_index": 1, "tree_size": 2, "hashes": []}
    mixed[1] = json.dumps(item)
    assert "some records carry an inclusion proof and others do not" in problems(verify_export(mixed, trust=[VKEY]))[0]
    late = lines[:1] + lines[2:] + lines[1:2]
    assert "line 4 (seq 1)" not in problems(verify_export(late, trust=[VKEY]))  # not read as a record at all
    assert problems(verify_export(late, trust=[VKEY]))[0] == "line 4: a record after the checkpoint line"
    empty = export([])
    assert problems(verify_export(empty, trust=[VKEY])) == ["the export holds no record: an empty export does not verify"]
    assert problems(verify_export(lines[:2], trust=[VKEY])) == ["the export has no checkpoint line"]


def test_a_record_of_another_tenant() -> None:
    other = record(1)
    other["header"]["tenant"] = "globex"
    found = problems(verify_export(export([record(0), other]), trust=[VKEY]))
    assert "line 2 (seq 1): tenant 'globex', while earlier records are of 'acme'" in found


@pytest.mark.parametrize("bad", [{"seq": -1}, {"seq": True}, {"status": "great"}, {"body_hash": "AB" * 32}, {"run_id": None}])
def test_header_members_are_checked(bad: Dict[str, Any]) -> None:
    entry = record(0)
    entry["header"].update(bad)
    report = verify_export(export([entry]), trust=[VKEY])
    assert not report.ok and report.problems[0].line == 1
