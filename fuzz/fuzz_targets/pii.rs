//! The compliance detectors (`flightrec_core::compliance`): every built-in
//! detector, as one redacting rule set, over any text.
//!
//! Properties, for any text:
//! - every value found lies inside the text, on character boundaries;
//! - every value passes its detector's check (a card number its issuer
//!   prefix and Luhn digit, an IBAN the registry), so the finders that
//!   pick values out of longer runs never hand back something unchecked;
//! - no value survives redaction: screening the redacted text again finds
//!   none of the values found the first time. (It may find others: a
//!   number that was glued to a redacted one stands alone afterwards.)
#![no_main]

use flightrec_core::compliance::{
    Action, BUILTINS, Origin, Rule, RuleSet, Severity, builtin, validators,
};
use flightrec_core::event::{Limits, parse_event};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static EVERY_DETECTOR: LazyLock<RuleSet> = LazyLock::new(|| {
    let rules = BUILTINS.iter().map(|b| {
        let rule = Rule {
            id: b.name.into(),
            name: b.name.into(),
            description: String::new(),
            severity: Severity::High,
            fields: vec!["*".into()],
            detector: b.name.into(),
            pattern: None,
            validator: None,
            action: Action::AlertAndRedact,
        };
        (rule, Origin::default())
    });
    RuleSet::compile(rules.collect()).expect("the built-ins compile")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = &*EVERY_DETECTOR;
    for (start, end, rule) in set.find(text) {
        assert!(
            start < end && end <= text.len(),
            "{start}..{end} of {}",
            text.len()
        );
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        let detector = &set.rule(rule).0.detector;
        let check = builtin(detector).and_then(|b| b.validator);
        if let Some(check) = check {
            assert_eq!(
                validators::check(check, &text[start..end]),
                Some(true),
                "{detector} found {:?}",
                &text[start..end]
            );
        }
    }

    let Ok(mut event) = parse_event(
        serde_json::json!({"type": "tool_call", "content": text}),
        chrono::Utc::now(),
        &Limits::default(),
        || "e".into(),
    ) else {
        return;
    };
    let found: Vec<&str> = set
        .find(text)
        .iter()
        .map(|&(s, e, _)| &text[s..e])
        .collect();
    if set.screen(&mut event).is_empty() {
        return;
    }
    let Some(redacted) = event.body.content.clone() else {
        return;
    };
    for (s, e, _) in set.find(&redacted) {
        let value = &redacted[s..e];
        assert!(
            !found.contains(&value),
            "{value:?} survived redaction: {redacted:?}"
        );
    }
});
