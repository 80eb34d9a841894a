//! Credential masking through the real server: after the whole secret
//! corpus is ingested, no secret is anywhere in the data dir's bytes.

use crate::support::Server;
use serde_json::{Value, json};

const SECRETS: &str = include_str!("../../../flightrec-core/tests/masking/secrets.tsv");

#[tokio::test]
async fn no_secret_reaches_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start(&data, &[]);
    let secrets: Vec<(String, String)> = SECRETS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<String> = l.split('\t').map(|p| p.replace("\\n", "\n")).collect();
            (parts[1].clone(), parts[2].clone())
        })
        .collect();
    let events: Vec<Value> = secrets
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            // In every place a secret turns up: tool output, input, message,
            // metadata, error, and headers under a secret-named key.
            match i % 5 {
                0 => json!({"type": "tool_result", "run_id": "leaky", "output": text}),
                1 => json!({"type": "tool_call", "tool": "bash", "input": {"command": text}}),
                2 => json!({"type": "thinking", "content": text, "message": text}),
                3 => json!({"type": "error", "error": {"message": text}, "metadata": {"raw": [text]}}),
                _ => json!({"type": "llm_call", "input": {"headers": {"Authorization": text}}}),
            }
        })
        .collect();
    for chunk in events.chunks(100) {
        let (status, body) = s.post("/v1/events/batch", &json!(chunk)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, page) = s.get("/v1/events?run_id=leaky&limit=1").await;
    let event = &page["events"][0];
    assert_eq!(event["credential_masked"], true, "{event}");
    assert_eq!(event["redactions"][0]["path"], "output", "{event}");

    s.kill_hard();
    let mut files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for (_, secret) in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret in clear",
                path.display()
            );
        }
    }
    assert!(files >= 2, "the database and its WAL were read");
}
