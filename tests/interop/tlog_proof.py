"""A second, independent reader of C2SP tlog-proof files, written from the
specs (c2sp.org/tlog-proof, signed-note, tlog-checkpoint, tlog-cosignature,
RFC 9162) with Python's standard library and `cryptography` for Ed25519, so
that flightrec's proof files are not only checked by flightrec's own code.

usage: tlog_proof.py PROOF_FILE RECORD_JSON LOG_VKEY [WITNESS_VKEY ...]

RECORD_JSON holds {"header": {...}} (what `flightrec log proof -o` saves).
Every witness given must have cosigned. Prints "OK ..." and exits 0, or
prints why not and exits 1.
"""

import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def jcs(value):
    # The headers hold only strings and non-negative integers, for which
    # RFC 8785 is sorted keys, no white space and minimal string escapes.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_vkey(vkey, sig_type):
    name, key_id, key = vkey.split("+", 2)
    raw = base64.b64decode(key)
    if raw[0] != sig_type or len(raw) != 33:
        fail("key %s is not of signature type %d" % (name, sig_type))
    digest = hashlib.sha256(name.encode() + b"\n" + raw).digest()
    if digest[:4].hex() != key_id:
        fail("key id of %s does not match" % name)
    return name, digest[:4], Ed25519PublicKey.from_public_bytes(raw[1:])


def signatures(note):
    text, _, block = note.rpartition("\n\n")
    for line in block.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail("bad signature line %r" % line)
        name, sig = line[2:].split(" ")
        yield text + "\n", name, base64.b64decode(sig)


def root_from_proof(index, size, leaf, proof):
    # RFC 9162 section 2.1.3.2.
    if index >= size:
        fail("index past the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            fail("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("proof too short")
    return r


def main():
    proof_path, record_path, log_vkey = sys.argv[1:4]
    witness_vkeys = sys.argv[4:]
    lines = open(proof_path, encoding="utf-8").read().split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("not a tlog-proof file")
    i = 1
    if lines[i].startswith("extra "):
        i += 1
    if not lines[i].startswith("index "):
        fail("no index line")
    index = int(lines[i][len("index "):])
    i += 1
    hashes = []
    while lines[i] != "":
        hashes.append(base64.b64decode(lines[i], validate=True))
        i += 1
    note = "\n".join(lines[i + 1:])

    name, key_id, key = parse_vkey(log_vkey, 0x01)
    text = None
    for signed, who, sig in signatures(note):
        if who == name and sig[:4] == key_id:
            try:
                key.verify(sig[4:], signed.encode())
            except InvalidSignature:
                fail("the log's signature does not verify")
            text = signed
    if text is None:
        fail("no signature by the log's key")
    origin, size, root_b64 = text.split("\n")[:3]
    if origin != name:
        fail("checkpoint origin %r is not the key's name" % origin)
    size, root = int(size), base64.b64decode(root_b64)

    for wkey in witness_vkeys:
        wname, wid, wpub = parse_vkey(wkey, 0x04)
        ok = False
        for signed, who, sig in signatures(note):
            if who == wname and sig[:4] == wid:
                (timestamp,) = struct.unpack(">Q", sig[4:12])
                message = "cosignature/v1\ntime %d\n" % timestamp + signed
                try:
                    wpub.verify(sig[12:], message.encode())
                    ok = True
                except InvalidSignature:
                    fail("the cosignature of %s does not verify" % wname)
        if not ok:
            fail("no cosignature by witness %s" % wname)

    header = json.load(open(record_path, encoding="utf-8"))["header"]
    if header["seq"] != index:
        fail("the record is not the proof's entry")
    leaf = hashlib.sha256(b"\x00" + jcs(header).encode()).digest()
    if root_from_proof(index, size, leaf, hashes) != root:
        fail("the inclusion proof does not lead to the checkpoint's root")
    print("OK: entry %d of %s, tree size %d, %d witness(es)" % (index, origin, size, len(witness_vkeys)))


main()
