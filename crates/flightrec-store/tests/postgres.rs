//! The PostgreSQL backend: the shared conformance suite, then what is
//! particular to PostgreSQL (create vs open, append-only triggers, several
//! nodes appending to one tenant). Each test has a database of its own.

use flightrec_store::conformance::postgres::{TestDatabase, TestRole};
use flightrec_store::conformance::{self, append};
use flightrec_store::{AppendBatch, LogStore, PgStore, RecordStore, StoreError};
use serde_json::json;

fn fresh() -> (TestDatabase, PgStore) {
    let db = TestDatabase::create();
    let store = PgStore::open_or_create(db.url()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    (db, store)
}

#[test]
fn conformance_suite() {
    for (name, check) in conformance::all::<PgStore>() {
        let (_db, store) = fresh();
        eprintln!("conformance: {name}");
        check(&store);
    }
}

/// The whole suite again, with the nodes signed in as a role that holds
/// only `PgStore::app_role_grants`: those rights are enough.
#[test]
fn conformance_suite_as_the_application_role() {
    let role = TestRole::create();
    for (name, check) in conformance::all::<PgStore>() {
        let db = TestDatabase::create();
        drop(PgStore::open_or_create(db.url()).unwrap());
        db.connect()
            .batch_execute(&PgStore::app_role_grants(role.name()))
            .unwrap();
        let store = PgStore::open(&db.url_as(role.name())).unwrap();
        store.set_checkpointing(conformance::checkpointing());
        eprintln!("conformance as the application role: {name}");
        check(&store);
    }
}

/// What the triggers refuse, the application's role may not even try; nor
/// may it disable the triggers, which only the owner may.
#[test]
fn the_application_role_cannot_change_the_log() {
    let role = TestRole::create();
    let (db, store) = fresh();
    append(
        &store,
        "t",
        vec![json!({"id": "a", "type": "start", "content": "x"})],
    );
    db.connect()
        .batch_execute(&PgStore::app_role_grants(role.name()))
        .unwrap();
    let mut app = postgres::Client::connect(&db.url_as(role.name()), postgres::NoTls).unwrap();
    for sql in [
        "ALTER TABLE records DISABLE TRIGGER USER",
        "UPDATE records SET type = 'other'",
        "DELETE FROM records",
        "TRUNCATE records",
        "DELETE FROM tiles",
        "UPDATE checkpoints SET note = 'x'",
        "DELETE FROM checkpoints",
        "DELETE FROM cosignatures",
        "DELETE FROM record_search",
        "UPDATE records SET actor_type = NULL, body = NULL, salt = NULL",
        "DROP TABLE records",
    ] {
        let err = app.batch_execute(sql).unwrap_err();
        let code = err.code().map(|c| c.code().to_owned());
        assert!(matches!(code.as_deref(), Some("42501")), "{sql}: {err:?}");
    }
    // Erasure is the one change to a record it may make (a search entry it
    // rewrites then is checked by `verify` against the record).
    app.batch_execute("UPDATE records SET body = NULL, salt = NULL, actor = NULL")
        .unwrap();
    drop(app);
    drop(store);
    drop(db); // before the role, which it granted rights to
}

/// With an interval, a commit signs only when the newest checkpoint is old
/// enough; `sign_checkpoints` signs the rest, at committed sizes only.
#[test]
fn checkpoints_between_intervals_are_signed_on_demand() {
    let (_db, store) = fresh();
    let key = flightrec_core::log::Signer::from_seed("conformance.test", [42; 32]).unwrap();
    store.set_checkpointing(
        flightrec_store::Checkpointing::new(
            key,
            std::time::Duration::from_secs(3600),
            std::sync::Arc::new(flightrec_core::clock::SystemClock),
        )
        .unwrap(),
    );
    let batch = |t: &str| AppendBatch::events("t", vec![conformance::sealed(json!({"type": t}))]);
    store.append(vec![batch("a")]).unwrap();
    store.append(vec![batch("b")]).unwrap();
    store.append(vec![batch("c")]).unwrap();
    let sizes =
        |s: &PgStore| -> Vec<u64> { s.checkpoints("t").unwrap().iter().map(|c| c.size).collect() };
    assert_eq!(sizes(&store), [1], "the first commit signs, the next wait");
    assert_eq!(store.sign_checkpoints().unwrap(), 1);
    assert_eq!(sizes(&store), [1, 3]);
    assert_eq!(store.sign_checkpoints().unwrap(), 0);
    conformance::assert_verifies(&store);
}

#[test]
fn open_never_creates() {
    let db = TestDatabase::create();
    let err = PgStore::open(db.url()).unwrap_err();
    assert!(matches!(err, StoreError::DatabaseEmpty { .. }), "{err}");
    assert!(err.to_string().contains("--database-url"), "{err}");
    let tables: i64 = db
        .connect()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing written");
}

#[test]
fn nodes_starting_at_once_on_an_empty_database_create_one_store() {
    let db = TestDatabase::create();
    std::thread::scope(|scope| {
        let nodes: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PgStore::open_or_create(db.url()).map(drop)))
            .collect();
        for node in nodes {
            node.join().unwrap().unwrap();
        }
    });
    let row = db
        .connect()
        .query_one("SELECT count(*), max(version) FROM flightrec_schema", &[])
        .unwrap();
    let (applied, version): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(applied, version, "each migration applied once");
}

#[test]
fn a_database_with_other_tables_is_refused() {
    let db = TestDatabase::create();
    db.connect()
        .batch_execute("CREATE TABLE mine (x int)")
        .unwrap();
    let err = PgStore::open_or_create(db.url()).unwrap_err();
    assert!(matches!(err, StoreError::DatabaseNotAStore { .. }), "{err}");
}

#[test]
fn a_newer_schema_is_refused() {
    let (db, store) = fresh();
    drop(store);
    db.connect()
        .batch_execute("INSERT INTO flightrec_schema (version, applied_at) VALUES (999, now())")
        .unwrap();
    let err = PgStore::open(db.url()).unwrap_err();
    assert!(
        matches!(err, StoreError::DatabaseTooNew { found: 999, .. }),
        "{err}"
    );
}

#[test]
fn the_password_never_appears_in_messages() {
    let err = PgStore::open("postgres://someone:hunter2@127.0.0.1:1/nowhere").unwrap_err();
    assert!(err.is_transient(), "{err}");
    let store_side = format!("{err} {err:?}");
    assert!(!store_side.contains("hunter2"), "{store_side}");
}

#[test]
fn records_survive_reopening() {
    let (db, store) = fresh();
    let receipts = append(&store, "t", vec![json!({"id": "a", "type": "start"})]);
    drop(store);
    let store = PgStore::open(db.url()).unwrap();
    store.set_checkpointing(conformance::checkpointing());
    assert_eq!(store.log_size("t").unwrap(), 1);
    let next = append(&store, "t", vec![json!({"type": "x"})]);
    assert_eq!(next[0].seq, receipts[0].seq + 1);
}

#[test]
fn triggers_refuse_update_and_delete() {
    let (db, store) = fresh();
    append(
        &store,
        "t",
        vec![json!({"id": "a", "type": "start", "content": "x"})],
    );
    let mut conn = db.connect();
    for sql in [
        "UPDATE records SET type = 'other'",
        "UPDATE records SET body = '{}'",
        "UPDATE records SET body = NULL, salt = NULL, seq = 7",
        "UPDATE records SET body = NULL, salt = NULL, agent_id = 'x'",
        "DELETE FROM records",
        "TRUNCATE records",
        "UPDATE tiles SET hashes = '\\x00'",
        "DELETE FROM tiles",
        "UPDATE checkpoints SET note = 'x'",
        "DELETE FROM checkpoints",
        "TRUNCATE checkpoints",
    ] {
        let err = conn.batch_execute(sql).unwrap_err();
        let message = err.as_db_error().map(|e| e.message().to_owned());
        assert!(
            message.as_deref().unwrap_or("").contains("append-only"),
            "{sql}: {err:?}"
        );
    }
    store.add_cosignature("t", 1, "w", "— w sig").unwrap();
    for sql in [
        "UPDATE cosignatures SET line = 'x'",
        "DELETE FROM cosignatures",
    ] {
        let err = conn.batch_execute(sql).unwrap_err();
        let message = err.as_db_error().map(|e| e.message().to_owned());
        assert!(
            message.as_deref().unwrap_or("").contains("append-only"),
            "{sql}: {err:?}"
        );
    }
    // The one change allowed: erasing a body.
    conn.batch_execute("UPDATE records SET body = NULL, salt = NULL")
        .unwrap();
}

#[test]
fn several_nodes_appending_to_one_tenant_make_one_gapless_tree() {
    let (db, store) = fresh();
    drop(store);
    const NODES: usize = 4;
    const BATCHES: usize = 15;
    let receipts: Vec<Vec<flightrec_core::record::Receipt>> = std::thread::scope(|scope| {
        let nodes: Vec<_> = (0..NODES)
            .map(|node| {
                let url = db.url().to_owned();
                scope.spawn(move || {
                    // Each node is a store of its own, as on another machine.
                    let store = PgStore::open_or_create(&url).unwrap();
                    store.set_checkpointing(conformance::checkpointing());
                    let mut mine = Vec::new();
                    for b in 0..BATCHES {
                        let events = (0..5)
                            .map(|i| {
                                conformance::sealed(
                                    json!({"id": format!("n{node}-b{b}-{i}"), "type": "x"}),
                                )
                            })
                            .collect();
                        // A retry of an id another node may have written.
                        let shared =
                            conformance::sealed(json!({"id": format!("shared-{b}"), "type": "y"}));
                        let batch = AppendBatch::events("t", [events, vec![shared]].concat());
                        let outcome = store.append(vec![batch]).unwrap().pop().unwrap();
                        mine.extend(outcome.unwrap());
                    }
                    mine
                })
            })
            .collect();
        nodes.into_iter().map(|n| n.join().unwrap()).collect()
    });
    let store = PgStore::open(db.url()).unwrap();
    let size = store.log_size("t").unwrap();
    assert_eq!(size as usize, NODES * BATCHES * 5 + BATCHES);
    let mut seqs: Vec<u64> = receipts.iter().flatten().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs, (0..size).collect::<Vec<_>>(), "gapless, no duplicate");
    // Every node got the first receipt of each shared id.
    for b in 0..BATCHES {
        let id = format!("shared-{b}");
        let first: Vec<_> = receipts.iter().flatten().filter(|r| r.id == id).collect();
        assert_eq!(first.len(), NODES);
        assert!(first.windows(2).all(|w| w[0] == w[1]), "{first:?}");
    }
    conformance::assert_verifies(&store);
}

/// An alert raised by event `index` of a batch.
fn alert(id: &str, index: usize, event_id: &str) -> flightrec_store::NewAlert {
    flightrec_store::NewAlert {
        event_index: index,
        alert: flightrec_store::Alert {
            id: id.into(),
            tenant: "acme".into(),
            rule_id: "ssn".into(),
            rule_name: "rule ssn".into(),
            severity: "high".into(),
            detector: "us_ssn".into(),
            event_id: event_id.into(),
            seq: 0,
            run_id: None,
            agent_id: None,
            path: "input".into(),
            excerpt: "ssn [us_ssn]".into(),
            matches: 1,
            policy_id: None,
            policy_version: None,
            status: "open".into(),
            created_at: String::new(),
            resolved_at: None,
            resolved_by: None,
        },
    }
}

#[test]
fn nodes_claiming_deliveries_at_once_each_take_different_ones() {
    use flightrec_store::{GuardrailChange, GuardrailStore, Tenant, Webhook};
    const DELIVERIES: usize = 60;
    let (db, store) = fresh();
    let at = "2026-11-22T10:00:00.000000Z";
    let setup = AppendBatch {
        access: vec![flightrec_store::AccessChange::CreateTenant(Tenant {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: at.into(),
        })],
        guardrails: vec![GuardrailChange::CreateWebhook(Webhook {
            id: "w1".into(),
            tenant: "acme".into(),
            url: "https://hooks.example.com/x".into(),
            events: vec!["alert.created".into()],
            created_at: at.into(),
        })],
        ..AppendBatch::events(
            "acme",
            vec![conformance::sealed(json!({"type": "webhook.created"}))],
        )
    };
    store.append(vec![setup]).unwrap().pop().unwrap().unwrap();
    let events = (0..DELIVERIES)
        .map(|i| conformance::sealed(json!({"id": format!("e{i}"), "type": "x"})))
        .collect();
    let alerts = (0..DELIVERIES)
        .map(|i| alert(&format!("a{i}"), i, &format!("e{i}")))
        .collect();
    let raise = AppendBatch {
        alerts,
        ..AppendBatch::events("acme", events)
    };
    store.append(vec![raise]).unwrap().pop().unwrap().unwrap();
    drop(store);

    let now = "2026-11-22T10:00:01.000000Z";
    let lease = "2026-11-22T10:01:01.000000Z";
    let claimed: Vec<String> = std::thread::scope(|scope| {
        let nodes: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let node = PgStore::open(db.url()).unwrap();
                    let mut mine = Vec::new();
                    loop {
                        let taken = node.claim_deliveries(now, lease, 3).unwrap();
                        if taken.is_empty() {
                            return mine;
                        }
                        mine.extend(taken.into_iter().map(|d| d.id));
                    }
                })
            })
            .collect();
        nodes.into_iter().flat_map(|n| n.join().unwrap()).collect()
    });
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(claimed.len(), DELIVERIES, "each delivery taken once");
    assert_eq!(unique.len(), DELIVERIES);
}

/// PostgreSQL text cannot hold NUL; a body may (JSON escapes it), and so may
/// the text search reads from it.
#[test]
fn bodies_with_nul_and_astral_characters_are_stored_and_found() {
    let (_db, store) = fresh();
    append(
        &store,
        "t",
        vec![
            json!({"id": "odd", "type": "thinking", "content": "before\u{0}after 🦀 crab",
                    "metadata": {"k\u{0}": "v"}}),
        ],
    );
    while store.index_search(100).unwrap() > 0 {}
    let record = store.record("t", "odd").unwrap().unwrap();
    assert!(record.body.unwrap().contains("before\\u0000after 🦀"));
    let found = store
        .records(
            "t",
            &flightrec_store::EventQuery {
                filter: flightrec_store::EventFilter {
                    q: Some("AFTER crab".into()),
                    ..Default::default()
                },
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(found.items.len(), 1);
    conformance::assert_verifies(&store);
}

#[test]
fn a_snapshot_reads_the_store_as_it_was_while_nodes_append() {
    let (db, store) = fresh();
    append(
        &store,
        "t",
        (0..300)
            .map(|i| json!({"type": "x", "run_id": format!("r{}", i % 3)}))
            .collect(),
    );
    while store.index_search(1000).unwrap() > 0 {}
    let snapshot = PgStore::open_snapshot(db.url()).unwrap();
    let before = conformance::assert_verifies(&snapshot);
    // The log goes on growing through another store: the snapshot does not
    // see it, and still verifies whole, runs and search index included.
    for _ in 0..3 {
        append(
            &store,
            "t",
            (0..100)
                .map(|i| json!({"type": "y", "run_id": format!("r{}", i % 3)}))
                .collect(),
        );
        while store.index_search(1000).unwrap() > 0 {}
    }
    assert_eq!(snapshot.log_size("t").unwrap(), 300);
    assert_eq!(store.log_size("t").unwrap(), 600);
    let after = conformance::assert_verifies(&snapshot);
    assert_eq!(
        after, before,
        "the same records, runs, checkpoints and root"
    );
    let refused = snapshot.append(vec![AppendBatch::events(
        "t",
        vec![conformance::sealed(json!({"type": "x"}))],
    )]);
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert!(snapshot.index_search(10).is_err());
}

/// A store of schema version 2 (before `/v1/stats`' columns and tallies)
/// is migrated with its records' figures filled in: the same answer as a
/// store that tallied them as they came.
#[test]
fn migrating_a_version_2_store_tallies_its_records_for_stats() {
    use flightrec_store::stats::GroupBy;
    let (db, store) = fresh();
    let events: Vec<_> = (0..40)
        .map(|i| {
            let event_type = ["tool_call", "llm_call"][i % 2];
            let status = ["ok", "fail", "warn", "ok"][i % 4];
            let verb = ["read", "write", "search"][i % 3];
            let governance = ["blocked", "approved", "dry_run"][i % 3];
            json!({
                "type": event_type,
                "time": format!("2026-01-0{}T{:02}:{:02}:00Z", 1 + i % 3, i % 24, i),
                "status": status,
                "verb": verb,
                "agent_id": format!("agent-{}", i % 4),
                "duration_ms": i * 37,
                "dry_run": i % 5 == 0,
                "idempotency_hit": i % 7 == 0,
                "governance": {"status": governance},
            })
        })
        .collect();
    append(&store, "t", events);
    // jsonb refuses a body with a NUL; the migration must not.
    append(
        &store,
        "t",
        vec![
            json!({"type": "x", "time": "2026-01-01T05:00:00Z", "content": "a\u{0}b",
                    "duration_ms": 3, "idempotency_hit": true}),
        ],
    );
    let tallied: Vec<_> = [None, Some(GroupBy::Agent), Some(GroupBy::Hour)]
        .into_iter()
        .map(|g| store.stats("t", None, None, g).unwrap())
        .collect();
    assert_eq!(tallied[0].total().counts.n, 41);
    let before = conformance::assert_verifies(&store);
    drop(store);
    // Back to version 2, as the schema's owner.
    let mut conn = db.connect();
    back_to_plain_bodies(&mut conn);
    conn.batch_execute(
        "DROP TABLE reports, record_stats; \
         ALTER TABLE records DROP COLUMN dry_run, DROP COLUMN idempotency_hit, \
           DROP COLUMN duration_ms; \
         DELETE FROM flightrec_schema WHERE version > 2;",
    )
    .unwrap();
    let store = PgStore::open(db.url()).unwrap();
    let migrated: Vec<_> = [None, Some(GroupBy::Agent), Some(GroupBy::Hour)]
        .into_iter()
        .map(|g| store.stats("t", None, None, g).unwrap())
        .collect();
    assert_eq!(migrated, tallied);
    assert_eq!(conformance::assert_verifies(&store), before);
}

/// Bodies as schema V4 and earlier kept them, plain text in a text
/// column, with schema version 4 recorded (and its hourly counts table,
/// which V7 dropped).
fn back_to_plain_bodies(conn: &mut postgres::Client) {
    let rows = conn
        .query(
            "SELECT tenant, seq, body FROM records WHERE body IS NOT NULL",
            &[],
        )
        .unwrap();
    let mut tx = conn.transaction().unwrap();
    tx.batch_execute(
        "ALTER TABLE records DISABLE TRIGGER records_only_erase; \
         ALTER TABLE records ADD COLUMN plain_body text COLLATE \"C\";",
    )
    .unwrap();
    for row in rows {
        let (tenant, seq, stored): (String, i64, Vec<u8>) = (row.get(0), row.get(1), row.get(2));
        let text = flightrec_store::body_codec::unpack_text(&stored).unwrap();
        tx.execute(
            "UPDATE records SET plain_body = $3 WHERE tenant = $1 AND seq = $2",
            &[&tenant, &seq, &text],
        )
        .unwrap();
    }
    tx.batch_execute(
        "ALTER TABLE records DROP COLUMN body; \
         ALTER TABLE records RENAME COLUMN plain_body TO body; \
         ALTER TABLE records ENABLE TRIGGER records_only_erase; \
         DROP TABLE data_keys; \
         DELETE FROM flightrec_schema WHERE version > 4;",
    )
    .unwrap();
    // The hourly counts of V1 to V6, filled as their trigger would have.
    tx.batch_execute(
        "CREATE TABLE record_counts (tenant text COLLATE \"C\" NOT NULL, \
           hour text COLLATE \"C\" NOT NULL, status text COLLATE \"C\" NOT NULL, \
           n bigint NOT NULL, PRIMARY KEY (tenant, hour, status)); \
         INSERT INTO record_counts SELECT tenant, left(time, 13), status, count(*) \
           FROM records GROUP BY 1, 2, 3; \
         CREATE FUNCTION flightrec_count_records() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           INSERT INTO record_counts (tenant, hour, status, n) \
             SELECT tenant, left(time, 13), status, count(*) FROM new_records GROUP BY 1, 2, 3 \
           ON CONFLICT (tenant, hour, status) DO UPDATE SET n = record_counts.n + excluded.n; \
           RETURN NULL; \
         END $$; \
         CREATE TRIGGER records_counted AFTER INSERT ON records \
           REFERENCING NEW TABLE AS new_records \
           FOR EACH STATEMENT EXECUTE FUNCTION flightrec_count_records();",
    )
    .unwrap();
    tx.commit().unwrap();
}

/// A store of schema version 4 keeps its bodies as plain text: after the
/// migration to bytes they read and verify as before, beside new,
/// compressed ones, and search finds words in both.
#[test]
fn bodies_stored_as_text_before_version_5_still_read_and_verify() {
    let (db, store) = fresh();
    append(
        &store,
        "t",
        vec![json!({"type": "x", "message": "plainword from before"})],
    );
    while store.index_search(1000).unwrap() > 0 {}
    let before = conformance::assert_verifies(&store);
    drop(store);
    back_to_plain_bodies(&mut db.connect());
    let store = PgStore::open(db.url()).unwrap();
    assert_eq!(conformance::assert_verifies(&store), before);
    append(
        &store,
        "t",
        vec![json!({"type": "x", "message": "packedword from after"})],
    );
    while store.index_search(1000).unwrap() > 0 {}
    let stored: Vec<Vec<u8>> = db
        .connect()
        .query(
            "SELECT body FROM records WHERE tenant = 't' ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(stored[0].starts_with(b"{"), "the old body as it was");
    assert!(
        stored[1].starts_with(&[0x28, 0xB5, 0x2F, 0xFD]),
        "a zstd frame"
    );
    for word in ["plainword", "packedword"] {
        let filter = flightrec_store::EventFilter {
            q: Some(word.into()),
            ..Default::default()
        };
        assert_eq!(
            conformance::all_records(&store, "t", filter).len(),
            1,
            "{word}"
        );
    }
    conformance::assert_verifies(&store);
}
