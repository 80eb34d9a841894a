//! Each pack, installed as it ships, over the labelled corpus
//! (`tests/pii/corpus.txt`): it alerts on exactly the values of its own
//! detectors, stays quiet on everything else, and what its redacting
//! rules found never reaches the stored event.

mod pii;

use flightrec_core::compliance::{Origin, RuleSet, packs};
use flightrec_core::event::{Event, Limits, parse_event};
use serde_json::json;
use std::collections::BTreeSet;

fn event(text: &str) -> Event {
    parse_event(
        json!({"type": "tool_call", "content": text}),
        chrono::Utc::now(),
        &Limits::default(),
        || "e".into(),
    )
    .unwrap()
}

#[test]
fn every_pack_fires_on_its_own_values_and_redacts_what_it_should() {
    let cases = pii::cases();
    let mut failures = Vec::new();
    for pack in packs::PACKS {
        let rules: Vec<_> = pack
            .rules()
            .into_iter()
            .map(|r| (r, Origin::default()))
            .collect();
        let redacting: BTreeSet<String> = rules
            .iter()
            .filter(|(r, _)| r.action.redacts())
            .map(|(r, _)| r.detector.clone())
            .collect();
        let detectors: BTreeSet<String> = rules.iter().map(|(r, _)| r.detector.clone()).collect();
        let set = RuleSet::compile(rules).unwrap();
        let (mut fired, mut quiet) = (0, 0);
        for case in &cases {
            let expected: BTreeSet<&String> = case
                .values
                .iter()
                .map(|(_, _, d)| d)
                .filter(|d| detectors.contains(*d))
                .collect();
            let mut stored = event(&case.text);
            let found: BTreeSet<String> = set
                .screen(&mut stored)
                .iter()
                .map(|f| set.rule(f.rule).0.detector.clone())
                .collect();
            if found.iter().collect::<BTreeSet<_>>() != expected {
                failures.push(format!(
                    "{}: expected {expected:?}, found {found:?} in {:?}",
                    pack.id, case.text
                ));
            }
            if expected.is_empty() {
                quiet += 1;
            } else {
                fired += 1;
            }
            for (start, end, detector) in &case.values {
                let value = &case.text[*start..*end];
                if redacting.contains(detector) && stored.canonical_body.contains(value) {
                    failures.push(format!("{}: {value:?} ({detector}) was stored", pack.id));
                }
            }
        }
        println!("{}: fired on {fired} lines, quiet on {quiet}", pack.id);
        assert!(fired >= 50, "{}: too few values of its detectors", pack.id);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
