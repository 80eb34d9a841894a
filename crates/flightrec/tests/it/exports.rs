//! A run's readable exports, each parsed back by an independent reader.

use crate::support::{API_KEY, Backend, Server};
use serde_json::{Value, json};

async fn export(s: &Server, run: &str, format: &str) -> (String, String) {
    let r = s
        .http
        .get(s.url(&format!("/v1/runs/{run}/export?format={format}")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{format}");
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"run-fix."),
        "{disposition}"
    );
    (kind, r.text().await.unwrap())
}

fn run() -> Vec<Value> {
    let events = vec![
        json!({"type": "start", "actor": {"type": "agent", "id": "coder"}}),
        json!({"type": "user_input", "content": "the total is off by one, see \"sum.rs\""}),
        json!({"type": "thinking", "content": "the range should include n,\nso 0..=n"}),
        json!({"type": "tool_call", "tool": "bash", "input": {"command": "cargo test"}, "output": "test sum ... FAILED\n```\nleft: 3\n```"}),
        json!({"type": "edit_file", "input": {"path": "src/sum.rs", "old_str": "(0..n)", "new_str": "(0..=n)"}}),
        json!({"type": "error", "status": "fail", "error": {"message": "the linter </script> crashed"}}),
        json!({"type": "complete"}),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e["id"] = json!(format!("fix-{i}"));
            e["run_id"] = json!("fix");
            e["time"] = json!(format!("2026-11-22T10:00:{:02}Z", i * 3));
            e
        })
        .collect()
}

async fn every_format_reads_back(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let (status, body) = s.post("/v1/events/batch", &json!(run())).await;
    assert_eq!(status, 201, "{body}");

    let (kind, text) = export(&s, "fix", "json").await;
    assert_eq!(kind, "application/json");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, (0..7).map(|i| format!("fix-{i}")).collect::<Vec<_>>());
    assert_eq!(doc["run_id"], "fix");

    let (_, text) = export(&s, "fix", "csv").await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 7);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(
        &rows[1][col("content")],
        "the total is off by one, see \"sum.rs\""
    );
    assert_eq!(
        &rows[2][col("content")],
        "the range should include n,\nso 0..=n"
    );
    let input: Value = serde_json::from_str(&rows[3][col("input")]).unwrap();
    assert_eq!(input, json!({"command": "cargo test"}));
    assert_eq!(&rows[5][col("status")], "fail");
    assert_eq!(&rows[0][col("actor.id")], "coder");

    let (_, text) = export(&s, "fix", "asciicast").await;
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert!(header["width"].is_u64() && header["height"].is_u64());
    let mut last = 0.0;
    let frames: Vec<Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(frames.len(), 7);
    for f in &frames {
        let t = f[0].as_f64().unwrap();
        assert!(t >= last, "frames go forward");
        last = t;
        assert_eq!(f[1], "o");
        assert!(f[2].as_str().unwrap().ends_with("\r\n"));
    }
    assert_eq!(last, 18.0, "the seventh event, 18 s in");

    let (kind, html) = export(&s, "fix", "html").await;
    assert_eq!(kind, "text/html; charset=utf-8");
    for outside in [
        "http://", "https://", "src=", "href=", "url(", "@import", "<link",
    ] {
        assert!(
            !html.contains(outside),
            "the page refers outside: {outside}"
        );
    }
    let start = html.find("id=\"events\">").unwrap() + "id=\"events\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let embedded: Vec<Value> = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(embedded.len(), 7);
    assert_eq!(
        embedded[5]["error"]["message"],
        "the linter </script> crashed"
    );

    let (kind, transcript) = export(&s, "fix", "transcript").await;
    assert_eq!(kind, "text/markdown; charset=utf-8");
    let exported = transcript.lines().nth(2).unwrap().to_owned();
    assert!(exported.starts_with("Exported "));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/snapshots/transcript.md"
        );
        std::fs::write(
            path,
            transcript.replace(&exported, "Exported <time> by flightrec."),
        )
        .unwrap();
    }
    let snapshot = include_str!("snapshots/transcript.md");
    assert_eq!(
        transcript.replace(&exported, "Exported <time> by flightrec."),
        snapshot
    );

    for (path, code) in [
        ("/v1/runs/fix/export?format=pdf", 400),
        ("/v1/runs/nope/export", 404),
        ("/v1/events/export?format=csv&type=thinking", 200),
    ] {
        let (status, _) = s.get(path).await;
        assert_eq!(status, code, "{path}");
    }
}

on_both_backends!(
    every_format_reads_back,
    a_replay_exports_as_a_gif_any_reader_plays,
);

async fn gif_of(s: &Server, query: &str) -> reqwest::Response {
    s.http
        .get(s.url(&format!("/v1/runs/fix/export?{query}")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap()
}

async fn a_replay_exports_as_a_gif_any_reader_plays(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let (status, body) = s.post("/v1/events/batch", &json!(run())).await;
    assert_eq!(status, 201, "{body}");

    let r = gif_of(&s, "format=gif").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/gif");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"run-fix.gif\""
    );
    let bytes = r.bytes().await.unwrap();
    // Pillow decodes every frame: one per event, at the recorded pace
    // (3 s apart, idle gaps capped at 2 s), the last held 3 s, looping.
    let read = crate::support::read_with("read_gif.py", &[], &bytes);
    assert_eq!(read["format"], "GIF");
    assert_eq!(read["size"], json!([960, 600]));
    assert_eq!(read["frames"], 7);
    assert_eq!(
        read["durations"],
        json!([2000, 2000, 2000, 2000, 2000, 2000, 3000])
    );
    assert_eq!(read["loop"], 0);

    let r = gif_of(&s, "format=gif&max_gap_ms=600").await;
    let read = crate::support::read_with("read_gif.py", &[], &r.bytes().await.unwrap());
    assert_eq!(
        read["durations"],
        json!([600, 600, 600, 600, 600, 600, 3000])
    );

    // The CLI writes the same file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fix.gif");
    let (ok, _, err) = crate::support::cli(
        &s,
        &[
            "runs",
            "export",
            "fix",
            "--format",
            "gif",
            "-o",
            path.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    for (query, says) in [
        ("format=gif&max_gap_ms=soon", "max_gap_ms"),
        ("format=json&max_gap_ms=100", "format=gif only"),
        ("format=mp4", "gif"),
    ] {
        let r = gif_of(&s, query).await;
        assert_eq!(r.status(), 400, "{query}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    // A filtered export has no replay to draw.
    let (status, body) = s.get("/v1/events/export?format=gif").await;
    assert_eq!(status, 400, "{body}");
}
