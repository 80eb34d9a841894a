"""Verify a jsonl export (`GET /v1/events/export`) offline.

Lines: `{"header", "body", "salt", "proof"?}` records, oldest first, then
`{"checkpoint": <signed note>}` and `{"public_key": <vkey>}`. Without proofs
the records must be the whole log from seq 0 and rebuild the checkpoint's
root; with proofs each record's inclusion proof must lead to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .errors import KeyFormatError, VerificationError
from .merkle import TreeBuilder, root_from_inclusion_proof
from .note import Checkpoint, VerifierKey, parse_vkey, verify_checkpoint
from .record import JsonReader, check_header, check_record, erased_ranges, header_leaf

Source = Union[str, "os.PathLike[str]", Iterable[str], IO[str]]
KeyArg = Union[VerifierKey, str]


@dataclass
class Report:
    """What a verification found. `ok` is true only with no problem at all."""

    kind: str  # "export" or "tlog-proof"
    records: int = 0
    versions: Dict[int, int] = field(default_factory=dict)
    erased_seqs: List[int] = field(default_factory=list)
    mode: str = ""  # "whole log" or "inclusion proofs"
    checkpoint: Optional[Checkpoint] = None
    problems: List[VerificationError] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    truncated: bool = False  # more problems than were kept
    old_size: Optional[int] = None  # a consistency check: the size the checkpoint extends

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise the first problem, if any (its message names the line and seq)."""
        if self.problems:
            raise self.problems[0]

    def summary(self) -> str:
        if not self.ok:
            more = " (and more)" if self.truncated else ""
            return f"INVALID: {len(self.problems)} problem(s){more}; first: {self.problems[0]}"
        cp = self.checkpoint
        assert cp is not None
        if self.kind == "consistency":
            cosigned = f"; cosigned by {', '.join(cp.cosigned_by)}" if cp.cosigned_by else ""
            return f"OK: {cp.origin} at tree size {cp.size} extends its checkpoint of size {self.old_size}{cosigned}"
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(self.versions.items()))
        parts = [f"OK: {self.records} record(s) of {cp.origin} ({versions})", f"tree size {cp.size}"]
        if self.mode:
            parts.append(self.mode)
        if self.erased_seqs:
            parts.append(f"{len(self.erased_seqs)} erased bod(ies), each covered by a log.erased record")
        if cp.cosigned_by:
            parts.append("cosigned by " + ", ".join(cp.cosigned_by))
        return "; ".join(parts)


class _Problems:
    def __init__(self, report: Report, limit: int) -> None:
        self.report = report
        self.limit = limit

    def add(self, error: VerificationError) -> None:
        if len(self.report.problems) < self.limit:
            self.report.problems.append(error)
        else:
            self.report.truncated = True


def as_keys(keys: Iterable[KeyArg], *, expect_type: Optional[int] = None) -> List[VerifierKey]:
    return [k if isinstance(k, VerifierKey) else parse_vkey(k, expect_type=expect_type) for k in keys]


def _lines(source: Source) -> Iterator[str]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8", newline="\n") as handle:
            yield from handle
    else:
        yield from source


def _parse_proof(value: Any) -> Tuple[int, int, List[bytes]]:
    if not isinstance(value, dict) or set(value) != {"leaf_index", "tree_size", "hashes"}:
        raise VerificationError("the proof is not {leaf_index, tree_size, hashes}")
    leaf_index, tree_size, hashes = value["leaf_index"], value["tree_size"], value["hashes"]
    for name, number in (("leaf_index", leaf_index), ("tree_size", tree_size)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise VerificationError(f"the proof's {name} is not a non-negative integer")
    if not isinstance(hashes, list):
        raise VerificationError("the proof's hashes are not a list")
    decoded = []
    for index, text in enumerate(hashes):
        try:
            raw = bytes.fromhex(text) if isinstance(text, str) and len(text) == 64 else b""
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise VerificationError(f"proof hash {index} is not 32 bytes of hex")
        decoded.append(raw)
    return leaf_index, tree_size, decoded


def _leaf_if_header_valid(header: Any) -> bytes:
    try:
        return header_leaf(check_header(header))
    except VerificationError:
        return b"\xff" * 32  # matches no real leaf: the root is reported wrong too


def verify_export(
    source: Source,
    *,
    trust: Iterable[KeyArg],
    witnesses: Sequence[KeyArg] = (),
    witness_threshold: Optional[int] = None,
    progress: Optional[Callable[[int], None]] = None,
    max_problems: int = 100,
) -> Report:
    """Verify a jsonl export against trusted log keys (and witness keys).

    `source` is a path or an iterable of lines. Never raises for what is in
    the file (every problem is in the returned Report, with its line and seq);
    raises KeyFormatError for unusable keys and OSError for an unreadable file.
    """
    trust_keys = as_keys(trust)
    witness_keys = as_keys(witnesses, expect_type=0x04)
    if not trust_keys:
        raise KeyFormatError("no trusted log key: give at least one (a vkey, or a trust file)")
    report = Report(kind="export")
    problems = _Problems(report, max_problems)

    tree = TreeBuilder()
    expected_seq = 0
    last_seq = -1
    tenant: Optional[str] = None
    with_proofs: Optional[bool] = None
    proven: List[Tuple[int, int, int, bytes]] = []  # (line, seq, tree size, root the proof leads to)
    erased: List[Tuple[int, int]] = []  # (line, seq)
    erasures: List[Tuple[int, int]] = []  # [first, last] ranges from log.erased records
    checkpoint_note: Optional[Tuple[int, str]] = None
    file_key: Optional[str] = None

    reader = JsonReader()
    number = 0
    for number, raw_line in enumerate(_lines(source), start=1):
        if progress is not None and number % 10000 == 0:
            progress(number)
        line = raw_line.rstrip("\n")
        if not line.strip():
            continue
        try:
            parsed = reader.read(line)
            item = parsed.value
        except VerificationError as exc:
            problems.add(VerificationError(exc.message, line=number))
            continue
        if not isinstance(item, dict):
            problems.add(VerificationError("not a JSON object", line=number))
            continue
        if "checkpoint" in item:
            if checkpoint_note is not None:
                problems.add(VerificationError("a second checkpoint line", line=number))
            elif not isinstance(item["checkpoint"], str):
                problems.add(VerificationError("the checkpoint is not a string", line=number))
            else:
                checkpoint_note = (number, item["checkpoint"])
            continue
        if "public_key" in item:
            file_key = item["public_key"] if isinstance(item["public_key"], str) else None
            continue
        if "header" not in item:
            problems.add(VerificationError("neither a record, a checkpoint nor a public key", line=number))
            continue
        if checkpoint_note is not None:
            problems.add(VerificationError("a record after the checkpoint line", line=number))
            continue

        header = item.get("header")
        claimed_seq = header.get("seq") if isinstance(header, dict) else None
        where_seq = claimed_seq if isinstance(claimed_seq, int) and not isinstance(claimed_seq, bool) else None
        try:
            extra = set(item) - {"header", "body", "salt", "proof"}
            if extra:
                raise VerificationError(f"unknown member(s) {', '.join(sorted(extra))}")
            record = check_record(item, plain=parsed.plain)
            erasures.extend(erased_ranges(record))
        except VerificationError as exc:
            problems.add(VerificationError(exc.message, line=number, seq=where_seq))
            record = None
            # A bad body leaves the header's leaf intact: keep it in the tree, so
            # that the root is reported wrong only when the header is.
            fallback_leaf = _leaf_if_header_valid(header)
        seq = where_seq if record is None else record.seq

        if record is not None:
            report.records += 1
            version = record.header["v"]
            report.versions[version] = report.versions.get(version, 0) + 1
            if tenant is None:
                tenant = record.header["tenant"]
            elif record.header["tenant"] != tenant:
                problems.add(
                    VerificationError(
                        f"tenant {record.header['tenant']!r}, while earlier records are of {tenant!r}",
                        line=number,
                        seq=seq,
                    )
                )
            if record.erased:
                erased.append((number, record.seq))

        has_proof = "proof" in item
        if with_proofs is None:
            with_proofs = has_proof
        elif has_proof != with_proofs:
            problems.add(
                VerificationError(
                    "some records carry an inclusion proof and others do not", line=number, seq=seq
                )
            )
            continue

        if has_proof:
            if seq is not None:
                if seq <= last_seq:
                    problems.add(
                        VerificationError(f"seq {seq} comes after seq {last_seq}: out of order", line=number, seq=seq)
                    )
                last_seq = max(last_seq, seq)
            if record is None:
                continue
            try:
                leaf_index, tree_size, hashes = _parse_proof(item["proof"])
                if leaf_index != record.seq:
                    raise VerificationError(f"the proof is for leaf {leaf_index}, not this record's seq")
                root = root_from_inclusion_proof(leaf_index, tree_size, record.leaf, hashes)
            except VerificationError as exc:
                problems.add(VerificationError(exc.message, line=number, seq=seq))
                continue
            proven.append((number, record.seq, tree_size, root))
        else:
            if seq is not None and seq != expected_seq:
                what = "missing" if seq > expected_seq else "repeated or out of order"
                problems.add(
                    VerificationError(
                        f"expected seq {expected_seq}, found {seq}: a record is {what}", line=number, seq=seq
                    )
                )
                expected_seq = seq
            expected_seq += 1
            if record is not None:
                tree.append(record.leaf)
            else:
                # A record we could not read still takes its place in the tree.
                tree.append(fallback_leaf)

    if progress is not None:
        progress(number)

    if checkpoint_note is None:
        problems.add(VerificationError("the export has no checkpoint line"))
        return report
    cp_line, note = checkpoint_note
    try:
        checkpoint = verify_checkpoint(note, trust_keys, witness_keys, witness_threshold)
    except VerificationError as exc:
        problems.add(VerificationError("checkpoint: " + exc.message, line=cp_line))
        return report
    report.checkpoint = checkpoint
    if file_key is not None and not any(k.text == file_key.strip() for k in trust_keys):
        report.notes.append("the export's public_key line is not among the trusted keys (it is never used)")
    if report.records == 0 and not report.problems:
        problems.add(VerificationError("the export holds no record: an empty export does not verify"))
        return report
    if tenant is not None and not checkpoint.origin.endswith("/" + tenant):
        problems.add(
            VerificationError(
                f"the records are of tenant {tenant!r} but the checkpoint's origin is {checkpoint.origin!r}",
                line=cp_line,
            )
        )

    if with_proofs:
        report.mode = "inclusion proofs"
        for at_line, seq, tree_size, root in proven:
            if tree_size != checkpoint.size:
                problems.add(
                    VerificationError(
                        f"the proof is against tree size {tree_size}, the checkpoint's is {checkpoint.size}",
                        line=at_line,
                        seq=seq,
                    )
                )
            elif root != checkpoint.root:
                problems.add(
                    VerificationError(
                        f"the inclusion proof leads to root {root.hex()}, not the checkpoint's "
                        f"{checkpoint.root.hex()} (the header or a proof hash was changed)",
                        line=at_line,
                        seq=seq,
                    )
                )
    else:
        report.mode = "whole log"
        if tree.size != checkpoint.size:
            problems.add(
                VerificationError(
                    f"the export holds {tree.size} records but the checkpoint covers {checkpoint.size}: "
                    "an unfiltered export must be the whole log",
                    line=cp_line,
                )
            )
        else:
            root = tree.root()
            if root != checkpoint.root:
                problems.add(
                    VerificationError(
                        f"the records rebuild root {root.hex()}, not the checkpoint's {checkpoint.root.hex()}",
                        line=cp_line,
                    )
                )

    for at_line, seq in erased:
        if not any(first <= seq <= last for first, last in erasures):
            problems.add(
                VerificationError(
                    "the body is gone but no log.erased record of flightrec's own names this seq "
                    "(tampering, or the covering record is not in this export)",
                    line=at_line,
                    seq=seq,
                )
            )
        else:
            report.erased_seqs.append(seq)
    return report
