//! An attacker who owns the PostgreSQL tables: they disable the
//! append-only triggers, change or remove something, and `verify` must
//! notice and name the record it concerns, every time. The attacks of
//! `tamper.rs`, on PostgreSQL; each on a copy of one pristine database.

use flightrec_core::erasure::{ERASED_TYPE, erased_seqs_metadata};
use flightrec_core::record::SubmittedBy;
use flightrec_store::conformance::postgres::TestDatabase;
use flightrec_store::conformance::{self, append};
use flightrec_store::{AppendBatch, LogStore, PgStore, RecordStore, body_codec};
use postgres::Client;
use serde_json::json;

const RECORDS: u64 = 700;

/// A store with two tenants' logs, closed.
fn fixture() -> TestDatabase {
    let db = TestDatabase::create();
    let store = PgStore::open_or_create(db.url()).unwrap();
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
    while store.index_search(10_000).unwrap() > 0 {}
    conformance::assert_verifies(&store);
    db
}

/// A copy of the pristine store, with its triggers disabled.
fn copy_for_attack(pristine: &TestDatabase) -> (TestDatabase, Client) {
    let copy = TestDatabase::copy_of(pristine);
    let mut conn = copy.connect();
    for table in ["records", "tiles", "checkpoints", "cosignatures"] {
        conn.batch_execute(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
            .unwrap();
    }
    (copy, conn)
}

/// Verifies the attacked store and returns (seq named, reason).
fn verdict(db: &TestDatabase) -> (Option<u64>, String) {
    let store = PgStore::open(db.url()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    let m = report.mismatch.expect("verify must notice the attack");
    assert_eq!(m.tenant, "acme", "{m}");
    (m.seq, m.reason)
}

fn flip_text_byte(conn: &mut Client, column: &str, seq: u64) {
    let value: String = conn
        .query_one(
            &format!("SELECT {column} FROM records WHERE tenant = 'acme' AND seq = $1"),
            &[&(seq as i64)],
        )
        .unwrap()
        .get(0);
    let changed = flip_middle_byte(value);
    conn.execute(
        &format!("UPDATE records SET {column} = $1 WHERE tenant = 'acme' AND seq = $2"),
        &[&changed, &(seq as i64)],
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

/// Flips the lowest bit of byte `at` of a bytea column, in the rows `filter`
/// picks.
fn flip_blob_byte(conn: &mut Client, table: &str, column: &str, filter: &str, at: usize) {
    let n = conn
        .execute(
            &format!(
                "UPDATE {table} SET {column} = set_byte({column}, {at}, get_byte({column}, {at}) # 1) \
                 WHERE {filter}"
            ),
            &[],
        )
        .unwrap();
    assert_eq!(n, 1, "{table} {filter}");
}

#[test]
fn every_tampering_is_caught_and_named() {
    let pristine = fixture();
    let samples = [0u64, 1, 255, 256, 257, 411, 640, RECORDS - 1];
    // Copying and dropping a database mostly waits on the server's disk:
    // the samples run side by side.
    std::thread::scope(|scope| {
        for seq in samples {
            let pristine = &pristine;
            scope.spawn(move || attack_every_column_of(pristine, seq));
        }
    });
}

/// Every attack on one record, each on its own copy of `pristine`.
fn attack_every_column_of(pristine: &TestDatabase, seq: u64) {
    for column in [
        "type",
        "time",
        "received_at",
        "id",
        "body_hash",
        "submitted_by",
    ] {
        let (db, mut conn) = copy_for_attack(pristine);
        flip_text_byte(&mut conn, column, seq);
        drop(conn);
        let (named, reason) = verdict(&db);
        assert_eq!(
            named,
            Some(seq),
            "header column {column} at {seq}: {reason}"
        );
    }

    // The body edited and compressed again, as the store would have.
    let record = format!("tenant = 'acme' AND seq = {seq}");
    let (db, mut conn) = copy_for_attack(pristine);
    let stored: Vec<u8> = conn
        .query_one(&format!("SELECT body FROM records WHERE {record}"), &[])
        .unwrap()
        .get(0);
    let edited = flip_middle_byte(body_codec::unpack_text(&stored).unwrap());
    conn.execute(
        &format!("UPDATE records SET body = $1 WHERE {record}"),
        &[&body_codec::pack(&edited)],
    )
    .unwrap();
    drop(conn);
    let (named, reason) = verdict(&db);
    assert_eq!(named, Some(seq), "body at {seq}: {reason}");
    assert!(reason.contains("body_hash"), "{reason}");

    // A byte of the stored frame changed.
    let (db, mut conn) = copy_for_attack(pristine);
    flip_blob_byte(&mut conn, "records", "body", &record, stored.len() / 2);
    drop(conn);
    let (named, reason) = verdict(&db);
    assert_eq!(named, Some(seq), "stored body at {seq}: {reason}");

    let (db, mut conn) = copy_for_attack(pristine);
    flip_blob_byte(&mut conn, "records", "salt", &record, 7);
    drop(conn);
    assert_eq!(verdict(&db).0, Some(seq), "salt at {seq}");

    let (db, mut conn) = copy_for_attack(pristine);
    flip_blob_byte(&mut conn, "records", "leaf_hash", &record, 0);
    drop(conn);
    assert_eq!(verdict(&db).0, Some(seq), "stored leaf hash at {seq}");

    let (db, mut conn) = copy_for_attack(pristine);
    flip_blob_byte(
        &mut conn,
        "tiles",
        "hashes",
        &format!("tenant = 'acme' AND level = 0 AND idx = {}", seq / 256),
        (seq % 256) as usize * 32 + 5,
    );
    drop(conn);
    let (named, reason) = verdict(&db);
    assert_eq!(named, Some(seq), "tile hash of {seq}: {reason}");

    let (db, mut conn) = copy_for_attack(pristine);
    conn.batch_execute(&format!(
        "UPDATE records SET agent_id = 'someone-else' WHERE {record}"
    ))
    .unwrap();
    drop(conn);
    let (named, reason) = verdict(&db);
    assert_eq!(named, Some(seq), "derived column at {seq}: {reason}");
    assert!(reason.contains("agent_id"), "{reason}");

    let (db, mut conn) = copy_for_attack(pristine);
    conn.batch_execute(&format!("DELETE FROM records WHERE {record}"))
        .unwrap();
    drop(conn);
    let (named, reason) = verdict(&db);
    assert_eq!(named, Some(seq), "deleted record {seq}: {reason}");
}

#[test]
fn tampering_with_summaries_checkpoints_and_search_is_caught() {
    let pristine = fixture();

    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute("UPDATE runs SET fail_count = 0, status = 'completed' WHERE run_id = 'r2'")
        .unwrap();
    drop(conn);
    assert!(verdict(&db).1.contains("run \"r2\""));

    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute(
        "UPDATE checkpoints SET note = replace(note, E'\\n300\\n', E'\\n301\\n') \
         WHERE tenant = 'acme' AND size = 300",
    )
    .unwrap();
    drop(conn);
    let (_, reason) = verdict(&db);
    assert!(reason.contains("checkpoint of size 300"), "{reason}");

    // Plant words in the index that record 5 does not contain, so a search
    // would find it for them.
    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute(
        "UPDATE record_search SET document = document || to_tsvector('simple', 'planted evidence') \
         WHERE tenant = 'acme' AND seq = 5",
    )
    .unwrap();
    drop(conn);
    let store = PgStore::open(db.url()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    let m = report.mismatch.expect("a damaged search index is noticed");
    assert!(m.reason.contains("record 5"), "{m}");
    drop(store);

    // An entry for a record the index has not reached yet is noticed too.
    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute(
        "INSERT INTO record_search (tenant, seq, document) \
         VALUES ('acme', 100000, to_tsvector('simple', 'planted'))",
    )
    .unwrap();
    drop(conn);
    let store = PgStore::open(db.url()).unwrap();
    assert!(conformance::verify_with_test_key(&store).mismatch.is_some());
    drop(store);

    // Removing the newest records (and their summaries) is noticed: the
    // tree still has their leaves.
    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute(&format!(
        "DELETE FROM records WHERE tenant = 'acme' AND seq >= {}",
        RECORDS - 3
    ))
    .unwrap();
    drop(conn);
    let (named, _) = verdict(&db);
    assert!(named.is_some());
}

#[test]
fn a_store_whose_head_disagrees_refuses_writes_until_verified() {
    let pristine = fixture();
    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute(&format!(
        "DELETE FROM records WHERE tenant = 'acme' AND seq = {}",
        RECORDS - 1
    ))
    .unwrap();
    drop(conn);
    let store = PgStore::open(db.url()).unwrap();
    let why = store.inconsistency().expect("the open check notices");
    assert!(why.contains("flightrec verify --database-url"), "{why}");
    let err = store
        .append(vec![AppendBatch::events(
            "acme",
            vec![conformance::sealed(json!({"type": "x"}))],
        )])
        .unwrap_err();
    assert!(err.to_string().contains("flightrec verify"), "{err}");
    // Reads still work, so the damage can be examined.
    assert!(store.checkpoint("acme", None).unwrap().is_some());
    drop(store);

    // A head zeroed, so the next append would start the log over: noticed
    // on open, and verify still finds the tenant's records.
    let (db, mut conn) = copy_for_attack(&pristine);
    conn.batch_execute("UPDATE log_heads SET size = 0 WHERE tenant = 'acme'")
        .unwrap();
    drop(conn);
    let store = PgStore::open(db.url()).unwrap();
    assert!(store.inconsistency().is_some(), "the open check notices");
    let report = conformance::verify_with_test_key(&store);
    let acme = report.tenants.iter().find(|t| t.tenant == "acme");
    assert_eq!(acme.map(|t| t.records), Some(RECORDS));
}

/// Erases a body the one way the triggers allow, as a retention pass
/// would, but without saying so in the log.
fn erase_body(conn: &mut Client, seq: u64) {
    conn.batch_execute(&format!(
        "UPDATE records SET body = NULL, salt = NULL WHERE tenant = 'acme' AND seq = {seq}"
    ))
    .unwrap();
}

/// Appends a `log.erased` record naming `seqs`, sent by `by`.
fn tell_of_erasure(db: &TestDatabase, seqs: std::ops::RangeInclusive<u64>, by: SubmittedBy) {
    let store = PgStore::open(db.url()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    let event = json!({"type": ERASED_TYPE, "message": "test",
                       "metadata": erased_seqs_metadata(&[seqs])});
    let batch = AppendBatch::events("acme", vec![conformance::sealed_by(event, by)]);
    store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
}

#[test]
fn an_erased_body_must_be_told_of_by_flightrec() {
    // Not yet in the free-text index, so erasing a body here needs no
    // index update (the erasure feature's own concern).
    let pristine = TestDatabase::create();
    let store = PgStore::open_or_create(pristine.url()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    let events = (0..400)
        .map(|i| json!({"type": "tool_call", "content": format!("step {i}")}))
        .collect();
    conformance::append(&store, "acme", events);
    drop(store);

    // The triggers allow this one change; no need to disable them.
    let silent = TestDatabase::copy_of(&pristine);
    erase_body(&mut silent.connect(), 300);
    let (named, reason) = verdict(&silent);
    assert_eq!(named, Some(300), "{reason}");
    assert!(reason.contains("log.erased"), "{reason}");

    // A client may record a `log.erased` of its own: it covers nothing.
    tell_of_erasure(&silent, 300..=300, SubmittedBy::Key("k-1".into()));
    assert_eq!(verdict(&silent).0, Some(300));

    // flightrec's own record of the erasure makes it a told erasure.
    let told = TestDatabase::copy_of(&pristine);
    let mut conn = told.connect();
    erase_body(&mut conn, 300);
    erase_body(&mut conn, 301);
    drop(conn);
    tell_of_erasure(&told, 299..=301, SubmittedBy::Flightrec);
    let store = PgStore::open(told.url()).unwrap();
    let report = conformance::verify_with_test_key(&store);
    assert_eq!(report.mismatch, None);
    let acme = report.tenants.iter().find(|t| t.tenant == "acme").unwrap();
    assert_eq!(acme.erased, 2);
    drop(store);

    // A record it does not name is still a silent erasure.
    let half = TestDatabase::copy_of(&pristine);
    erase_body(&mut half.connect(), 302);
    tell_of_erasure(&half, 299..=301, SubmittedBy::Flightrec);
    assert_eq!(verdict(&half).0, Some(302));
}
