//! The dashboard's audit page at size.
//!
//! `cargo bench -p flightrec --bench dashboard` fills a store with
//! `BENCH_STORE_EVENTS` (default 1,000,000) events spread over the last 30
//! days, signs in as a person, and times `GET /` — the page of 50 rows with
//! its three cards, its chart of events over time and filter choices,
//! rendered — for the default view (last 24 hours) and other common ones:
//! p50 and p99 over
//! `BENCH_REQUESTS` (default 200) requests each, one at a time, so the
//! figure is the server's time for a page.
//!
//! Knobs (environment): BENCH_STORE_EVENTS, BENCH_REQUESTS,
//! BENCH_DURABILITY (fsync | os), BENCH_BIN.

mod support;

use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a benchmark password";
const SPAN: Duration = Duration::from_secs(30 * 86_400);

/// Where the store's events begin (Unix ms), how far apart they are, and
/// how many there are.
static TIMELINE: OnceLock<(i64, f64, usize)> = OnceLock::new();

/// `support::event`, at its place on the 30-day timeline, with a few
/// failures and warnings and some people among the agents. `batch_ingest`
/// sends its batches last first, so event `i` gets the time of the
/// `total - i`-th: the log's order follows time, as a live log's does.
fn timed_event(i: usize) -> Value {
    let (start, step, total) = TIMELINE.get().expect("set before ingest");
    let mut e = event(i);
    let place = (total - 1 - i) as f64 * step;
    let at = chrono::DateTime::from_timestamp_millis(start + place as i64).unwrap();
    e["time"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    if i.is_multiple_of(97) {
        e["status"] = json!("warn");
    }
    if i.is_multiple_of(10) {
        e["actor"] = json!({"type": "human", "id": format!("u{}", i % 7), "email": format!("person{}@example.com", i % 7)});
    }
    e
}

fn main() {
    flightrec_server::webhooks::install_tls_provider();
    let events = env_usize("BENCH_STORE_EVENTS", 1_000_000);
    let requests = env_usize("BENCH_REQUESTS", 200);
    let now = chrono::Utc::now().timestamp_millis();
    TIMELINE
        .set((
            now - SPAN.as_millis() as i64,
            SPAN.as_millis() as f64 / events as f64,
            events,
        ))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "flightrec dashboard benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    runtime.block_on(async {
        let base = server.base.clone();
        let started = Instant::now();
        let rate = batch_ingest(&base, 0, events, 2, timed_event).await;
        println!(
            "store: {events} events over 30 days, ingested in {:.0} s ({rate:.0}/s)",
            started.elapsed().as_secs_f64()
        );
        let http = reqwest::Client::new();
        let invited = http
            .post(format!("{base}/v1/users"))
            .header("x-api-key", API_KEY)
            .json(&json!({"email": EMAIL, "role": "auditor", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(invited.status(), 201);
        let login = http
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let cookie: Vec<String> = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        let cookie = cookie.join("; ");

        println!(
            "\nGET / (50 rows, 3 cards, the chart, filter choices), {requests} requests each:"
        );
        println!(
            "{:<44} {:>9} {:>9} {:>7}",
            "view", "p50 ms", "p99 ms", "rows"
        );
        for (label, path) in [
            ("default: last 24 hours", "/"),
            ("last 7 days", "/?since=7d"),
            ("all time", "/?since=all"),
            ("action filter, 30 days", "/?type=tool_call&since=30d"),
            (
                "actor email, all time",
                "/?actor=person3%40example.com&since=all",
            ),
            ("FAIL only, 24 hours", "/?status=fail"),
            ("free text, 24 hours", "/?q=module_7"),
            ("second page, all time", ""),
        ] {
            let path = if path.is_empty() {
                older_link(&http, &base, &cookie).await
            } else {
                path.to_owned()
            };
            let mut times = Vec::with_capacity(requests);
            let mut rows = 0;
            for _ in 0..requests {
                let t = Instant::now();
                let r = http
                    .get(format!("{base}{path}"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{path}");
                let html = r.text().await.unwrap();
                times.push(t.elapsed());
                rows = html.matches("<tr class=\"record\"").count();
            }
            times.sort();
            println!(
                "{label:<44} {:>9.2} {:>9.2} {rows:>7}",
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    });
}

/// The "Older →" link of the all-time view.
async fn older_link(http: &reqwest::Client, base: &str, cookie: &str) -> String {
    let html = http
        .get(format!("{base}/?since=all"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html.find("id=\"older\"").expect("an older page");
    let start = html[..at].rfind("href=\"").unwrap() + 6;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&").replace("&#38;", "&")
}
