//! RFC 8785 canonical JSON (`flightrec_core::jcs`): every hash is taken
//! over these bytes.
//!
//! Properties: the output is JSON and reads back as the same value (numbers
//! compared as the doubles JCS writes them as); canonicalising it again
//! gives the same bytes (a fixpoint); and it agrees
//! with an independent implementation (`serde_jcs`) wherever that one
//! follows RFC 8785 (see `serde_jcs_is_exact`).
#![no_main]

use flightrec_core::jcs;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let canonical = jcs::to_string(&value);
    assert_eq!(jcs::to_vec(&value), canonical.as_bytes());
    let reparsed: Value = serde_json::from_str(&canonical).expect("JCS output is JSON");
    assert!(same_value(&value, &reparsed), "JCS changed the value");
    assert_eq!(
        jcs::to_string(&reparsed),
        canonical,
        "JCS is not a fixpoint"
    );
    if serde_jcs_is_exact(&value) {
        let theirs = serde_jcs::to_string(&value).expect("serde_jcs serialises any Value");
        assert_eq!(canonical, theirs, "disagrees with serde_jcs");
    }
});

/// serde_jcs writes integers beyond 2^53 exactly, where RFC 8785 says to
/// round them to the nearest double as ECMAScript does; elsewhere it is a
/// reference.
fn serde_jcs_is_exact(value: &Value) -> bool {
    const EXACT: u64 = 1 << 53;
    match value {
        Value::Number(n) => {
            n.is_f64()
                || n.as_i64().is_some_and(|i| i.unsigned_abs() <= EXACT)
                || n.as_u64().is_some_and(|u| u <= EXACT)
        }
        Value::Array(items) => items.iter().all(serde_jcs_is_exact),
        Value::Object(map) => map.values().all(serde_jcs_is_exact),
        _ => true,
    }
}

/// Equal as JCS sees values: numbers as doubles, members in any order.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}
