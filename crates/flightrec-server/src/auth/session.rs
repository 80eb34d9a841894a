//! Signed, expiring session tokens for people who signed in.
//!
//! A token is a JWT (RFC 7519) signed with HMAC-SHA256 under the server's
//! session key, so any JWT library can read it, and only this server can
//! make one. It names the user and tenant and when it expires; the user's
//! role is looked up on every request, so a role change or a removal takes
//! effect at once. The dashboard gets the same token in an HttpOnly cookie,
//! with a CSRF token derived from it that state-changing requests repeat.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use flightrec_core::secret::Secret;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "fr_session";
/// The readable cookie that carries the CSRF token for the dashboard's
/// scripts; requests repeat it in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "fr_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `{"alg":"HS256","typ":"JWT"}`: the only header this server issues or
/// accepts, so no token can choose a weaker algorithm.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's tenant.
    pub tenant: String,
    /// Issued and expiry times, seconds since the Unix epoch.
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours, or altered.
    Invalid,
    Expired,
}

/// Issues and checks session tokens.
#[derive(Clone)]
pub struct SessionSigner {
    key: [u8; 32],
}

impl fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSigner([redacted])")
    }
}

impl SessionSigner {
    pub fn new(key: [u8; 32]) -> Self {
        SessionSigner { key }
    }

    fn mac(&self, domain: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(domain);
        mac
    }

    pub fn issue(&self, claims: &Claims) -> Secret {
        let payload = B64.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let signing_input = format!("{HEADER}.{payload}");
        let mut mac = self.mac(b"");
        mac.update(signing_input.as_bytes());
        let signature = B64.encode(mac.finalize().into_bytes());
        Secret::new(format!("{signing_input}.{signature}"))
    }

    /// The claims of a token this server issued that has not expired at
    /// `now` (Unix seconds). The signature is checked in constant time
    /// before anything else is read.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let signature = B64.decode(signature).map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac(b"");
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        if header != HEADER {
            return Err(TokenError::Invalid);
        }
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The CSRF token that goes with a session token: only this server can
    /// derive it, and a page of another origin cannot read it.
    pub fn csrf_token(&self, session_token: &str) -> String {
        let mut mac = self.mac(b"csrf\0");
        mac.update(session_token.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// Whether `presented` is the CSRF token of `session_token`, compared in
    /// constant time.
    pub fn check_csrf(&self, session_token: &str, presented: &str) -> bool {
        let Ok(presented) = B64.decode(presented) else {
            return false;
        };
        let mut mac = self.mac(b"csrf\0");
        mac.update(session_token.as_bytes());
        mac.verify_slice(&presented).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            tenant: "default".into(),
            iat: 1_000,
            exp,
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let signer = SessionSigner::new([7; 32]);
        let token = signer.issue(&claims(2_000));
        assert_eq!(signer.verify(token.expose(), 1_999), Ok(claims(2_000)));
        assert_eq!(
            signer.verify(token.expose(), 2_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn forged_altered_and_foreign_tokens_are_refused() {
        let signer = SessionSigner::new([7; 32]);
        let token = signer.issue(&claims(2_000)).expose().to_owned();
        let other = SessionSigner::new([8; 32]);
        assert_eq!(other.verify(&token, 0), Err(TokenError::Invalid));

        // A payload claiming another tenant, with the old signature.
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let mut forged = claims(2_000);
        forged.tenant = "victim".into();
        let payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            signer.verify(&format!("{head}.{payload}.{signature}"), 0),
            Err(TokenError::Invalid)
        );
        // alg=none, and bits flipped in each part.
        let none = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            signer.verify(&format!("{none}.{}.", rest.split_once('.').unwrap().0), 0),
            Err(TokenError::Invalid)
        );
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert!(signer.verify(&altered, 0).is_err(), "byte {i}");
            }
        }
        assert_eq!(signer.verify("", 0), Err(TokenError::Invalid));
        assert_eq!(signer.verify("a.b.c.d", 0), Err(TokenError::Invalid));
    }

    #[test]
    fn the_header_is_the_standard_hs256_one() {
        assert_eq!(
            B64.decode(HEADER).unwrap(),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let signer = SessionSigner::new([7; 32]);
        let a = signer.issue(&claims(2_000));
        let b = signer.issue(&claims(3_000));
        let csrf = signer.csrf_token(a.expose());
        assert!(signer.check_csrf(a.expose(), &csrf));
        assert!(!signer.check_csrf(b.expose(), &csrf));
        assert!(!signer.check_csrf(a.expose(), "not base64 !"));
        assert!(!signer.check_csrf(a.expose(), ""));
    }
}
