//! Search on tenants that encrypt at rest, without plain text in the
//! index: a blind index. Each word of a sealed body's text is indexed as a
//! keyed hash of it (64 bits, in hex), under a search key derived from the
//! data key that sealed the body; a search hashes its words the same way.
//! The index then holds which records share a word, never the word; and
//! once the data key is destroyed no one can compute a token again.
//!
//! Words are cut as [`crate::words::words_only`] cuts them, so word order
//! (phrases such as `order-1234`) still matches. What a blind index cannot
//! do: match accents loosely (`café` does not find `cafe`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The key a data key's blind index tokens are made with.
#[derive(Clone)]
pub struct SearchKey(HmacSha256);

impl SearchKey {
    /// Derived from a data key (HMAC-SHA-256 with a label), so it goes when
    /// the data key goes.
    pub(super) fn derive(data_key: &[u8]) -> SearchKey {
        let mut mac = HmacSha256::new_from_slice(data_key).expect("HMAC takes any key length");
        mac.update(b"flightrec blind index v1");
        let key = mac.finalize().into_bytes();
        SearchKey(HmacSha256::new_from_slice(&key).expect("HMAC takes any key length"))
    }

    /// The token of one word (already cut and lower-cased).
    pub fn token(&self, word: &str) -> String {
        let mut out = String::with_capacity(16);
        self.push_token(word, &mut out);
        out
    }

    fn push_token(&self, word: &str, out: &mut String) {
        let mut mac = self.0.clone();
        mac.update(word.as_bytes());
        let mut hex = [0u8; 16];
        hex::encode_to_slice(&mac.finalize().into_bytes()[..8], &mut hex)
            .expect("16 hex digits for 8 bytes");
        out.push_str(std::str::from_utf8(&hex).expect("hex is ASCII"));
    }

    /// A text cut into words ([`crate::words::words_only`]) with each word
    /// replaced by its token.
    pub fn blind_words(&self, words: &str) -> String {
        let mut out = String::with_capacity(words.len() * 2);
        for word in words.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            self.push_token(word, &mut out);
        }
        out
    }
}

impl std::fmt::Debug for SearchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchKey")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_keyed_and_stable() {
        let a = SearchKey::derive(&[1; 32]);
        let b = SearchKey::derive(&[2; 32]);
        assert_eq!(a.token("alice"), a.token("alice"));
        assert_ne!(a.token("alice"), b.token("alice"));
        assert_ne!(a.token("alice"), a.token("bob"));
        assert_eq!(a.token("alice").len(), 16);
        assert!(a.token("alice").bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            a.blind_words(" order  1234 "),
            format!("{} {}", a.token("order"), a.token("1234"))
        );
        assert!(!a.blind_words("secret words").contains("secret"));
    }
}
