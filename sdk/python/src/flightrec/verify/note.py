"""C2SP signed-note, tlog-checkpoint and tlog-cosignature (Ed25519), from the specs.

A signed note is a text ending in a newline, a blank line, then signature
lines `— <key name> base64(4-byte key id ‖ signature)`. A verifier key
(vkey) is `<name>+<hex key id>+base64(signature type ‖ public key)`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import KeyFormatError, VerificationError

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_COSIGNATURE = 0x04  # timestamped Ed25519 cosignature (tlog-cosignature)

# The spec asks verifiers to cap the signatures they read (and accept at least 16).
MAX_SIGNATURES = 100
_EM_DASH_PREFIX = "\u2014 "


def b64decode_strict(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise VerificationError(f"{what} is not valid base64") from exc


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def _check_key_name(name: str, where: str) -> None:
    if not name:
        raise KeyFormatError(f"{where}: the key name is empty")
    if "+" in name or any(ch.isspace() for ch in name):
        raise KeyFormatError(f"{where}: the key name {name!r} holds a space or a '+'")


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey: a name, a 4-byte id, a signature type and an Ed25519 public key."""

    name: str
    key_id: bytes
    signature_type: int
    public_key: bytes
    text: str = field(repr=False, compare=False)

    @property
    def is_cosigner(self) -> bool:
        return self.signature_type == SIGNATURE_TYPE_COSIGNATURE

    def _ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}"


def parse_vkey(text: str, *, expect_type: Optional[int] = None) -> VerifierKey:
    """Read `<name>+<hex id>+<base64(type ‖ key)>`; check the id matches the key."""
    text = text.strip()
    parts = text.split("+", 2)  # base64 may hold "+", a name may not
    if len(parts) != 3:
        raise KeyFormatError(f"verifier key {text[:60]!r} is not <name>+<key id>+<base64 key>")
    name, id_hex, key_b64 = parts
    _check_key_name(name, "verifier key")
    if len(id_hex) != 8:
        raise KeyFormatError(f"verifier key {name}: the key id {id_hex!r} is not 8 hex digits")
    try:
        claimed_id = bytes.fromhex(id_hex)
    except ValueError as exc:
        raise KeyFormatError(f"verifier key {name}: the key id {id_hex!r} is not hex") from exc
    try:
        raw = base64.b64decode(key_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise KeyFormatError(f"verifier key {name}: the key is not valid base64") from exc
    if not raw:
        raise KeyFormatError(f"verifier key {name}: the key is empty")
    signature_type, public_key = raw[0], raw[1:]
    if signature_type not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE):
        raise KeyFormatError(
            f"verifier key {name}: signature type 0x{signature_type:02x} is not supported "
            "(0x01 Ed25519 log key, 0x04 Ed25519 witness cosigner)"
        )
    if expect_type is not None and signature_type != expect_type:
        wanted = "a log key (type 0x01)" if expect_type == SIGNATURE_TYPE_ED25519 else "a witness key (type 0x04)"
        raise KeyFormatError(f"verifier key {name} is of type 0x{signature_type:02x}, not {wanted}")
    if len(public_key) != 32:
        raise KeyFormatError(f"verifier key {name}: an Ed25519 key is 32 bytes, this one {len(public_key)}")
    computed = key_id(name, signature_type, public_key)
    if computed != claimed_id:
        raise KeyFormatError(
            f"verifier key {name}: key id {id_hex} does not match the key (it should be {computed.hex()})"
        )
    return VerifierKey(name, claimed_id, signature_type, public_key, text)


def read_trust_file(text: str) -> List[VerifierKey]:
    """A trust file: one vkey a line; blank lines and `#` comments ignored."""
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(parse_vkey(line))
        except KeyFormatError as exc:
            raise KeyFormatError(f"trust file line {number}: {exc}") from exc
    if not keys:
        raise KeyFormatError("the trust file holds no verifier key")
    return keys


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # what follows the key id
    line: int  # 1-based line within the note


@dataclass(frozen=True)
class SignedNote:
    text: str  # including its final newline
    signatures: Sequence[Signature]


def parse_note(note: str) -> SignedNote:
    """Split a signed note into its text and signature lines, checking its form."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise VerificationError("the signed note holds a control character other than newline")
    if not note.endswith("\n"):
        raise VerificationError("the signed note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("the signed note has no blank line before its signatures")
    text = note[: split + 1]
    block = note[split + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines or lines == [""]:
        raise VerificationError("the signed note has no signature line")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"the signed note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    first_line = text.count("\n") + 2
    signatures = []
    for offset, line in enumerate(lines):
        number = first_line + offset
        if not line.startswith(_EM_DASH_PREFIX):
            raise VerificationError(f"signature line {number} does not start with an em dash and a space")
        rest = line[len(_EM_DASH_PREFIX) :]
        name, space, sig_b64 = rest.partition(" ")
        if not space or not name or " " in sig_b64:
            raise VerificationError(f"signature line {number} is not '— <name> <base64 signature>'")
        raw = b64decode_strict(sig_b64, f"the signature on line {number} ({name})")
        if len(raw) < 5:
            raise VerificationError(f"the signature on line {number} ({name}) is too short")
        signatures.append(Signature(name, raw[:4], raw[4:], number))
    return SignedNote(text, signatures)


def verify_note(note: str, keys: Iterable[VerifierKey]) -> SignedNote:
    """Open a signed note with Ed25519 log keys (type 0x01).

    Per the spec: signatures by unknown keys are ignored; a signature by a
    known key (same name and id) must verify, else the whole note is refused;
    at least one known key must have signed.
    """
    parsed = parse_note(note)
    known = {(k.name, k.key_id): k for k in keys if k.signature_type == SIGNATURE_TYPE_ED25519}
    verified = False
    for sig in parsed.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        try:
            key._ed25519().verify(sig.signature, parsed.text.encode("utf-8"))
        except InvalidSignature:
            raise VerificationError(
                f"the signature by {sig.name} (key {sig.key_id.hex()}, note line {sig.line}) does not verify"
            ) from None
        verified = True
    if not verified:
        names = ", ".join(sorted(f"{k.name}+{k.key_id.hex()}" for k in known.values())) or "none given"
        signers = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in parsed.signatures)
        raise VerificationError(f"no signature by a trusted key (trusted: {names}; signed by: {signers})")
    return parsed


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint whose signature has been checked."""

    origin: str
    size: int
    root: bytes
    extensions: Sequence[str]
    note: SignedNote
    signed_by: VerifierKey
    cosigned_by: Sequence[str] = ()  # names of the witnesses whose cosignature verified

    @property
    def text(self) -> str:
        return self.note.text


def parse_checkpoint_text(text: str) -> "tuple[str, int, bytes, List[str]]":
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    if len(lines) < 3:
        raise VerificationError("the checkpoint has fewer than three lines (origin, size, root)")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if not origin:
        raise VerificationError("the checkpoint's origin line is empty")
    if not size_text.isdigit() or not size_text.isascii() or (size_text != "0" and size_text.startswith("0")):
        raise VerificationError(f"the checkpoint's tree size {size_text!r} is not a decimal number")
    root = b64decode_strict(root_b64, "the checkpoint's root hash")
    if len(root) != 32:
        raise VerificationError(f"the checkpoint's root hash is {len(root)} bytes, not 32")
    extensions = lines[3:]
    if any(not line for line in extensions):
        raise VerificationError("the checkpoint has an empty extension line")
    return origin, int(size_text), root, extensions


def verify_checkpoint(
    note: str,
    trust: Iterable[VerifierKey],
    witnesses: Sequence[VerifierKey] = (),
    witness_threshold: Optional[int] = None,
) -> Checkpoint:
    """Check a signed checkpoint: signed by the trusted key named as its origin,
    and cosigned by at least `witness_threshold` of `witnesses` (all of them by default)."""
    trust = list(trust)
    origin_keys = []
    parsed = parse_note(note)
    origin, size, root, extensions = parse_checkpoint_text(parsed.text)
    origin_keys = [k for k in trust if k.name == origin and k.signature_type == SIGNATURE_TYPE_ED25519]
    if not origin_keys:
        trusted = ", ".join(sorted({k.name for k in trust})) or "none"
        raise VerificationError(
            f"no trusted log key is named {origin!r}, the checkpoint's origin (trusted: {trusted})"
        )
    verify_note(note, origin_keys)
    signer = next(
        k for k in origin_keys if any(s.name == k.name and s.key_id == k.key_id for s in parsed.signatures)
    )
    cosigned = verify_cosignatures(parsed, witnesses, witness_threshold)
    return Checkpoint(origin, size, root, extensions, parsed, signer, cosigned)


def verify_cosignatures(
    note: SignedNote, witnesses: Sequence[VerifierKey], threshold: Optional[int] = None
) -> List[str]:
    """Check tlog-cosignature/v1 lines; return the names of the witnesses that cosigned."""
    for w in witnesses:
        if w.signature_type != SIGNATURE_TYPE_COSIGNATURE:
            raise KeyFormatError(f"witness key {w.name} is of type 0x{w.signature_type:02x}, not 0x04")
    needed = len(witnesses) if threshold is None else threshold
    if needed > len(witnesses):
        raise KeyFormatError(f"a threshold of {needed} witnesses, but only {len(witnesses)} witness keys")
    cosigned: List[str] = []
    for w in witnesses:
        for sig in note.signatures:
            if sig.name != w.name or sig.key_id != w.key_id:
                continue
            if len(sig.signature) != 8 + 64:
                raise VerificationError(
                    f"the cosignature by {w.name} (note line {sig.line}) is {len(sig.signature)} bytes, not 72"
                )
            (timestamp,) = struct.unpack(">Q", sig.signature[:8])
            if timestamp >= 2**63:
                raise VerificationError(f"the cosignature by {w.name} has a timestamp beyond 2^63-1")
            message = f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + note.text.encode("utf-8")
            try:
                w._ed25519().verify(sig.signature[8:], message)
            except InvalidSignature:
                raise VerificationError(
                    f"the cosignature by witness {w.name} (note line {sig.line}) does not verify"
                ) from None
            if w.name not in cosigned:
                cosigned.append(w.name)
    if len(cosigned) < needed:
        missing = [w.name for w in witnesses if w.name not in cosigned]
        raise VerificationError(
            f"{len(cosigned)} of the required {needed} witness cosignatures; missing: {', '.join(missing)}"
        )
    return cosigned
