//! What each detector costs, on events shaped like the labelled corpus.
//!
//! `cargo bench -p flightrec-core --bench detectors` builds one event per
//! line of `tests/pii/corpus.txt` (the line as the event's `content`, and
//! again inside its `input`, as an agent's tool call would carry it), then
//! prints events/s for:
//!
//! - credential masking, which every event goes through (`mask_value`);
//! - each built-in compliance detector alone, as a redacting rule;
//! - the three packs together, as a tenant would install them.
//!
//! Knob (environment): BENCH_ROUNDS (passes over the corpus, default 20).

use flightrec_core::compliance::{Action, BUILTINS, Origin, Rule, RuleSet, Severity, packs};
use flightrec_core::event::{Event, Limits, parse_event};
use flightrec_core::mask::mask_value;
use serde_json::{Value, json};
use std::time::Instant;

#[path = "../tests/pii/mod.rs"]
mod pii;

fn body(line: &str) -> Value {
    json!({
        "type": "tool_call",
        "tool": "crm.lookup",
        "content": line,
        "input": {"query": line, "limit": 20},
    })
}

fn events(lines: &[String]) -> Vec<Event> {
    lines
        .iter()
        .map(|l| {
            parse_event(body(l), chrono::Utc::now(), &Limits::default(), || {
                "e".into()
            })
            .unwrap()
        })
        .collect()
}

/// Events per second of `screen` over `rounds` passes.
fn rate(set: &RuleSet, events: &[Event], rounds: usize) -> f64 {
    let started = Instant::now();
    let mut findings = 0;
    for _ in 0..rounds {
        for e in events {
            findings += set.screen(&mut e.clone()).len();
        }
    }
    std::hint::black_box(findings);
    (events.len() * rounds) as f64 / started.elapsed().as_secs_f64()
}

fn rule(detector: &str) -> (Rule, Origin) {
    let rule = Rule {
        id: detector.into(),
        name: detector.into(),
        description: String::new(),
        severity: Severity::High,
        fields: Vec::new(),
        detector: detector.into(),
        pattern: None,
        validator: None,
        action: Action::AlertAndRedact,
    };
    (rule, Origin::default())
}

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let cases = pii::cases();
    let values: usize = cases.iter().map(|c| c.values.len()).sum();
    let lines: Vec<String> = cases.into_iter().map(|c| c.text).collect();
    let events = events(&lines);
    println!(
        "{} events of the corpus ({values} values to find), {rounds} rounds",
        events.len()
    );

    let bodies: Vec<Value> = lines.iter().map(|l| body(l)).collect();
    let started = Instant::now();
    for _ in 0..rounds {
        for b in &bodies {
            let mut value = b.clone();
            mask_value("", &mut value, &mut Vec::new());
        }
    }
    let masking = (bodies.len() * rounds) as f64 / started.elapsed().as_secs_f64();
    println!("{:<26} {:>12.0} events/s", "credential masking", masking);

    for b in BUILTINS {
        let set = RuleSet::compile(vec![rule(b.name)]).unwrap();
        println!(
            "{:<26} {:>12.0} events/s",
            b.name,
            rate(&set, &events, rounds)
        );
    }
    let every_pack: Vec<_> = packs::PACKS
        .iter()
        .flat_map(|p| p.rules())
        .map(|r| (r, Origin::default()))
        .collect();
    let set = RuleSet::compile(every_pack).unwrap();
    println!(
        "{:<26} {:>12.0} events/s",
        "hipaa + gdpr + finance",
        rate(&set, &events, rounds)
    );
}
