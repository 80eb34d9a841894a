//! The SHA-256 hash of a Merkle tree node, and the two RFC 9162 §2.1 hash
//! functions that make leaves and interior nodes.
//!
//! This file knows nothing about tree shape, tiles or proofs; it only says how
//! bytes become a [`Hash`] and how a [`Hash`] is written down.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::LogError;

/// A 32-byte SHA-256 value: a leaf hash, an interior node hash or a tree root.
///
/// Written as lowercase hex by `Display`, `Debug` and serde (the form our JSON
/// API and database use), and as standard padded base64 where the C2SP specs
/// want it (checkpoints).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The number of bytes in a hash.
    pub const LEN: usize = 32;

    /// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
    pub const EMPTY_TREE: Hash = Hash([
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash from a byte slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, LogError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| LogError::MalformedHash {
            reason: format!("expected 32 bytes, got {}", bytes.len()),
        })?;
        Ok(Hash(array))
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Hash, LogError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(|e| LogError::MalformedHash {
            reason: format!("not 64 hex digits: {e}"),
        })?;
        Ok(Hash(out))
    }

    /// Standard padded base64 (RFC 4648 §4), as in a checkpoint's root line.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes. Non-canonical
    /// encodings (stray trailing bits, missing padding) are refused, so one
    /// hash has exactly one spelling.
    pub fn from_base64(text: &str) -> Result<Hash, LogError> {
        let bytes = BASE64.decode(text).map_err(|e| LogError::MalformedHash {
            reason: format!("not base64: {e}"),
        })?;
        Hash::from_slice(&bytes)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Borrow when the format allows it; fall back to an owned string.
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// The hash of a leaf: SHA-256(0x00 ‖ input) (RFC 9162 §2.1.1).
///
/// The 0x00 prefix keeps a leaf from ever being mistaken for an interior node.
pub fn leaf_hash(input: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(input);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One contiguous 65-byte buffer: a single `update` call is measurably
    // faster than three on the sequencer's hot path.
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_constant_is_sha256_of_nothing() {
        assert_eq!(Hash(Sha256::digest(b"").into()), Hash::EMPTY_TREE);
        assert_eq!(
            Hash::EMPTY_TREE.to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn text_forms_round_trip() {
        let h = leaf_hash(b"hello");
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert_eq!(Hash::from_base64(&h.to_base64()).unwrap(), h);
        assert_eq!(format!("{h:?}"), format!("Hash({})", h.to_hex()));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", h.to_hex()));
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
    }

    #[test]
    fn malformed_text_is_refused() {
        assert!(Hash::from_hex("00").is_err());
        assert!(Hash::from_hex(&"zz".repeat(32)).is_err());
        assert!(Hash::from_base64("AAAA").is_err());
        // 32 zero bytes with a non-zero trailing bit: not the canonical spelling.
        assert!(Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=").is_err());
        assert!(Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_err());
        assert!(Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert!(serde_json::from_str::<Hash>("\"abc\"").is_err());
    }
}
