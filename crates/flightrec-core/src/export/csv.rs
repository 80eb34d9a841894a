//! `csv` (RFC 4180): one row per event, a column per field; structured
//! fields (`input`, `output`, `error`, `metadata`, …) as compact JSON.

use super::{Subject, Writer, inline};
use serde_json::Value;

pub struct Csv;

/// The columns, in order; nested fields by dotted path.
#[rustfmt::skip]
const COLUMNS: &[&str] = &[
    "seq", "id", "time", "received_at", "type", "run_id", "span_id", "parent_span_id", "status",
    "submitted_by",
    "agent_id", "session_id", "actor.type", "actor.id", "actor.email", "actor.name",
    "resource.type", "resource.id", "verb", "tool", "provider", "risk_level", "governance.status",
    "governance.policy", "governance.reason", "dry_run", "idempotent", "idempotency_hit",
    "duration_ms", "message", "content", "input", "output", "error", "metadata", "redactions",
    "credential_masked", "erased",
];

fn field<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(event, |v, k| v.get(k))
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

impl Writer for Csv {
    fn head(&mut self, _: &Subject) -> String {
        let mut line = COLUMNS.join(",");
        line.push_str("\r\n");
        line
    }

    fn event(&mut self, event: &Value) -> String {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| match field(event, c) {
                None | Some(Value::Null) => String::new(),
                Some(v) => quote(&inline(v)),
            })
            .collect();
        let mut line = cells.join(",");
        line.push_str("\r\n");
        line
    }

    fn tail(&mut self) -> String {
        String::new()
    }
}
