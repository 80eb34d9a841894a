//! The tamper-evident log through the real server and CLI: checkpoints,
//! proofs, tiles, `verify` of a store and of an export.

use crate::support::{API_KEY, BOOTSTRAP_RECORDS, PgDeployment, Server, cli, save_trust_file};
use flightrec_core::log::tile::decode_entry_bundle;
use flightrec_core::log::{
    ConsistencyProof, Hash, InclusionProof, Verifier, leaf_hash, open_checkpoint,
    verify_consistency, verify_inclusion,
};
use flightrec_core::record::{Header, body_hash};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn text(s: &Server, path: &str) -> (u16, String) {
    let r = s
        .http
        .get(s.url(path))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn bytes(s: &Server, path: &str) -> (u16, Vec<u8>) {
    let r = s
        .http
        .get(s.url(path))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Waits until a checkpoint covers `size` records and returns it opened.
async fn checkpoint_covering(
    s: &Server,
    key: &Verifier,
    size: u64,
) -> (String, flightrec_core::log::Checkpoint) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, note) = text(s, "/v1/log/checkpoint").await;
        if status == 200 {
            let cp = open_checkpoint(&note, key.name(), std::slice::from_ref(key)).unwrap();
            if cp.size() >= size {
                return (note, cp);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covered {size} records"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ingest(s: &Server, n: usize, tag: &str) -> Vec<Value> {
    let mut receipts = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"type": if i % 2 == 0 { "tool_call" } else { "thinking" }, "run_id": format!("{tag}-{}", i % 3), "content": format!("{tag} {i}")}))
            .collect();
        let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
        assert_eq!(status, 201, "{body}");
        receipts.extend(body["receipts"].as_array().unwrap().clone());
    }
    receipts
}

#[tokio::test]
async fn checkpoints_proofs_and_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--checkpoint-interval-ms", "200"],
    );
    checkpoints_proofs_and_tiles_on(&s).await;
}

#[tokio::test]
async fn checkpoints_proofs_and_tiles_on_postgres() {
    let db = PgDeployment::new();
    let s = Server::start_node(&db, &["--checkpoint-interval-ms", "200"]);
    checkpoints_proofs_and_tiles_on(&s).await;
}

async fn checkpoints_proofs_and_tiles_on(s: &Server) {
    let (status, key_text) = text(s, "/v1/log/public-key").await;
    assert_eq!(status, 200);
    let key = Verifier::parse(key_text.trim()).unwrap();
    assert_eq!(key.name(), "flightrec.local/default");

    // The log opens with the first start's records of its tenant, owner and
    // key; with these, 300 records.
    let first = ingest(s, 300 - BOOTSTRAP_RECORDS as usize, "a").await;
    assert_eq!(first[0]["seq"], BOOTSTRAP_RECORDS);
    let (_, old) = checkpoint_covering(s, &key, 300).await;
    let second = ingest(s, 500, "b").await;
    let (note, cp) = checkpoint_covering(s, &key, 800).await;
    assert_eq!(cp.size(), 800);
    assert!(note.contains("\n\u{2014} flightrec.local/default "));

    // Every receipt is provably in the tree the checkpoint signs.
    for r in first.iter().chain(&second).step_by(13) {
        let seq = r["seq"].as_u64().unwrap();
        let (status, proof) = s
            .get(&format!("/v1/log/proof/inclusion?seq={seq}&tree_size=800"))
            .await;
        assert_eq!(status, 200, "{proof}");
        let proof: InclusionProof = serde_json::from_value(proof).unwrap();
        let leaf = Hash::from_hex(r["leaf_hash"].as_str().unwrap()).unwrap();
        verify_inclusion(leaf, &proof, cp.root()).unwrap();
    }
    // The log only grew between the two checkpoints.
    let (status, proof) = s
        .get(&format!(
            "/v1/log/proof/consistency?from={}&to=800",
            old.size()
        ))
        .await;
    assert_eq!(status, 200, "{proof}");
    let proof: ConsistencyProof = serde_json::from_value(proof).unwrap();
    verify_consistency(old.root(), cp.root(), &proof).unwrap();

    // C2SP tiles: a full tile, a partial one, and entry bundles whose entries
    // hash to the receipts' leaves.
    let (status, tile) = bytes(s, "/v1/log/tile/0/000").await;
    assert_eq!((status, tile.len()), (200, 256 * 32));
    let b = BOOTSTRAP_RECORDS as usize;
    assert_eq!(
        &tile[32 * b..32 * (b + 1)],
        Hash::from_hex(first[0]["leaf_hash"].as_str().unwrap())
            .unwrap()
            .as_bytes()
    );
    let (status, partial) = bytes(s, "/v1/log/tile/0/003.p/32").await;
    assert_eq!((status, partial.len()), (200, 32 * 32));
    let (status, _) = bytes(s, "/v1/log/tile/0/003").await;
    assert_eq!(status, 404, "tile 3 is not full yet");
    let (status, level1) = bytes(s, "/v1/log/tile/1/000.p/3").await;
    assert_eq!((status, level1.len()), (200, 3 * 32));
    let (status, bundle) = bytes(s, "/v1/log/tile/entries/001").await;
    assert_eq!(status, 200);
    let entries = decode_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    let r256 = &first[256 - b];
    assert_eq!(
        leaf_hash(entries[0]).to_hex(),
        r256["leaf_hash"].as_str().unwrap()
    );

    // One event with everything needed to check it.
    let id = second[10]["id"].as_str().unwrap();
    let (status, e) = s.get(&format!("/v1/events/{id}?proof=true")).await;
    assert_eq!(status, 200, "{e}");
    let header = Header::from_json(&e["header"]).unwrap();
    let salt = hex::decode(e["salt"].as_str().unwrap()).unwrap();
    assert_eq!(
        body_hash(&salt, e["body"].as_str().unwrap().as_bytes()),
        header.body_hash
    );
    let leaf = header.leaf_hash();
    assert_eq!(leaf.to_hex(), e["leaf_hash"].as_str().unwrap());
    let proof: InclusionProof = serde_json::from_value(e["proof"].clone()).unwrap();
    let signed = open_checkpoint(
        e["checkpoint"].as_str().unwrap(),
        key.name(),
        std::slice::from_ref(&key),
    )
    .unwrap();
    verify_inclusion(leaf, &proof, signed.root()).unwrap();

    for (path, status) in [
        ("/v1/log/proof/inclusion?seq=800&tree_size=800", 400),
        ("/v1/log/proof/inclusion?seq=1&tree_size=9999", 400),
        ("/v1/log/proof/inclusion", 400),
        ("/v1/log/proof/consistency?from=10&to=5", 400),
        ("/v1/log/proof/consistency?from=x", 400),
        ("/v1/log/tile/0/1", 404),
        ("/v1/log/tile/entries/999", 404),
        // A tile index past any log once overflowed (regression).
        (
            "/v1/log/tile/entries/x018/x446/x744/x073/x709/x551/615",
            404,
        ),
        ("/v1/log/tile/0/x018/x446/x744/x073/x709/x551/615", 404),
        ("/v1/log/nothing", 404),
    ] {
        let (got, body) = s.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }

    // The CLI checks a proof itself, against the keys the user trusts.
    let (ok, _, err) = cli(s, &["log", "proof", "417"]);
    assert!(!ok && err.contains("no verifier keys"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let trust = save_trust_file(s, &dir.path().join("trust.txt"));
    let (ok, out, err) = cli(
        s,
        &["log", "proof", "417", "--trust", trust.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("record 417") && out.contains("included in flightrec.local/default"),
        "{out}"
    );
    let (ok, out, _) = cli(s, &["log", "checkpoint"]);
    assert!(ok);
    assert!(out.starts_with("flightrec.local/default\n"), "{out}");
}

fn verify(args: &[&str]) -> (bool, String) {
    crate::support::flightrec(&[&["verify"], args].concat())
}

#[tokio::test]
async fn verify_a_store_and_catch_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start(&data, &["--demo", "--checkpoint-interval-ms", "100"]);
    ingest(&s, 600, "v").await;
    let (_, key_text) = text(&s, "/v1/log/public-key").await;
    let key = Verifier::parse(key_text.trim()).unwrap();
    checkpoint_covering(&s, &key, 642).await;
    let trust = save_trust_file(&s, &dir.path().join("trust.txt"));
    let trust = trust.to_str().unwrap();

    // While the server runs.
    let (ok, out) = verify(&["--data-dir", data.to_str().unwrap(), "--trust", trust]);
    assert!(ok, "{out}");
    // The first start's 3 records, the demo's 38, the retention it sets
    // and these 600.
    assert!(out.contains("OK: 642 records in 1 tenant(s)"), "{out}");
    s.kill_hard();

    // An attacker edits one record's type, dropping the trigger first.
    let conn = rusqlite::Connection::open(data.join("flightrec.db")).unwrap();
    assert!(
        conn.execute("UPDATE records SET type = 'nothing' WHERE seq = 123", [])
            .is_err()
    );
    conn.execute_batch("DROP TRIGGER records_only_erase")
        .unwrap();
    conn.execute("UPDATE records SET type = 'nothing' WHERE seq = 123", [])
        .unwrap();
    drop(conn);
    let (ok, out) = verify(&["--data-dir", data.to_str().unwrap(), "--trust", trust]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("MISMATCH: tenant \"default\", seq 123"),
        "{out}"
    );

    let (ok, out) = verify(&[
        "--data-dir",
        dir.path().join("none").to_str().unwrap(),
        "--trust",
        trust,
    ]);
    assert!(!ok);
    assert!(out.contains("no flightrec store"), "{out}");
}

#[tokio::test]
async fn export_verifies_offline_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--checkpoint-interval-ms", "100"],
    );
    ingest(&s, 700, "x").await;
    let (_, key_text) = text(&s, "/v1/log/public-key").await;
    let key = Verifier::parse(key_text.trim()).unwrap();
    let (note, _) = checkpoint_covering(&s, &key, 700).await;
    let files = dir.path();
    let checkpoint_file = files.join("checkpoint");
    let key_file = files.join("key");
    std::fs::write(&checkpoint_file, &note).unwrap();
    std::fs::write(&key_file, &key_text).unwrap();

    for (name, path) in [
        ("whole", "/v1/events/export"),
        ("filtered", "/v1/events/export?type=tool_call&run_id=x-1"),
        ("run", "/v1/runs/x-2/export?format=jsonl"),
    ] {
        let (status, body) = bytes(&s, path).await;
        assert_eq!(status, 200);
        let export = files.join(format!("{name}.jsonl"));
        std::fs::write(&export, &body).unwrap();
        let text = String::from_utf8(body).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.last().unwrap().contains("public_key"));
        let args = [
            "--export",
            export.to_str().unwrap(),
            "--checkpoint",
            checkpoint_file.to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
        ];
        let (ok, out) = verify(&args);
        assert!(ok, "{name}: {out}");
        let records = lines.len() - 2;
        assert!(
            out.contains(&format!("OK: {records} records")),
            "{name}: {out}"
        );

        // One changed character in one record's body fails the export.
        let tampered: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 5 {
                    l.replacen("x ", "y ", 1)
                } else {
                    l.to_string()
                }
            })
            .collect();
        std::fs::write(&export, tampered.join("\n")).unwrap();
        let (ok, out) = verify(&args);
        assert!(!ok, "{name}: {out}");
        assert!(out.contains("MISMATCH: line 6"), "{name}: {out}");
    }
    let (status, body) = s.get("/v1/events/export?format=pdf").await;
    assert_eq!(status, 400, "{body}");
}
