//! Ingest's view of an event: aliases, defaults, validation and limits.

use flightrec_core::event::{
    ActorType, Event, GovernanceStatus, Limits, RiskLevel, Status, ValidationError, parse_event,
    parse_time,
};
use serde_json::{Value, json};

fn received() -> chrono::DateTime<chrono::Utc> {
    parse_time("2026-11-22T10:00:00Z").unwrap()
}

fn parse(v: Value) -> Result<Event, ValidationError> {
    parse_event(v, received(), &Limits::default(), || "server-id".into())
}

fn fields_in_error(v: Value) -> Vec<String> {
    parse(v)
        .unwrap_err()
        .errors
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn saas_audit_shape_is_accepted_unchanged() {
    let e = parse(json!({
        "action": "llm_call",
        "prompt": "summarise the ticket",
        "response": {"text": "done"},
        "agentId": "support-bot",
        "traceId": "trace-1",
        "parentSpanId": "span-0",
        "metadata": {"model": "m-1"}
    }))
    .unwrap();
    assert_eq!(e.event_type, "llm_call");
    assert_eq!(e.body.input, Some(json!("summarise the ticket")));
    assert_eq!(e.body.output, Some(json!({"text": "done"})));
    assert_eq!(e.body.agent_id.as_deref(), Some("support-bot"));
    assert_eq!(e.run_id.as_deref(), Some("trace-1"));
    assert_eq!(e.parent_span_id.as_deref(), Some("span-0"));
    assert_eq!(e.body.metadata.unwrap()["model"], "m-1");
}

#[test]
fn execution_shape_is_accepted_unchanged() {
    let e = parse(json!({
        "execution_id": "exec-42",
        "verb": "stripe:create_refund",
        "provider": "stripe",
        "risk_level": "high",
        "governance_status": "approved",
        "dry_run": true,
        "args": {"amount": 1200},
        "result": {"refund": "re_1"},
        "duration_ms": 183.5,
        "timestamp": "2026-11-22T09:59:58.5+01:00"
    }))
    .unwrap();
    assert_eq!(e.id, "exec-42");
    assert_eq!(
        e.event_type, "tool_call",
        "a verb without a type is a tool_call"
    );
    assert_eq!(e.body.risk_level, Some(RiskLevel::High));
    assert_eq!(
        e.body.governance.as_ref().unwrap().status,
        GovernanceStatus::Approved
    );
    assert!(e.body.dry_run);
    assert_eq!(e.body.duration_ms.unwrap().as_f64(), Some(183.5));
    assert_eq!(e.time, parse_time("2026-11-22T08:59:58.5Z").unwrap());
}

#[test]
fn defaults() {
    let e = parse(json!({"type": "thinking"})).unwrap();
    assert_eq!(e.id, "server-id");
    assert_eq!(e.time, received(), "time defaults to received_at");
    assert_eq!(e.status, Status::Ok);
    assert!(!e.body.dry_run && !e.body.idempotent && !e.body.credential_masked);
    let e = parse(json!({"type": "error", "error": "boom"})).unwrap();
    assert_eq!(e.status, Status::Fail, "an error event defaults to fail");
    assert_eq!(e.body.error.unwrap().message, "boom");
    let e = parse(json!({"tool": "bash"})).unwrap();
    assert_eq!(e.event_type, "tool_call");
}

#[test]
fn unknown_types_are_accepted_and_unknown_fields_kept_in_metadata() {
    let e = parse(json!({"type": "custom.thing", "color": "blue", "metadata": {"a": 1}})).unwrap();
    assert_eq!(e.event_type, "custom.thing");
    let m = e.body.metadata.unwrap();
    assert_eq!(m["color"], "blue");
    assert_eq!(m["a"], 1);
}

#[test]
fn actor_known_by_email_gets_it_as_id() {
    let e = parse(
        json!({"type": "key.created", "actor": {"type": "human", "email": "ana@example.com"}}),
    )
    .unwrap();
    let actor = e.body.actor.unwrap();
    assert_eq!(actor.actor_type, ActorType::Human);
    assert_eq!(actor.id, "ana@example.com");
}

#[test]
fn every_bad_field_is_named() {
    let fields = fields_in_error(json!({
        "type": 7,
        "status": "maybe",
        "risk_level": "extreme",
        "dry_run": "yes",
        "time": "last tuesday",
        "duration_ms": -1,
        "actor": {"type": "robot", "id": "x", "shoe": 1},
        "resource": {"type": "file"},
        "metadata": [1],
        "error": 5
    }));
    for expected in [
        "type",
        "status",
        "risk_level",
        "dry_run",
        "time",
        "duration_ms",
        "actor.type",
        "actor.shoe",
        "resource.id",
        "metadata",
        "error",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} not named in {fields:?}"
        );
    }
}

#[test]
fn missing_type_is_explained() {
    let err = parse(json!({"run_id": "r"})).unwrap_err();
    assert_eq!(err.errors[0].field, "type");
    assert!(err.to_string().contains("required"));
}

#[test]
fn not_an_object() {
    assert_eq!(fields_in_error(json!([1, 2])), ["(event)"]);
    assert_eq!(fields_in_error(json!("x")), ["(event)"]);
}

#[test]
fn alias_and_canonical_together_are_refused() {
    let fields = fields_in_error(json!({"type": "a", "action": "b"}));
    assert_eq!(fields.len(), 1);
    let fields = fields_in_error(json!({"type": "a", "input": 1, "args": 2, "prompt": 3}));
    assert_eq!(fields.len(), 2);
}

#[test]
fn server_fields_cannot_be_sent() {
    let fields = fields_in_error(json!({"type": "a", "seq": 4, "credential_masked": true}));
    assert_eq!(fields, ["seq", "credential_masked"]);
}

#[test]
fn ids_are_bounded_and_printable() {
    let long = "x".repeat(129);
    assert_eq!(fields_in_error(json!({"type": "a", "id": long})), ["id"]);
    assert_eq!(fields_in_error(json!({"type": "a", "id": ""})), ["id"]);
    assert_eq!(fields_in_error(json!({"type": "a", "id": "a\nb"})), ["id"]);
    assert!(parse(json!({"type": "a", "id": "x".repeat(128)})).is_ok());
}

#[test]
fn oversize_event_is_refused_with_its_size() {
    let limits = Limits {
        max_event_bytes: 1000,
        ..Limits::default()
    };
    let big = json!({"type": "a", "content": "y".repeat(2000)});
    let err = parse_event(big, received(), &limits, || "i".into()).unwrap_err();
    assert_eq!(err.errors[0].field, "(event)");
    assert!(err.to_string().contains("limit is 1000 bytes"), "{err}");
}

#[test]
fn nulls_count_as_absent() {
    let e = parse(json!({"type": "a", "run_id": null, "input": null, "dry_run": null})).unwrap();
    assert_eq!(e.run_id, None);
    assert_eq!(e.body.input, None);
}

/// The seed record shape that was refused because `risk_level` was upper
/// case: enumerations go in in the client's casing and are stored canonical.
#[test]
fn seed_001_shape_with_upper_case_enumerations_round_trips() {
    let e = parse(json!({
        "execution_id": "exec_9xk2p",
        "verb": "stripe:create_refund",
        "risk_level": "HIGH",
        "governance_status": "Approved",
        "status": "OK",
        "actor": {"type": "Agent", "id": "billing-bot"},
        "args": {"amount": 1200}
    }))
    .unwrap();
    assert_eq!(e.id, "exec_9xk2p");
    assert_eq!(e.body.risk_level, Some(RiskLevel::High));
    assert_eq!(
        e.body.governance.as_ref().unwrap().status,
        GovernanceStatus::Approved
    );
    let body: Value = serde_json::from_str(&e.canonical_body).unwrap();
    assert_eq!(body["risk_level"], "high");
    assert_eq!(body["governance"]["status"], "approved");
    assert_eq!(body["actor"]["type"], "agent");
    assert_eq!(e.status.as_str(), "ok");
    // Still refused: what is no known value in any casing.
    assert_eq!(
        fields_in_error(json!({"type": "x", "risk_level": "SEVERE"})),
        ["risk_level"]
    );
}
