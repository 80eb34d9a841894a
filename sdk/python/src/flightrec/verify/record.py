"""flightrec records (docs/record-format.md): header members per version, body hash, leaf."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .errors import VerificationError
from .jcs import canonicalize, canonicalize_plain
from .merkle import leaf_hash

_COMMON_REQUIRED = ("v", "tenant", "seq", "id", "time", "received_at", "type", "status", "body_hash")
_OPTIONAL = ("run_id", "span_id", "parent_span_id")
# Each version's members, for ever: a record keeps the version it was written with.
HEADER_MEMBERS: Dict[int, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    1: (_COMMON_REQUIRED, _OPTIONAL),
    2: (_COMMON_REQUIRED + ("submitted_by",), _OPTIONAL),
}
_STATUSES = ("ok", "fail", "warn")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_SAFE = 2**53


class Parsed:
    """A parsed JSON value, and whether JCS may take the fast path for it."""

    __slots__ = ("value", "plain")

    def __init__(self, value: Any, plain: bool) -> None:
        self.value = value
        self.plain = plain


class JsonReader:
    """Reads JSON strictly: it refuses duplicate object keys (with them, what the
    server hashed and what another reader sees could differ), and notes whether
    a value holds a float, an integer beyond 2^53 or a key above U+FFFF, the
    only things for which the fast JCS path would differ from RFC 8785.

    One reader serves many lines (building a decoder per line costs more than
    the parse); it is not for use from several threads at once.
    """

    def __init__(self) -> None:
        self._plain = True
        self._decoder = json.JSONDecoder(
            object_pairs_hook=self._pairs,
            parse_float=self._float,
            parse_int=self._int,
            parse_constant=self._constant,
        )

    def _pairs(self, items: List[Tuple[str, Any]]) -> Dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen = set()
            for key, _ in items:
                if key in seen:
                    raise VerificationError(f"the JSON repeats the key {key!r}")
                seen.add(key)
        if self._plain:
            keys = "".join(obj)
            if not keys.isascii() and max(keys) > "\uffff":
                self._plain = False
        return obj

    def _float(self, text: str) -> float:
        self._plain = False
        return float(text)

    def _int(self, text: str) -> int:
        value = int(text)
        if self._plain and not -_MAX_SAFE <= value <= _MAX_SAFE:
            self._plain = False
        return value

    @staticmethod
    def _constant(name: str) -> Any:
        raise VerificationError(f"the JSON holds {name}, which is not JSON")

    def read(self, text: str) -> Parsed:
        self._plain = True
        try:
            value = self._decoder.decode(text)
        except json.JSONDecodeError as exc:
            raise VerificationError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
        return Parsed(value, self._plain)


def parse_json(text: str) -> Parsed:
    return JsonReader().read(text)


def loads_strict(text: str) -> Any:
    return parse_json(text).value


def check_header(header: Any) -> Dict[str, Any]:
    """Check a header has exactly its version's members, of the right kinds."""
    if not isinstance(header, dict):
        raise VerificationError("the header is not a JSON object")
    version = header.get("v")
    if isinstance(version, bool) or version not in HEADER_MEMBERS:
        raise VerificationError(f"unknown record format version {version!r} (known: 1, 2)")
    required, optional = HEADER_MEMBERS[version]
    missing = [m for m in required if m not in header]
    if missing:
        raise VerificationError(f"the version {version} header lacks {', '.join(missing)}")
    extra = [m for m in header if m not in required and m not in optional]
    if extra:
        raise VerificationError(f"the version {version} header has members it may not have: {', '.join(extra)}")
    seq = header["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise VerificationError(f"the header's seq {seq!r} is not a non-negative integer")
    for name in header:
        if name not in ("v", "seq") and not isinstance(header[name], str):
            raise VerificationError(f"the header's {name} is not a string")
    if header["status"] not in _STATUSES:
        raise VerificationError(f"the header's status {header['status']!r} is not ok, fail or warn")
    body_hash = header["body_hash"]
    if not _HEX64.fullmatch(body_hash):
        raise VerificationError("the header's body_hash is not 64 lower-case hex digits")
    return header


def header_leaf(header: Mapping[str, Any], *, plain: bool = False) -> bytes:
    """The record's Merkle leaf hash: SHA-256(0x00 ‖ JCS(header))."""
    return leaf_hash(canonicalize_plain(header) if plain else canonicalize(header))


def body_hash(salt: bytes, body: Any, *, plain: bool = False) -> str:
    """hex SHA-256(salt ‖ JCS(body))."""
    return hashlib.sha256(salt + (canonicalize_plain(body) if plain else canonicalize(body))).hexdigest()


@dataclass(frozen=True)
class CheckedRecord:
    seq: int
    header: Dict[str, Any]
    leaf: bytes
    erased: bool
    body: Optional[Dict[str, Any]]


def check_record(entry: Any, *, plain: bool = False) -> CheckedRecord:
    """Check one `{header, body, salt}` record: header form, body hash, and compute its leaf.

    An erased record (body and salt both null) passes here; whether its
    erasure is covered by a `log.erased` record is for the caller to check.
    `plain` (from `parse_json`) lets JCS take its fast path.
    """
    if not isinstance(entry, dict):
        raise VerificationError("the record is not a JSON object")
    for name in ("header", "body", "salt"):
        if name not in entry:
            raise VerificationError(f"the record has no {name!r} member")
    header = check_header(entry["header"])
    body, salt = entry["body"], entry["salt"]
    erased = body is None and salt is None
    if not erased:
        if body is None or salt is None:
            raise VerificationError(
                "the record has a body without a salt or a salt without a body "
                "(an erased record has neither)"
            )
        if not isinstance(salt, str) or not _HEX64.fullmatch(salt):
            raise VerificationError("the salt is not 32 bytes of lower-case hex")
        salt_bytes = bytes.fromhex(salt)
        if isinstance(body, str):
            # The JSON proof form carries the body as its JCS text already.
            body_bytes = body.encode("utf-8")
            computed = hashlib.sha256(salt_bytes + body_bytes).hexdigest()
            body = loads_strict(body)
        else:
            computed = body_hash(salt_bytes, body, plain=plain)
        if not isinstance(body, dict):
            raise VerificationError("the body is not a JSON object")
        if computed != header["body_hash"]:
            raise VerificationError(
                f"body_hash does not match the body: the header says {header['body_hash']}, "
                f"salt and body give {computed}"
            )
    return CheckedRecord(header["seq"], header, header_leaf(header, plain=plain), erased, None if erased else body)


def erased_ranges(record: CheckedRecord) -> List[Tuple[int, int]]:
    """The seq ranges a record erases: only flightrec's own `log.erased` records count."""
    header = record.header
    if header["type"] != "log.erased" or header.get("submitted_by") != "flightrec" or record.body is None:
        return []
    metadata = record.body.get("metadata")
    ranges = metadata.get("erased_seqs") if isinstance(metadata, dict) else None
    if not isinstance(ranges, list):
        raise VerificationError("a log.erased record without metadata.erased_seqs", seq=record.seq)
    result = []
    for pair in ranges:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
            or pair[0] > pair[1]
        ):
            raise VerificationError(f"log.erased names {pair!r}, not a [first, last] pair", seq=record.seq)
        result.append((pair[0], pair[1]))
    return result
