//! A tool's risk level from the hints MCP servers give in its annotations:
//! a read-only tool is low, a destructive one high, anything else medium;
//! reaching into an open world (the web, other systems) raises it a level.

use flightrec_core::event::RiskLevel;
use serde_json::Value;

/// The risk of calling a tool with these annotations (the `annotations`
/// object of its `tools/list` entry; absent hints count as the MCP spec's
/// defaults: not read-only, destructive, open-world).
pub fn risk_level(annotations: Option<&Value>) -> RiskLevel {
    let hint = |name: &str, default: bool| {
        annotations
            .and_then(|a| a.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(default)
    };
    let base = if hint("readOnlyHint", false) {
        RiskLevel::Low
    } else if hint("destructiveHint", true) {
        RiskLevel::High
    } else {
        RiskLevel::Medium
    };
    if hint("openWorldHint", true) {
        raise(base)
    } else {
        base
    }
}

fn raise(level: RiskLevel) -> RiskLevel {
    match level {
        RiskLevel::Low => RiskLevel::Medium,
        RiskLevel::Medium => RiskLevel::High,
        RiskLevel::High | RiskLevel::Critical => RiskLevel::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hints_set_the_level() {
        let level = |a: Value| risk_level(Some(&a));
        assert_eq!(
            level(json!({"readOnlyHint": true, "openWorldHint": false})),
            RiskLevel::Low
        );
        assert_eq!(
            level(json!({"readOnlyHint": true})),
            RiskLevel::Medium,
            "open world by default"
        );
        assert_eq!(
            level(json!({"destructiveHint": false, "openWorldHint": false})),
            RiskLevel::Medium
        );
        assert_eq!(
            level(json!({"destructiveHint": true, "openWorldHint": false})),
            RiskLevel::High
        );
        assert_eq!(
            level(json!({"destructiveHint": true, "openWorldHint": true})),
            RiskLevel::Critical
        );
        // A read-only tool is not destructive, whatever else it says.
        assert_eq!(
            level(json!({"readOnlyHint": true, "destructiveHint": true, "openWorldHint": false})),
            RiskLevel::Low
        );
        assert_eq!(
            risk_level(None),
            RiskLevel::Critical,
            "no hints: the spec's cautious defaults"
        );
    }
}
