"""`flightrec-verify`: check an export or a tlog-proof file offline.

    flightrec-verify export run.jsonl (--key VKEY | --trust FILE) [--witness VKEY …]
    flightrec-verify proof FILE --record FILE.json (--key VKEY | --trust FILE) [--witness VKEY …]
    flightrec-verify consistency OLD_CHECKPOINT NEW_CHECKPOINT --proof PROOF.json (--key VKEY | --trust FILE)

Exit status: 0 verified, 1 invalid, 2 usage error (bad arguments, unreadable
file or key).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, NoReturn, Optional, Sequence, TextIO

from .consistency import verify_checkpoint_consistency
from .errors import KeyFormatError, VerificationError
from .export import Report, verify_export
from .note import VerifierKey, parse_vkey, read_trust_file
from .proof_file import verify_proof_file

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", action="append", default=[], metavar="VKEY", help="a trusted log verifier key; repeatable")
    parser.add_argument("--trust", action="append", default=[], metavar="FILE", help="a trust file (`flightrec log trust`)")
    parser.add_argument(
        "--witness", action="append", default=[], metavar="VKEY", help="a witness's cosigner key (type 0x04); repeatable"
    )
    parser.add_argument(
        "--witness-threshold",
        type=int,
        metavar="K",
        help="how many of the witnesses must have cosigned (default: all given)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="flightrec-verify",
        description="Verify flightrec exports and proofs offline, trusting only the keys you give.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    export = commands.add_parser("export", help="verify a jsonl export (GET /v1/events/export, runs/{id}/export?format=jsonl)")
    export.add_argument("file", help="the .jsonl export, or - for standard input")
    _add_key_options(export)
    proof = commands.add_parser("proof", help="verify a C2SP tlog-proof file and the record it proves")
    proof.add_argument("file", help="the tlog-proof file")
    proof.add_argument("--record", required=True, metavar="FILE.json", help="the record: {header, body, salt}")
    _add_key_options(proof)
    consistency = commands.add_parser(
        "consistency", help="verify that a newer checkpoint extends one you saved (GET /v1/log/proof/consistency)"
    )
    consistency.add_argument("old", help="the checkpoint you saved (a signed note)")
    consistency.add_argument("new", help="the newer checkpoint")
    consistency.add_argument("--proof", required=True, metavar="PROOF.json", help="the consistency proof: {old_size, new_size, hashes}")
    _add_key_options(consistency)
    return parser


def _keys(args: argparse.Namespace) -> List[VerifierKey]:
    keys = [parse_vkey(k, expect_type=0x01) for k in args.key]
    for path in args.trust:
        with open(path, encoding="utf-8") as handle:
            keys.extend(k for k in read_trust_file(handle.read()) if not k.is_cosigner)
    if not keys:
        raise KeyFormatError("give the log's verifier key with --key VKEY or --trust FILE; nothing is trusted by default")
    return keys


class _Progress:
    """Lines verified so far, on stderr, only when a person is watching."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.shown = False

    def __call__(self, lines: int) -> None:
        if self.active:
            self.stream.write(f"\rverified {lines:,} lines…")
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")


def _as_json(report: Report) -> Dict[str, Any]:
    cp = report.checkpoint
    return {
        "ok": report.ok,
        "kind": report.kind,
        "records": report.records,
        "versions": {str(v): n for v, n in sorted(report.versions.items())},
        "mode": report.mode,
        "erased_seqs": report.erased_seqs,
        "checkpoint": None
        if cp is None
        else {"origin": cp.origin, "size": cp.size, "root": cp.root.hex(), "cosigned_by": list(cp.cosigned_by)},
        "problems": [
            {"message": p.message, "line": p.line, "seq": p.seq, "text": str(p)} for p in report.problems
        ],
        "notes": report.notes,
    }


def _consistency(args: argparse.Namespace, keys: List[VerifierKey], witnesses: List[VerifierKey]) -> Report:
    report = Report(kind="consistency", mode="consistency proof")
    with open(args.old, encoding="utf-8", newline="\n") as old, open(args.new, encoding="utf-8", newline="\n") as new:
        old_note, new_note = old.read(), new.read()
    with open(args.proof, encoding="utf-8") as handle:
        proof = json.load(handle)
    try:
        old_cp, new_cp = verify_checkpoint_consistency(
            old_note, new_note, proof, trust=keys, witnesses=witnesses, witness_threshold=args.witness_threshold
        )
        report.checkpoint, report.old_size = new_cp, old_cp.size
    except VerificationError as exc:
        report.problems.append(exc)
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        keys = _keys(args)
        witnesses = [parse_vkey(w, expect_type=0x04) for w in args.witness]
        if args.witness_threshold is not None and not 0 <= args.witness_threshold <= len(witnesses):
            raise KeyFormatError(f"--witness-threshold must be between 0 and the {len(witnesses)} witness key(s) given")
        if args.command == "export":
            progress = _Progress(sys.stderr)
            source: Any = sys.stdin if args.file == "-" else args.file
            report = verify_export(
                source, trust=keys, witnesses=witnesses, witness_threshold=args.witness_threshold, progress=progress
            )
            progress.done()
        elif args.command == "proof":
            report = verify_proof_file(
                args.file, args.record, trust=keys, witnesses=witnesses, witness_threshold=args.witness_threshold
            )
        else:
            report = _consistency(args, keys, witnesses)
    except (KeyFormatError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"flightrec-verify: {exc}", file=sys.stderr)
        return EXIT_USAGE

    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        if report.ok:
            print(report.summary())
        else:
            print(f"INVALID: {len(report.problems)} problem(s)" + (" (only the first are listed)" if report.truncated else ""))
            for problem in report.problems:
                print(f"  {problem}")
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
