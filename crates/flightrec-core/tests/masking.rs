//! Credential masking against a labelled corpus (tests/masking/): every
//! secret must be gone from what would be stored, and no harmless
//! look-alike may be touched. Prints recall and the false-positive rate.

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

#[test]
fn recall_on_the_secret_corpus() {
    let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
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
    let (caught, total) = per_kind
        .values()
        .fold((0, 0), |(c, t), (kc, kt)| (c + kc, t + kt));
    let recall = caught as f64 / total as f64;
    println!("masking recall: {caught}/{total} = {:.2}%", recall * 100.0);
    for (kind, (c, t)) in &per_kind {
        println!("  {kind:<22} {c}/{t}");
    }
    assert!(total >= 300, "the corpus is the corpus");
    assert!(
        recall >= 0.99,
        "recall below 99%; missed:\n{}",
        missed.join("\n")
    );
}

#[test]
fn false_positives_on_the_harmless_corpus() {
    let mut touched = Vec::new();
    let mut total = 0;
    for text in lines(HARMLESS) {
        total += 1;
        let (body, redactions) = stored(&text);
        if redactions > 0 || body.contains("[MASKED:") {
            touched.push(text);
        }
    }
    let rate = touched.len() as f64 / total as f64;
    println!(
        "masking false positives: {}/{total} = {:.2}%",
        touched.len(),
        rate * 100.0
    );
    assert!(total >= 300);
    assert!(rate <= 0.01, "over 1% masked:\n{}", touched.join("\n"));
}
