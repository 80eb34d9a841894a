//! Credential masking (`flightrec_core::mask`), through its public API only.
//!
//! Properties, for any text:
//! - masking is idempotent: masking the masked text again changes nothing
//!   (an ingested event re-masked, or masked by an SDK and again by the
//!   server, keeps its text and its placeholders' kinds);
//! - a masked text names the kinds it masked;
//! - a known credential set in the text between spaces never survives,
//!   whatever surrounds it.
//!
//! And for any JSON value, `mask_value` is idempotent too, and masking its
//! output again reports no redaction.
#![no_main]

use flightrec_core::mask::{mask_text, mask_value};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Credentials of formats the masker knows, each one its detector finds
/// alone. Fake values, shaped like real ones.
const PLANTED: &[&str] = &[
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-abcdefghijkl",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "glpat-abcdefghij0123456789",
    "fr_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_text(&text);

    // Set each credential in the middle of the text, between spaces.
    let mid = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let (before, after) = text.split_at(mid);
    for secret in PLANTED {
        if text.contains(secret) {
            continue;
        }
        let planted = format!("{before} {secret} {after}");
        let out = check_text(&planted);
        assert!(
            !out.contains(secret),
            "{secret:?} survived masking in {planted:?}: {out:?}"
        );
    }

    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let mut once = value;
        let mut redactions = Vec::new();
        mask_value("input", &mut once, &mut redactions);
        let mut twice = once.clone();
        let mut more = Vec::new();
        mask_value("input", &mut twice, &mut more);
        assert_eq!(twice, once, "masking a masked value changed it");
        assert!(more.is_empty(), "masking {once} again found {more:?}");
    }
});

/// Masks `text`, checks the properties every masking has, and returns the
/// masked text.
fn check_text(text: &str) -> String {
    let Some((masked, kinds)) = mask_text(text) else {
        return text.to_owned();
    };
    assert!(!kinds.is_empty(), "masked {text:?} without a kind");
    assert!(masked.contains("[MASKED:"), "{text:?} → {masked:?}");
    let again = mask_text(&masked).map_or(masked.clone(), |(m, _)| m);
    assert_eq!(again, masked, "masking {text:?} twice changed it again");
    masked
}
