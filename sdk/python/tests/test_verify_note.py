"""C2SP signed-note, checkpoint and cosignature checks: the spec's own example,
then notes signed here with fresh keys, then malformed ones."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from flightrec.verify import (
    KeyFormatError,
    VerificationError,
    parse_tlog_proof,
    parse_vkey,
    read_trust_file,
    verify_checkpoint,
    verify_note,
)

# c2sp.org/signed-note, "Verifier keys" example.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_specs_example_note_verifies() -> None:
    key = parse_vkey(SPEC_VKEY)
    assert key.name == "example.com/foo" and key.key_id.hex() == "530d903a"
    note = verify_note(SPEC_NOTE, [key])
    assert note.text == "This is an example message.\n"
    with pytest.raises(VerificationError, match="does not verify"):
        verify_note(SPEC_NOTE.replace("example message", "exemple message"), [key])


def test_vkeys_are_checked() -> None:
    with pytest.raises(KeyFormatError, match="does not match the key"):
        parse_vkey(SPEC_VKEY.replace("530d903a", "530d903b"))
    with pytest.raises(KeyFormatError, match="not <name>"):
        parse_vkey("example.com/foo")
    with pytest.raises(KeyFormatError, match="not a witness key"):
        parse_vkey(SPEC_VKEY, expect_type=0x04)
    with pytest.raises(KeyFormatError, match="no verifier key"):
        read_trust_file("# only a comment\n\n")
    assert read_trust_file(f"# comment\n{SPEC_VKEY}\n")[0].name == "example.com/foo"


class Signer:
    def __init__(self, name: str, signature_type: int = 0x01) -> None:
        self.name = name
        self.private = Ed25519PrivateKey.generate()
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public).digest()[:4]
        self.vkey = f"{name}+{self.key_id.hex()}+{base64.b64encode(bytes([signature_type]) + public).decode()}"

    def line(self, text: str) -> str:
        sig = self.private.sign(text.encode())
        return f"\u2014 {self.name} {base64.b64encode(self.key_id + sig).decode()}\n"

    def cosign(self, text: str, timestamp: int) -> str:
        message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
        sig = struct.pack(">Q", timestamp) + self.private.sign(message)
        return f"\u2014 {self.name} {base64.b64encode(self.key_id + sig).decode()}\n"


ROOT_B64 = base64.b64encode(bytes(range(32))).decode()


def checkpoint_text(origin: str = "flightrec.test/default", size: int = 5) -> str:
    return f"{origin}\n{size}\n{ROOT_B64}\n"


def test_checkpoint_with_cosignatures() -> None:
    log, witness, other = Signer("flightrec.test/default"), Signer("w1.example", 0x04), Signer("w2.example", 0x04)
    text = checkpoint_text()
    stranger = Signer("someone.else")
    note = text + "\n" + stranger.line(text) + log.line(text) + witness.cosign(text, 1700000000)
    cp = verify_checkpoint(note, [parse_vkey(log.vkey)], [parse_vkey(witness.vkey)])
    assert (cp.origin, cp.size, cp.root) == ("flightrec.test/default", 5, bytes(range(32)))
    assert list(cp.cosigned_by) == ["w1.example"]
    with pytest.raises(VerificationError, match="missing: w2.example"):
        verify_checkpoint(note, [parse_vkey(log.vkey)], [parse_vkey(witness.vkey), parse_vkey(other.vkey)])
    cp = verify_checkpoint(
        note, [parse_vkey(log.vkey)], [parse_vkey(witness.vkey), parse_vkey(other.vkey)], witness_threshold=1
    )
    assert list(cp.cosigned_by) == ["w1.example"]
    # The same cosignature claiming another time does not verify.
    line = witness.cosign(text, 1700000000)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[4 + 7] ^= 1  # the timestamp's last byte
    forged = note.replace(line, f"\u2014 w1.example {base64.b64encode(bytes(raw)).decode()}\n")
    with pytest.raises(VerificationError, match="cosignature by witness w1.example"):
        verify_checkpoint(forged, [parse_vkey(log.vkey)], [parse_vkey(witness.vkey)])


def test_checkpoint_signed_by_the_wrong_key_or_name() -> None:
    log, impostor = Signer("flightrec.test/default"), Signer("flightrec.test/default")
    text = checkpoint_text()
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        verify_checkpoint(text + "\n" + impostor.line(text), [parse_vkey(log.vkey)])
    other_origin = checkpoint_text("flightrec.test/other")
    with pytest.raises(VerificationError, match="no trusted log key is named 'flightrec.test/other'"):
        verify_checkpoint(other_origin + "\n" + log.line(other_origin), [parse_vkey(log.vkey)])


@pytest.mark.parametrize(
    "note, reason",
    [
        ("a\n1\nroot\n", "no blank line"),
        ("a\n1\n\n\u2014 a AAAA\n", "too short"),
        ("a\n1\n\n- a AAAAAAAA\n", "em dash"),
        ("a\x01\n\n\u2014 a AAAAAAAA\n", "control character"),
        ("a\n\n\u2014 a AAAAAAAA", "end with a newline"),
        ("a\n\n\u2014 a not*base64\n", "not valid base64"),
    ],
)
def test_malformed_notes(note: str, reason: str) -> None:
    with pytest.raises(VerificationError, match=reason):
        verify_note(note, [parse_vkey(SPEC_VKEY)])


def test_malformed_checkpoints() -> None:
    log = Signer("o")
    for text, reason in [
        ("o\n05\n" + ROOT_B64 + "\n", "not a decimal number"),
        ("o\n5\n" + base64.b64encode(b"short").decode() + "\n", "not 32"),
        ("o\n5\n", "fewer than three lines"),
    ]:
        with pytest.raises(VerificationError, match=reason):
            verify_checkpoint(text + "\n" + log.line(text), [parse_vkey(log.vkey)])


def test_tlog_proof_file_form() -> None:
    proof = parse_tlog_proof(
        "c2sp.org/tlog-proof@v1\nextra aGk=\nindex 3\n" + ROOT_B64 + "\n\n" + checkpoint_text() + "\n\u2014 x AAAAAAAA\n"
    )
    assert (proof.index, proof.extra, len(proof.hashes)) == (3, b"hi", 1)
    assert proof.checkpoint.startswith("flightrec.test/default\n5\n")
    for text, reason in [
        ("c2sp.org/tlog-proof@v2\nindex 1\n\n", "not a tlog-proof file"),
        ("c2sp.org/tlog-proof@v1\nindex 01\n\n", "not a decimal number"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", "not 32"),
        ("c2sp.org/tlog-proof@v1\n\n", "no 'index N' line"),
    ]:
        with pytest.raises(VerificationError, match=reason):
            parse_tlog_proof(text)
