//! The diff applier (`flightrec_core::replay`): patches an agent sends in
//! an `edit_file` event, applied to the file the run last saw.
//!
//! The input is two texts split at the first 0xFF byte, `a` and `b`.
//! Properties:
//! - the diff `unified_diff` makes from `a` to `b` applies to `a` and gives
//!   exactly `b`, and is empty only when they are equal;
//! - `b` read as a patch, applied to `a` directly or through an `edit_file`
//!   event's `input.diff`, never panics, and both ways agree.
#![no_main]

use flightrec_core::replay::{apply_unified_diff, edited, unified_diff};
use flightrec_fuzz::split_strings;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let [a, b]: [String; 2] = split_strings(data, 2).try_into().unwrap();

    let diff = unified_diff("src/lib.rs", &a, &b);
    assert_eq!(diff.is_empty(), a == b);
    if !diff.is_empty() {
        assert_eq!(
            apply_unified_diff(&a, &diff).as_deref(),
            Ok(b.as_str()),
            "the diff of {a:?} to {b:?} does not apply back:\n{diff}"
        );
    }

    let direct = apply_unified_diff(&a, &b);
    let input = json!({"path": "src/lib.rs", "diff": b});
    let via_event = edited("src/lib.rs", Some(&a), Some(&input), None);
    assert_eq!(direct.ok(), via_event.ok());
});
