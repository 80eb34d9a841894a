//! API keys: `fr_` followed by 40 random base62 characters.
//!
//! The server keeps only a key's SHA-256 and looks a presented key up by
//! that hash, so the time a lookup takes does not depend on how much of a
//! key an attacker guessed. A 238-bit random secret needs no slow hash.

use flightrec_core::secret::Secret;
use rand::Rng;
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Append events.
    Ingest,
    /// Read and export events, runs and the log.
    Read,
    /// Everything, including administration.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A fresh API key secret.
pub fn generate_api_key() -> Secret {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    Secret::new(format!("fr_{body}"))
}

/// What the store keeps of a key.
pub fn hash_api_key(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

/// The part of a key shown in listings to tell keys apart.
pub fn key_prefix(secret: &Secret) -> String {
    secret.expose().chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_prefixed() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert!(a.expose().starts_with("fr_"));
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
        assert_eq!(key_prefix(&a).len(), 8);
        assert_ne!(hash_api_key(&a), hash_api_key(&b));
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("root"), None);
    }
}
