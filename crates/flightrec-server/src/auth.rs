//! Who is calling: API keys (DESIGN §7).
//!
//! A key is `fr_` followed by 40 random base62 characters. The server keeps
//! only its SHA-256, and looks a presented key up by that hash, so the time
//! a lookup takes does not depend on how much of a key an attacker guessed.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use flightrec_core::secret::Secret;
use rand::Rng;
use sha2::{Digest, Sha256};

/// What a key allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Append events.
    Ingest,
    /// Read events, runs and the log.
    Read,
    /// Everything, including administration.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::Ingest, Scope::Read, Scope::Admin]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: String,
    pub key_id: String,
    pub scopes: Vec<Scope>,
}

impl Principal {
    /// Refuses the request unless the caller holds `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this API key lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }
}

/// A fresh API key secret.
pub fn generate_api_key() -> Secret {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
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

/// The key a request presents, from `Authorization: Bearer` or `X-API-Key`.
fn presented_key(parts: &Parts) -> ApiResult<Secret> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "use `Authorization: Bearer <api key>` or `X-API-Key: <api key>`",
            ));
        }
        return Ok(Secret::new(token.trim()));
    }
    if let Some(value) = parts.headers.get("x-api-key") {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the X-API-Key header is not valid text"))?;
        return Ok(Secret::new(value.trim()));
    }
    Err(ApiError::unauthorized(
        "an API key is required: `Authorization: Bearer <api key>` or `X-API-Key: <api key>`",
    ))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
        let secret = presented_key(parts)?;
        let hash = hash_api_key(&secret);
        let key = state
            .blocking(move |store| store.api_key_by_secret_hash(&hash))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        if key.revoked_at.is_some() {
            return Err(ApiError::unauthorized("this API key has been revoked"));
        }
        Ok(Principal {
            tenant: key.tenant,
            key_id: key.id,
            scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        })
    }
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
}
