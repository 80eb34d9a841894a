//! Acknowledged means durable: SIGKILL the server mid-ingest, restart it,
//! and every receipt it gave must be there, with no gap and no duplicate,
//! and every record a compliance rule fired on must have its alert.

use crate::support::Server;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CARD: &str = "4111 1111 1111 1111";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_ingest_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &[]);
    let (status, _) = server
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert_eq!(status, 201);
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::default();

    let mut writers = Vec::new();
    for w in 0..12 {
        let http = server.http.clone();
        let base = server.base.clone();
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                // Half the writers send batches, half single events.
                let (path, body) = if w % 2 == 0 {
                    let events: Vec<Value> = (0..20)
                        .map(|j| json!({"id": format!("w{w}-{i}-{j}"), "type": "tool_call", "run_id": format!("run-{w}"), "input": {"card": CARD}}))
                        .collect();
                    ("/v1/events/batch", json!(events))
                } else {
                    ("/v1/events", json!({"id": format!("w{w}-{i}"), "type": "thinking", "run_id": format!("run-{w}"), "content": format!("paid with {CARD}")}))
                };
                let sent = http
                    .post(format!("{base}{path}"))
                    .header("x-api-key", crate::support::API_KEY)
                    .json(&body)
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                if response.status() != 201 {
                    return;
                }
                let Ok(answer) = response.json::<Value>().await else { return };
                let receipts = match answer.get("receipts") {
                    Some(list) => list.as_array().unwrap().clone(),
                    None => vec![answer["receipt"].clone()],
                };
                let mut acked = acked.lock().unwrap();
                for r in receipts {
                    acked.insert(r["id"].as_str().unwrap().to_owned(), r["seq"].as_u64().unwrap());
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill_hard();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the test ingested too little to mean anything: {}",
        acked.len()
    );

    let server = Server::start(&data, &[]);
    let mut stored: Vec<(u64, String)> = Vec::new();
    let mut path = "/v1/events?limit=1000".to_owned();
    loop {
        let (status, page) = server.get(&path).await;
        assert_eq!(status, 200);
        for e in page["events"].as_array().unwrap() {
            stored.push((
                e["seq"].as_u64().unwrap(),
                e["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/events?limit=1000&cursor={c}"),
            None => break,
        }
    }
    stored.sort();
    let seqs: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (0..stored.len() as u64).collect::<Vec<_>>(),
        "seq is gapless from 0"
    );
    let ids: HashSet<&String> = stored.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), stored.len(), "no id is stored twice");
    let by_id: HashMap<&String, u64> = stored.iter().map(|(s, id)| (id, *s)).collect();
    for (id, seq) in &acked {
        assert_eq!(
            by_id.get(id),
            Some(seq),
            "acknowledged event {id} at seq {seq} is missing or moved"
        );
    }

    // Alerts commit with their records: each stored card has one alert.
    let mut alerted: Vec<String> = Vec::new();
    let mut path = "/v1/alerts?limit=1000".to_owned();
    loop {
        let (status, page) = server.get(&path).await;
        assert_eq!(status, 200);
        for a in page["alerts"].as_array().unwrap() {
            alerted.push(a["event_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/alerts?limit=1000&cursor={c}"),
            None => break,
        }
    }
    alerted.sort();
    let mut carded: Vec<String> = stored
        .iter()
        .filter(|(_, id)| id.starts_with('w'))
        .map(|(_, id)| id.clone())
        .collect();
    carded.sort();
    assert_eq!(alerted, carded, "one alert per stored card, none without");
    eprintln!(
        "{} acknowledged, {} stored after SIGKILL",
        acked.len(),
        stored.len()
    );
}
