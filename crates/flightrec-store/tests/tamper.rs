//! An attacker with write access to the database file: they drop the
//! append-only triggers, change or remove something, and `verify` must
//! notice and name the record it concerns, every time.

use flightrec_core::erasure::{ERASED_TYPE, erased_seqs_metadata};
use flightrec_core::record::SubmittedBy;
use flightrec_store::conformance::{self, append};
use flightrec_store::{AppendBatch, LogStore, RecordStore, SqliteOptions, SqliteStore, body_codec};
use rusqlite::{Connection, params};
use serde_json::json;
use std::path::{Path, PathBuf};

const RECORDS: u64 = 700;

/// A store with two tenants' logs, closed; returns its data directory.
fn fixture(root: &Path) -> PathBuf {
    let data = root.join("pristine");
    let store = SqliteStore::create(&data, SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    for round in 0..(RECORDS / 100) {
        let events = (0..100)
            .map(|i| {
                let event_type = ["tool_call", "thinking", "read_file"][i % 3];
                json!({"type": event_type, "run_id": format!("r{}", i % 4),
                       "agent_id": "coder", "content": format!("step {round}-{i}"), "input": {"n": i}})
            })
            .collect();
        append(&store, "acme", events);
        append(
            &store,
            "other",
            vec![json!({"type": "x", "content": format!("{round}")})],
        );
    }
    while flightrec_store::RecordStore::index_search(&store, 10_000).unwrap() > 0 {}
    conformance::assert_verifies(&store);
    data
}

/// A copy of the pristine store, with its triggers dropped.
fn copy_for_attack(pristine: &Path, root: &Path, name: &str) -> (PathBuf, Connection) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(pristine).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let conn = Connection::open(dir.join("flightrec.db")).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        conn.execute(&format!("DROP TRIGGER {t}"), []).unwrap();
    }
    (dir, conn)
}

/// Verifies the attacked store and returns (seq named, reason).
fn verdict(dir: &Path) -> (Option<u64>, String) {
    let store = SqliteStore::open(dir, SqliteOptions::default()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    let m = report.mismatch.expect("verify must notice the attack");
    assert_eq!(m.tenant, "acme", "{m}");
    (m.seq, m.reason)
}

fn flip_text_byte(conn: &Connection, column: &str, seq: u64) {
    let value: String = conn
        .query_row(
            &format!("SELECT {column} FROM records WHERE tenant = 'acme' AND seq = ?1"),
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap();
    let changed = flip_middle_byte(value);
    conn.execute(
        &format!("UPDATE records SET {column} = ?1 WHERE tenant = 'acme' AND seq = ?2"),
        params![changed, seq as i64],
    )
    .unwrap();
}

/// `text` with its middle byte changed (to another ASCII letter).
fn flip_middle_byte(text: String) -> String {
    let mut bytes = text.into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

fn flip_blob_byte(conn: &Connection, sql_select: &str, sql_update: &str, key: &[i64], at: usize) {
    let mut blob: Vec<u8> = conn
        .query_row(sql_select, rusqlite::params_from_iter(key), |r| r.get(0))
        .unwrap();
    blob[at] ^= 0x01;
    let mut args: Vec<rusqlite::types::Value> = vec![blob.into()];
    args.extend(key.iter().map(|k| rusqlite::types::Value::from(*k)));
    conn.execute(sql_update, rusqlite::params_from_iter(args))
        .unwrap();
}

#[test]
fn every_tampering_is_caught_and_named() {
    let root = tempfile::tempdir().unwrap();
    let pristine = fixture(root.path());
    let samples = [0u64, 1, 255, 256, 257, 411, 640, RECORDS - 1];
    for &seq in &samples {
        for column in [
            "type",
            "time",
            "received_at",
            "id",
            "body_hash",
            "submitted_by",
        ] {
            let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("{column}-{seq}"));
            flip_text_byte(&conn, column, seq);
            drop(conn);
            let (named, reason) = verdict(&dir);
            assert_eq!(
                named,
                Some(seq),
                "header column {column} at {seq}: {reason}"
            );
        }

        // The body edited and compressed again, as the store would have.
        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("body-{seq}"));
        let select = "SELECT body FROM records WHERE tenant = 'acme' AND seq = ?1";
        let stored: Vec<u8> = conn.query_row(select, [seq as i64], |r| r.get(0)).unwrap();
        let edited = flip_middle_byte(body_codec::unpack_text(&stored).unwrap());
        conn.execute(
            "UPDATE records SET body = ?1 WHERE tenant = 'acme' AND seq = ?2",
            params![body_codec::pack(&edited), seq as i64],
        )
        .unwrap();
        drop(conn);
        let (named, reason) = verdict(&dir);
        assert_eq!(named, Some(seq), "body at {seq}: {reason}");
        assert!(reason.contains("body_hash"), "{reason}");

        // A byte of the stored frame changed.
        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("frame-{seq}"));
        let at = stored.len() / 2;
        flip_blob_byte(
            &conn,
            select,
            "UPDATE records SET body = ?1 WHERE tenant = 'acme' AND seq = ?2",
            &[seq as i64],
            at,
        );
        drop(conn);
        let (named, reason) = verdict(&dir);
        assert_eq!(named, Some(seq), "stored body at {seq}: {reason}");

        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("salt-{seq}"));
        flip_blob_byte(
            &conn,
            "SELECT salt FROM records WHERE tenant = 'acme' AND seq = ?1",
            "UPDATE records SET salt = ?1 WHERE tenant = 'acme' AND seq = ?2",
            &[seq as i64],
            7,
        );
        drop(conn);
        assert_eq!(verdict(&dir).0, Some(seq), "salt at {seq}");

        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("leaf-{seq}"));
        flip_blob_byte(
            &conn,
            "SELECT leaf_hash FROM records WHERE tenant = 'acme' AND seq = ?1",
            "UPDATE records SET leaf_hash = ?1 WHERE tenant = 'acme' AND seq = ?2",
            &[seq as i64],
            0,
        );
        drop(conn);
        assert_eq!(verdict(&dir).0, Some(seq), "stored leaf hash at {seq}");

        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("tile-{seq}"));
        flip_blob_byte(
            &conn,
            "SELECT hashes FROM tiles WHERE tenant = 'acme' AND level = 0 AND idx = ?1",
            "UPDATE tiles SET hashes = ?1 WHERE tenant = 'acme' AND level = 0 AND idx = ?2",
            &[(seq / 256) as i64],
            (seq % 256) as usize * 32 + 5,
        );
        drop(conn);
        let (named, reason) = verdict(&dir);
        assert_eq!(named, Some(seq), "tile hash of {seq}: {reason}");

        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("column-{seq}"));
        conn.execute(
            "UPDATE records SET agent_id = 'someone-else' WHERE tenant = 'acme' AND seq = ?1",
            [seq as i64],
        )
        .unwrap();
        drop(conn);
        let (named, reason) = verdict(&dir);
        assert_eq!(named, Some(seq), "derived column at {seq}: {reason}");
        assert!(reason.contains("agent_id"), "{reason}");

        let (dir, conn) = copy_for_attack(&pristine, root.path(), &format!("delete-{seq}"));
        conn.execute(
            "DELETE FROM records WHERE tenant = 'acme' AND seq = ?1",
            [seq as i64],
        )
        .unwrap();
        drop(conn);
        let (named, reason) = verdict(&dir);
        assert_eq!(named, Some(seq), "deleted record {seq}: {reason}");
    }
}

#[test]
fn tampering_with_summaries_checkpoints_and_search_is_caught() {
    let root = tempfile::tempdir().unwrap();
    let pristine = fixture(root.path());

    let (dir, conn) = copy_for_attack(&pristine, root.path(), "runs");
    conn.execute(
        "UPDATE runs SET fail_count = 0, status = 'completed' WHERE run_id = 'r2'",
        [],
    )
    .unwrap();
    drop(conn);
    assert!(verdict(&dir).1.contains("run \"r2\""));

    let (dir, conn) = copy_for_attack(&pristine, root.path(), "checkpoint");
    conn.execute(
        "UPDATE checkpoints SET note = replace(note, '\n300\n', '\n301\n') WHERE tenant = 'acme' AND size = 300",
        [],
    )
    .unwrap();
    drop(conn);
    let (_, reason) = verdict(&dir);
    assert!(reason.contains("checkpoint of size 300"), "{reason}");

    let (dir, conn) = copy_for_attack(&pristine, root.path(), "search");
    // Plant words in the index that record 5 does not contain, so a search
    // would find it for them.
    conn.execute(
        "INSERT INTO records_fts (rowid, text) VALUES (5, 'planted evidence')",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir, SqliteOptions::default()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    assert!(
        report.mismatch.is_some(),
        "a damaged search index is noticed"
    );

    // Removing the newest records (and their summaries) is noticed: the
    // tree still has their leaves.
    let (dir, conn) = copy_for_attack(&pristine, root.path(), "truncate");
    conn.execute(
        "DELETE FROM records WHERE tenant = 'acme' AND seq >= ?1",
        [(RECORDS - 3) as i64],
    )
    .unwrap();
    drop(conn);
    let (named, _) = verdict(&dir);
    assert!(named.is_some());
}

#[test]
fn a_store_whose_head_disagrees_refuses_writes_until_verified() {
    let root = tempfile::tempdir().unwrap();
    let pristine = fixture(root.path());
    let (dir, conn) = copy_for_attack(&pristine, root.path(), "head");
    conn.execute(
        "DELETE FROM records WHERE tenant = 'acme' AND seq = ?1",
        [(RECORDS - 1) as i64],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir, SqliteOptions::default()).unwrap();
    let why = store.inconsistency().expect("the open check notices");
    assert!(why.contains("flightrec verify --data-dir"), "{why}");
    let err = flightrec_store::RecordStore::append(
        &store,
        vec![flightrec_store::AppendBatch::events(
            "acme",
            vec![conformance::sealed(json!({"type": "x"}))],
        )],
    )
    .unwrap_err();
    assert!(err.to_string().contains("flightrec verify"), "{err}");
    // Reads still work, so the damage can be examined.
    assert!(store.checkpoint("acme", None).unwrap().is_some());
}

/// Erases a body the one way the triggers allow, as a retention pass
/// would, but without saying so in the log.
fn erase_body(conn: &Connection, seq: u64) {
    conn.execute(
        "UPDATE records SET body = NULL, salt = NULL WHERE tenant = 'acme' AND seq = ?1",
        [seq as i64],
    )
    .unwrap();
}

/// Appends a `log.erased` record naming `seqs`, sent by `by`.
fn tell_of_erasure(dir: &Path, seqs: std::ops::RangeInclusive<u64>, by: SubmittedBy) {
    let store = SqliteStore::open(dir, SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    let event = json!({"type": ERASED_TYPE, "message": "test",
                       "metadata": erased_seqs_metadata(&[seqs])});
    let batch = AppendBatch::events("acme", vec![conformance::sealed_by(event, by)]);
    store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
}

#[test]
fn an_erased_body_must_be_told_of_by_flightrec() {
    let root = tempfile::tempdir().unwrap();
    // Not yet in the free-text index, so erasing a body here needs no
    // index update (the erasure feature's own concern).
    let pristine = root.path().join("unindexed");
    let store = SqliteStore::create(&pristine, SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    let events = (0..400)
        .map(|i| json!({"type": "tool_call", "content": format!("step {i}")}))
        .collect();
    conformance::append(&store, "acme", events);
    drop(store);

    let (dir, conn) = copy_for_attack(&pristine, root.path(), "silent-erasure");
    erase_body(&conn, 300);
    drop(conn);
    let (named, reason) = verdict(&dir);
    assert_eq!(named, Some(300), "{reason}");
    assert!(reason.contains("log.erased"), "{reason}");

    // A client may record a `log.erased` of its own: it covers nothing.
    tell_of_erasure(&dir, 300..=300, SubmittedBy::Key("k-1".into()));
    assert_eq!(verdict(&dir).0, Some(300));

    // flightrec's own record of the erasure makes it a told erasure.
    let (dir, conn) = copy_for_attack(&pristine, root.path(), "told-erasure");
    erase_body(&conn, 300);
    erase_body(&conn, 301);
    drop(conn);
    tell_of_erasure(&dir, 299..=301, SubmittedBy::Flightrec);
    let store = SqliteStore::open(&dir, SqliteOptions::default()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    assert_eq!(report.mismatch, None);
    let acme = report.tenants.iter().find(|t| t.tenant == "acme").unwrap();
    assert_eq!(acme.erased, 2);

    // A record it does not name is still a silent erasure.
    let (dir, conn) = copy_for_attack(&pristine, root.path(), "half-told");
    erase_body(&conn, 302);
    drop(conn);
    tell_of_erasure(&dir, 299..=301, SubmittedBy::Flightrec);
    assert_eq!(verdict(&dir).0, Some(302));
}

/// Destroying a data key behind flightrec's back (the wrapped key nulled
/// in the table) makes bodies unreadable as crypto-shredding does; without
/// flightrec's `encryption.keys_destroyed` record after them, verify
/// names the first such body.
#[test]
fn a_destroyed_key_must_be_told_of_by_flightrec() {
    use flightrec_store::encryption::LocalMasterKey;
    use flightrec_store::{AccessChange, AccessStore};
    let root = tempfile::tempdir().unwrap();
    let pristine = root.path().join("sealed");
    let store = SqliteStore::create(&pristine, SqliteOptions::default()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    let master = std::sync::Arc::new(LocalMasterKey::from_bytes(&[4; 32]));
    store.keyring().use_master(master.clone()).unwrap();
    conformance::append(
        &store,
        "acme",
        vec![json!({"type": "x", "content": "plain"})],
    );
    let on = AppendBatch {
        access: vec![AccessChange::SetEncryption {
            tenant: "acme".into(),
            on: true,
            at: "2026-12-01T00:00:00.000000Z".into(),
        }],
        ..AppendBatch::events("acme", vec![])
    };
    store.append(vec![on]).unwrap().pop().unwrap().unwrap();
    conformance::append(
        &store,
        "acme",
        vec![json!({"type": "x", "content": "sealed"})],
    );
    drop(store);

    let (dir, conn) = copy_for_attack(&pristine, root.path(), "silent-shredding");
    conn.execute("UPDATE data_keys SET wrapped = NULL", [])
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir, SqliteOptions::default()).unwrap();
    store.keyring().use_master(master).unwrap();
    let m = conformance::verify_with_test_key(&store)
        .mismatch
        .expect("noticed");
    assert_eq!(m.seq, Some(1), "{m}");
    assert!(m.reason.contains("encryption.keys_destroyed"), "{m}");
}
