"""Offline verification of flightrec's records, exports and proofs.

Written from the specifications alone (RFC 9162, RFC 8785, C2SP signed-note,
tlog-checkpoint, tlog-cosignature, tlog-proof, and docs/record-format.md),
independently of the server's code, so that an auditor need trust neither.
"""

from __future__ import annotations

from .consistency import verify_checkpoint_consistency
from .errors import KeyFormatError, VerificationError
from .export import Report, verify_export
from .jcs import canonicalize
from .merkle import leaf_hash, node_hash, root_of, verify_consistency, verify_inclusion
from .note import (
    Checkpoint,
    VerifierKey,
    parse_vkey,
    read_trust_file,
    verify_checkpoint,
    verify_cosignatures,
    verify_note,
)
from .proof_file import parse_tlog_proof, verify_event_proof, verify_proof_file
from .record import body_hash, check_record, header_leaf

__all__ = [
    "Checkpoint",
    "KeyFormatError",
    "Report",
    "VerificationError",
    "VerifierKey",
    "body_hash",
    "canonicalize",
    "check_record",
    "header_leaf",
    "leaf_hash",
    "node_hash",
    "parse_tlog_proof",
    "parse_vkey",
    "read_trust_file",
    "root_of",
    "verify_checkpoint",
    "verify_checkpoint_consistency",
    "verify_consistency",
    "verify_cosignatures",
    "verify_event_proof",
    "verify_export",
    "verify_inclusion",
    "verify_note",
    "verify_proof_file",
]
