//! The tamper-evident log: an RFC 9162 Merkle tree stored as C2SP tiles, with
//! proofs, checkpoints and signed notes.
//!
//! - [`hash`]: the [`Hash`] type and the leaf/node hash functions.
//! - [`tree`]: the naive reference tree hash, subtree and root hashes read
//!   from tiles, and [`RightEdge`], the sequencer's append state.
//! - [`tile`]: C2SP tlog-tiles paths, tile bytes and entry bundles.
//! - [`proof`]: inclusion and consistency proofs: building and verifying.
//! - [`checkpoint`]: the C2SP tlog-checkpoint text.
//! - [`note`]: C2SP signed notes with Ed25519 keys.
//! - [`cosignature`]: C2SP witness cosignatures (Ed25519 `cosignature/v1`)
//!   on signed checkpoints, and a threshold of trusted witnesses.
//! - [`proof_file`]: the C2SP tlog-proof file: an entry's index, inclusion
//!   proof and cosigned checkpoint in one offline-checkable text.
//!
//! Not here: where tiles live (the store implements [`TileReader`]), when
//! checkpoints are signed (the sequencer), key files on disk (the binary), or
//! how a record becomes leaf bytes (`record`). Everything is synchronous and
//! allocation-light; nothing does I/O.

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
pub mod note;
pub mod proof;
pub mod proof_file;
pub mod tile;
pub mod tree;

pub use checkpoint::Checkpoint;
pub use cosignature::{
    Cosignature, CosignatureSigner, CosignatureVerifier, cosign, require_cosignatures,
    verify_cosignatures,
};
pub use hash::{Hash, leaf_hash, node_hash};
pub use note::{Signer, Verifier, open, open_checkpoint, sign, sign_checkpoint};
pub use proof::{
    ConsistencyProof, InclusionProof, consistency_proof, inclusion_proof,
    root_from_inclusion_proof, verify_consistency, verify_inclusion,
};
pub use proof_file::{Leaf, ProofFile, verify_proof_file};
pub use tile::{EntryBundleId, TileId, TileResource};
pub use tree::{
    MemoryTiles, RightEdge, TileReader, TileRef, merkle_tree_hash, subtree_hash, tree_root,
};

/// Everything that can go wrong in this module.
///
/// A [`TileReader`]'s own errors are not wrapped here: functions that read
/// tiles return the reader's error type, which must be `From<LogError>` so a
/// misbehaving reader or an impossible request can still be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("malformed hash: {reason}")]
    MalformedHash { reason: String },

    #[error(
        "tile reader returned {got} hashes for tile level {level} index {index}, \
         but {wanted} were asked for; the tile store is missing data or is corrupt"
    )]
    ShortTile {
        level: u8,
        index: u64,
        wanted: u16,
        got: usize,
    },

    #[error("no subtree of height {level} at position {index} fits in a 2^64-leaf tree")]
    SubtreeOutOfRange { level: u32, index: u64 },

    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },

    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder { old_size: u64, new_size: u64 },

    #[error("proof has {got} hashes, but a proof for these sizes has exactly {expected}")]
    WrongProofLength { expected: usize, got: usize },

    #[error("inclusion proof does not lead to the expected root")]
    InclusionMismatch,

    #[error("consistency proof does not lead to the expected {which} root")]
    ConsistencyMismatch { which: &'static str },

    #[error("malformed tile path {path:?}: {reason}")]
    MalformedTilePath { path: String, reason: String },

    #[error("malformed tile: {reason}")]
    MalformedTile { reason: String },

    #[error("malformed entry bundle: {reason}")]
    MalformedEntryBundle { reason: String },

    #[error("entry of {len} bytes is too long for an entry bundle (at most 65535)")]
    EntryTooLong { len: usize },

    #[error("malformed checkpoint: {reason}")]
    MalformedCheckpoint { reason: String },

    #[error("checkpoint is for origin {got:?}, expected {expected:?}")]
    WrongOrigin { expected: String, got: String },

    #[error(
        "invalid key name {name:?}: it must be non-empty and contain no spaces, \
         '+' or control characters"
    )]
    InvalidKeyName { name: String },

    #[error("malformed key: {reason}")]
    MalformedKey { reason: String },

    #[error("malformed signed note: {reason}")]
    MalformedNote { reason: String },

    #[error("signature by known key {name}+{key_id:08x} does not verify")]
    BadSignature { name: String, key_id: u32 },

    #[error("note carries no signature by any known key")]
    NoKnownSignature,

    #[error("cosignature by known witness {name}+{key_id:08x} does not verify: {reason}")]
    BadCosignature {
        name: String,
        key_id: u32,
        reason: &'static str,
    },

    #[error("cosignature time {timestamp} is above 2^63 - 1, the largest tlog-cosignature allows")]
    CosignatureTimeOutOfRange { timestamp: u64 },

    #[error(
        "checkpoint needs valid cosignatures from {needed} of the {known} trusted witnesses, \
         but has them from {found}"
    )]
    TooFewCosignatures {
        needed: usize,
        found: usize,
        known: usize,
    },

    #[error("malformed tlog-proof file, line {line}: {reason}")]
    MalformedProofFile { line: usize, reason: String },
}
