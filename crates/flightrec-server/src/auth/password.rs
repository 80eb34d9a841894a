//! Passwords: argon2id hashes in PHC form, never the password itself.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};
use flightrec_core::secret::Secret;
use rand::Rng;
use std::sync::OnceLock;

/// Shortest password accepted when a person chooses one.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The PHC string of `password`. Slow on purpose (tens of milliseconds):
/// call it from a thread that may block.
pub fn hash_password(password: &Secret) -> Result<Secret, String> {
    Argon2::default()
        .hash_password(
            password.expose().as_bytes(),
            &SaltString::generate(&mut OsRng),
        )
        .map(|phc| Secret::new(phc.to_string()))
        .map_err(|e| format!("could not hash the password: {e}"))
}

/// Whether `password` matches `phc`. With no hash (an unknown email, or a
/// user without a password) it still spends the time of one check against
/// a throwaway hash, so the answer's timing does not tell whether an email
/// has an account.
pub fn verify_password(password: &Secret, phc: Option<&Secret>) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| {
        hash_password(&random_password())
            .map(|s| s.expose().to_owned())
            .unwrap_or_default()
    });
    let (phc, real) = match phc {
        Some(p) => (p.expose(), true),
        None => (decoy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    matches && real
}

/// A password for a person who did not choose one: 20 characters that are
/// hard to misread.
pub fn random_password() -> Secret {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    Secret::new(
        (0..20)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect::<String>(),
    )
}

/// Why a chosen password is refused, if it is.
pub fn weak_password(password: &Secret) -> Option<String> {
    let n = password.expose().chars().count();
    (n < MIN_PASSWORD_CHARS).then(|| {
        format!("a password needs at least {MIN_PASSWORD_CHARS} characters (this one has {n})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let pw = Secret::new("correct horse battery");
        let phc = hash_password(&pw).unwrap();
        assert!(phc.expose().starts_with("$argon2id$"));
        assert!(verify_password(&pw, Some(&phc)));
        assert!(!verify_password(&Secret::new("wrong"), Some(&phc)));
        assert!(!verify_password(&pw, None));
        assert!(!verify_password(&pw, Some(&Secret::new("not a phc"))));
    }

    #[test]
    fn short_passwords_are_weak() {
        assert!(weak_password(&Secret::new("short")).is_some());
        assert!(weak_password(&random_password()).is_none());
    }
}
