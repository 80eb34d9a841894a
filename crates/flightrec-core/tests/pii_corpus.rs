//! Every built-in detector against the labelled corpus
//! (`tests/pii/corpus.txt`, written by `tests/pii/generate.py` from
//! numbers that Faker made and python-stdnum labelled). A value counts as
//! found only if the detector finds exactly its span: a card number with
//! its CVV attached, or an IBAN with the currency after it, is a miss and
//! a false positive at once. Prints recall and precision per detector and
//! holds each to ≥ 99% and ≥ 98%.

use flightrec_core::compliance::{Action, BUILTINS, Origin, Rule, RuleSet, Severity};
use std::collections::{BTreeMap, BTreeSet};

mod pii;

use pii::cases;

/// Every built-in detector as a rule over every field.
fn every_detector() -> RuleSet {
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
    RuleSet::compile(rules.collect()).unwrap()
}

#[derive(Default)]
struct Tally {
    found: usize,
    missed: Vec<String>,
    wrong: Vec<String>,
}

#[test]
fn every_detector_meets_its_recall_and_precision_on_the_corpus() {
    let set = every_detector();
    let cases = cases();
    let mut tally: BTreeMap<String, Tally> = BUILTINS
        .iter()
        .map(|b| (b.name.to_owned(), Tally::default()))
        .collect();
    for case in &cases {
        let found: BTreeSet<(usize, usize, String)> = set
            .find(&case.text)
            .into_iter()
            .map(|(start, end, rule)| (start, end, set.rule(rule).0.detector.clone()))
            .collect();
        for value @ (start, end, detector) in &case.values {
            let t = tally.get_mut(detector).expect("a built-in detector");
            if found.contains(value) {
                t.found += 1;
            } else {
                t.missed
                    .push(format!("{:?} in {:?}", &case.text[*start..*end], case.text));
            }
        }
        for (start, end, detector) in found.difference(&case.values) {
            tally.get_mut(detector).unwrap().wrong.push(format!(
                "{:?} in {:?}",
                &case.text[*start..*end],
                case.text
            ));
        }
    }

    let positives: usize = cases.iter().map(|c| c.values.len()).sum();
    let negatives = cases.iter().filter(|c| c.values.is_empty()).count();
    println!("corpus: {positives} values, {negatives} lines with none");
    println!(
        "{:<24} {:>6} {:>8} {:>10}",
        "detector", "values", "recall", "precision"
    );
    let mut failures = Vec::new();
    for (detector, t) in &tally {
        let values = t.found + t.missed.len();
        let recall = t.found as f64 / values.max(1) as f64;
        let precision = t.found as f64 / (t.found + t.wrong.len()).max(1) as f64;
        println!(
            "{detector:<24} {values:>6} {:>7.1}% {:>9.1}%",
            recall * 100.0,
            precision * 100.0
        );
        if values < 20 {
            failures.push(format!("{detector}: only {values} values in the corpus"));
        }
        if recall < 0.99 {
            failures.push(format!(
                "{detector}: recall {recall:.3}, missed {:#?}",
                t.missed
            ));
        }
        if precision < 0.98 {
            failures.push(format!(
                "{detector}: precision {precision:.3}, wrongly found {:#?}",
                t.wrong
            ));
        }
    }
    assert!(
        positives >= 300 && negatives >= 300,
        "the corpus is the corpus"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
