//! Encryption at rest: envelope encryption of bodies (and the copies that
//! hold body text) with AES-256-GCM.
//!
//! Each tenant that turns `auditLogEncryption` on gets a data key of its
//! own, stored only wrapped (encrypted) by the master key
//! ([`MasterKey`]); the master key never touches the store. A sealed value
//! names its data key, and its associated data binds it to where it
//! belongs (a body to its tenant and seq), so bytes moved to another row
//! do not open. Destroying a tenant's data keys (crypto-shredding) leaves
//! its sealed bodies unreadable for good, while the headers, and so every
//! proof, stay as they were.
//!
//! Bodies are compressed before they are sealed ([`crate::body_codec`]):
//! ciphertext does not compress.

mod blind_index;
mod data_key;
mod keyring;
mod master_key;

pub use blind_index::SearchKey;
pub use data_key::{DataKey, KEY_LEN, Place, SEALED_MAGIC, is_sealed, plain_text, sealed_key_id};
pub use keyring::{
    DataKeyRow, KeyLoader, Keyring, Opened, new_data_key, no_master_key, other_master,
};
pub use master_key::{LocalMasterKey, MasterKey};
