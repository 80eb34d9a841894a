//! The suite every backend passes.
//!
//! A backend's tests call each check with a fresh, empty store (see
//! `tests/sqlite.rs`); [`all`] lists them so none is forgotten.

mod encryption;
mod guardrails;
mod lifecycle;
pub mod postgres;
mod reports;

pub use encryption::*;
pub use guardrails::*;
pub use lifecycle::*;
pub use reports::*;

use crate::*;
use flightrec_core::clock::SystemClock;
use flightrec_core::event::{Limits, format_time, parse_event, parse_time};
use flightrec_core::log::Signer;
use flightrec_core::record::{Receipt, SealedEvent, SubmittedBy};
use flightrec_core::secret::Secret;
use serde_json::{Value, json};

/// A named check of the suite.
pub type Check<S> = (&'static str, fn(&S));

/// Every check, by name.
pub fn all<S: Store>() -> Vec<Check<S>> {
    vec![
        (
            "append_assigns_gapless_seqs",
            append_assigns_gapless_seqs::<S>,
        ),
        (
            "receipts_carry_the_leaf_hash",
            receipts_carry_the_leaf_hash::<S>,
        ),
        (
            "retry_with_same_id_writes_nothing",
            retry_with_same_id_writes_nothing::<S>,
        ),
        (
            "tenants_have_separate_logs",
            tenants_have_separate_logs::<S>,
        ),
        ("every_filter_narrows", every_filter_narrows::<S>),
        (
            "paging_walks_every_record_once",
            paging_walks_every_record_once::<S>,
        ),
        ("free_text_search", free_text_search::<S>),
        ("run_summaries", run_summaries::<S>),
        ("run_records_in_run_order", run_records_in_run_order::<S>),
        ("tenants_users_and_keys", tenants_users_and_keys::<S>),
        ("counts_types_and_offsets", counts_types_and_offsets::<S>),
        (
            "summaries_agree_with_the_records",
            summaries_agree_with_the_records::<S>,
        ),
        ("checkpoints_and_proofs", checkpoints_and_proofs::<S>),
        (
            "failed_batch_leaves_no_trace",
            failed_batch_leaves_no_trace::<S>,
        ),
        (
            "cosignatures_are_kept_in_arrival_order",
            cosignatures_are_kept_in_arrival_order::<S>,
        ),
        (
            "monitoring_figures_follow_the_logs",
            monitoring_figures_follow_the_logs::<S>,
        ),
        (
            "guardrail_changes_commit_with_their_record",
            guardrail_changes_commit_with_their_record::<S>,
        ),
        (
            "alerts_commit_with_new_records_only",
            alerts_commit_with_new_records_only::<S>,
        ),
        (
            "webhook_deliveries_are_queued_claimed_and_noted",
            webhook_deliveries_are_queued_claimed_and_noted::<S>,
        ),
        (
            "erasure_clears_bodies_and_their_copies",
            erasure_clears_bodies_and_their_copies::<S>,
        ),
        (
            "erasure_refuses_what_it_must_not_erase",
            erasure_refuses_what_it_must_not_erase::<S>,
        ),
        (
            "expired_bodies_by_seq_and_time",
            expired_bodies_by_seq_and_time::<S>,
        ),
        ("erasure_jobs_and_leases", erasure_jobs_and_leases::<S>),
        (
            "report_jobs_end_once_and_erasure_reaches_their_files",
            report_jobs_end_once_and_erasure_reaches_their_files::<S>,
        ),
        (
            "encryption_needs_a_master_key",
            encryption_needs_a_master_key::<S>,
        ),
        (
            "sealed_bodies_read_search_and_verify",
            sealed_bodies_read_search_and_verify::<S>,
        ),
        (
            "destroyed_keys_shred_and_the_log_verifies",
            destroyed_keys_shred_and_the_log_verifies::<S>,
        ),
        (
            "a_new_master_key_rewraps_every_data_key",
            a_new_master_key_rewraps_every_data_key::<S>,
        ),
    ]
}

/// The log key every conformance store signs with: a fixed seed, and a
/// checkpoint after every commit.
pub fn checkpointing() -> Checkpointing {
    let key = Signer::from_seed("conformance.test", [42; 32]).unwrap();
    Checkpointing::new(
        key,
        std::time::Duration::ZERO,
        std::sync::Arc::new(SystemClock),
    )
    .unwrap()
}

/// Verifies the whole store and fails the test on the first mismatch.
pub fn assert_verifies<S: Store>(store: &S) -> verify::Report {
    let report = verify_with_test_key(store);
    if let Some(m) = &report.mismatch {
        panic!("the store does not verify: {m}");
    }
    report
}

/// Verifies the whole store against the conformance key.
pub fn verify_with_test_key<S: Store>(store: &S) -> verify::Report {
    let signing = checkpointing();
    verify::verify_store(
        store,
        &|tenant| Some((signing.origin(tenant), vec![signing.verifier(tenant).ok()?])),
        verify::SearchIndex::Check,
        &mut |_| {},
    )
    .expect("verify ran")
}

/// A sealed event from JSON, received at `2026-11-22T10:00:00Z`, sent by
/// the conformance suite's key.
pub fn sealed(v: Value) -> SealedEvent {
    sealed_by(v, SubmittedBy::Key("k-conformance".into()))
}

/// [`sealed`], sent by `by`.
pub fn sealed_by(v: Value, by: SubmittedBy) -> SealedEvent {
    let at = parse_time("2026-11-22T10:00:00Z").unwrap();
    let mut counter = 0u64;
    let event = parse_event(v, at, &Limits::default(), || {
        counter += 1;
        format!("gen-{}-{}", rand::random::<u64>(), counter)
    })
    .expect("a valid test event");
    SealedEvent::seal(&event, by)
}

/// Appends one batch and unwraps its receipts.
pub fn append<S: Store>(store: &S, tenant: &str, events: Vec<Value>) -> Vec<Receipt> {
    let batch = AppendBatch::events(tenant, events.into_iter().map(sealed).collect());
    let receipts = store
        .append(vec![batch])
        .expect("append")
        .pop()
        .unwrap()
        .expect("batch accepted");
    // After every step, the whole log verifies.
    assert_verifies(store);
    receipts
}

/// The ids of every record of `tenant` that `filter` matches, newest first.
pub fn all_records<S: Store>(store: &S, tenant: &str, filter: EventFilter) -> Vec<String> {
    let page = store
        .records(
            tenant,
            &EventQuery {
                filter,
                limit: 1000,
                ..Default::default()
            },
        )
        .unwrap();
    page.items.into_iter().map(|r| r.header.id).collect()
}

pub fn append_assigns_gapless_seqs<S: Store>(store: &S) {
    let first = append(
        store,
        "t1",
        vec![json!({"type": "start"}), json!({"type": "thinking"})],
    );
    let second = append(store, "t1", vec![json!({"type": "complete"})]);
    let seqs: Vec<u64> = first.iter().chain(&second).map(|r| r.seq).collect();
    assert_eq!(seqs, [0, 1, 2]);
    assert_eq!(store.log_size("t1").unwrap(), 3);
    // Several batches in one call are each atomic and sequenced in order.
    let outcomes = store
        .append(vec![
            AppendBatch::events("t1", vec![sealed(json!({"type": "a"}))]),
            AppendBatch::events(
                "t1",
                vec![sealed(json!({"type": "b"})), sealed(json!({"type": "c"}))],
            ),
        ])
        .unwrap();
    let seqs: Vec<u64> = outcomes
        .into_iter()
        .flat_map(|o| o.unwrap())
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
}

pub fn receipts_carry_the_leaf_hash<S: Store>(store: &S) {
    let receipts = append(
        store,
        "t",
        vec![json!({"id": "e1", "type": "start", "run_id": "r"})],
    );
    let record = store.record("t", "e1").unwrap().expect("stored");
    assert_eq!(record.header.seq, receipts[0].seq);
    assert_eq!(record.header.leaf_hash().to_string(), receipts[0].leaf_hash);
    // The stored body is exactly what body_hash covers.
    let body = record.body.as_deref().unwrap();
    let salt = record.salt.unwrap();
    assert_eq!(
        flightrec_core::record::body_hash(&salt, body.as_bytes()),
        record.header.body_hash
    );
}

pub fn retry_with_same_id_writes_nothing<S: Store>(store: &S) {
    let first = append(store, "t", vec![json!({"id": "same", "type": "start"})]);
    let retry = append(
        store,
        "t",
        vec![
            json!({"id": "same", "type": "something else"}),
            json!({"id": "new", "type": "x"}),
        ],
    );
    assert_eq!(retry[0], first[0], "a retry gets the first receipt");
    assert_eq!(retry[1].seq, 1, "no seq is spent on the duplicate");
    // Duplicates inside one batch too.
    let dup = append(
        store,
        "t",
        vec![
            json!({"id": "twice", "type": "x"}),
            json!({"id": "twice", "type": "y"}),
        ],
    );
    assert_eq!(dup[0], dup[1]);
    assert_eq!(store.log_size("t").unwrap(), 3);
    assert_eq!(
        store
            .record("t", "same")
            .unwrap()
            .unwrap()
            .header
            .event_type,
        "start"
    );
}

pub fn tenants_have_separate_logs<S: Store>(store: &S) {
    append(store, "a", vec![json!({"id": "x", "type": "start"})]);
    let b = append(store, "b", vec![json!({"id": "x", "type": "start"})]);
    assert_eq!(b[0].seq, 0, "each tenant's log starts at 0");
    assert!(store.record("c", "x").unwrap().is_none());
    assert_eq!(all_records(store, "a", EventFilter::default()), ["x"]);
}

pub fn every_filter_narrows<S: Store>(store: &S) {
    append(
        store,
        "t",
        vec![
            json!({"id": "target", "type": "tool_call", "run_id": "r1", "agent_id": "ag",
                   "session_id": "s1", "actor": {"type": "agent", "id": "bot", "email": "bot@x.io"},
                   "resource": {"type": "file", "id": "f1"}, "verb": "fs:write", "provider": "fs",
                   "status": "warn", "governance": {"status": "blocked"},
                   "time": "2026-11-20T12:00:00Z"}),
            json!({"id": "other", "type": "thinking", "time": "2026-11-21T12:00:00Z",
                   "actor": {"type": "human", "id": "u1"}, "tool": "bash"}),
        ],
    );
    let only_target = |f: EventFilter| {
        assert_eq!(all_records(store, "t", f.clone()), ["target"], "{f:?}");
    };
    let s = |v: &str| Some(v.to_owned());
    only_target(EventFilter {
        event_type: s("tool_call"),
        ..Default::default()
    });
    only_target(EventFilter {
        run_id: s("r1"),
        ..Default::default()
    });
    only_target(EventFilter {
        agent_id: s("ag"),
        ..Default::default()
    });
    only_target(EventFilter {
        session_id: s("s1"),
        ..Default::default()
    });
    only_target(EventFilter {
        actor: s("bot@x.io"),
        ..Default::default()
    });
    only_target(EventFilter {
        actor_type: s("agent"),
        ..Default::default()
    });
    only_target(EventFilter {
        resource_type: s("file"),
        ..Default::default()
    });
    only_target(EventFilter {
        resource_id: s("f1"),
        ..Default::default()
    });
    only_target(EventFilter {
        verb: s("fs:write"),
        ..Default::default()
    });
    only_target(EventFilter {
        provider: s("fs"),
        ..Default::default()
    });
    only_target(EventFilter {
        status: s("warn"),
        ..Default::default()
    });
    only_target(EventFilter {
        governance_status: s("blocked"),
        ..Default::default()
    });
    only_target(EventFilter {
        until: s("2026-11-21T00:00:00.000000Z"),
        ..Default::default()
    });
    let since = EventFilter {
        since: s("2026-11-21T00:00:00.000000Z"),
        ..Default::default()
    };
    assert_eq!(all_records(store, "t", since), ["other"]);
    let by_tool = EventFilter {
        verb: s("bash"),
        ..Default::default()
    };
    assert_eq!(
        all_records(store, "t", by_tool),
        ["other"],
        "verb matches tool"
    );
    let by_id = EventFilter {
        actor: s("u1"),
        ..Default::default()
    };
    assert_eq!(
        all_records(store, "t", by_id),
        ["other"],
        "actor matches id without email"
    );
    let nothing = EventFilter {
        run_id: s("r1"),
        actor_type: s("human"),
        ..Default::default()
    };
    assert!(
        all_records(store, "t", nothing).is_empty(),
        "filters combine with AND"
    );
}

pub fn paging_walks_every_record_once<S: Store>(store: &S) {
    let events = (0..25)
        .map(|i| json!({"id": format!("e{i}"), "type": "x"}))
        .collect();
    append(store, "t", events);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .records(
                "t",
                &EventQuery {
                    filter: EventFilter::default(),
                    limit: 10,
                    before_seq: before,
                    ..Default::default()
                },
            )
            .unwrap();
        before = page.items.last().map(|r| r.header.seq);
        seen.extend(page.items.iter().map(|r| r.header.seq));
        if !page.more {
            break;
        }
    }
    let expected: Vec<u64> = (0..25).rev().collect();
    assert_eq!(seen, expected, "newest first, each once");
}

pub fn free_text_search<S: Store>(store: &S) {
    append(
        store,
        "t",
        vec![
            json!({"id": "hit", "type": "thinking", "content": "the refund for order 1234 looks wrong"}),
            json!({"id": "miss", "type": "thinking", "content": "all good"}),
            json!({"id": "nested", "type": "tool_call", "input": {"deep": ["Refund queue"]}}),
        ],
    );
    while store.index_search(2).unwrap() > 0 {}
    let q = |text: &str| {
        let mut ids = all_records(
            store,
            "t",
            EventFilter {
                q: Some(text.into()),
                ..Default::default()
            },
        );
        ids.sort();
        ids
    };
    assert_eq!(
        q("refund"),
        ["hit", "nested"],
        "case-insensitive, nested values"
    );
    assert_eq!(q("refund 1234"), ["hit"], "every word must occur");
    assert!(
        q("\"unbalanced OR (").is_empty(),
        "syntax characters are plain text"
    );
    // Search never crosses tenants.
    append(
        store,
        "other",
        vec![json!({"type": "thinking", "content": "refund"})],
    );
    while store.index_search(100).unwrap() > 0 {}
    assert_eq!(q("refund"), ["hit", "nested"]);
}

pub fn run_summaries<S: Store>(store: &S) {
    append(
        store,
        "t",
        vec![
            json!({"type": "start", "run_id": "r", "agent_id": "coder", "time": "2026-11-22T09:00:00Z"}),
            json!({"type": "tool_call", "run_id": "r", "status": "fail", "time": "2026-11-22T09:00:05Z"}),
            json!({"type": "pause", "run_id": "r", "time": "2026-11-22T09:00:06Z"}),
        ],
    );
    let run = store.run("t", "r").unwrap().unwrap();
    assert_eq!(run.event_count, 3);
    assert_eq!(run.fail_count, 1);
    assert_eq!(run.status, RunStatus::Paused);
    assert_eq!(run.agent_id.as_deref(), Some("coder"));
    assert_eq!(run.first_time, "2026-11-22T09:00:00.000000Z");
    // A late-arriving event that happened earlier does not move the status back.
    append(
        store,
        "t",
        vec![json!({"type": "resume", "run_id": "r", "time": "2026-11-22T09:00:01Z"})],
    );
    assert_eq!(
        store.run("t", "r").unwrap().unwrap().status,
        RunStatus::Paused
    );
    append(
        store,
        "t",
        vec![json!({"type": "complete", "run_id": "r", "time": "2026-11-22T09:01:00Z"})],
    );
    let run = store.run("t", "r").unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.event_count, 5);
    assert_eq!(run.last_time, "2026-11-22T09:01:00.000000Z");

    append(
        store,
        "t",
        vec![json!({"type": "x", "run_id": "newer", "time": "2026-11-22T10:00:00Z"})],
    );
    let page = store
        .runs(
            "t",
            &RunQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.items[0].run_id, "newer");
    assert_eq!(page.items[0].status, RunStatus::Running);
    assert!(page.more);
    let last = &page.items[0];
    let next = store
        .runs(
            "t",
            &RunQuery {
                limit: 10,
                after: Some((last.last_time.clone(), last.run_id.clone())),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].run_id, "r");
    assert!(!next.more);
    let failed = RunQuery {
        limit: 10,
        status: Some(RunStatus::Completed),
        ..Default::default()
    };
    assert_eq!(store.runs("t", &failed).unwrap().items.len(), 1);
    assert!(store.run("other-tenant", "r").unwrap().is_none());
}

pub fn run_records_in_run_order<S: Store>(store: &S) {
    append(
        store,
        "t",
        vec![
            json!({"id": "late", "type": "b", "run_id": "r", "time": "2026-11-22T09:00:02Z"}),
            json!({"id": "early", "type": "a", "run_id": "r", "time": "2026-11-22T09:00:01Z"}),
            json!({"id": "tie", "type": "a", "run_id": "r", "time": "2026-11-22T09:00:02Z"}),
            json!({"id": "elsewhere", "type": "a", "run_id": "s", "time": "2026-11-22T09:00:01Z"}),
        ],
    );
    let ids = |q: RunRecordsQuery| -> Vec<String> {
        store
            .run_records("t", "r", &q)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.header.id)
            .collect()
    };
    let all = RunRecordsQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(all.clone()),
        ["early", "late", "tie"],
        "by time, then seq"
    );
    assert_eq!(
        ids(RunRecordsQuery {
            types: vec!["a".into()],
            ..all.clone()
        }),
        ["early", "tie"]
    );
    assert_eq!(
        ids(RunRecordsQuery {
            from: Some("2026-11-22T09:00:02.000000Z".into()),
            ..all.clone()
        }),
        ["late", "tie"]
    );
    assert_eq!(
        ids(RunRecordsQuery {
            to: Some("2026-11-22T09:00:01.000000Z".into()),
            ..all.clone()
        }),
        ["early"]
    );
    let first = store
        .run_records(
            "t",
            "r",
            &RunRecordsQuery {
                limit: 2,
                ..all.clone()
            },
        )
        .unwrap();
    assert!(first.more);
    let last = first.items.last().unwrap();
    let rest = RunRecordsQuery {
        after: Some((last.header.time.clone(), last.header.seq)),
        ..all
    };
    assert_eq!(ids(rest), ["tie"]);
}

/// Appends one batch with access changes; the batch's outcome.
fn change<S: Store>(
    store: &S,
    tenant: &str,
    event: Value,
    access: Vec<AccessChange>,
) -> Result<Vec<Receipt>, StoreError> {
    let batch = AppendBatch {
        tenant: tenant.into(),
        events: vec![sealed(event)],
        access,
        ..AppendBatch::default()
    };
    let outcome = store.append(vec![batch]).expect("append").pop().unwrap();
    assert_verifies(store);
    outcome
}

pub fn tenants_users_and_keys<S: Store>(store: &S) {
    let at = "2026-11-22T10:00:00.000000Z".to_owned();
    let tenant = Tenant {
        id: "acme".into(),
        name: "Acme".into(),
        created_at: at.clone(),
    };
    let user = User {
        id: "u1".into(),
        tenant: "acme".into(),
        email: "owner@acme.test".into(),
        name: None,
        role: "owner".into(),
        created_at: at.clone(),
    };
    let key = ApiKey {
        id: "k1".into(),
        tenant: "acme".into(),
        name: "ci".into(),
        prefix: "fr_abcd".into(),
        scopes: vec!["ingest".into(), "read".into()],
        agent_id: Some("bot".into()),
        created_at: at.clone(),
        last_used_at: None,
        revoked_at: None,
    };
    let create = vec![
        AccessChange::CreateTenant(tenant.clone()),
        AccessChange::CreateUser {
            user: user.clone(),
            password_hash: Some(Secret::new("$argon2id$v=19$...")),
        },
        AccessChange::CreateApiKey {
            key: key.clone(),
            secret_hash: [9; 32],
        },
    ];
    change(
        store,
        "acme",
        json!({"type": "tenant.created"}),
        create.clone(),
    )
    .unwrap();
    assert_eq!(store.tenant("acme").unwrap(), Some(tenant.clone()));
    assert_eq!(store.tenants().unwrap(), std::slice::from_ref(&tenant));

    // A change that conflicts fails its batch: neither the change nor the
    // record is written.
    let again = change(store, "acme", json!({"type": "tenant.created"}), create);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.log_size("acme").unwrap(), 1);

    let login = store.login("owner@acme.test").unwrap().unwrap();
    assert_eq!(login.user, user);
    assert_eq!(
        login.password_hash.as_ref().map(Secret::expose),
        Some("$argon2id$v=19$...")
    );
    assert!(store.login("nobody@acme.test").unwrap().is_none());
    assert_eq!(store.users("acme").unwrap(), std::slice::from_ref(&user));
    assert!(store.user("other", "u1").unwrap().is_none());

    assert_eq!(
        store.api_key_by_secret_hash(&[9; 32]).unwrap(),
        Some(key.clone())
    );
    assert_eq!(store.api_key_by_secret_hash(&[8; 32]).unwrap(), None);
    assert_eq!(store.api_keys("acme").unwrap(), std::slice::from_ref(&key));
    assert!(store.api_keys("other").unwrap().is_empty());
    assert!(store.api_key("other", "k1").unwrap().is_none());
    store
        .touch_api_key("k1", "2026-11-22T11:00:00.000000Z")
        .unwrap();
    assert_eq!(
        store
            .api_key("acme", "k1")
            .unwrap()
            .unwrap()
            .last_used_at
            .as_deref(),
        Some("2026-11-22T11:00:00.000000Z")
    );

    // Role changes, revocations and settings hold only against what the
    // caller saw.
    let demote = |from: &str| AccessChange::SetUserRole {
        tenant: "acme".into(),
        id: "u1".into(),
        from: from.into(),
        to: "member".into(),
    };
    let stale = change(
        store,
        "acme",
        json!({"type": "user.role_changed"}),
        vec![demote("admin")],
    );
    assert!(matches!(stale, Err(StoreError::Changed(_))), "{stale:?}");
    change(
        store,
        "acme",
        json!({"type": "user.role_changed"}),
        vec![demote("owner")],
    )
    .unwrap();
    assert_eq!(store.user("acme", "u1").unwrap().unwrap().role, "member");

    let revoke = AccessChange::RevokeApiKey {
        tenant: "acme".into(),
        id: "k1".into(),
        at: at.clone(),
    };
    change(
        store,
        "acme",
        json!({"type": "key.revoked"}),
        vec![revoke.clone()],
    )
    .unwrap();
    assert_eq!(
        store.api_key("acme", "k1").unwrap().unwrap().revoked_at,
        Some(at.clone())
    );
    let twice = change(store, "acme", json!({"type": "key.revoked"}), vec![revoke]);
    assert!(matches!(twice, Err(StoreError::Changed(_))));

    assert_eq!(store.settings("acme").unwrap(), json!({}));
    let set = |from: Value, to: Value| AccessChange::SetSettings {
        tenant: "acme".into(),
        from,
        to,
    };
    let first = json!({"session_minutes": 30});
    change(
        store,
        "acme",
        json!({"type": "settings.updated"}),
        vec![set(json!({}), first.clone())],
    )
    .unwrap();
    let stale = change(
        store,
        "acme",
        json!({"type": "settings.updated"}),
        vec![set(json!({}), json!({"session_minutes": 60}))],
    );
    assert!(matches!(stale, Err(StoreError::Changed(_))));
    assert_eq!(store.settings("acme").unwrap(), first);

    let remove = AccessChange::RemoveUser {
        tenant: "acme".into(),
        id: "u1".into(),
    };
    change(store, "acme", json!({"type": "user.removed"}), vec![remove]).unwrap();
    assert!(store.login("owner@acme.test").unwrap().is_none());
    assert_eq!(store.log_size("acme").unwrap(), 5);
}

pub fn counts_types_and_offsets<S: Store>(store: &S) {
    append(
        store,
        "t",
        vec![
            json!({"id": "a", "type": "key.created"}),
            json!({"id": "b", "type": "key.revoked", "status": "warn"}),
            json!({"id": "c", "type": "keyboard"}),
            json!({"id": "d", "type": "user.invited", "status": "fail"}),
            json!({"id": "e", "type": "key.created", "status": "fail"}),
        ],
    );
    let keys = EventFilter {
        type_prefix: Some("key.".into()),
        ..Default::default()
    };
    assert_eq!(all_records(store, "t", keys.clone()), ["e", "b", "a"]);
    assert_eq!(
        store.count_records("t", &keys).unwrap(),
        RecordCounts {
            total: 3,
            fail: 1,
            warn: 1
        }
    );
    assert_eq!(
        store.count_records("t", &EventFilter::default()).unwrap(),
        RecordCounts {
            total: 5,
            fail: 2,
            warn: 1
        }
    );
    assert_eq!(
        store.count_records("u", &keys).unwrap(),
        RecordCounts::default()
    );
    let second_page = store
        .records(
            "t",
            &EventQuery {
                limit: 2,
                offset: 2,
                ..Default::default()
            },
        )
        .unwrap();
    let ids: Vec<_> = second_page
        .items
        .iter()
        .map(|r| r.header.id.as_str())
        .collect();
    assert_eq!(ids, ["c", "b"]);
    assert!(second_page.more);
}

/// The quick totals for a window equal counting the window's records, at
/// every kind of edge: inside one hour, across hours, days and a year, on
/// an hour's first instant, open at either end, and empty; and the
/// distinct values of the filterable columns are those of the records.
pub fn summaries_agree_with_the_records<S: Store>(store: &S) {
    let times = [
        "2026-12-31T22:59:59.999999Z",
        "2026-12-31T23:00:00Z",
        "2026-12-31T23:15:00Z",
        "2026-12-31T23:59:59.999999Z",
        "2027-01-01T00:00:00Z",
        "2027-01-01T00:30:00Z",
        "2027-01-01T03:10:00Z",
        "2027-01-02T12:00:00Z",
    ];
    let statuses = ["ok", "fail", "warn"];
    let events = times
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            (0..=i).map(move |j| json!({"type": "x", "time": t, "status": statuses[(i + j) % 3]}))
        })
        .collect();
    append(store, "t", events);
    append(store, "u", vec![json!({"type": "x", "time": times[2]})]);
    let bounds = [
        None,
        Some("2026-01-01T00:00:00Z"),
        Some("2026-12-31T23:00:00Z"),
        Some("2026-12-31T23:10:00Z"),
        Some("2026-12-31T23:15:00Z"),
        Some("2026-12-31T23:40:00Z"),
        Some("2027-01-01T00:00:00Z"),
        Some("2027-01-01T00:30:00.000001Z"),
        Some("2027-01-01T05:00:00Z"),
        Some("2030-01-01T00:00:00Z"),
    ];
    let normal = |b: Option<&str>| b.map(|t| format_time(&parse_time(t).unwrap()));
    for since in bounds {
        for until in bounds {
            let (since, until) = (normal(since), normal(until));
            let full = store
                .count_records(
                    "t",
                    &EventFilter {
                        since: since.clone(),
                        until: until.clone(),
                        ..Default::default()
                    },
                )
                .unwrap();
            let quick = store
                .window_counts("t", since.as_deref(), until.as_deref())
                .unwrap();
            assert_eq!(quick, full, "window {since:?} .. {until:?}");
        }
    }
    append(
        store,
        "t",
        vec![
            json!({"type": "edit_file", "resource": {"type": "file", "id": "a.rs"}}),
            json!({"type": "key.created", "resource": {"type": "api_key", "id": "k1"}}),
            json!({"type": "edit_file", "resource": {"type": "file", "id": "b.rs"}}),
        ],
    );
    assert_eq!(
        store.distinct_values("t", Facet::EventType).unwrap(),
        ["edit_file", "key.created", "x"]
    );
    assert_eq!(
        store.distinct_values("t", Facet::ResourceType).unwrap(),
        ["api_key", "file"]
    );
    assert!(
        store
            .distinct_values("nobody", Facet::EventType)
            .unwrap()
            .is_empty()
    );
    let all = store.window_counts("t", None, None).unwrap();
    assert_eq!(all.total, 39);
    assert_eq!(store.window_counts("u", None, None).unwrap().total, 1);
    assert_eq!(
        store.window_counts("nobody", None, None).unwrap(),
        RecordCounts::default()
    );
}

pub fn checkpoints_and_proofs<S: Store>(store: &S) {
    use flightrec_core::log::{Hash, open_checkpoint, verify_consistency, verify_inclusion};
    let signing = checkpointing();
    let verifier = signing.verifier("t").unwrap();
    let mut receipts = Vec::new();
    for round in 0..4 {
        let events = (0..150)
            .map(|i| json!({"type": "x", "content": format!("{round}-{i}")}))
            .collect();
        receipts.extend(append(store, "t", events));
    }
    let checkpoints = store.checkpoints("t").unwrap();
    assert_eq!(
        checkpoints.iter().map(|c| c.size).collect::<Vec<_>>(),
        [150, 300, 450, 600],
        "a checkpoint after every commit, each kept"
    );
    let latest = store.checkpoint("t", None).unwrap().unwrap();
    let opened = open_checkpoint(
        &latest.note,
        &signing.origin("t"),
        std::slice::from_ref(&verifier),
    )
    .unwrap();
    assert_eq!(opened.size(), 600);
    assert_eq!(opened.root(), latest.root);

    for r in receipts.iter().step_by(37) {
        for size in [r.seq + 1, 300, 600] {
            if size <= r.seq {
                continue;
            }
            let cp = store.checkpoint("t", Some(size)).unwrap();
            let root = match cp {
                Some(cp) => cp.root,
                None => continue,
            };
            let proof = store.inclusion_proof("t", r.seq, size).unwrap();
            let leaf = Hash::from_hex(&r.leaf_hash).unwrap();
            verify_inclusion(leaf, &proof, root).unwrap();
        }
    }
    let old = store.checkpoint("t", Some(150)).unwrap().unwrap();
    let proof = store.consistency_proof("t", 150, 600).unwrap();
    verify_consistency(old.root, latest.root, &proof).unwrap();

    // Entry bundles hold the leaf inputs.
    let inputs = store.leaf_inputs("t", 256, 256).unwrap();
    assert_eq!(inputs.len(), 256);
    let record = store.record("t", &receipts[256].id).unwrap().unwrap();
    assert_eq!(inputs[0], record.header.leaf_input());
    assert!(store.checkpoint("other", None).unwrap().is_none());
}

pub fn failed_batch_leaves_no_trace<S: Store>(store: &S) {
    append(store, "t", vec![json!({"type": "a"})]);
    // A batch that cannot be stored (its event is larger than a leaf input
    // may be in a C2SP entry bundle) fails alone; the other batch of the
    // same call goes through.
    let mut impossible = sealed(json!({"type": "x"}));
    impossible.event_type = "t".repeat(70_000);
    let outcomes = store
        .append(vec![
            AppendBatch::events("t", vec![impossible]),
            AppendBatch::events("t", vec![sealed(json!({"type": "b"}))]),
        ])
        .unwrap();
    assert!(outcomes[0].is_err(), "the impossible batch is refused");
    assert_eq!(
        outcomes[1].as_ref().unwrap()[0].seq,
        1,
        "no seq was spent on it"
    );
    assert_eq!(store.log_size("t").unwrap(), 2);
    assert_verifies(store);
}

pub fn cosignatures_are_kept_in_arrival_order<S: Store>(store: &S) {
    append(store, "t", vec![json!({"type": "a"})]);
    append(store, "t", vec![json!({"type": "b"})]);
    // Every commit signed its checkpoint: nothing is left to sign.
    assert_eq!(store.sign_checkpoints().unwrap(), 0);
    store.add_cosignature("t", 1, "w2", "— w2 first").unwrap();
    store.add_cosignature("t", 1, "w1", "— w1 first").unwrap();
    store.add_cosignature("t", 1, "w2", "— w2 again").unwrap();
    assert_eq!(
        store.cosignatures("t", 1).unwrap(),
        ["— w2 first", "— w1 first"],
        "in the order they came, a witness's first kept"
    );
    store.add_cosignature("t", 2, "w1", "— w1 of 2").unwrap();
    assert_eq!(store.witnessed_size("t", "w1").unwrap(), Some(2));
    assert_eq!(store.witnessed_size("t", "w2").unwrap(), Some(1));
    assert_eq!(store.witnessed_size("t", "w3").unwrap(), None);
    assert_eq!(store.witnessed_size("u", "w1").unwrap(), None);
    assert!(store.cosignatures("u", 1).unwrap().is_empty());
}

/// What `/metrics` reads: the search backlog, each log beside its newest
/// checkpoint, and how far a witness's cosignatures trail.
pub fn monitoring_figures_follow_the_logs<S: Store>(store: &S) {
    assert_eq!(store.search_backlog().unwrap(), 0, "an empty store");
    assert!(store.log_heads().unwrap().is_empty());
    assert_eq!(store.uncosigned("w1").unwrap(), 0);

    append(
        store,
        "t",
        (0..3).map(|i| json!({"type": "x", "n": i})).collect(),
    );
    append(store, "u", vec![json!({"type": "y"})]);
    assert_eq!(store.search_backlog().unwrap(), 4, "appended, not indexed");
    // Indexing in steps brings the backlog down by what each step did.
    let done = store.index_search(2).unwrap();
    assert_eq!(store.search_backlog().unwrap(), 4 - done as u64);
    while store.index_search(100).unwrap() > 0 {}
    assert_eq!(store.search_backlog().unwrap(), 0);

    let heads = store.log_heads().unwrap();
    let summary: Vec<(&str, u64, Option<u64>, bool)> = heads
        .iter()
        .map(|h| {
            (
                h.tenant.as_str(),
                h.size,
                h.checkpoint.as_ref().map(|(s, _)| *s),
                h.unsigned_since.is_some(),
            )
        })
        .collect();
    // The suite's stores sign a checkpoint with every commit.
    assert_eq!(
        summary,
        [("t", 3, Some(3), false), ("u", 1, Some(1), false)]
    );
    let newest = store.checkpoint("t", None).unwrap().unwrap();
    assert_eq!(heads[0].checkpoint.as_ref().unwrap().1, newest.created_at);

    // No cosignature yet: the witness trails by every checkpointed record.
    assert_eq!(store.uncosigned("w1").unwrap(), 4);
    store.add_cosignature("t", 3, "w1", "— w1 of 3").unwrap();
    assert_eq!(store.uncosigned("w1").unwrap(), 1, "u's checkpoint is left");
    assert_eq!(store.uncosigned("w2").unwrap(), 4, "per witness");
    append(store, "t", vec![json!({"type": "z"})]);
    assert_eq!(store.uncosigned("w1").unwrap(), 2, "t's newest is 4 now");
}
