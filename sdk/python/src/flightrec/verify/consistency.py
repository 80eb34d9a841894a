"""Two signed checkpoints of one log, and the consistency proof between them:
the later tree extends the earlier one (nothing was rewritten or dropped)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple

from .errors import VerificationError
from .export import KeyArg, as_keys
from .merkle import verify_consistency
from .note import Checkpoint, verify_checkpoint


def _hashes(proof: Any) -> Sequence[bytes]:
    if isinstance(proof, Mapping):
        proof = proof.get("hashes")
    if not isinstance(proof, (list, tuple)):
        raise VerificationError("the consistency proof is not a list of hashes (or {old_size, new_size, hashes})")
    out = []
    for index, value in enumerate(proof):
        if isinstance(value, (bytes, bytearray)):
            out.append(bytes(value))
            continue
        try:
            raw = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise VerificationError(f"consistency proof hash {index} is not 32 bytes of hex")
        out.append(raw)
    return out


def verify_checkpoint_consistency(
    old_note: str,
    new_note: str,
    proof: Any,
    *,
    trust: Iterable[KeyArg],
    witnesses: Sequence[KeyArg] = (),
    witness_threshold: Optional[int] = None,
) -> Tuple[Checkpoint, Checkpoint]:
    """Check both checkpoints' signatures (the new one's cosignatures too), that
    they are of the same log, and `proof` (`GET /v1/log/proof/consistency`'s
    JSON, or its list of hex hashes) from the old size to the new."""
    keys = as_keys(trust)
    old = verify_checkpoint(old_note, keys)
    new = verify_checkpoint(new_note, keys, as_keys(witnesses, expect_type=0x04), witness_threshold)
    if old.origin != new.origin:
        raise VerificationError(f"the checkpoints are of two logs: {old.origin!r} and {new.origin!r}")
    if isinstance(proof, Mapping):
        sizes = (proof.get("old_size"), proof.get("new_size"))
        if sizes != (old.size, new.size):
            raise VerificationError(
                f"the proof is between sizes {sizes[0]} and {sizes[1]}, the checkpoints are {old.size} and {new.size}"
            )
    verify_consistency(old.size, new.size, old.root, new.root, _hashes(proof))
    return old, new
