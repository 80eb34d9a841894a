//! The SQLite backend: the shared conformance suite, then what is particular
//! to SQLite (create vs open, append-only triggers, a full disk).

use flightrec_core::log::{Signer, Verifier};
use flightrec_store::conformance::{self, append};
use flightrec_store::verify::{SearchIndex, verify_store};
use flightrec_store::{
    AppendBatch, Checkpointing, RecordStore, SqliteOptions, SqliteStore, StoreError,
};
use serde_json::json;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    (dir, store)
}

fn reopen(dir: &tempfile::TempDir) -> SqliteStore {
    let store = SqliteStore::open(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    store
}

#[test]
fn conformance_suite() {
    for (name, check) in conformance::all::<SqliteStore>() {
        let (_dir, store) = fresh();
        eprintln!("conformance: {name}");
        check(&store);
    }
}

#[test]
fn open_never_creates() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let err = SqliteStore::open(&missing, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("flightrec serve --data-dir"),
        "{err}"
    );
    assert!(!missing.exists());
}

#[test]
fn a_directory_with_other_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = SqliteStore::open_or_create(dir.path(), SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn a_foreign_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("flightrec.db")).unwrap();
    conn.execute_batch("CREATE TABLE mine (x)").unwrap();
    drop(conn);
    let err = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
}

#[test]
fn a_newer_schema_is_refused() {
    let (dir, store) = fresh();
    drop(store);
    let data = dir.path().join("data");
    let conn = rusqlite::Connection::open(data.join("flightrec.db")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = SqliteStore::open(&data, SqliteOptions::default()).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err}"
    );
}

#[test]
fn records_survive_reopening() {
    let (dir, store) = fresh();
    let receipts = append(&store, "t", vec![json!({"id": "a", "type": "start"})]);
    drop(store);
    let store = reopen(&dir);
    assert_eq!(store.log_size("t").unwrap(), 1);
    let next = append(&store, "t", vec![json!({"type": "x"})]);
    assert_eq!(next[0].seq, receipts[0].seq + 1);
}

/// A copy of the store of record format 1 in `tests/fixtures/store-v1`
/// (schema V4), without its private key.
fn format_1_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/store-v1");
    std::fs::copy(
        format!("{fixture}/flightrec.db"),
        dir.path().join("data/flightrec.db"),
    )
    .unwrap();
    dir
}

/// The fixture's keys: its tenants' verifiers, and the signer of its
/// checkpoints.
fn format_1_keys() -> (Vec<Verifier>, Signer) {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/store-v1");
    let trust = std::fs::read_to_string(format!("{fixture}/trust.txt")).unwrap();
    let verifiers = trust.lines().map(|l| Verifier::parse(l).unwrap()).collect();
    let key = std::fs::read_to_string(format!("{fixture}/log-key")).unwrap();
    (verifiers, Signer::parse_private_key(key.trim()).unwrap())
}

/// Appends one event without the conformance suite's check, which knows
/// only its own key.
fn append_only(store: &SqliteStore, tenant: &str, event: serde_json::Value) {
    let batch = AppendBatch::events(tenant, vec![conformance::sealed(event)]);
    store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
}

#[test]
fn opening_a_version_3_store_counts_its_records() {
    let dir = format_1_store();
    // Back to the schema before the hourly counts.
    let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
    conn.execute_batch("DROP TRIGGER records_counted; DROP TABLE record_counts;")
        .unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    let before = store.window_counts("default", None, None).unwrap();
    assert_eq!(before.total, 46);
    let second = store.window_counts("second-org", None, None).unwrap();
    assert_eq!(second.total, 4);
    append_only(&store, "default", json!({"type": "x", "status": "warn"}));
    let counts = store.window_counts("default", None, None).unwrap();
    assert_eq!((counts.total, counts.warn), (47, before.warn + 1));
}

/// Every stored body of the store at `db` is a zstd frame, as the
/// reference `zstd` tool reads it, of the record's JCS text.
fn assert_bodies_are_zstd_frames(db: &std::path::Path, store: &SqliteStore) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT tenant, id, body FROM records WHERE body IS NOT NULL")
        .unwrap();
    let rows: Vec<(String, String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty());
    let frame = tempfile::NamedTempFile::new().unwrap();
    for (tenant, id, stored) in rows {
        std::fs::write(frame.path(), &stored).unwrap();
        let out = std::process::Command::new("zstd")
            .args(["-d", "-c", "-q"])
            .arg(frame.path())
            .output()
            .expect("the zstd tool (apt-get install zstd)");
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let record = store.record(&tenant, &id).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            record.body.unwrap(),
            "{id}"
        );
    }
}

#[test]
fn format_1_records_verify_beside_format_2_records() {
    let dir = format_1_store();
    let (verifiers, signer) = format_1_keys();
    let store = SqliteStore::open(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    let trusted = |tenant: &str| {
        let origin = format!("flightrec.local/{tenant}");
        let keys: Vec<Verifier> = verifiers
            .iter()
            .filter(|v| v.name() == origin)
            .cloned()
            .collect();
        Some((origin, keys))
    };
    let report = verify_store(&store, &trusted, SearchIndex::Check, &mut |_| {}).unwrap();
    assert_eq!(report.mismatch, None);
    assert_eq!(report.records(), 50);
    assert_bodies_are_zstd_frames(&dir.path().join("data/flightrec.db"), &store);
    let old = store.record("default", "v1-forged").unwrap().unwrap();
    assert_eq!((old.header.version, old.header.submitted_by), (1, None));

    // A server of this version goes on writing the same log, with the same key.
    store.set_checkpointing(
        Checkpointing::new(
            signer.renamed("flightrec.local").unwrap(),
            std::time::Duration::ZERO,
            std::sync::Arc::new(flightrec_core::clock::SystemClock),
        )
        .unwrap(),
    );
    append_only(&store, "default", json!({"id": "v2-a", "type": "start"}));
    let new = store.record("default", "v2-a").unwrap().unwrap();
    assert_eq!(new.header.version, 2);
    assert_eq!(
        new.header.submitted_by.as_deref(),
        Some("key:k-conformance")
    );
    // A body indexed before its store was migrated is erased: the index
    // takes its words out with the text it put in (the check below
    // compares the index with the records).
    let word = "v2erasable";
    append_only(
        &store,
        "default",
        json!({"id": "v2-b", "type": "x", "content": word}),
    );
    while store.index_search(1000).unwrap() > 0 {}
    let old_seq = store
        .record("default", "v1-forged")
        .unwrap()
        .unwrap()
        .header
        .seq;
    let new_seq = store.record("default", "v2-b").unwrap().unwrap().header.seq;
    let ranges = [old_seq..=old_seq, new_seq..=new_seq];
    let told = conformance::sealed_by(
        json!({"type": flightrec_core::erasure::ERASED_TYPE,
               "metadata": flightrec_core::erasure::erased_seqs_metadata(&ranges)}),
        flightrec_core::record::SubmittedBy::Flightrec,
    );
    let erase = AppendBatch {
        erase: flightrec_store::Erase {
            seqs: vec![old_seq, new_seq],
            scrub_index: true,
        },
        ..AppendBatch::events("default", vec![told])
    };
    store.append(vec![erase]).unwrap().pop().unwrap().unwrap();
    let found = conformance::all_records(
        &store,
        "default",
        flightrec_store::EventFilter {
            q: Some(word.into()),
            ..Default::default()
        },
    );
    assert!(found.is_empty(), "{found:?}");
    let report = verify_store(&store, &trusted, SearchIndex::Check, &mut |_| {}).unwrap();
    assert_eq!(report.mismatch, None, "{report:?}");
    assert_eq!(report.records(), 53);
}

#[test]
fn a_snapshot_verifies_as_it_was_whatever_is_written_beside_it() {
    let (dir, store) = fresh();
    let events = |n: usize| {
        (0..n)
            .map(|i| json!({"type": "x", "content": format!("{i}")}))
            .collect()
    };
    append(&store, "acme", events(300));
    let snapshot = SqliteStore::open_snapshot(&dir.path().join("data")).unwrap();
    // Beside it, the server goes on: more records, and a body erased (the
    // one change the schema allows a record), untold of by any record.
    append(&store, "acme", events(50));
    let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
    conn.execute(
        "UPDATE records SET body = NULL, salt = NULL WHERE tenant = 'acme' AND seq = 120",
        [],
    )
    .unwrap();
    let report = conformance::assert_verifies(&snapshot);
    assert_eq!(
        (report.tenants[0].records, report.tenants[0].erased),
        (300, 0)
    );
    // The store as it is now has the untold erasure.
    let now = SqliteStore::open_snapshot(&dir.path().join("data")).unwrap();
    let mismatch = conformance::verify_with_test_key(&now).mismatch.unwrap();
    assert_eq!(mismatch.seq, Some(120), "{mismatch}");
}

#[test]
fn triggers_refuse_update_and_delete() {
    let (dir, store) = fresh();
    append(
        &store,
        "t",
        vec![json!({"id": "a", "type": "start", "content": "x"})],
    );
    let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
    for sql in [
        "UPDATE records SET type = 'other'",
        "UPDATE records SET body = CAST('{}' AS BLOB)",
        "UPDATE records SET body = NULL, salt = NULL, seq = 7",
        "DELETE FROM records",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // The one change allowed: erasing a body.
    conn.execute("UPDATE records SET body = NULL, salt = NULL", [])
        .unwrap();
}

#[test]
fn a_full_disk_refuses_the_write_and_keeps_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(SqliteStore::create(&data, SqliteOptions::default()).unwrap());
    let small = SqliteOptions {
        max_page_count: Some(200),
        ..Default::default()
    };
    let store = SqliteStore::open(&data, small).unwrap();
    let mut acknowledged = 0u64;
    let big = "z".repeat(20_000);
    let err = loop {
        let batch = flightrec_store::AppendBatch::events(
            "t",
            vec![conformance::sealed(json!({"type": "x", "content": big}))],
        );
        match store.append(vec![batch]) {
            Ok(mut outcomes) => {
                outcomes.pop().unwrap().unwrap();
                acknowledged += 1;
            }
            Err(e) => break e,
        }
        assert!(acknowledged < 10_000, "the page cap never filled");
    };
    assert!(matches!(err, StoreError::Full), "{err}");
    assert!(err.is_transient());
    drop(store);
    let store = SqliteStore::open(&data, SqliteOptions::default()).unwrap();
    assert_eq!(store.log_size("t").unwrap(), acknowledged);
    let more = append(&store, "t", vec![json!({"type": "after"})]);
    assert_eq!(more[0].seq, acknowledged, "no gap after the failure");
}

#[test]
fn opening_a_version_6_store_tallies_its_records_for_stats() {
    use flightrec_store::stats::GroupBy;
    use std::collections::BTreeMap;
    let dir = format_1_store();
    // What the tallies must say, read from the bodies by this test alone.
    let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
    let mut expected: BTreeMap<String, (u64, u64, u64, u64, Vec<f64>)> = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT status, body FROM records WHERE tenant = 'default'")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in rows {
        let (status, body) = row.unwrap();
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        let verb = body["verb"]
            .as_str()
            .or(body["tool"].as_str())
            .unwrap_or("");
        let e = expected.entry(verb.to_owned()).or_default();
        e.0 += 1;
        e.1 += u64::from(status == "fail");
        e.2 += u64::from(body["dry_run"] == true || body["governance"]["status"] == "dry_run");
        e.3 += u64::from(body["idempotency_hit"] == true);
        if let Some(ms) = body["duration_ms"].as_f64() {
            e.4.push(ms);
        }
    }
    drop(stmt);
    drop(conn);
    assert!(expected.values().any(|e| e.2 > 0) && expected.values().any(|e| e.3 > 0));

    let store = SqliteStore::open(&dir.path().join("data"), SqliteOptions::default()).unwrap();
    let stats = store
        .stats("default", None, None, Some(GroupBy::Verb))
        .unwrap();
    let keys: Vec<&String> = stats.0.keys().collect();
    assert_eq!(keys, expected.keys().collect::<Vec<_>>());
    for (verb, (n, fail, dry_run, hits, mut durations)) in expected {
        let tally = &stats.0[&verb];
        let c = tally.counts;
        assert_eq!(
            (c.n, c.fail, c.dry_run, c.idempotency_hits),
            (n, fail, dry_run, hits),
            "{verb}"
        );
        assert_eq!(tally.with_duration(), durations.len() as u64, "{verb}");
        durations.sort_by(f64::total_cmp);
        if let Some(&median) = durations.get(durations.len().div_ceil(2).saturating_sub(1)) {
            let p50 = tally.percentile(0.5).unwrap();
            assert!(
                (p50 - median).abs() <= (median / 16.0).max(0.5),
                "{verb}: p50 {p50}, exactly {median}"
            );
        }
    }
    // Appends go on tallying where the migration left off.
    append_only(
        &store,
        "default",
        json!({"type": "x", "verb": "tallied", "duration_ms": 7, "idempotency_hit": true}),
    );
    let after = store
        .stats("default", None, None, Some(GroupBy::Verb))
        .unwrap();
    let tallied = &after.0["tallied"];
    assert_eq!((tallied.counts.n, tallied.counts.idempotency_hits), (1, 1));
    assert_eq!(tallied.percentile(0.99), Some(7.0));
}
