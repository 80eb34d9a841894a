//! The suite's checks of encryption at rest: bodies and their copies
//! sealed from the batch that turns it on, read and found by search as
//! before; crypto-shredding; a new master key.

use super::{all_records, append, assert_verifies};
use crate::encryption::{LocalMasterKey, MasterKey};
use crate::*;
use flightrec_core::erasure::KEYS_DESTROYED_TYPE;
use flightrec_core::record::SubmittedBy;
use serde_json::json;
use std::sync::Arc;

const MARKER: &str = "zqxsealedmarker";

fn master(byte: u8) -> Arc<LocalMasterKey> {
    Arc::new(LocalMasterKey::from_bytes(&[byte; 32]))
}

fn set_encryption<S: Store>(store: &S, on: bool) -> BatchOutcome {
    let batch = AppendBatch {
        access: vec![AccessChange::SetEncryption {
            tenant: "acme".into(),
            on,
            at: "2026-12-01T00:00:00.000000Z".into(),
        }],
        ..AppendBatch::events(
            "acme",
            vec![super::sealed(json!({"type": "settings.updated"}))],
        )
    };
    store.append(vec![batch]).unwrap().pop().unwrap()
}

fn raise_alert<S: Store>(store: &S, id: &str, excerpt: &str) {
    let alert = Alert {
        id: id.into(),
        tenant: "acme".into(),
        rule_id: "r".into(),
        rule_name: "rule".into(),
        severity: "high".into(),
        detector: "keyword".into(),
        event_id: format!("ev-{id}"),
        seq: 0,
        run_id: None,
        agent_id: None,
        path: "content".into(),
        excerpt: excerpt.into(),
        matches: 1,
        policy_id: None,
        policy_version: None,
        status: "open".into(),
        created_at: String::new(),
        resolved_at: None,
        resolved_by: None,
    };
    let batch = AppendBatch {
        alerts: vec![NewAlert {
            event_index: 0,
            alert,
        }],
        ..AppendBatch::events(
            "acme",
            vec![super::sealed(
                json!({"id": format!("ev-{id}"), "type": "x", "content": excerpt}),
            )],
        )
    };
    store
        .append(vec![batch])
        .unwrap()
        .pop()
        .unwrap()
        .expect("alert raised");
}

fn finish_report<S: Store>(store: &S, id: &str, file: &[u8]) {
    let job = ReportJob {
        tenant: "acme".into(),
        id: id.into(),
        report_type: ReportType::AuditTrail,
        format: ReportFormat::Csv,
        from: None,
        to: None,
        requested_by: "key:k1".into(),
        created_at: "2026-12-01T00:00:00.000000Z".into(),
        status: ReportStatus::Pending,
        finished_at: None,
        error: None,
        size: None,
        basis: None,
    };
    let batch = AppendBatch {
        access: vec![AccessChange::RequestReport(job)],
        ..AppendBatch::events(
            "acme",
            vec![super::sealed(json!({"type": "report.requested"}))],
        )
    };
    store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
    let mark = store.erasure_mark("acme").unwrap();
    let ready = ReportOutcome::Ready {
        file: file.to_vec(),
        basis: "{}".into(),
    };
    let at = "2026-12-01T00:01:00.000000Z";
    assert!(store.finish_report("acme", id, at, &ready, mark).unwrap());
}

fn bodies<S: Store>(store: &S) -> Vec<Option<String>> {
    let query = EventQuery {
        limit: 1000,
        ascending: true,
        ..EventQuery::default()
    };
    store
        .records("acme", &query)
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.body)
        .collect()
}

fn found<S: Store>(store: &S, q: &str) -> usize {
    let filter = EventFilter {
        q: Some(q.into()),
        ..EventFilter::default()
    };
    all_records(store, "acme", filter).len()
}

/// Without a master key, encryption cannot be turned on, and says why.
pub fn encryption_needs_a_master_key<S: Store>(store: &S) {
    match set_encryption(store, true) {
        Err(StoreError::Rejected(why)) => assert!(why.contains("master key"), "{why}"),
        other => panic!("turned on without a master key: {other:?}"),
    }
    assert_eq!(bodies(store).len(), 0, "the refused batch left nothing");
}

/// Bodies, alert excerpts and report files are sealed from the batch that
/// turns encryption on; they read, are found by search (a blind index) and
/// verify as before; bodies from before stay as they were.
pub fn sealed_bodies_read_search_and_verify<S: Store>(store: &S) {
    store.keyring().use_master(master(7)).unwrap();
    append(
        store,
        "acme",
        vec![json!({"type": "x", "content": "plain order-1234"})],
    );
    set_encryption(store, true).expect("encryption on");
    append(
        store,
        "acme",
        vec![
            json!({"type": "x", "content": format!("{MARKER} order-1234 sealed")}),
            json!({"type": "x", "content": "another sealed body"}),
        ],
    );
    raise_alert(store, "al1", &format!("excerpt {MARKER}"));
    finish_report(store, "rep1", format!("seq,text\n1,{MARKER}\n").as_bytes());
    while store.index_search(1_000).unwrap() > 0 {}

    let read = bodies(store);
    assert!(read[0].as_deref().unwrap().contains("plain order-1234"));
    assert!(read[2].as_deref().unwrap().contains(MARKER), "{read:?}");
    assert_eq!(
        found(store, MARKER),
        2,
        "the sealed body and the alert's event"
    );
    assert_eq!(found(store, "order-1234"), 2, "a phrase, plain and sealed");
    assert_eq!(found(store, "ORDER-1234 sealed"), 1);
    assert_eq!(found(store, "order-9999"), 0);
    assert_eq!(found(store, "1234-order"), 0, "word order counts");
    let alert = store.alert("acme", "al1").unwrap().unwrap();
    assert_eq!(alert.excerpt, format!("excerpt {MARKER}"));
    assert_eq!(
        store.report_file("acme", "rep1").unwrap().unwrap(),
        format!("seq,text\n1,{MARKER}\n").as_bytes()
    );
    let report = assert_verifies(store);
    assert_eq!(report.tenants[0].sealed_unchecked, 0);
    assert_eq!(report.tenants[0].shredded, 0);

    // Off: new bodies plain; the sealed ones still read.
    set_encryption(store, false).expect("encryption off");
    append(
        store,
        "acme",
        vec![json!({"type": "x", "content": "after, plain"})],
    );
    assert!(bodies(store).iter().all(Option::is_some));
    assert_verifies(store);
}

/// Destroying the tenant's data keys leaves its sealed bodies and their
/// copies unreadable for good, search blind to them, and the log verifying;
/// encryption can be turned on again, with a new key.
pub fn destroyed_keys_shred_and_the_log_verifies<S: Store>(store: &S) {
    store.keyring().use_master(master(7)).unwrap();
    append(
        store,
        "acme",
        vec![json!({"type": "x", "content": "plain before"})],
    );
    set_encryption(store, true).expect("encryption on");
    append(store, "acme", vec![json!({"type": "x", "content": MARKER})]);
    raise_alert(store, "al1", MARKER);
    finish_report(store, "rep1", MARKER.as_bytes());
    while store.index_search(1_000).unwrap() > 0 {}
    assert_eq!(found(store, MARKER), 2);

    let destroy = AppendBatch {
        access: vec![AccessChange::DestroyDataKeys {
            tenant: "acme".into(),
            at: "2026-12-02T00:00:00.000000Z".into(),
        }],
        ..AppendBatch::events(
            "acme",
            vec![super::sealed_by(
                json!({"type": KEYS_DESTROYED_TYPE}),
                SubmittedBy::Flightrec,
            )],
        )
    };
    store
        .append(vec![destroy])
        .unwrap()
        .pop()
        .unwrap()
        .expect("destroyed");
    let read = bodies(store);
    assert!(read[0].as_deref().unwrap().contains("plain before"));
    // Text a client sent that starts like a sealed value reads as sent.
    raise_alert(store, "al2", "flightrec-sealed:not really");
    assert_eq!(
        store.alert("acme", "al2").unwrap().unwrap().excerpt,
        "flightrec-sealed:not really"
    );
    let shredded = read.iter().filter(|b| b.is_none()).count();
    assert_eq!(
        shredded, 4,
        "the settings record, the marker's, the alert's event and the report's request: {read:?}"
    );
    assert!(
        read.last().unwrap().is_some(),
        "the record that tells of it is plain"
    );
    assert_eq!(found(store, MARKER), 0);
    assert_eq!(
        store.alert("acme", "al1").unwrap().unwrap().excerpt,
        "[erased]"
    );
    assert_eq!(store.report_file("acme", "rep1").unwrap(), None);
    let report = assert_verifies(store);
    assert_eq!(report.tenants[0].shredded, 4);

    // Nothing left to destroy.
    let again = AppendBatch {
        access: vec![AccessChange::DestroyDataKeys {
            tenant: "acme".into(),
            at: "2026-12-02T00:00:00.000000Z".into(),
        }],
        ..AppendBatch::events("acme", vec![])
    };
    assert!(matches!(
        store.append(vec![again]).unwrap().pop().unwrap(),
        Err(StoreError::Missing(_))
    ));
    // On again: a new key; what it seals reads.
    set_encryption(store, true).expect("encryption on again");
    append(
        store,
        "acme",
        vec![json!({"type": "x", "content": "sealed anew"})],
    );
    assert!(
        bodies(store)
            .last()
            .unwrap()
            .as_deref()
            .unwrap()
            .contains("sealed anew")
    );
    while store.index_search(1_000).unwrap() > 0 {}
    assert_eq!(found(store, "anew"), 1);
    assert_verifies(store);
}

/// A new master key wraps every data key; the old one no longer unwraps
/// them, and a process given it says which key it needs.
pub fn a_new_master_key_rewraps_every_data_key<S: Store>(store: &S) {
    let (old, new) = (master(7), master(8));
    store.keyring().use_master(old.clone()).unwrap();
    set_encryption(store, true).expect("encryption on");
    append(store, "acme", vec![json!({"type": "x", "content": MARKER})]);
    assert_eq!(store.rewrap_data_keys(new.as_ref()).unwrap(), 1);
    let refused = store.keyring().use_master(old).unwrap_err().to_string();
    assert!(refused.contains(new.id()), "{refused}");
    store.keyring().use_master(new).unwrap();
    assert!(bodies(store).iter().all(Option::is_some));
    assert!(bodies(store)[1].as_deref().unwrap().contains(MARKER));
    assert_verifies(store);
}
