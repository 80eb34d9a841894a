//! C2SP witness cosignatures, Ed25519 type (`cosignature/v1`,
//! <https://c2sp.org/tlog-cosignature>): a witness's timestamped signature
//! line on a log's signed checkpoint, saying that as of that time this was
//! the largest tree it had seen for the log, consistent with all earlier ones.
//!
//! A cosignature is one more signature line on the checkpoint's signed note
//! (see [`super::note`]), under the witness's own key name:
//!
//! ```text
//! key id:   SHA-256(<name> ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4]
//! line:     — <name> base64(key id (4) ‖ timestamp, u64 big-endian (8) ‖ Ed25519 signature (64))
//! signed:   "cosignature/v1\n" ‖ "time <timestamp>\n" ‖ checkpoint text (final newline included)
//! vkey:     <name>+<hex8 key id>+<base64(0x04 ‖ 32-byte public key)>
//! skey:     PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x04 ‖ 32-byte seed)>
//! ```
//!
//! The timestamp is POSIX seconds and at most 2^63 - 1. The signed message
//! does not name the witness, so the spec asks that one key never serve two
//! witness names. The `skey` form is ours (the spec only defines vkeys): the
//! signed-note private key form with type byte 0x04, which Go's
//! `transparency-dev/formats/note` also reads.
//!
//! Not here: the witness's own job of checking consistency before it
//! cosigns (the tlog-witness protocol), ML-DSA-44 cosignatures (type 0x06),
//! refusing timestamps in the future (the caller owns the clock: compare the
//! returned [`Cosignature::timestamp`]), or checking the log's own signature
//! on the note ([`super::open_checkpoint`] does that, and ignores
//! cosignatures as signatures by unknown keys).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};

use super::note::{
    NamedKey, is_valid_key_name, private_key_string, split_signed_note, split_typed_key_string,
    typed_key_id,
};
use super::{Checkpoint, LogError};

/// Signature type byte for Ed25519 cosignature/v1 in key ids and key strings.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;
/// The first line of every cosigned message: domain separation from plain
/// note signatures by the same key.
const HEADER_LINE: &str = "cosignature/v1\n";
/// Bytes after the key id in a cosignature: timestamp and Ed25519 signature.
const TIMESTAMPED_SIGNATURE_LEN: usize = 8 + 64;
/// The signature line prefix: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// The largest timestamp the spec allows: 2^63 - 1.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The key id of an Ed25519 cosigner key: the first 4 bytes, big-endian, of
/// SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key). It differs from the id of the
/// same key used as a plain note signer (type 0x01).
pub fn cosigner_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    typed_key_id(name, COSIGNATURE_V1_TYPE, public_key)
}

/// The exact bytes a witness signs: the header line, the time line, then the
/// checkpoint text. The text is not checked here; [`cosign`] checks it.
pub fn cosignature_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("{HEADER_LINE}time {timestamp}\n{checkpoint_text}")
}

/// A witness's Ed25519 key that cosigns checkpoints under a key name.
///
/// `Debug` shows the name and key id, never the private key. The only way
/// to get the secret out is [`CosignatureSigner::to_private_key_string`].
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl CosignatureSigner {
    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(
        name: &str,
        rng: &mut R,
    ) -> Result<CosignatureSigner, LogError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        CosignatureSigner::from_seed(name, seed)
    }

    /// The key with this 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<CosignatureSigner, LogError> {
        NamedKey::from_seed(name, seed, COSIGNATURE_V1_TYPE).map(CosignatureSigner::from)
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8>+<base64(0x04 ‖ seed)>`, checking
    /// that the key id matches the name and key. A plain note signer key
    /// (type 0x01) is refused: a log key is not a witness key.
    pub fn parse_private_key(text: &str) -> Result<CosignatureSigner, LogError> {
        NamedKey::parse_private(text, COSIGNATURE_V1_TYPE, "cosigner").map(CosignatureSigner::from)
    }

    /// The private key string, for a key file. This is the secret: keep it
    /// out of logs.
    pub fn to_private_key_string(&self) -> String {
        private_key_string(&self.name, self.key_id, COSIGNATURE_V1_TYPE, &self.key)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching public key.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }
}

impl From<NamedKey> for CosignatureSigner {
    fn from(k: NamedKey) -> Self {
        CosignatureSigner {
            name: k.name,
            key_id: k.key_id,
            key: k.key,
        }
    }
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// A witness's Ed25519 public key under its key name: checks its
/// cosignatures.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// The verifier for a raw 32-byte Ed25519 public key.
    pub fn from_public_key(
        name: &str,
        public_key: &[u8; 32],
    ) -> Result<CosignatureVerifier, LogError> {
        if !is_valid_key_name(name) {
            return Err(LogError::InvalidKeyName {
                name: name.to_owned(),
            });
        }
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| bad_key("not a valid Ed25519 public key"))?;
        Ok(CosignatureVerifier {
            name: name.to_owned(),
            key_id: cosigner_key_id(name, public_key),
            key,
        })
    }

    /// Parses the vkey `<name>+<hex8>+<base64(0x04 ‖ public key)>`, checking
    /// that the key id matches the name and key. A plain note verifier key
    /// (type 0x01) is refused rather than silently reinterpreted.
    pub fn parse(text: &str) -> Result<CosignatureVerifier, LogError> {
        let (name, id, key) =
            split_typed_key_string(text.trim_end_matches(['\n', '\r']), COSIGNATURE_V1_TYPE)?;
        let public: [u8; 32] = key
            .try_into()
            .map_err(|_| bad_key("cosigner key is not a 32-byte Ed25519 public key"))?;
        let verifier = CosignatureVerifier::from_public_key(name, &public)?;
        if verifier.key_id != id {
            return Err(bad_key("cosigner key id does not match its name and key"));
        }
        Ok(verifier)
    }

    /// The vkey string.
    pub fn to_key_string(&self) -> String {
        let mut key = vec![COSIGNATURE_V1_TYPE];
        key.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(key))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Checks one cosignature (the bytes after the key id) on `text` and
    /// returns its timestamp.
    fn verify(&self, text: &str, signature: &[u8]) -> Result<u64, LogError> {
        let bad = |reason| LogError::BadCosignature {
            name: self.name.clone(),
            key_id: self.key_id,
            reason,
        };
        if signature.len() != TIMESTAMPED_SIGNATURE_LEN {
            return Err(bad("not 8 timestamp bytes and a 64-byte Ed25519 signature"));
        }
        let (time, signature) = signature.split_at(8);
        let timestamp = u64::from_be_bytes(time.try_into().expect("split at 8"));
        if timestamp > MAX_TIMESTAMP {
            return Err(bad("timestamp is above 2^63 - 1"));
        }
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| bad("malformed Ed25519 signature"))?;
        let message = cosignature_message(text, timestamp);
        self.key
            .verify_strict(message.as_bytes(), &signature)
            .map_err(|_| bad("signature does not match the checkpoint and timestamp"))?;
        Ok(timestamp)
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_key_string())
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({self})")
    }
}

impl FromStr for CosignatureVerifier {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CosignatureVerifier::parse(s)
    }
}

/// A valid cosignature by a known witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's key name.
    pub name: String,
    /// The witness's key id (type 0x04).
    pub key_id: u32,
    /// When the witness cosigned, POSIX seconds (the latest, if it cosigned
    /// the note more than once).
    pub timestamp: u64,
}

/// Cosigns a checkpoint at `unix_time` (POSIX seconds) and returns the
/// signature line, newline included. Append it to the log's signed note as
/// is: `format!("{signed_note}{line}")`.
///
/// `checkpoint_text` is the note text (what [`super::note::open`] returns),
/// and must parse as a checkpoint.
pub fn cosign(
    checkpoint_text: &str,
    signer: &CosignatureSigner,
    unix_time: u64,
) -> Result<String, LogError> {
    Checkpoint::parse(checkpoint_text)?;
    if unix_time > MAX_TIMESTAMP {
        return Err(LogError::CosignatureTimeOutOfRange {
            timestamp: unix_time,
        });
    }
    let message = cosignature_message(checkpoint_text, unix_time);
    let mut bytes = Vec::with_capacity(4 + TIMESTAMPED_SIGNATURE_LEN);
    bytes.extend_from_slice(&signer.key_id.to_be_bytes());
    bytes.extend_from_slice(&unix_time.to_be_bytes());
    bytes.extend_from_slice(&signer.key.sign(message.as_bytes()).to_bytes());
    Ok(format!(
        "{SIGNATURE_PREFIX}{} {}\n",
        signer.name,
        BASE64.encode(bytes)
    ))
}

/// Which of `witnesses` validly cosigned this signed checkpoint, one entry
/// per witness in the order their first line appears.
///
/// A witness is matched by both key name and key id; lines by any other key
/// (the log's own signature, unknown witnesses) are ignored. A line by a
/// known witness that fails to verify is an error, as the signed-note spec
/// advises. The note must be well-formed and its text a checkpoint. This
/// does not check the log's signature: open the note with
/// [`super::open_checkpoint`] too.
pub fn verify_cosignatures(
    signed_note: &str,
    witnesses: &[CosignatureVerifier],
) -> Result<Vec<Cosignature>, LogError> {
    let (text, lines) = split_signed_note(signed_note)?;
    Checkpoint::parse(&text)?;
    let mut found: Vec<Cosignature> = Vec::new();
    for (name, key_id, signature) in lines {
        let known = witnesses
            .iter()
            .find(|w| w.name == name && w.key_id == key_id);
        let Some(witness) = known else {
            continue;
        };
        let timestamp = witness.verify(&text, &signature)?;
        match found
            .iter_mut()
            .find(|c| c.name == name && c.key_id == key_id)
        {
            Some(seen) => seen.timestamp = seen.timestamp.max(timestamp),
            None => found.push(Cosignature {
                name: name.to_owned(),
                key_id,
                timestamp,
            }),
        }
    }
    Ok(found)
}

/// [`verify_cosignatures`], then requires valid cosignatures from at least
/// `threshold` distinct witnesses among `witnesses`. A threshold of 0 still
/// rejects a failing cosignature by a known witness.
pub fn require_cosignatures(
    signed_note: &str,
    witnesses: &[CosignatureVerifier],
    threshold: usize,
) -> Result<Vec<Cosignature>, LogError> {
    let found = verify_cosignatures(signed_note, witnesses)?;
    if found.len() < threshold {
        return Err(LogError::TooFewCosignatures {
            needed: threshold,
            found: found.len(),
            known: witnesses.len(),
        });
    }
    Ok(found)
}

fn bad_key(reason: &str) -> LogError {
    LogError::MalformedKey {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Hash, Signer, open, sign_checkpoint};

    fn checkpoint() -> Checkpoint {
        Checkpoint::new("log.example/a", 5, Hash([3; 32])).unwrap()
    }

    #[test]
    fn key_strings_round_trip() {
        let signer = CosignatureSigner::from_seed("witness.example/w", [9; 32]).unwrap();
        let skey = signer.to_private_key_string();
        let again = CosignatureSigner::parse_private_key(&skey).unwrap();
        assert_eq!(again.to_private_key_string(), skey);
        let vkey = signer.verifier().to_key_string();
        assert_eq!(
            CosignatureVerifier::parse(&vkey).unwrap(),
            signer.verifier()
        );
        assert_eq!(
            vkey.parse::<CosignatureVerifier>().unwrap().to_string(),
            vkey
        );
        // The type byte 0x04 is the first byte of the base64 key material.
        assert!(vkey.rsplit('+').next().unwrap().starts_with("B"), "{vkey}");
    }

    #[test]
    fn a_note_key_is_not_a_cosigner_key() {
        let log = Signer::from_seed("log.example/a", [9; 32]).unwrap();
        let err = CosignatureVerifier::parse(&log.verifier().to_key_string()).unwrap_err();
        assert!(err.to_string().contains("0x01"), "{err}");
        assert!(CosignatureSigner::parse_private_key(&log.to_private_key_string()).is_err());
        // Same seed and name, different key ids by signature type.
        let witness = CosignatureSigner::from_seed("log.example/a", [9; 32]).unwrap();
        assert_ne!(witness.key_id(), log.key_id());
    }

    #[test]
    fn debug_never_prints_the_private_key() {
        let signer = CosignatureSigner::from_seed("witness.example/w", [7; 32]).unwrap();
        let secret = signer.to_private_key_string();
        let seed_b64 = secret.rsplit('+').next().unwrap().to_owned();
        let debug = format!("{signer:?} {signer:#?}");
        assert!(!debug.contains(&seed_b64));
        assert!(debug.contains("redacted"));
        let broken = secret.replace("PRIVATE+KEY+", "PRIVATE+KEY+x+");
        let err = CosignatureSigner::parse_private_key(&broken)
            .unwrap_err()
            .to_string();
        assert!(!err.contains(&seed_b64), "{err}");
    }

    #[test]
    fn cosign_round_trip_and_the_log_still_opens_its_note() {
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let w1 = CosignatureSigner::from_seed("w1.example", [2; 32]).unwrap();
        let w2 = CosignatureSigner::from_seed("w2.example", [3; 32]).unwrap();
        let cp = checkpoint();
        let text = cp.to_text();
        let note = sign_checkpoint(&cp, &log).unwrap();
        let cosigned = format!(
            "{note}{}{}",
            cosign(&text, &w1, 1_700_000_000).unwrap(),
            cosign(&text, &w2, 1_700_000_005).unwrap()
        );
        let witnesses = [w1.verifier(), w2.verifier()];
        let found = require_cosignatures(&cosigned, &witnesses, 2).unwrap();
        assert_eq!(
            found,
            vec![
                Cosignature {
                    name: "w1.example".into(),
                    key_id: w1.key_id(),
                    timestamp: 1_700_000_000
                },
                Cosignature {
                    name: "w2.example".into(),
                    key_id: w2.key_id(),
                    timestamp: 1_700_000_005
                },
            ]
        );
        // The log's own verifier ignores the cosignatures as unknown keys.
        assert_eq!(open(&cosigned, &[log.verifier()]).unwrap(), text);
        // A witness is not a log key: the note does not open with witnesses only.
        assert!(verify_cosignatures(&note, &witnesses).unwrap().is_empty());
        let err = require_cosignatures(&cosigned, &witnesses, 3).unwrap_err();
        assert_eq!(
            err,
            LogError::TooFewCosignatures {
                needed: 3,
                found: 2,
                known: 2
            }
        );
        assert!(err.to_string().contains('3') && err.to_string().contains('2'));
    }

    #[test]
    fn timestamps_at_the_limits() {
        let w = CosignatureSigner::from_seed("w.example", [4; 32]).unwrap();
        let text = checkpoint().to_text();
        let note = format!("{text}\n");
        for t in [0, 1, MAX_TIMESTAMP] {
            let cosigned = format!("{note}{}", cosign(&text, &w, t).unwrap());
            let found = verify_cosignatures(&cosigned, &[w.verifier()]).unwrap();
            assert_eq!(found[0].timestamp, t);
        }
        assert_eq!(
            cosign(&text, &w, MAX_TIMESTAMP + 1).unwrap_err(),
            LogError::CosignatureTimeOutOfRange {
                timestamp: MAX_TIMESTAMP + 1
            }
        );
        assert!(cosign("not a checkpoint\n", &w, 1).is_err());
    }
}
