"""C2SP tlog-proof files (`GET /v1/events/{id}/proof?format=tlog-proof`) and the
JSON proof form (`?proof=true`, `GET /v1/events/{id}/proof`), checked offline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

from .errors import VerificationError
from .export import KeyArg, Report, as_keys
from .merkle import verify_inclusion
from .note import b64decode_strict, verify_checkpoint
from .record import check_record, loads_strict

HEADER_LINE = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: Sequence[bytes]
    checkpoint: str  # the signed note, verbatim
    extra: Optional[bytes] = None


def parse_tlog_proof(text: str) -> TlogProof:
    """Read a tlog-proof file's lines (c2sp.org/tlog-proof)."""
    lines = text.split("\n")
    if lines[0] != HEADER_LINE:
        raise VerificationError(f"not a tlog-proof file: the first line is not {HEADER_LINE!r}", line=1)
    i = 1
    extra = None
    if i < len(lines) and lines[i].startswith("extra "):
        extra = b64decode_strict(lines[i][len("extra ") :], "the extra data")
        i += 1
    if i >= len(lines) or not lines[i].startswith("index "):
        raise VerificationError("no 'index N' line", line=i + 1)
    index_text = lines[i][len("index ") :]
    if not index_text.isdigit() or not index_text.isascii() or (index_text != "0" and index_text.startswith("0")):
        raise VerificationError(f"the index {index_text!r} is not a decimal number", line=i + 1)
    index = int(index_text)
    i += 1
    hashes: List[bytes] = []
    while i < len(lines) and lines[i] != "":
        value = b64decode_strict(lines[i], f"proof hash on line {i + 1}")
        if len(value) != 32:
            raise VerificationError(f"the proof hash is {len(value)} bytes, not 32", line=i + 1)
        hashes.append(value)
        i += 1
    if i >= len(lines):
        raise VerificationError("no blank line between the proof hashes and the checkpoint", line=i)
    checkpoint = "\n".join(lines[i + 1 :])
    return TlogProof(index, hashes, checkpoint, extra)


def _read_text(source: Union[str, "os.PathLike[str]"]) -> str:
    with open(source, encoding="utf-8", newline="\n") as handle:
        return handle.read()


def verify_proof_file(
    proof: Union[str, "os.PathLike[str]"],
    record: Union[str, "os.PathLike[str]", Mapping[str, Any]],
    *,
    trust: Iterable[KeyArg],
    witnesses: Sequence[KeyArg] = (),
    witness_threshold: Optional[int] = None,
    proof_is_text: bool = False,
) -> Report:
    """Check a tlog-proof file and the record it proves (`{header, body, salt}`,
    as `flightrec log proof -o` saves it beside the file).

    `proof` is a path (or the file's text with `proof_is_text=True`); `record`
    a path or the parsed object. Problems are returned in the Report.
    """
    trust_keys = as_keys(trust)
    witness_keys = as_keys(witnesses, expect_type=0x04)
    report = Report(kind="tlog-proof", mode="inclusion proof")
    try:
        text = str(proof) if proof_is_text else _read_text(proof)
        parsed = parse_tlog_proof(text)
        if isinstance(record, Mapping):
            entry: Any = dict(record)
        else:
            entry = loads_strict(_read_text(record))
        checked = check_record(entry)
        if checked.seq != parsed.index:
            raise VerificationError(
                f"the record is seq {checked.seq}, but the proof is for index {parsed.index}"
            )
        report.records = 1
        report.versions[checked.header["v"]] = 1
        checkpoint = verify_checkpoint(parsed.checkpoint, trust_keys, witness_keys, witness_threshold)
        report.checkpoint = checkpoint
        if not checkpoint.origin.endswith("/" + checked.header["tenant"]):
            raise VerificationError(
                f"the record is of tenant {checked.header['tenant']!r}, the checkpoint of {checkpoint.origin!r}"
            )
        verify_inclusion(parsed.index, checkpoint.size, checked.leaf, parsed.hashes, checkpoint.root)
        if checked.erased:
            report.notes.append("the record's body is erased: only its header is proven")
            report.erased_seqs.append(checked.seq)
    except VerificationError as exc:
        report.problems.append(exc)
    return report


def verify_event_proof(
    proof: Mapping[str, Any],
    *,
    trust: Iterable[KeyArg],
    witnesses: Sequence[KeyArg] = (),
    witness_threshold: Optional[int] = None,
) -> Report:
    """Check the JSON proof form `{header, body, salt, leaf_hash, proof, checkpoint}`."""
    trust_keys = as_keys(trust)
    witness_keys = as_keys(witnesses, expect_type=0x04)
    report = Report(kind="event-proof", mode="inclusion proof")
    try:
        checked = check_record({k: proof.get(k) for k in ("header", "body", "salt")})
        report.records = 1
        report.versions[checked.header["v"]] = 1
        claimed_leaf = proof.get("leaf_hash")
        if claimed_leaf is not None and claimed_leaf != checked.leaf.hex():
            raise VerificationError(
                f"leaf_hash {claimed_leaf} is not the header's leaf {checked.leaf.hex()}", seq=checked.seq
            )
        inclusion = proof.get("proof")
        note = proof.get("checkpoint")
        if not isinstance(inclusion, Mapping) or not isinstance(note, str):
            raise VerificationError("the proof lacks its inclusion proof or its checkpoint")
        checkpoint = verify_checkpoint(note, trust_keys, witness_keys, witness_threshold)
        report.checkpoint = checkpoint
        hashes = [bytes.fromhex(h) for h in inclusion.get("hashes", [])]
        if inclusion.get("leaf_index") != checked.seq or inclusion.get("tree_size") != checkpoint.size:
            raise VerificationError(
                "the inclusion proof is not for this record's seq against the checkpoint's size", seq=checked.seq
            )
        verify_inclusion(checked.seq, checkpoint.size, checked.leaf, hashes, checkpoint.root)
    except (VerificationError, ValueError, TypeError) as exc:
        report.problems.append(exc if isinstance(exc, VerificationError) else VerificationError(str(exc)))
    return report
