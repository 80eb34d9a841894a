//! The suite's checks of agents, rules, policies, alerts and webhook
//! deliveries.

use super::{assert_verifies, sealed};
use crate::*;
use flightrec_core::compliance::{Action, Rule, Severity};
use serde_json::{Value, json};

const AT: &str = "2026-11-22T10:00:00.000000Z";

fn rule(id: &str, action: Action) -> Rule {
    Rule {
        id: id.into(),
        name: format!("rule {id}"),
        description: String::new(),
        severity: Severity::High,
        fields: Vec::new(),
        detector: "us_ssn".into(),
        pattern: None,
        validator: None,
        action,
    }
}

/// Appends one admin record with `changes`; the batch's outcome.
fn change<S: Store>(
    store: &S,
    changes: Vec<GuardrailChange>,
) -> Result<Vec<flightrec_core::record::Receipt>, StoreError> {
    let batch = AppendBatch {
        guardrails: changes,
        ..AppendBatch::events("acme", vec![sealed(json!({"type": "policy.updated"}))])
    };
    let outcome = store.append(vec![batch]).expect("append").pop().unwrap();
    assert_verifies(store);
    outcome
}

fn with_tenant<S: Store>(store: &S) {
    let batch = AppendBatch {
        access: vec![AccessChange::CreateTenant(Tenant {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: AT.into(),
        })],
        ..AppendBatch::events("acme", vec![sealed(json!({"type": "tenant.created"}))])
    };
    store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
}

fn alert(id: &str, event_index: usize, event_id: &str) -> NewAlert {
    NewAlert {
        event_index,
        alert: Alert {
            id: id.into(),
            tenant: "acme".into(),
            rule_id: "ssn".into(),
            rule_name: "rule ssn".into(),
            severity: "high".into(),
            detector: "us_ssn".into(),
            event_id: event_id.into(),
            seq: 0,
            run_id: Some("r1".into()),
            agent_id: Some("bot".into()),
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

fn raise<S: Store>(store: &S, events: &[Value], alerts: Vec<NewAlert>) -> Vec<u64> {
    let batch = AppendBatch {
        alerts,
        ..AppendBatch::events("acme", events.iter().cloned().map(sealed).collect())
    };
    let receipts = store.append(vec![batch]).unwrap().pop().unwrap().unwrap();
    assert_verifies(store);
    receipts.iter().map(|r| r.seq).collect()
}

fn all_alerts<S: Store>(store: &S, query: AlertQuery) -> Vec<Alert> {
    store
        .alerts(
            "acme",
            &AlertQuery {
                limit: 100,
                ..query
            },
        )
        .unwrap()
        .items
}

pub fn guardrail_changes_commit_with_their_record<S: Store>(store: &S) {
    with_tenant(store);
    let size = |s: &S| s.log_size("acme").unwrap();
    let agent = Agent {
        id: "bot".into(),
        tenant: "acme".into(),
        name: "Bot".into(),
        metadata: json!({"team": "billing"}),
        created_at: AT.into(),
    };
    change(store, vec![GuardrailChange::CreateAgent(agent.clone())]).unwrap();
    assert_eq!(store.agent("acme", "bot").unwrap(), Some(agent.clone()));
    let stored = StoredRule {
        rule: rule("ssn", Action::Alert),
        pack: Some("finance".into()),
        created_at: AT.into(),
        updated_at: AT.into(),
    };
    let create = GuardrailChange::CreateRule {
        tenant: "acme".into(),
        rule: stored.clone(),
    };
    change(store, vec![create.clone()]).unwrap();
    let before = size(store);
    assert!(matches!(
        change(store, vec![create]),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(size(store), before, "a refused change leaves no record");
    let stale = GuardrailChange::UpdateRule {
        tenant: "acme".into(),
        from: rule("ssn", Action::Redact),
        to: rule("ssn", Action::AlertAndRedact),
        at: AT.into(),
    };
    assert!(matches!(
        change(store, vec![stale]),
        Err(StoreError::Changed(_))
    ));
    let update = GuardrailChange::UpdateRule {
        tenant: "acme".into(),
        from: rule("ssn", Action::Alert),
        to: rule("ssn", Action::AlertAndRedact),
        at: AT.into(),
    };
    change(store, vec![update]).unwrap();
    assert_eq!(
        store.rules("acme").unwrap()[0].rule.action,
        Action::AlertAndRedact
    );

    let policy = Policy {
        id: "p1".into(),
        tenant: "acme".into(),
        name: "Clinic".into(),
        description: String::new(),
        version: 1,
        rules: vec![rule("a", Action::Alert), rule("b", Action::Alert)],
        agents: Vec::new(),
        created_at: AT.into(),
        updated_at: AT.into(),
    };
    change(store, vec![GuardrailChange::CreatePolicy(policy.clone())]).unwrap();
    let edit = |from_version| GuardrailChange::UpdatePolicy {
        tenant: "acme".into(),
        id: "p1".into(),
        from_version,
        name: "Clinic".into(),
        description: "fewer".into(),
        rules: vec![rule("a", Action::Redact)],
        at: "2026-11-22T11:00:00.000000Z".into(),
    };
    change(store, vec![edit(1)]).unwrap();
    assert!(matches!(
        change(store, vec![edit(1)]),
        Err(StoreError::Changed(_))
    ));
    let attach = |agent: &str| GuardrailChange::AttachPolicy {
        tenant: "acme".into(),
        policy_id: "p1".into(),
        agent_id: agent.into(),
        at: AT.into(),
    };
    assert!(matches!(
        change(store, vec![attach("ghost")]),
        Err(StoreError::Missing(_))
    ));
    change(store, vec![attach("bot")]).unwrap();
    let current = store.policy("acme", "p1", None).unwrap().unwrap();
    assert_eq!((current.version, current.rules.len()), (2, 1));
    assert_eq!(current.agents, ["bot"]);
    assert_eq!(current.created_at, AT);
    assert_eq!(
        store.policy("acme", "p1", Some(1)).unwrap().unwrap().rules,
        policy.rules
    );
    assert!(store.policy("acme", "p1", Some(3)).unwrap().is_none());

    change(
        store,
        vec![GuardrailChange::DeletePolicy {
            tenant: "acme".into(),
            id: "p1".into(),
        }],
    )
    .unwrap();
    assert!(store.policies("acme").unwrap().is_empty());
    assert!(store.policy("acme", "p1", None).unwrap().is_none());
    let old = store.policy("acme", "p1", Some(2)).unwrap().unwrap();
    assert!(
        old.agents.is_empty(),
        "a deleted policy's versions stay readable"
    );
    assert!(store.agents("other").unwrap().is_empty());
}

pub fn alerts_commit_with_new_records_only<S: Store>(store: &S) {
    with_tenant(store);
    let event = json!({"id": "e1", "type": "tool_call", "run_id": "r1"});
    // The second copy of e1 shares its receipt, not its alerts.
    let seqs = raise(
        store,
        &[event.clone(), event.clone()],
        vec![alert("a1", 0, "e1"), alert("a2", 1, "e1")],
    );
    assert_eq!(seqs[0], seqs[1]);
    raise(store, &[event], vec![alert("a3", 0, "e1")]);
    let found = all_alerts(store, AlertQuery::default());
    assert_eq!(
        found.len(),
        1,
        "a retried event raised its alerts the first time"
    );
    let a = &found[0];
    assert_eq!(
        (a.id.as_str(), a.seq, a.status.as_str()),
        ("a1", seqs[0], "open")
    );
    assert_eq!(
        a.created_at, "2026-11-22T10:00:00.000000Z",
        "the record's received_at"
    );

    raise(
        store,
        &[json!({"id": "e2", "type": "tool_call", "run_id": "r2"})],
        vec![NewAlert {
            alert: Alert {
                run_id: Some("r2".into()),
                ..alert("b1", 0, "e2").alert
            },
            event_index: 0,
        }],
    );
    let of = |q: AlertQuery| {
        all_alerts(store, q)
            .iter()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(AlertQuery {
            event_id: Some("e2".into()),
            ..Default::default()
        }),
        ["b1"]
    );
    assert_eq!(
        of(AlertQuery {
            run_id: Some("r1".into()),
            ..Default::default()
        }),
        ["a1"]
    );
    let resolve = |id: &str| GuardrailChange::ResolveAlert {
        tenant: "acme".into(),
        id: id.into(),
        by: "owner@acme.test".into(),
        at: "2026-11-22T12:00:00.000000Z".into(),
    };
    change(store, vec![resolve("a1")]).unwrap();
    assert!(matches!(
        change(store, vec![resolve("a1")]),
        Err(StoreError::Changed(_))
    ));
    let a1 = store.alert("acme", "a1").unwrap().unwrap();
    assert_eq!(
        (a1.status.as_str(), a1.resolved_by.as_deref()),
        ("resolved", Some("owner@acme.test"))
    );
    assert_eq!(
        of(AlertQuery {
            status: Some("open".into()),
            ..Default::default()
        }),
        ["b1"]
    );

    // Pages of one walk every alert once.
    let first = store
        .alerts(
            "acme",
            &AlertQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(first.more);
    let last = &first.items[0];
    let after = Some((last.created_at.clone(), last.id.clone()));
    let second = store
        .alerts(
            "acme",
            &AlertQuery {
                limit: 1,
                after,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_ne!(second.items[0].id, last.id);
    assert!(!second.more);
    assert!(
        store.alert("other", "a1").unwrap().is_none(),
        "alerts are the tenant's"
    );

    // Counted per hour or day and severity, resolved ones too.
    raise(
        store,
        &[json!({"id": "e3", "type": "tool_call"})],
        vec![NewAlert {
            alert: Alert {
                severity: "medium".into(),
                ..alert("c1", 0, "e3").alert
            },
            event_index: 0,
        }],
    );
    let counts = |since: Option<&str>, until: Option<&str>, by_day| {
        store.alert_counts("acme", since, until, by_day).unwrap()
    };
    let hour = |s: &str, n| ("2026-11-22T10".to_owned(), s.to_owned(), n);
    assert_eq!(
        counts(None, None, false),
        [hour("high", 2), hour("medium", 1)]
    );
    assert_eq!(
        counts(
            Some("2026-11-22T00:00:00.000000Z"),
            Some("2026-11-23T00:00:00.000000Z"),
            true
        ),
        [
            ("2026-11-22".to_owned(), "high".to_owned(), 2),
            ("2026-11-22".to_owned(), "medium".to_owned(), 1)
        ]
    );
    // Times as the store keeps them: fixed width, compared bytewise.
    assert!(counts(Some("2026-11-22T10:00:00.000001Z"), None, false).is_empty());
    assert!(counts(None, Some("2026-11-22T10:00:00.000000Z"), false).is_empty());
    assert!(
        store
            .alert_counts("other", None, None, false)
            .unwrap()
            .is_empty()
    );
}

pub fn webhook_deliveries_are_queued_claimed_and_noted<S: Store>(store: &S) {
    with_tenant(store);
    let hook = Webhook {
        id: "w1".into(),
        tenant: "acme".into(),
        url: "https://hooks.example.com/x".into(),
        events: vec!["alert.created".into()],
        created_at: AT.into(),
    };
    change(store, vec![GuardrailChange::CreateWebhook(hook.clone())]).unwrap();
    assert_eq!(store.webhooks("acme").unwrap(), [hook]);
    raise(
        store,
        &[json!({"id": "e1", "type": "x"})],
        vec![alert("a1", 0, "e1")],
    );
    let queued = store.deliveries("acme", "w1", 10).unwrap();
    assert_eq!(queued.len(), 1);
    let d = &queued[0];
    assert_eq!(
        (
            d.status.as_str(),
            d.event_type.as_str(),
            d.subject_id.as_str()
        ),
        ("pending", "alert.created", "a1")
    );
    assert!(d.id.starts_with("msg_"));
    assert_eq!(store.pending_deliveries().unwrap(), 1);

    let now = "2026-11-22T10:00:01.000000Z";
    let lease = "2026-11-22T10:01:01.000000Z";
    let claimed = store.claim_deliveries(now, lease, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store.claim_deliveries(now, lease, 10).unwrap().is_empty(),
        "held by the lease"
    );
    let retry_at = "2026-11-22T10:00:03.000000Z";
    store
        .record_attempt(&DeliveryAttempt {
            tenant: "acme".into(),
            id: d.id.clone(),
            at: now.into(),
            payload: "{\"n\":1}".into(),
            status_code: Some(500),
            error: Some("the receiver answered 500".into()),
            status: "pending".into(),
            next_attempt_at: Some(retry_at.into()),
        })
        .unwrap();
    assert!(
        store.claim_deliveries(now, lease, 10).unwrap().is_empty(),
        "not due yet"
    );
    assert_eq!(
        store.pending_deliveries().unwrap(),
        1,
        "waiting for its retry is still pending"
    );
    let again = store.claim_deliveries(retry_at, lease, 10).unwrap();
    assert_eq!(
        again[0].payload.as_deref(),
        Some("{\"n\":1}"),
        "retries send the same bytes"
    );
    store
        .record_attempt(&DeliveryAttempt {
            tenant: "acme".into(),
            id: d.id.clone(),
            at: retry_at.into(),
            payload: "{\"n\":2}".into(),
            status_code: Some(200),
            error: None,
            status: "delivered".into(),
            next_attempt_at: None,
        })
        .unwrap();
    let done = &store.deliveries("acme", "w1", 10).unwrap()[0];
    assert_eq!(
        (done.status.as_str(), done.attempts, done.last_status_code),
        ("delivered", 2, Some(200))
    );
    assert_eq!(done.payload.as_deref(), Some("{\"n\":1}"));
    assert_eq!(done.delivered_at.as_deref(), Some(retry_at));
    assert_eq!(store.pending_deliveries().unwrap(), 0, "delivered");

    // Deleting a webhook cancels what it still had pending.
    raise(
        store,
        &[json!({"id": "e2", "type": "x"})],
        vec![alert("a2", 0, "e2")],
    );
    change(
        store,
        vec![GuardrailChange::DeleteWebhook {
            tenant: "acme".into(),
            id: "w1".into(),
            at: now.into(),
        }],
    )
    .unwrap();
    let after = store.deliveries("acme", "w1", 10).unwrap();
    assert_eq!(after[0].status, "cancelled");
    assert_eq!(store.pending_deliveries().unwrap(), 0, "cancelled");
    assert!(store.claim_deliveries(lease, lease, 10).unwrap().is_empty());
}
