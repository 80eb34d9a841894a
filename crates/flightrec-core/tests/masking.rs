//! Credential masking against a labelled corpus (tests/masking/): every
//! secret must be gone from what would be stored, and no harmless
//! look-alike may be touched. Prints recall and precision per kind.

use chrono::Utc;
use flightrec_core::event::{Limits, parse_event};
use serde_json::json;
use std::collections::BTreeMap;

const SECRETS: &str = include_str!("masking/secrets.tsv");
const HARMLESS: &str = include_str!("masking/harmless.txt");

fn lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.replace("\\n", "\n"))
}

/// What would be stored of an event whose tool output is `text`.
fn stored(text: &str) -> (String, usize) {
    let event = parse_event(
        json!({"type": "tool_result", "output": text, "metadata": {"echo": [text]}}),
        Utc::now(),
        &Limits::default(),
        || "id".into(),
    )
    .expect("a valid event");
    (event.canonical_body, event.body.redactions.len())
}

/// The kinds masked in a stored body (`[MASKED:<kind>]`).
fn masked_kinds(body: &str) -> Vec<&str> {
    body.split("[MASKED:")
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(kind, _)| kind))
        .collect()
}

#[test]
fn recall_and_precision_per_kind_on_the_corpus() {
    // kind → (secrets caught, secrets, harmless strings masked as it)
    let mut per_kind: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for line in lines(SECRETS) {
        let mut parts = line.split('\t');
        let (kind, text, secret) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let (body, redactions) = stored(text);
        let caught = !body.contains(secret) && redactions > 0 && body.contains("[MASKED:");
        let entry = per_kind.entry(kind.to_owned()).or_default();
        entry.1 += 1;
        if caught {
            entry.0 += 1;
        } else {
            missed.push(format!("{kind}: {text}"));
        }
    }
    let mut touched = Vec::new();
    let mut harmless = 0;
    for text in lines(HARMLESS) {
        harmless += 1;
        let (body, redactions) = stored(&text);
        let kinds = masked_kinds(&body);
        for kind in &kinds {
            per_kind.entry((*kind).to_owned()).or_default().2 += 1;
        }
        if redactions > 0 || !kinds.is_empty() {
            touched.push(text);
        }
    }
    let (caught, total) = per_kind
        .values()
        .fold((0, 0), |(c, t), (kc, kt, _)| (c + kc, t + kt));
    println!(
        "masking: {caught}/{total} secrets caught, {}/{harmless} harmless strings touched",
        touched.len()
    );
    println!(
        "{:<22} {:>7} {:>8} {:>10}",
        "kind", "secrets", "recall", "precision"
    );
    let mut failures = Vec::new();
    for (kind, &(c, t, wrong)) in &per_kind {
        let recall = c as f64 / t.max(1) as f64;
        let precision = c as f64 / (c + wrong).max(1) as f64;
        println!(
            "{kind:<22} {t:>7} {:>7.1}% {:>9.1}%",
            recall * 100.0,
            precision * 100.0
        );
        if precision < 0.98 {
            failures.push(format!("{kind}: precision {precision:.3}"));
        }
    }
    assert!(total >= 300 && harmless >= 300, "the corpus is the corpus");
    let recall = caught as f64 / total as f64;
    assert!(
        recall >= 0.99,
        "recall below 99%; missed:\n{}",
        missed.join("\n")
    );
    assert!(
        touched.len() as f64 / harmless as f64 <= 0.01,
        "over 1% of harmless strings masked:\n{}",
        touched.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
