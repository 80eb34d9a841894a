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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

type HmacSha256 = Hmac<Sha256>;

/// Tokens remembered per search key: the same words (a body's keys, tool
/// and model names, common words) come back in almost every body, and a
/// token costs two SHA-256 compressions, most of what indexing a sealed
/// body costs the writer. Bounded (about half a megabyte a key): once full
/// the memo starts again. It holds words of sealed bodies in memory, so an
/// erasure request empties it ([`SearchKey::forget_words`]).
const MEMO_WORDS: usize = 4_096;

/// Longer words are rare and not worth the memo's memory.
const MEMO_WORD_BYTES: usize = 48;

/// The key a data key's blind index tokens are made with. Clones share
/// their memo; it goes with the last clone, which is when the keyring lets
/// go of a destroyed data key.
#[derive(Clone)]
pub struct SearchKey {
    mac: HmacSha256,
    memo: Arc<Mutex<HashMap<Box<str>, [u8; 16]>>>,
}

impl SearchKey {
    /// Derived from a data key (HMAC-SHA-256 with a label), so it goes when
    /// the data key goes.
    pub(super) fn derive(data_key: &[u8]) -> SearchKey {
        let mut mac = HmacSha256::new_from_slice(data_key).expect("HMAC takes any key length");
        mac.update(b"flightrec blind index v1");
        let key = mac.finalize().into_bytes();
        SearchKey {
            mac: HmacSha256::new_from_slice(&key).expect("HMAC takes any key length"),
            memo: Arc::default(),
        }
    }

    /// The token of one word (already cut and lower-cased).
    pub fn token(&self, word: &str) -> String {
        let mut out = String::with_capacity(16);
        self.push_token(&mut self.memo(), word, &mut out);
        out
    }

    /// A text cut into words ([`crate::words::words_only`]) with each word
    /// replaced by its token.
    pub fn blind_words(&self, words: &str) -> String {
        let mut out = String::with_capacity(words.len() * 2);
        let mut memo = self.memo();
        for word in words.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            self.push_token(&mut memo, word, &mut out);
        }
        out
    }

    /// Empties the memo and gives its memory back.
    pub fn forget_words(&self) {
        *self.memo() = HashMap::new();
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, [u8; 16]>> {
        // The memo holds only finished tokens: one left by a panic is whole.
        self.memo.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push_token(&self, memo: &mut HashMap<Box<str>, [u8; 16]>, word: &str, out: &mut String) {
        let hex = match memo.get(word) {
            Some(hex) => *hex,
            None => {
                let hex = self.hash(word);
                if word.len() <= MEMO_WORD_BYTES {
                    if memo.len() >= MEMO_WORDS {
                        memo.clear();
                    }
                    memo.insert(word.into(), hex);
                }
                hex
            }
        };
        out.push_str(std::str::from_utf8(&hex).expect("hex is ASCII"));
    }

    /// The first 64 bits of the word's HMAC, in hex.
    fn hash(&self, word: &str) -> [u8; 16] {
        let mut mac = self.mac.clone();
        mac.update(word.as_bytes());
        let mut hex = [0u8; 16];
        hex::encode_to_slice(&mac.finalize().into_bytes()[..8], &mut hex)
            .expect("16 hex digits for 8 bytes");
        hex
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

    #[test]
    fn the_memo_changes_no_token() {
        let key = SearchKey::derive(&[3; 32]);
        let fresh = SearchKey::derive(&[3; 32]);
        let long = "w".repeat(MEMO_WORD_BYTES + 1);
        // Past the memo's bound, so it starts again at least once.
        for i in 0..MEMO_WORDS + 10 {
            let word = format!("word{i}");
            assert_eq!(key.token(&word), fresh.hash_hex(&word));
        }
        assert_eq!(key.token("word7"), fresh.hash_hex("word7"));
        assert_eq!(key.token(&long), fresh.hash_hex(&long));
        assert!(key.memo().len() <= MEMO_WORDS);
        assert!(!key.memo().contains_key(long.as_str()));
        key.forget_words();
        assert!(key.memo().is_empty());
        assert_eq!(key.token("word7"), fresh.hash_hex("word7"));
    }

    impl SearchKey {
        fn hash_hex(&self, word: &str) -> String {
            String::from_utf8(self.hash(word).to_vec()).unwrap()
        }
    }
}
