//! Trust you can check without us, through the real server and CLI:
//! provenance that a client cannot forge, verification with only a trust
//! file, exports that never drop a record, consistency with a saved
//! checkpoint, and forks and rollbacks caught by `log watch`.

use crate::support::{API_KEY, Backend, Cred, Server, cli, flightrec, save_trust_file};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Records `n` events; returns the log's size after the last of them.
async fn ingest(s: &Server, n: usize, tag: &str) -> u64 {
    let mut size = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"type": "tool_call", "run_id": format!("{tag}-{}", i % 5), "content": format!("{tag} {i}")}))
            .collect();
        let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
        assert_eq!(status, 201, "{body}");
        let last = body["receipts"].as_array().and_then(|r| r.last());
        size = last
            .and_then(|r| r["seq"].as_u64())
            .map_or(0, |seq| seq + 1);
    }
    size
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Waits until the served checkpoint covers `size` records: an
/// acknowledged append is signed into a checkpoint a moment later.
async fn wait_for_checkpoint_size(s: &Server, size: u64) {
    // A checkpoint note's second line is the size it covers.
    let note_size = |note: String| {
        note.lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while note_size(s.get_text("/v1/log/checkpoint").await) < size {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint covered {size} records"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_client_cannot_pass_for_flightrec(backend: Backend) {
    let (_store, s) = Server::start_on(backend, &[], &[]);
    let admin = Cred::Key(API_KEY.into());
    let (status, key, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            &admin,
            Some(&json!({"name": "ingest-only", "scopes": ["ingest"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let (key_id, secret) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    // A forged admin action, with a human actor the key does not hold.
    let forged = json!({"id": "forged", "type": "key.revoked",
        "actor": {"type": "human", "email": "admin@test.invalid"},
        "resource": {"type": "api_key", "id": key_id}});
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/events",
            &Cred::Key(secret.into()),
            Some(&forged),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A real revocation, for comparison.
    let (status, _, _) = s
        .call(
            "DELETE",
            &format!("/v1/auth/api-keys/{key_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (_, e) = s.get("/v1/events/forged").await;
    assert_eq!(e["submitted_by"], format!("key:{key_id}"), "{e}");
    let (_, page) = s.get("/v1/admin/audit?action=key.revoked").await;
    assert_eq!(page["total"], 2, "{page}");
    let (_, ours) = s
        .get("/v1/admin/audit?action=key.revoked&origin=flightrec")
        .await;
    assert_eq!(ours["total"], 1, "{ours}");
    assert_ne!(ours["events"][0]["id"], "forged");
    assert_eq!(ours["events"][0]["submitted_by"], "flightrec");
    let (_, theirs) = s
        .get("/v1/admin/audit?action=key.revoked&origin=client")
        .await;
    assert_eq!(theirs["events"][0]["id"], "forged", "{theirs}");
    let (_, by_key) = s
        .get(&format!("/v1/events?submitted_by=key:{key_id}"))
        .await;
    assert_eq!(by_key["events"].as_array().unwrap().len(), 1, "{by_key}");
    for bad in ["origin=server", "submitted_by=admin", "submitted_by=key:"] {
        let (status, body) = s.get(&format!("/v1/events?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().contains('`'), "{body}");
    }
    // The provenance is in the hashed header, as the export shows it.
    let text = s.get_text("/v1/events/export").await;
    let line = text.lines().find(|l| l.contains("\"forged\"")).unwrap();
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["header"]["v"], 2);
    assert_eq!(v["header"]["submitted_by"], format!("key:{key_id}"));
}

#[tokio::test]
async fn verify_needs_only_a_trust_file_and_runs_beside_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &["--durability", "os"]);
    ingest(&s, 20_000, "bulk").await;
    let trust = save_trust_file(&s, &dir.path().join("trust.txt"));

    // Without keys it refuses, and says how to get them.
    let (ok, out) = flightrec(&["verify", "--data-dir", path(&data)]);
    assert!(!ok);
    assert!(out.contains("flightrec log trust"), "{out}");

    // Beside a server that keeps ingesting: never a false alarm.
    let base = s.base.clone();
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for round in 0..40 {
            let events: Vec<Value> = (0..250)
                .map(|i| json!({"type": "thinking", "run_id": format!("live-{}", i % 3), "content": format!("{round} {i}")}))
                .collect();
            let r = http
                .post(format!("{base}/v1/events/batch"))
                .bearer_auth(API_KEY)
                .json(&events)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
    });
    for _ in 0..3 {
        let (ok, out) = flightrec(&["verify", "--data-dir", path(&data), "--trust", path(&trust)]);
        assert!(ok, "{out}");
        assert!(out.contains("OK: "), "{out}");
    }
    writer.await.unwrap();
    drop(s);

    // The private key is not needed, nor read.
    std::fs::remove_file(data.join("log-key")).unwrap();
    let (ok, out) = flightrec(&["verify", "--data-dir", path(&data), "--trust", path(&trust)]);
    assert!(ok, "{out}");
    // 3 bootstrap records, 20,000, then 40 × 250.
    assert!(out.contains("OK: 30003 records in 1 tenant(s)"), "{out}");
    // A key of another log is no key for this one.
    let other = "flightrec.local/second-org+2b108aa1+AUwrTJeylzFuQALJvb+fzOib93+8IQ0a+ac2OIuu/bvs";
    let (ok, out) = flightrec(&["verify", "--data-dir", path(&data), "--key", other]);
    assert!(!ok);
    assert!(out.contains("no verifier key"), "{out}");
}

#[tokio::test]
async fn an_export_right_after_ingest_holds_every_record() {
    let dir = tempfile::tempdir().unwrap();
    // Checkpoints at most once a minute: the export must not wait for one.
    let s = Server::start(
        &dir.path().join("data"),
        &["--checkpoint-interval-ms", "60000"],
    );
    ingest(&s, 10, "fresh").await;
    let trust = save_trust_file(&s, &dir.path().join("trust.txt"));
    let export = s.get_text("/v1/runs/fresh-1/export?format=jsonl").await;
    let records = export.lines().filter(|l| l.contains("\"header\"")).count();
    assert_eq!(records, 2, "{export}");
    let note: Value = serde_json::from_str(
        export
            .lines()
            .find(|l| l.contains("\"checkpoint\""))
            .unwrap(),
    )
    .unwrap();
    let files = dir.path();
    std::fs::write(files.join("run.jsonl"), &export).unwrap();
    std::fs::write(files.join("cp"), note["checkpoint"].as_str().unwrap()).unwrap();
    let (ok, out) = flightrec(&[
        "verify",
        "--export",
        path(&files.join("run.jsonl")),
        "--checkpoint",
        path(&files.join("cp")),
        "--trust",
        path(&trust),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("OK: 2 records"), "{out}");
    // The checkpoint the export carries serves as well, checked with the
    // trusted keys.
    let (ok, out) = flightrec(&[
        "verify",
        "--export",
        path(&files.join("run.jsonl")),
        "--trust",
        path(&trust),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("OK: 2 records"), "{out}");

    // An export with no records is no proof of anything.
    let empty = s.get_text("/v1/events/export?type=nothing-like-this").await;
    std::fs::write(files.join("empty.jsonl"), &empty).unwrap();
    let (ok, out) = flightrec(&[
        "verify",
        "--export",
        path(&files.join("empty.jsonl")),
        "--checkpoint",
        path(&files.join("cp")),
        "--trust",
        path(&trust),
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains("holds no records"), "{out}");

    // Tiles are the tenant's own: never kept by a shared cache.
    let r = s
        .http
        .get(s.url("/v1/log/tile/0/000.p/13"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cache = r.headers()["cache-control"].to_str().unwrap();
    assert!(cache.starts_with("private"), "{cache}");
    assert!(
        r.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
}

#[tokio::test]
async fn a_saved_checkpoint_is_extended_and_a_fork_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (data, backup) = (dir.path().join("data"), dir.path().join("backup"));
    let s = Server::start(&data, &["--checkpoint-interval-ms", "50"]);
    ingest(&s, 50, "a").await;
    let trust = save_trust_file(&s, &dir.path().join("trust.txt"));
    let (trust, state) = (path(&trust).to_owned(), dir.path().join("watch"));
    let watch = |s: &Server| {
        cli(
            s,
            &["log", "watch", "--state", path(&state), "--trust", &trust],
        )
    };
    let (ok, out, err) = watch(&s);
    assert!(ok, "{err}");
    assert!(out.contains("first checkpoint seen"), "{out}");
    let (ok, saved, _) = cli(&s, &["log", "checkpoint"]);
    assert!(ok);
    let saved_file = dir.path().join("saved.checkpoint");
    std::fs::write(&saved_file, &saved).unwrap();

    // A backup of the store as it is now.
    drop(s);
    copy_dir(&data, &backup);
    let s = Server::start(&data, &["--checkpoint-interval-ms", "50"]);
    let size = ingest(&s, 30, "b").await;
    // The watch below must see every "b" record, or restoring the backup
    // could look like no change at all.
    wait_for_checkpoint_size(&s, size).await;
    let consistency = |s: &Server| {
        cli(
            s,
            &["log", "consistency", path(&saved_file), "--trust", &trust],
        )
    };
    let (ok, out, err) = consistency(&s);
    assert!(ok, "{out}{err}");
    assert!(out.contains("extends the saved checkpoint"), "{out}");
    let (ok, out, err) = watch(&s);
    assert!(ok, "{err}");
    assert!(out.contains("(consistent)"), "{out}");
    drop(s);

    // The operator restores the older backup: the log went back in time.
    let s = Server::start(&backup, &["--checkpoint-interval-ms", "50"]);
    let (ok, _, err) = watch(&s);
    assert!(!ok);
    assert!(err.contains("ROLLBACK"), "{err}");
    // …and grows it differently: a fork of the log the monitor saw.
    ingest(&s, 60, "c").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (ok, _, err) = watch(&s);
    assert!(!ok);
    assert!(err.contains("FORK"), "{err}");
    // The saved checkpoint is still a prefix of this history, so it passes.
    let (ok, out, err) = consistency(&s);
    assert!(ok, "{out}{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn the_format_1_fixture_verifies_with_its_trust_file_alone() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/store-v1");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(format!("{fixture}/flightrec.db"), data.join("flightrec.db")).unwrap();
    // Read-only verification does not migrate: it says what to do.
    let trust = format!("{fixture}/trust.txt");
    let (ok, out) = flightrec(&["verify", "--data-dir", path(&data), "--trust", &trust]);
    assert!(!ok);
    assert!(out.contains("schema version 4"), "{out}");
}

#[tokio::test]
async fn format_1_and_format_2_records_verify_side_by_side() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/store-v1");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for file in ["flightrec.db", "log-key"] {
        std::fs::copy(format!("{fixture}/{file}"), data.join(file)).unwrap();
    }
    // A server of this version opens (and upgrades) the old store and goes
    // on writing its log with the same key.
    let s = Server::start(&data, &["--checkpoint-interval-ms", "50"]);
    let key = "fr_fixture_v1_key_0123456789abcdef";
    let http = reqwest::Client::new();
    let r = http
        .post(s.url("/v1/events"))
        .bearer_auth(key)
        .json(&json!({"id": "v2-forged", "type": "key.revoked",
                      "actor": {"type": "human", "email": "admin@fixture.invalid"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let get = |id: &'static str| {
        let (http, url) = (http.clone(), s.url(&format!("/v1/events/{id}")));
        async move {
            let r = http.get(url).bearer_auth(key).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let old = get("v1-forged").await;
    assert!(
        old.get("submitted_by").is_none(),
        "format 1 says nothing: {old}"
    );
    let new = get("v2-forged").await;
    assert!(
        new["submitted_by"].as_str().unwrap().starts_with("key:"),
        "{new}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(s);
    std::fs::remove_file(data.join("log-key")).unwrap();
    let trust = format!("{fixture}/trust.txt");
    let (ok, out) = flightrec(&["verify", "--data-dir", path(&data), "--trust", &trust]);
    assert!(ok, "{out}");
    // 46 + 4 records of format 1, one of format 2.
    assert!(out.contains("OK: 51 records in 2 tenant(s)"), "{out}");
}

#[tokio::test]
async fn proof_files_check_offline_and_by_a_second_reader() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path();
    let s = Server::start(&files.join("data"), &[]);
    ingest(&s, 300, "p").await;
    let (status, body) = s
        .post("/v1/events", &json!({"id": "wanted", "type": "complete"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let trust = save_trust_file(&s, &files.join("trust.txt"));
    let proof = files.join("rec.tlog-proof");
    let (ok, out, err) = cli(
        &s,
        &[
            "log",
            "proof",
            "wanted",
            "-o",
            path(&proof),
            "--trust",
            path(&trust),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("is included in flightrec.local/default"),
        "{out}"
    );
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(
        text.starts_with("c2sp.org/tlog-proof@v1\nindex 303\n"),
        "{text}"
    );
    // The same file from the API, by content negotiation or by name.
    for (accept, query) in [("text/plain", ""), ("*/*", "?format=tlog-proof")] {
        let served = s
            .http
            .get(s.url(&format!("/v1/events/wanted/proof{query}")))
            .bearer_auth(API_KEY)
            .header("accept", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(served, text);
    }
    let record = files.join("rec.json");
    let verify = |proof: &Path, record: &Path| {
        flightrec(&[
            "verify",
            "--proof",
            path(proof),
            "--record",
            path(record),
            "--trust",
            path(&trust),
        ])
    };
    let (ok, out) = verify(&proof, &record);
    assert!(ok, "{out}");
    assert!(out.contains("OK: record 303 (wanted)"), "{out}");

    // A second reader, written from the specs in Python, agrees.
    let vkey = std::fs::read_to_string(&trust)
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .to_owned();
    let python = crate::mcp_peers::peers().join(".venv/bin/python");
    let reader = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/tlog_proof.py"
    );
    let second = |proof: &Path, record: &Path| {
        let out = Command::new(&python)
            .args([reader, path(proof), path(record), &vkey])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = second(&proof, &record);
    assert!(ok, "{out}");

    // Mutants: each is refused by both readers.
    let record_text = std::fs::read_to_string(&record).unwrap();
    let hash_line = text.lines().nth(2).unwrap().to_owned();
    let mut flipped = hash_line.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let mutants: Vec<(&str, String, String)> = vec![
        (
            "a proof hash flipped",
            text.replacen(&hash_line, std::str::from_utf8(&flipped).unwrap(), 1),
            record_text.clone(),
        ),
        (
            "another index",
            text.replacen("index 303", "index 302", 1),
            record_text.clone(),
        ),
        (
            "the record's type changed",
            text.clone(),
            record_text.replacen("\"complete\"", "\"completed\"", 1),
        ),
        (
            "the record claimed by flightrec",
            text.clone(),
            record_text.replacen("\"key:", "\"user:", 1),
        ),
        (
            "the checkpoint's size changed",
            {
                let size_line = text.lines().find(|l| l.parse::<u64>().is_ok()).unwrap();
                let other = (size_line.parse::<u64>().unwrap() + 1).to_string();
                text.replacen(&format!("\n{size_line}\n"), &format!("\n{other}\n"), 1)
            },
            record_text.clone(),
        ),
    ];
    for (name, proof_text, record_text) in mutants {
        let (p, r) = (files.join("mutant.tlog-proof"), files.join("mutant.json"));
        std::fs::write(&p, &proof_text).unwrap();
        std::fs::write(&r, &record_text).unwrap();
        let (ok, out) = verify(&p, &r);
        assert!(!ok, "{name}: {out}");
        let (ok, out) = second(&p, &r);
        assert!(!ok, "{name} (second reader): {out}");
    }
}

#[tokio::test]
async fn a_public_log_is_served_only_when_the_tenant_opts_in() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--checkpoint-interval-ms", "50"],
    );
    ingest(&s, 300, "pub").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let anonymous = |path: &str| {
        let (http, url) = (s.http.clone(), s.url(path));
        async move {
            let r = http.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let cache = r
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, cache, r.bytes().await.unwrap().to_vec())
        }
    };
    for path in [
        "/logs/default/checkpoint",
        "/logs/default/tile/0/000",
        "/logs/nobody/checkpoint",
    ] {
        assert_eq!(anonymous(path).await.0, 404, "{path}");
    }
    let admin = Cred::Key(API_KEY.into());
    let (status, body, _) = s
        .call(
            "PATCH",
            "/v1/settings",
            &admin,
            Some(&json!({"public_log": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["public_log"], true);
    let (status, _, note) = anonymous("/logs/default/checkpoint").await;
    assert_eq!(status, 200);
    let note = String::from_utf8(note).unwrap();
    assert!(note.starts_with("flightrec.local/default\n"), "{note}");
    let (status, cache, tile) = anonymous("/logs/default/tile/0/000").await;
    assert_eq!(status, 200);
    assert_eq!(tile.len(), 256 * 32);
    assert!(cache.unwrap().starts_with("public"));
    let (status, _, bundle) = anonymous("/logs/default/tile/entries/000").await;
    assert_eq!(status, 200);
    assert!(!bundle.is_empty());
    // The same bytes as the tenant's own, authenticated path.
    let own = s
        .http
        .get(s.url("/v1/log/tile/0/000"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(own.to_vec(), tile);
    assert_eq!(anonymous("/logs/default/nothing").await.0, 404);
    // Turned off again, it is gone.
    s.call(
        "PATCH",
        "/v1/settings",
        &admin,
        Some(&json!({"public_log": null})),
    )
    .await;
    assert_eq!(anonymous("/logs/default/checkpoint").await.0, 404);
}

on_both_backends!(a_client_cannot_pass_for_flightrec,);
