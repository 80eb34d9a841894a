//! The suite's checks of erasure: bodies erased with the record that tells
//! of it, what erasure looks for, erasure jobs and leases.

use super::{append, assert_verifies, sealed, sealed_by, verify_with_test_key};
use crate::*;
use flightrec_core::erasure::{ERASED_TYPE, erased_seqs_metadata};
use flightrec_core::record::SubmittedBy;
use serde_json::json;

/// flightrec's `log.erased` record naming `seqs`.
fn told(seqs: &[u64]) -> flightrec_core::record::SealedEvent {
    let ranges: Vec<_> = seqs.iter().map(|&s| s..=s).collect();
    sealed_by(
        json!({"type": ERASED_TYPE, "metadata": erased_seqs_metadata(&ranges)}),
        SubmittedBy::Flightrec,
    )
}

fn erase<S: Store>(store: &S, seqs: &[u64]) -> BatchOutcome {
    let batch = AppendBatch {
        erase: Erase {
            seqs: seqs.to_vec(),
            scrub_index: true,
        },
        ..AppendBatch::events("acme", vec![told(seqs)])
    };
    store.append(vec![batch]).expect("append").pop().unwrap()
}

/// The body goes with the query columns that can name a person and its
/// free-text entry; the header, the other columns and every proof stay.
pub fn erasure_clears_bodies_and_their_copies<S: Store>(store: &S) {
    let person = json!({"type": "human", "id": "u1", "email": "ann@example.com"});
    append(
        store,
        "acme",
        vec![
            json!({"type": "user_input", "run_id": "r", "agent_id": "a1", "session_id": "s1",
                   "actor": person, "content": "ann's secret plan"}),
            json!({"type": "user_input", "run_id": "r", "content": "someone else's plan"}),
        ],
    );
    while store.index_search(1_000).unwrap() > 0 {}
    let ann = Some(ErasureSubject::Actor("ann@example.com".into()));
    let target = ErasureTarget::Subject {
        subject: ann.as_ref().unwrap(),
        after: None,
    };
    assert_eq!(store.erasable("acme", target.clone(), 10).unwrap(), vec![0]);

    erase(store, &[0]).expect("erased");
    assert_verifies(store);
    assert_eq!(
        store.erasable("acme", target, 10).unwrap(),
        Vec::<u64>::new()
    );
    let all = EventQuery {
        limit: 100,
        ..EventQuery::default()
    };
    let page = store.records("acme", &all).unwrap();
    let erased = page.items.iter().find(|r| r.header.seq == 0).unwrap();
    assert_eq!((&erased.body, &erased.salt), (&None, &None));
    assert_eq!(erased.header.run_id.as_deref(), Some("r"));
    let by = |filter: EventFilter| {
        let query = EventQuery {
            filter,
            limit: 100,
            ..EventQuery::default()
        };
        store.records("acme", &query).unwrap().items.len()
    };
    let q = |text: &str| EventFilter {
        q: Some(text.into()),
        ..EventFilter::default()
    };
    assert_eq!(by(q("secret")), 0);
    assert_eq!(by(q("plan")), 1);
    assert_eq!(
        by(EventFilter {
            actor: Some("ann@example.com".into()),
            ..EventFilter::default()
        }),
        0
    );
    assert_eq!(
        by(EventFilter {
            agent_id: Some("a1".into()),
            ..EventFilter::default()
        }),
        1,
        "agent_id stays"
    );
    assert_eq!(store.check_search_index().unwrap(), None);
    let report = assert_verifies(store);
    assert_eq!(report.tenants[0].erased, 1);
    // Erasing again changes nothing and still needs its record.
    erase(store, &[0]).expect("erased again");
    assert_verifies(store);
}

/// An erasure of a seq the log does not hold, or of flightrec's own
/// account of erasures, fails the whole batch.
pub fn erasure_refuses_what_it_must_not_erase<S: Store>(store: &S) {
    append(
        store,
        "acme",
        vec![json!({"type": "thinking", "content": "x"})],
    );
    erase(store, &[0]).expect("erased");
    let size = store.log_size("acme").unwrap();
    assert!(matches!(erase(store, &[1]), Err(StoreError::Rejected(_))));
    assert!(matches!(erase(store, &[99]), Err(StoreError::Rejected(_))));
    assert_eq!(store.log_size("acme").unwrap(), size, "nothing appended");
    let report = verify_with_test_key(store);
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);
    // Retention never finds a `log.erased` of flightrec's.
    let expired = ErasureTarget::Expired {
        seqs: 0..size,
        since: None,
        before: "9999",
    };
    assert_eq!(
        store.erasable("acme", expired, 10).unwrap(),
        Vec::<u64>::new()
    );

    // Nothing is erased once the tenant's log is immutable, checked in the
    // transaction that would erase.
    append(
        store,
        "acme",
        vec![json!({"type": "thinking", "content": "y"})],
    );
    let seq = store.log_size("acme").unwrap() - 1;
    let immutable = AppendBatch {
        access: vec![
            AccessChange::CreateTenant(Tenant {
                id: "acme".into(),
                name: "Acme".into(),
                created_at: "2026-11-22T10:00:00.000000Z".into(),
            }),
            AccessChange::SetSettings {
                tenant: "acme".into(),
                from: json!({}),
                to: json!({"immutable_audit_logs": true}),
            },
        ],
        ..AppendBatch::events("acme", vec![sealed(json!({"type": "settings.updated"}))])
    };
    store
        .append(vec![immutable])
        .unwrap()
        .pop()
        .unwrap()
        .expect("set");
    match erase(store, &[seq]) {
        Err(StoreError::Rejected(why)) => assert!(why.contains("immutableAuditLogs"), "{why}"),
        other => panic!("erased in an immutable log: {other:?}"),
    }
    let newest = EventQuery {
        limit: 2,
        ..EventQuery::default()
    };
    let kept = store.records("acme", &newest).unwrap().items;
    assert!(kept.iter().any(|r| r.header.seq == seq && r.body.is_some()));
}

/// What retention looks for: bodies among some seqs older than a time.
pub fn expired_bodies_by_seq_and_time<S: Store>(store: &S) {
    let at = |h: u32| format!("2026-11-22T{h:02}:00:00.000000Z");
    let events = (0..6)
        .map(|h| json!({"type": "thinking", "time": at(h), "content": "x"}))
        .collect();
    append(store, "acme", events);
    let expired = |seqs: std::ops::Range<u64>, since: Option<&str>, before: &str| {
        let target = ErasureTarget::Expired {
            seqs,
            since,
            before,
        };
        store.erasable("acme", target, 100).unwrap()
    };
    assert_eq!(expired(0..6, None, &at(3)), vec![0, 1, 2]);
    assert_eq!(expired(1..6, None, &at(3)), vec![1, 2]);
    assert_eq!(expired(0..6, Some(&at(1)), &at(3)), vec![1, 2]);
    assert_eq!(
        store
            .erasable(
                "acme",
                ErasureTarget::Expired {
                    seqs: 0..6,
                    since: None,
                    before: &at(9)
                },
                2
            )
            .unwrap(),
        vec![0, 1]
    );
}

/// Jobs are filed with their record, progress and forget their subject.
pub fn erasure_jobs_and_leases<S: Store>(store: &S) {
    let job = ErasureJob {
        tenant: "acme".into(),
        id: "era_1".into(),
        subject_kind: "actor".into(),
        subject: Some(ErasureSubject::Actor("ann@example.com".into())),
        reason: "art. 17".into(),
        requested_by: "user:u1".into(),
        created_at: "2026-11-22T10:00:00.000000Z".into(),
        status: ErasureStatus::Pending,
        erased: 0,
        finished_at: None,
    };
    let file = |change: AccessChange| {
        let batch = AppendBatch {
            access: vec![change],
            ..AppendBatch::events("acme", vec![sealed(json!({"type": "erasure.requested"}))])
        };
        store.append(vec![batch]).expect("append").pop().unwrap()
    };
    file(AccessChange::RequestErasure(job.clone())).expect("filed");
    assert!(matches!(
        file(AccessChange::RequestErasure(job.clone())),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.erasure("acme", "era_1").unwrap(), Some(job.clone()));
    assert_eq!(store.pending_erasures().unwrap(), vec![job.clone()]);
    file(AccessChange::ErasureProgress {
        tenant: "acme".into(),
        id: "era_1".into(),
        erased: 3,
        end: None,
    })
    .expect("progress");
    file(AccessChange::ErasureProgress {
        tenant: "acme".into(),
        id: "era_1".into(),
        erased: 2,
        end: Some((ErasureStatus::Done, "2026-11-22T10:05:00.000000Z".into())),
    })
    .expect("done");
    let done = store.erasure("acme", "era_1").unwrap().unwrap();
    assert_eq!(
        (
            done.status,
            done.erased,
            done.subject,
            done.subject_kind.as_str()
        ),
        (ErasureStatus::Done, 5, None, "actor")
    );
    assert!(store.pending_erasures().unwrap().is_empty());
    assert_eq!(store.erasures("acme", 10).unwrap().len(), 1);
    assert!(store.erasures("other", 10).unwrap().is_empty());
    // A job that is done takes no more progress.
    assert!(matches!(
        file(AccessChange::ErasureProgress {
            tenant: "acme".into(),
            id: "era_1".into(),
            erased: 1,
            end: None,
        }),
        Err(StoreError::Changed(_))
    ));
    assert_verifies(store);

    let (t0, t1, t2) = (
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:30Z",
        "2026-01-01T00:01:00Z",
    );
    assert!(store.take_lease("work", "node-a", t0, t1).unwrap());
    assert!(
        store.take_lease("work", "node-a", t0, t1).unwrap(),
        "renewed"
    );
    assert!(!store.take_lease("work", "node-b", t0, t1).unwrap());
    assert!(
        store.take_lease("work", "node-b", t1, t2).unwrap(),
        "expired"
    );
    assert!(!store.take_lease("work", "node-a", t1, t2).unwrap());
    assert!(store.take_lease("other", "node-a", t1, t2).unwrap());
}
