//! What a report says, before it is written as a file: a title, what it
//! was built from, and sections of rows. Every format writes the same
//! document.

use serde_json::{Value, json};

/// A built report.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub report_type: &'static str,
    pub title: &'static str,
    pub tenant: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub generated_at: String,
    pub basis: Basis,
    pub sections: Vec<Section>,
}

/// The checkpoint a report was built from and what verifying the log
/// against it found: the report's proof of its own basis.
#[derive(Debug, Clone)]
pub struct Basis {
    pub checkpoint_size: u64,
    /// Base64, as in the checkpoint's text.
    pub checkpoint_root: String,
    /// The whole signed note with the witnesses' cosignature lines.
    pub signed_checkpoint: String,
    pub cosignatures: usize,
    pub verified_records: u64,
    pub erased_records: u64,
    /// `None` when the log verified.
    pub problem: Option<String>,
}

impl Basis {
    pub fn verified(&self) -> bool {
        self.problem.is_none()
    }

    /// One line for formats that state it in passing.
    pub fn summary(&self) -> String {
        let verdict = match &self.problem {
            None => format!(
                "verified: all {} records of the log as this report read it ({} erased bodies, each accounted for) match their hashes, the tree and checkpoint {} with its signature",
                self.verified_records, self.erased_records, self.checkpoint_size
            ),
            Some(problem) => format!("VERIFICATION FAILED: {problem}"),
        };
        format!(
            "Built from checkpoint {} (root {}, {} witness cosignature{}); {verdict}",
            self.checkpoint_size,
            self.checkpoint_root,
            self.cosignatures,
            if self.cosignatures == 1 { "" } else { "s" }
        )
    }

    pub fn to_json(&self) -> Value {
        json!({
            "checkpoint": {
                "size": self.checkpoint_size,
                "root": self.checkpoint_root,
                "cosignatures": self.cosignatures,
                "signed_note": self.signed_checkpoint,
            },
            "verification": {
                "passed": self.verified(),
                "records": self.verified_records,
                "erased": self.erased_records,
                "problem": self.problem,
            },
        })
    }
}

/// A table of the report.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    /// Cells are strings, numbers or null.
    pub rows: Vec<Vec<Value>>,
    /// Said under the table (rows left out, how a figure is counted).
    pub note: Option<String>,
}

impl Section {
    pub fn new(title: &'static str, columns: &[&'static str]) -> Section {
        Section {
            title,
            columns: columns.to_vec(),
            rows: Vec::new(),
            note: None,
        }
    }
}

/// A cell as text: strings as they are, numbers as JSON writes them,
/// null as empty.
pub fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            // Rates and percentiles: four significant decimals are enough.
            Some(f) if n.is_f64() => format!("{}", (f * 10_000.0).round() / 10_000.0),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}
