//! `/v1/stats` through the real binary, on both stores: every figure, for
//! windows with whole and partial hours and each `group_by`, against what
//! this test computes from the events it sent.

use crate::support::{Backend, PgDeployment, Server};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One event as this test remembers it.
struct Sent {
    time: String,
    event_type: &'static str,
    status: &'static str,
    verb: Option<&'static str>,
    provider: Option<&'static str>,
    agent: Option<&'static str>,
    blocked: bool,
    dry_run: bool,
    idempotency_hit: bool,
    duration_ms: Option<f64>,
}

impl Sent {
    fn json(&self) -> Value {
        let mut event = json!({
            "type": self.event_type,
            "time": self.time,
            "status": self.status,
            "dry_run": self.dry_run,
            "idempotency_hit": self.idempotency_hit,
        });
        let fields = [
            ("verb", self.verb),
            ("provider", self.provider),
            ("agent_id", self.agent),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                event[name] = json!(value);
            }
        }
        if let Some(ms) = self.duration_ms {
            event["duration_ms"] = json!(ms);
        }
        if self.blocked {
            event["governance"] = json!({"status": "blocked", "reason": "policy"});
        }
        event
    }

    fn key(&self, group_by: &str) -> Option<String> {
        match group_by {
            "verb" => self.verb.map(str::to_owned),
            "provider" => self.provider.map(str::to_owned),
            "agent" => self.agent.map(str::to_owned),
            "type" => Some(self.event_type.to_owned()),
            "status" => Some(self.status.to_owned()),
            "day" => Some(self.time[..10].to_owned()),
            "hour" => Some(self.time[..13].to_owned()),
            _ => None,
        }
    }
}

/// A fixed pseudo-random sequence, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next(items.len() as u64) as usize]
    }
}

fn events(n: usize) -> Vec<Sent> {
    let mut rng = Lcg(7);
    (0..n)
        .map(|_| {
            let (day, hour, minute, second) =
                (1 + rng.next(3), rng.next(24), rng.next(60), rng.next(60));
            let duration_ms = match rng.next(4) {
                0 => None,
                1 => Some(rng.next(40) as f64),
                2 => Some(rng.next(30_000) as f64 + 0.25),
                _ => Some(rng.next(900) as f64),
            };
            Sent {
                time: format!(
                    "2026-01-0{day}T{hour:02}:{minute:02}:{second:02}.{:03}Z",
                    rng.next(1000)
                ),
                event_type: rng.pick(&["tool_call", "llm_call", "decision"]),
                status: rng.pick(&["ok", "ok", "ok", "fail", "warn"]),
                verb: rng.pick(&[Some("read_file"), Some("write_file"), Some("search"), None]),
                provider: rng.pick(&[Some("openai"), Some("anthropic"), None]),
                agent: rng.pick(&[Some("planner"), Some("coder"), Some("reviewer"), None]),
                blocked: rng.next(10) == 0,
                dry_run: rng.next(8) == 0,
                idempotency_hit: rng.next(12) == 0,
                duration_ms,
            }
        })
        .collect()
}

/// The figures `/v1/stats` must give for `sent`, computed the plain way.
fn expected(sent: &[&Sent]) -> Value {
    let count = |f: &dyn Fn(&Sent) -> bool| sent.iter().filter(|e| f(e)).count() as u64;
    let total = sent.len() as u64;
    let mut durations: Vec<f64> = sent.iter().filter_map(|e| e.duration_ms).collect();
    durations.sort_by(f64::total_cmp);
    let nearest_rank = |p: f64| {
        let rank = ((p * durations.len() as f64).ceil() as usize).max(1);
        durations.get(rank - 1).copied()
    };
    json!({
        "total": total,
        "fail": count(&|e| e.status == "fail"),
        "warn": count(&|e| e.status == "warn"),
        "blocked": count(&|e| e.blocked),
        "dry_run": count(&|e| e.dry_run),
        "idempotency_hits": count(&|e| e.idempotency_hit),
        "duration_ms": {
            "count": durations.len(),
            "p50": nearest_rank(0.50),
            "p95": nearest_rank(0.95),
            "p99": nearest_rank(0.99),
        },
    })
}

/// Compares one answer (overall or a group's) with the expected figures:
/// counts and rates exactly, percentiles to the documented precision.
fn assert_figures(what: &str, got: &Value, want: &Value) {
    for name in [
        "total",
        "fail",
        "warn",
        "blocked",
        "dry_run",
        "idempotency_hits",
    ] {
        assert_eq!(got[name], want[name], "{what}: {name}");
    }
    let total = want["total"].as_f64().unwrap();
    for (rate, part) in [
        ("failure_rate", "fail"),
        ("block_rate", "blocked"),
        ("idempotency_hit_rate", "idempotency_hits"),
    ] {
        let expected = want[part].as_f64().unwrap() / total;
        assert!(
            (got[rate].as_f64().unwrap() - expected).abs() < 1e-12,
            "{what}: {rate}"
        );
    }
    assert_eq!(
        got["duration_ms"]["count"], want["duration_ms"]["count"],
        "{what}: durations"
    );
    for p in ["p50", "p95", "p99"] {
        let (got_p, want_p) = (&got["duration_ms"][p], &want["duration_ms"][p]);
        match want_p.as_f64() {
            None => assert!(got_p.is_null(), "{what}: {p} is {got_p}"),
            Some(exact) => {
                let value = got_p.as_f64().unwrap();
                assert!(
                    (value - exact).abs() <= (exact / 16.0).max(0.5),
                    "{what}: {p} is {value}, exactly {exact}"
                );
            }
        }
    }
}

async fn stats_match_the_events_sent(backend: Backend) {
    let (_deployment, server): (Box<dyn std::any::Any>, Server) = match backend {
        Backend::Postgres => {
            let db = PgDeployment::new();
            let server = Server::start_node(&db, &[]);
            (Box::new(db), server)
        }
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let server = Server::start(&dir.path().join("data"), &[]);
            (Box::new(dir), server)
        }
    };
    let sent = events(900);
    for chunk in sent.chunks(300) {
        let batch: Vec<Value> = chunk.iter().map(Sent::json).collect();
        let (status, body) = server.post("/v1/events/batch", &json!(batch)).await;
        assert_eq!(status, 201, "{body}");
    }

    // Windows of whole days, and ones that start and end inside an hour
    // (those hours are read from the records, the rest from the tallies).
    let windows = [
        ("2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"),
        ("2026-01-01T05:17:00Z", "2026-01-03T19:42:30Z"),
        ("2026-01-02T10:10:00Z", "2026-01-02T10:50:00Z"),
        ("2026-01-02T23:59:00Z", "2026-01-03T00:01:00Z"),
    ];
    for (since, until) in windows {
        let inside: Vec<&Sent> = sent
            .iter()
            .filter(|e| e.time.as_str() >= &since[..19] && e.time.as_str() < &until[..19])
            .collect();
        let (status, all) = server
            .get(&format!("/v1/stats?since={since}&until={until}"))
            .await;
        assert_eq!(status, 200, "{all}");
        assert_figures(&format!("{since}..{until}"), &all, &expected(&inside));
        assert!(all.get("groups").is_none());

        for group_by in ["verb", "provider", "agent", "type", "status", "day", "hour"] {
            let (status, answer) = server
                .get(&format!(
                    "/v1/stats?since={since}&until={until}&group_by={group_by}"
                ))
                .await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["group_by"], group_by);
            assert_figures(
                &format!("{since}..{until} overall"),
                &answer,
                &expected(&inside),
            );
            let mut by_key: BTreeMap<Option<String>, Vec<&Sent>> = BTreeMap::new();
            for e in &inside {
                by_key.entry(e.key(group_by)).or_default().push(e);
            }
            let groups = answer["groups"].as_array().unwrap();
            assert_eq!(groups.len(), by_key.len(), "{group_by}: {answer}");
            for group in groups {
                let key = group["key"].as_str().map(str::to_owned);
                let members = by_key
                    .get(&key)
                    .unwrap_or_else(|| panic!("{group_by}: no group {key:?} expected"));
                assert_figures(
                    &format!("{since}..{until} {group_by}={key:?}"),
                    group,
                    &expected(members),
                );
            }
            if matches!(group_by, "day" | "hour") {
                let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
                assert!(keys.is_sorted(), "{group_by} in time order: {keys:?}");
            } else {
                let totals: Vec<u64> = groups
                    .iter()
                    .map(|g| g["total"].as_u64().unwrap())
                    .collect();
                assert!(
                    totals.is_sorted_by(|a, b| a >= b),
                    "largest first: {totals:?}"
                );
            }
        }
    }

    let (status, body) = server.get("/v1/stats?group_by=colour").await;
    assert_eq!(status, 400);
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("group_by") && message.contains("verb, provider, agent"),
        "{body}"
    );
}

on_both_backends!(stats_match_the_events_sent);
