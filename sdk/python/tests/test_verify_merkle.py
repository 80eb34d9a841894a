"""RFC 9162 proofs against Certificate Transparency's published vectors and
against the RFC's recursive definitions (MTH, PATH, PROOF) written here."""

from __future__ import annotations

import hashlib
from typing import List

import pytest

from flightrec.verify import VerificationError, leaf_hash, node_hash, root_of, verify_consistency, verify_inclusion
from flightrec.verify.merkle import EMPTY_ROOT

# The leaf inputs and roots of Certificate Transparency's reference test vectors.
LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}


def h(values: List[str]) -> List[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_roots_of_the_reference_vectors() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for size in range(1, 9):
        assert root_of(leaf_hash(x) for x in LEAVES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize("index, size", sorted(INCLUSION))
def test_reference_inclusion_proofs(index: int, size: int) -> None:
    proof = h(INCLUSION[(index, size)])
    root = bytes.fromhex(ROOTS[size - 1])
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, root)
    with pytest.raises(VerificationError, match="leads to root"):
        verify_inclusion(index, size, leaf_hash(LEAVES[index + 1]), proof, root)
    with pytest.raises(VerificationError, match="fewer than the tree needs"):
        verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof[:-1], root)
    with pytest.raises(VerificationError, match="more than the tree needs"):
        verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof + proof[:1], root)


def test_a_real_certificate_transparency_inclusion_proof() -> None:
    # From CT's own verifier tests: entry 848049 of a 3,630,887-entry log.
    path = h([
        "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd", "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
        "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d", "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
        "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2", "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
        "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048", "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
        "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2", "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
        "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc", "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
        "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66", "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
        "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009", "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
        "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f", "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
        "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1", "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
        "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d", "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
    ])
    leaf = bytes.fromhex("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78")
    root = bytes.fromhex("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb")
    verify_inclusion(848049, 3630887, leaf, path, root)
    with pytest.raises(VerificationError):
        verify_inclusion(848050, 3630887, leaf, path, root)


@pytest.mark.parametrize("old, new", sorted(CONSISTENCY))
def test_reference_consistency_proofs(old: int, new: int) -> None:
    proof = h(CONSISTENCY[(old, new)])
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    verify_consistency(old, new, old_root, new_root, proof)
    with pytest.raises(VerificationError):
        verify_consistency(old, new, old_root, new_root, proof[:-1])
    flipped = bytearray(new_root)
    flipped[0] ^= 1
    with pytest.raises(VerificationError, match="new root"):
        verify_consistency(old, new, old_root, bytes(flipped), proof)


def test_consistency_edge_cases() -> None:
    root = bytes.fromhex(ROOTS[0])
    verify_consistency(1, 1, root, root, [])
    verify_consistency(0, 5, EMPTY_ROOT, bytes.fromhex(ROOTS[4]), [])
    with pytest.raises(VerificationError, match="same size"):
        verify_consistency(3, 3, root, bytes.fromhex(ROOTS[2]), [])
    with pytest.raises(VerificationError, match="smaller size"):
        verify_consistency(5, 2, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[1]), h(CONSISTENCY[(2, 5)]))
    with pytest.raises(VerificationError, match="empty"):
        verify_consistency(6, 8, bytes.fromhex(ROOTS[5]), bytes.fromhex(ROOTS[7]), [])


# RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, as the RFC defines them (recursively),
# to produce proofs for every shape of tree up to 40 leaves.
def mth(d: List[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return leaf_hash(d[0])
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: List[bytes]) -> List[bytes]:
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: List[bytes], b: bool) -> List[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def test_every_proof_of_trees_up_to_40_leaves() -> None:
    data = [bytes([i]) * (i % 7) for i in range(40)]
    for n in range(1, 41):
        root = mth(data[:n])
        assert root_of(leaf_hash(x) for x in data[:n]) == root
        for m in range(n):
            verify_inclusion(m, n, leaf_hash(data[m]), path(m, data[:n]), root)
        for m in range(1, n):
            proof = subproof(m, data[:n], True)
            verify_consistency(m, n, mth(data[:m]), root, proof)
            if proof:
                bad = list(proof)
                bad[-1] = bytes(32)
                with pytest.raises(VerificationError):
                    verify_consistency(m, n, mth(data[:m]), root, bad)
