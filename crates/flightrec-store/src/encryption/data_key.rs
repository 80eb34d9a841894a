//! A tenant's data key and the sealed form of what it encrypts:
//!
//! ```text
//! "FRE1" | key id (u32, big-endian) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//! ```
//!
//! The associated data is the value's [`Place`] (what it is, its tenant,
//! where it sits) and the key id: a sealed value copied to another row,
//! another tenant or another kind of column does not open. Nonces are
//! random; a data key seals well under the 2^32 values that random 96-bit
//! nonces allow.

use crate::StoreError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;

/// The first bytes of every sealed value. Neither JSON text (`{`) nor a
/// zstd frame starts so: a body column tells all three apart.
pub const SEALED_MAGIC: [u8; 4] = *b"FRE1";
const MAGIC: [u8; 4] = SEALED_MAGIC;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 4 + NONCE_LEN;
/// Sealed values in text columns: this prefix and the value in base64.
const TEXT_PREFIX: &str = "flightrec-sealed:";
/// Put before a plain text that starts like a sealed one (or like this),
/// so that text a client sent is never read as a sealed value.
pub(crate) const PLAIN_PREFIX: &str = "flightrec-plain:";

/// A plain value for a text column that may also hold sealed ones.
pub fn plain_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(TEXT_PREFIX) || text.starts_with(PLAIN_PREFIX) {
        format!("{PLAIN_PREFIX}{text}").into()
    } else {
        text.into()
    }
}

/// The length of a data key (AES-256).
pub const KEY_LEN: usize = 32;

/// Where a sealed value belongs, bound into its associated data.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// A record's body.
    Body { seq: u64 },
    /// The excerpt of body text an alert keeps.
    AlertExcerpt { alert: &'a str },
    /// A webhook delivery's payload, which may quote a body.
    WebhookPayload { delivery: &'a str },
    /// A report's file.
    ReportFile { report: &'a str },
}

impl Place<'_> {
    fn associated_data(&self, tenant: &str, key_id: u32) -> Vec<u8> {
        let (kind, at): (&str, &[u8]) = match self {
            Place::Body { seq } => ("body", &seq.to_be_bytes()[..]),
            Place::AlertExcerpt { alert } => ("alert excerpt", alert.as_bytes()),
            Place::WebhookPayload { delivery } => ("webhook payload", delivery.as_bytes()),
            Place::ReportFile { report } => ("report file", report.as_bytes()),
        };
        let mut aad = Vec::with_capacity(32 + tenant.len() + at.len());
        aad.extend_from_slice(b"flightrec ");
        aad.extend_from_slice(kind.as_bytes());
        aad.push(0);
        aad.extend_from_slice(tenant.as_bytes());
        aad.push(0);
        aad.extend_from_slice(at);
        aad.push(0);
        aad.extend_from_slice(&key_id.to_be_bytes());
        aad
    }
}

/// One of a tenant's data keys, unwrapped.
pub struct DataKey {
    id: u32,
    cipher: Aes256Gcm,
    search: super::SearchKey,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    pub fn new(id: u32, key: &[u8; KEY_LEN]) -> DataKey {
        DataKey {
            id,
            cipher: Aes256Gcm::new(key.into()),
            search: super::SearchKey::derive(key),
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The key of the blind index of what this key seals.
    pub fn search_key(&self) -> &super::SearchKey {
        &self.search
    }

    /// `plain` sealed for `place` in `tenant`.
    pub fn seal(&self, tenant: &str, place: Place<'_>, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = place.associated_data(tenant, self.id);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encrypts any value under 64 GiB");
        let mut sealed = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        sealed.extend_from_slice(&MAGIC);
        sealed.extend_from_slice(&self.id.to_be_bytes());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// [`DataKey::seal`] for a text column.
    pub fn seal_text(&self, tenant: &str, place: Place<'_>, plain: &str) -> String {
        format!(
            "{TEXT_PREFIX}{}",
            BASE64.encode(self.seal(tenant, place, plain.as_bytes()))
        )
    }

    /// What `sealed` holds, if it was sealed by this key for `place` in
    /// `tenant` and not changed since.
    pub fn open(
        &self,
        tenant: &str,
        place: Place<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        if sealed_key_id(sealed) != Some(self.id) {
            return Err(StoreError::Corrupt(
                "a sealed value names another data key".into(),
            ));
        }
        let (nonce, ciphertext) = sealed[MAGIC.len() + 4..].split_at(NONCE_LEN);
        let aad = place.associated_data(tenant, self.id);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| {
                StoreError::Corrupt(
                    "a sealed value does not open: it was changed, or moved from where it was sealed"
                        .into(),
                )
            })
    }
}

/// Whether stored bytes are a sealed value.
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(&MAGIC)
}

/// The id of the data key a sealed value names; `None` for bytes that are
/// not a (whole) sealed value.
pub fn sealed_key_id(stored: &[u8]) -> Option<u32> {
    if !is_sealed(stored) || stored.len() < HEADER_LEN + TAG_LEN {
        return None;
    }
    let id = stored[MAGIC.len()..MAGIC.len() + 4].try_into().ok()?;
    Some(u32::from_be_bytes(id))
}

/// The sealed bytes of a text column's value, if it holds one.
pub fn sealed_text(stored: &str) -> Option<Result<Vec<u8>, StoreError>> {
    let encoded = stored.strip_prefix(TEXT_PREFIX)?;
    Some(
        BASE64
            .decode(encoded)
            .map_err(|_| StoreError::Corrupt("a sealed text value is not base64".into())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32, byte: u8) -> DataKey {
        DataKey::new(id, &[byte; KEY_LEN])
    }

    #[test]
    fn a_sealed_body_opens_only_where_it_was_sealed() {
        let k = key(1, 7);
        let sealed = k.seal("acme", Place::Body { seq: 5 }, b"hello");
        assert!(is_sealed(&sealed));
        assert_eq!(sealed_key_id(&sealed), Some(1));
        assert_eq!(
            k.open("acme", Place::Body { seq: 5 }, &sealed).unwrap(),
            b"hello"
        );
        for (tenant, place) in [
            ("acme", Place::Body { seq: 6 }),
            ("other", Place::Body { seq: 5 }),
            ("acme", Place::ReportFile { report: "5" }),
        ] {
            assert!(k.open(tenant, place, &sealed).is_err());
        }
        assert!(
            key(1, 8)
                .open("acme", Place::Body { seq: 5 }, &sealed)
                .is_err()
        );
        assert!(
            key(2, 7)
                .open("acme", Place::Body { seq: 5 }, &sealed)
                .is_err()
        );
    }

    #[test]
    fn a_changed_byte_is_refused() {
        let k = key(3, 1);
        let mut sealed = k.seal("acme", Place::Body { seq: 1 }, b"some body text");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(k.open("acme", Place::Body { seq: 1 }, &sealed).is_err());
        assert!(
            k.open("acme", Place::Body { seq: 1 }, &sealed[..10])
                .is_err()
        );
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let k = key(1, 2);
        let place = Place::AlertExcerpt { alert: "a1" };
        let (a, b) = (k.seal_text("t", place, "x"), k.seal_text("t", place, "x"));
        assert_ne!(a, b);
        let bytes = sealed_text(&a).unwrap().unwrap();
        assert_eq!(k.open("t", place, &bytes).unwrap(), b"x");
        assert!(sealed_text("plain excerpt").is_none());
    }

    #[test]
    fn sealed_values_are_neither_json_nor_zstd() {
        let sealed = key(1, 0).seal("t", Place::Body { seq: 0 }, b"{}");
        assert_ne!(sealed[0], b'{');
        assert_ne!(&sealed[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
    }
}
