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

/// A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
/// or a tab or carriage return first) gets a `'` in front, as OWASP
/// advises: an agent's recorded text must not execute on an auditor's
/// machine. Numbers and booleans are not text and stay as they are.
fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A text cell of any CSV flightrec writes: defused, then quoted.
pub fn text_cell(cell: &str) -> String {
    quote(&defuse(cell.to_owned()))
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
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(v) => quote(&defuse(inline(v))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_cells_that_spreadsheets_would_run_are_defused() {
        let row = Csv.event(&json!({
            "seq": 1, "type": "=HYPERLINK(\"http://evil\")", "message": "+1 call me",
            "content": "-2", "tool": "@SUM(A1)", "duration_ms": -5, "dry_run": false,
            "verb": "\tcmd", "provider": "plain",
        }));
        assert!(
            row.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","),
            "{row}"
        );
        for cell in [
            "'+1 call me",
            "'-2",
            "'@SUM(A1)",
            "'\tcmd",
            ",plain,",
            ",-5,",
            ",false,",
        ] {
            assert!(row.contains(cell), "{cell:?} in {row}");
        }
    }
}
