//! The SQLite backend: the shared conformance suite, then what is particular
//! to SQLite (create vs open, append-only triggers, a full disk).

use flightrec_store::conformance::{self, append};
use flightrec_store::{RecordStore, SqliteOptions, SqliteStore, StoreError};
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

#[test]
fn opening_a_version_3_store_counts_its_records() {
    let (dir, store) = fresh();
    append(
        &store,
        "t",
        vec![
            json!({"type": "x", "time": "2026-11-20T10:00:00Z"}),
            json!({"type": "x", "time": "2026-11-21T10:00:00Z", "status": "fail"}),
        ],
    );
    drop(store);
    // Back to the schema before the hourly counts.
    let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
    conn.execute_batch("DROP TRIGGER records_counted; DROP TABLE record_counts;")
        .unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    drop(conn);
    let store = reopen(&dir);
    let counts = store.window_counts("t", None, None).unwrap();
    assert_eq!((counts.total, counts.fail), (2, 1));
    append(&store, "t", vec![json!({"type": "x", "status": "warn"})]);
    let counts = store.window_counts("t", None, None).unwrap();
    assert_eq!((counts.total, counts.fail, counts.warn), (3, 1, 1));
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
        "UPDATE records SET body = '{}'",
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
