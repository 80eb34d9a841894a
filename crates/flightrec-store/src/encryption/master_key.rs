//! The master key that wraps every data key. flightrec holds a local one
//! (from `FLIGHTREC_MASTER_KEY` or a key file only its owner may read);
//! [`MasterKey`] is the seam where a KMS can take its place: it is asked
//! only to wrap and unwrap 32-byte data keys, never to see a body.

use super::data_key::KEY_LEN;
use crate::StoreError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

/// What wraps and unwraps data keys.
pub trait MasterKey: Send + Sync {
    /// A name for this master key that reveals nothing of it; stored beside
    /// each data key it wrapped, so a node given the wrong master key says
    /// so rather than failing on every body.
    fn id(&self) -> &str;

    /// `key` encrypted for `key_id` of `tenant`.
    fn wrap(&self, tenant: &str, key_id: u32, key: &[u8; KEY_LEN]) -> Vec<u8>;

    /// The key that [`MasterKey::wrap`] wrapped for `key_id` of `tenant`.
    fn unwrap(
        &self,
        tenant: &str,
        key_id: u32,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError>;
}

/// A master key held in memory: AES-256-GCM key wrapping, with the
/// tenant and key id as associated data.
pub struct LocalMasterKey {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for LocalMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

const NONCE_LEN: usize = 12;

impl LocalMasterKey {
    pub fn from_bytes(key: &[u8; KEY_LEN]) -> LocalMasterKey {
        let fingerprint = Sha256::new()
            .chain_update(b"flightrec master key id\0")
            .chain_update(key)
            .finalize();
        LocalMasterKey {
            cipher: Aes256Gcm::new(key.into()),
            id: hex::encode(&fingerprint[..8]),
        }
    }

    /// A new random key, as `flightrec keys new-master` prints it.
    pub fn generate() -> String {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        BASE64.encode(key.as_ref())
    }

    /// A key written as 32 bytes in base64 or 64 hexadecimal digits
    /// (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<LocalMasterKey, String> {
        let text = text.trim();
        let bytes = Zeroizing::new(if text.len() == 2 * KEY_LEN {
            hex::decode(text).map_err(|_| bad_key())?
        } else {
            BASE64.decode(text).map_err(|_| bad_key())?
        });
        let key: &[u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| bad_key())?;
        Ok(LocalMasterKey::from_bytes(key))
    }

    /// The key in `path`, which only its owner may read or write (as for
    /// an SSH key): a master key others can read protects nothing.
    pub fn from_file(path: &Path) -> Result<LocalMasterKey, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the master key file {shown}: {e}"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the master key file {shown} may be read by others (mode {mode:o}); `chmod 600 {shown}` and start again"
                ));
            }
        }
        let _ = meta;
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the master key file {shown}: {e}"))?,
        );
        LocalMasterKey::parse(&text).map_err(|why| format!("{shown}: {why}"))
    }

    fn associated_data(tenant: &str, key_id: u32) -> Vec<u8> {
        let mut aad = b"flightrec data key\0".to_vec();
        aad.extend_from_slice(tenant.as_bytes());
        aad.push(0);
        aad.extend_from_slice(&key_id.to_be_bytes());
        aad
    }
}

fn bad_key() -> String {
    "a master key is 32 bytes, written in base64 or as 64 hexadecimal digits (`flightrec keys new-master` makes one)".into()
}

impl MasterKey for LocalMasterKey {
    fn id(&self) -> &str {
        &self.id
    }

    fn wrap(&self, tenant: &str, key_id: u32, key: &[u8; KEY_LEN]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::associated_data(tenant, key_id);
        let mut wrapped = nonce.to_vec();
        wrapped.extend(
            self.cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: key,
                        aad: &aad,
                    },
                )
                .expect("AES-GCM encrypts 32 bytes"),
        );
        wrapped
    }

    fn unwrap(
        &self,
        tenant: &str,
        key_id: u32,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, StoreError> {
        let refused = || {
            StoreError::Rejected(format!(
                "data key {key_id} of tenant {tenant:?} does not unwrap with master key {}: it was wrapped by another master key, or changed",
                self.id
            ))
        };
        if wrapped.len() <= NONCE_LEN {
            return Err(refused());
        }
        let (nonce, ciphertext) = wrapped.split_at(NONCE_LEN);
        let aad = Self::associated_data(tenant, key_id);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| refused())?,
        );
        let key: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| refused())?;
        Ok(Zeroizing::new(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_base64_or_hex_and_nothing_else() {
        let b64 = LocalMasterKey::generate();
        let a = LocalMasterKey::parse(&format!("{b64}\n")).unwrap();
        let raw = BASE64.decode(&b64).unwrap();
        let b = LocalMasterKey::parse(&hex::encode(&raw)).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 16);
        for bad in [
            "",
            "short",
            &hex::encode([1u8; 16]),
            &BASE64.encode([0u8; 31]),
        ] {
            assert!(LocalMasterKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_wrapped_key_unwraps_for_its_tenant_and_id_only() {
        let master = LocalMasterKey::from_bytes(&[9; KEY_LEN]);
        let wrapped = master.wrap("acme", 1, &[5; KEY_LEN]);
        assert_eq!(*master.unwrap("acme", 1, &wrapped).unwrap(), [5; KEY_LEN]);
        assert!(master.unwrap("acme", 2, &wrapped).is_err());
        assert!(master.unwrap("other", 1, &wrapped).is_err());
        let other = LocalMasterKey::from_bytes(&[8; KEY_LEN]);
        let err = other.unwrap("acme", 1, &wrapped).unwrap_err().to_string();
        assert!(err.contains(other.id()), "{err}");
        assert!(!format!("{master:?}").contains("9, 9"));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master-key");
        std::fs::write(&path, LocalMasterKey::generate()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalMasterKey::from_file(&path).unwrap_err();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        LocalMasterKey::from_file(&path).unwrap();
    }
}
