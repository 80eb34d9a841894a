"""RFC 9162 §2.1 Merkle tree hashing and proof verification, from the RFC's text."""

from __future__ import annotations

import hashlib
from typing import Iterable, List, Sequence, Tuple

from .errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf_input: bytes) -> bytes:
    """SHA-256(0x00 ‖ leaf input) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class TreeBuilder:
    """Computes the root of a tree fed one leaf hash at a time, in O(log n) memory.

    It keeps the roots of the perfect subtrees the leaves so far form (the
    binary digits of the count); the RFC's MTH splits at the largest power of
    two, which is these subtrees folded from the right.
    """

    def __init__(self) -> None:
        self._stack: List[Tuple[int, bytes]] = []  # (subtree size, root), sizes decreasing
        self.size = 0

    def append(self, leaf: bytes) -> None:
        size, value = 1, leaf
        stack = self._stack
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            value = hashlib.sha256(b"\x01" + left + value).digest()
            size += left_size
        stack.append((size, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes."""
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


def _check_hashes(proof: Sequence[bytes], what: str) -> None:
    for index, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise VerificationError(f"{what} hash {index} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or an error if the proof cannot be one."""
    if tree_size <= 0 or not 0 <= leaf_index < tree_size:
        raise VerificationError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    _check_hashes(proof, "inclusion proof")
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError(f"inclusion proof has {len(proof)} hashes, more than the tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(f"inclusion proof has {len(proof)} hashes, fewer than the tree needs")
    return r


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise VerificationError unless `proof` shows `leaf` at `leaf_index` in the tree with `root`."""
    computed = root_from_inclusion_proof(leaf_index, tree_size, leaf, proof)
    if computed != root:
        raise VerificationError(
            f"inclusion proof for leaf {leaf_index} leads to root {computed.hex()}, "
            f"not the checkpoint's {root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise VerificationError unless `proof` shows the tree of `old_size` is a prefix of
    the tree of `new_size` (RFC 9162 §2.1.4.2)."""
    if old_size < 0 or new_size < old_size:
        raise VerificationError(f"cannot prove size {old_size} consistent with the smaller size {new_size}")
    _check_hashes(proof, "consistency proof")
    if old_size == new_size:
        if proof:
            raise VerificationError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise VerificationError(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:
        # Everything extends the empty tree; there is nothing to prove.
        if proof:
            raise VerificationError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(f"consistency proof has {len(proof)} hashes, more than the trees need")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(f"consistency proof has {len(proof)} hashes, fewer than the trees need")
    if fr != old_root:
        raise VerificationError(
            f"consistency proof leads to old root {fr.hex()}, not {old_root.hex()} (size {old_size})"
        )
    if sr != new_root:
        raise VerificationError(
            f"consistency proof leads to new root {sr.hex()}, not {new_root.hex()} (size {new_size})"
        )
