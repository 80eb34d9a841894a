//! Each pack fires on its own examples, naming the right detector, and
//! stays quiet on strings that only look right (a bad check digit, an
//! unissued range, a date that does not exist). Examples live in
//! `tests/compliance/<pack>.tsv`.

use flightrec_core::compliance::{Origin, RuleSet, packs};
use flightrec_core::event::{Limits, parse_event};
use serde_json::json;

fn screen(set: &RuleSet, text: &str) -> Vec<String> {
    let mut event = parse_event(
        json!({"type": "tool_call", "content": text}),
        chrono::Utc::now(),
        &Limits::default(),
        || "e".into(),
    )
    .unwrap();
    set.screen(&mut event)
        .iter()
        .map(|f| set.rule(f.rule).0.detector.clone())
        .collect()
}

#[test]
fn every_pack_fires_on_its_examples_and_not_on_look_alikes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compliance");
    let mut failures = Vec::new();
    for pack in packs::PACKS {
        let rules = pack.rules().into_iter().map(|r| (r, Origin::default()));
        let set = RuleSet::compile(rules.collect()).unwrap();
        let corpus = std::fs::read_to_string(dir.join(format!("{}.tsv", pack.id))).unwrap();
        let (mut fires, mut quiet) = (0, 0);
        for line in corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let [expect, detector, text] = line.splitn(3, '\t').collect::<Vec<_>>()[..] else {
                panic!("{}.tsv: malformed line {line:?}", pack.id);
            };
            let found = screen(&set, text);
            match expect {
                "fires" => {
                    fires += 1;
                    if !found.iter().any(|d| d == detector) {
                        failures.push(format!(
                            "{}: {detector} missed in {text:?} (found {found:?})",
                            pack.id
                        ));
                    }
                }
                "quiet" => {
                    quiet += 1;
                    if !found.is_empty() {
                        failures.push(format!("{}: fired {found:?} on {text:?}", pack.id));
                    }
                }
                other => panic!("{}.tsv: {other:?} is neither fires nor quiet", pack.id),
            }
        }
        println!(
            "{}: {fires} examples fire, {quiet} look-alikes stay quiet",
            pack.id
        );
        assert!(fires >= 5 && quiet >= 5, "{}: too few examples", pack.id);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
