//! Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256>`
//! over `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the bytes
//! of the `whsec_…` secret.
//!
//! A webhook's secret is not stored: it is derived from the server's
//! webhook key and the webhook's tenant and id, shown once when the
//! webhook is made, and derived again to sign each delivery.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET_PREFIX: &str = "whsec_";

/// The signing secret of a webhook, in its `whsec_…` form.
pub fn webhook_secret(server_key: &[u8; 32], tenant: &str, webhook_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(server_key).expect("any key length");
    mac.update(b"flightrec webhook secret\0");
    mac.update(tenant.as_bytes());
    mac.update(b"\0");
    mac.update(webhook_id.as_bytes());
    let key = mac.finalize().into_bytes();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(&key[..24]))
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    // Secrets are ours, so always base64; a foreign one is used as it is.
    let key = STANDARD
        .decode(b64)
        .unwrap_or_else(|_| b64.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks a `webhook-signature` header (space-separated signatures, any
/// one of which may match) the way a receiver does, timestamp tolerance
/// aside.
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = sign(secret, msg_id, timestamp, body);
    header.split(' ').any(|candidate| {
        // Constant time: compare MACs of both, not the strings themselves.
        let a = Hmac::<Sha256>::new_from_slice(b"compare")
            .expect("key")
            .chain_update(candidate.as_bytes())
            .finalize()
            .into_bytes();
        let b = Hmac::<Sha256>::new_from_slice(b"compare")
            .expect("key")
            .chain_update(expected.as_bytes())
            .finalize()
            .into_bytes();
        a == b
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector() {
        // The example the Standard Webhooks specification and its reference
        // libraries publish.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v1,bm9wZQ== {sig}")
        ));
        assert!(!verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265331,
            body,
            &sig
        ));
    }

    #[test]
    fn secrets_are_per_webhook_and_stable() {
        let key = [7u8; 32];
        let a = webhook_secret(&key, "t", "w1");
        assert_eq!(a, webhook_secret(&key, "t", "w1"));
        assert_ne!(a, webhook_secret(&key, "t", "w2"));
        assert_ne!(a, webhook_secret(&key, "u", "w1"));
        assert!(a.starts_with("whsec_") && a.len() == 6 + 32);
    }
}
