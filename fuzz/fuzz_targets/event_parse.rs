//! Event parsing (`flightrec_core::event`): any bytes a client may send.
//!
//! Properties: `parse_event` never panics and every refusal names at least
//! one field; an accepted event is within its size limit, its canonical
//! body is JSON that reads back as a `Body` with the same canonical form
//! (what `verify` recomputes `body_hash` from), and it holds no secret the
//! masker would still find. Time strings are fuzzed too: `parse_time` and
//! `parse_window_start` read query parameters and the `time` field.
#![no_main]

use flightrec_core::event::{Body, Limits, parse_event, parse_time, parse_window_start};
use flightrec_core::{jcs, mask};
use flightrec_fuzz::received_at;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_time(text);
        let _ = parse_window_start(text, received_at());
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Small enough that fuzzed inputs reach the size check.
    let limits = Limits {
        max_event_bytes: 2048,
        ..Limits::default()
    };
    let event = match parse_event(value, received_at(), &limits, || "fuzz-id".to_owned()) {
        Ok(event) => event,
        Err(e) => {
            assert!(!e.errors.is_empty(), "a refusal names no field");
            return;
        }
    };
    assert!(event.canonical_body.len() <= limits.max_event_bytes);

    let stored: Value =
        serde_json::from_str(&event.canonical_body).expect("the canonical body is JSON");
    assert_eq!(
        jcs::to_string(&stored),
        event.canonical_body,
        "the canonical body is not canonical"
    );
    let body: Body = serde_json::from_value(stored.clone()).expect("the body reads back");
    let again = jcs::to_string(&serde_json::to_value(&body).expect("a body serialises"));
    assert_eq!(again, event.canonical_body, "the body does not read back");

    // What the masker wrote itself is left out: a redaction's path joins
    // keys with dots, and keys that pass one by one may look like a
    // secret joined (`Bearer abcdefgh` + `.command`).
    let mut fields = stored;
    fields.as_object_mut().unwrap().remove("redactions");
    let mut remasked = fields.clone();
    let mut redactions = Vec::new();
    mask::mask_value("", &mut remasked, &mut redactions);
    assert_eq!(remasked, fields, "a secret survived ingest");
    assert!(
        redactions.is_empty(),
        "a secret survived ingest: {redactions:?}"
    );
});
