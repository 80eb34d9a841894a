//! A recorded event as that API shows an audit log.

use flightrec_store::Alert;
use serde_json::{Map, Value, json};

/// The native event JSON (`GET /v1/events/{id}`) as an audit log: its
/// fields under that API's names, everything else kept under the names the
/// native API uses (`seq`, `status`, `redactions`, …).
pub fn log_from_event(event: &Value) -> Value {
    let Value::Object(fields) = event else {
        return event.clone();
    };
    let renames = [
        ("type", "action"),
        ("input", "prompt"),
        ("output", "response"),
        ("agent_id", "agentId"),
        ("run_id", "traceId"),
        ("span_id", "spanId"),
        ("parent_span_id", "parentSpanId"),
        ("time", "createdAt"),
        ("received_at", "receivedAt"),
    ];
    let mut log = Map::new();
    for (name, value) in fields {
        let shown = renames
            .iter()
            .find(|(ours, _)| ours == name)
            .map_or(name.as_str(), |(_, theirs)| theirs);
        log.insert(shown.to_owned(), value.clone());
    }
    // That API always has these keys, `null` when absent.
    for key in [
        "prompt",
        "response",
        "agentId",
        "traceId",
        "parentSpanId",
        "metadata",
    ] {
        log.entry(key).or_insert(Value::Null);
    }
    Value::Object(log)
}

/// What ingest answers: the log, with the compliance rules it tripped as
/// `complianceFlags` (`"<SEVERITY>:<rule id>"`, so that API's clients read a
/// critical one as critical) and `enforcementAction`: `flag` when a rule
/// fired, else `allow` (a blocked event is refused with an error, never
/// recorded).
pub fn log_with_flags(event: &Value, alerts: &[Alert]) -> Value {
    let mut log = log_from_event(event);
    let flags: Vec<String> = alerts
        .iter()
        .map(|a| format!("{}:{}", a.severity.to_uppercase(), a.rule_id))
        .collect();
    let action = if flags.is_empty() { "allow" } else { "flag" };
    log["complianceFlags"] = json!(flags);
    log["enforcementAction"] = json!(action);
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_the_event_fields_and_keeps_the_rest() {
        let event = json!({"id": "e1", "seq": 4, "type": "tool_call", "input": "q",
            "run_id": "t1", "parent_span_id": "s0", "time": "2026-01-01T00:00:00.000000Z"});
        let log = log_from_event(&event);
        assert_eq!(log["action"], "tool_call");
        assert_eq!(log["prompt"], "q");
        assert_eq!(log["traceId"], "t1");
        assert_eq!(log["parentSpanId"], "s0");
        assert_eq!(log["createdAt"], "2026-01-01T00:00:00.000000Z");
        assert_eq!(log["seq"], 4);
        assert_eq!(log["response"], Value::Null);
        assert!(log.get("type").is_none());
    }
}
