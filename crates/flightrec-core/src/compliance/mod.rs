//! Compliance rules: personal and regulated data (a social security
//! number, a card number, a patient's record number) found in incoming
//! events. A rule names what to look for and what to do when it fires:
//! raise an alert, redact the value before it is written, or both.
//!
//! Unlike credential masking ([`crate::mask`]), rules are the tenant's
//! choice: installed from packs ([`packs`]), written by hand, or bundled
//! into versioned policies attached to agents.

mod detectors;
pub mod packs;
mod scan;
mod spans;
pub mod validators;

pub use detectors::{BUILTINS, Builtin, Find, builtin};
pub use scan::{Finding, Origin, RuleSet};

use crate::event::TEXT_FIELDS;
use serde::{Deserialize, Serialize};

/// The longest custom pattern accepted.
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// The most memory one compiled pattern may take.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// One compliance rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    /// The top-level event fields read (see [`TEXT_FIELDS`]); empty means
    /// the content fields (`input`, `output`, `message`, `content`,
    /// `error`, `metadata`), `["*"]` every field.
    #[serde(default)]
    pub fields: Vec<String>,
    /// A built-in detector's name, or `regex` with a `pattern`.
    pub detector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A validator a match must pass (see [`validators::NAMES`]); built-in
    /// detectors bring their own when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Alert,
    Redact,
    AlertAndRedact,
}

impl Action {
    pub fn alerts(self) -> bool {
        matches!(self, Action::Alert | Action::AlertAndRedact)
    }

    pub fn redacts(self) -> bool {
        matches!(self, Action::Redact | Action::AlertAndRedact)
    }
}

impl Rule {
    /// Everything wrong with the rule, as one sentence per problem; empty
    /// when it is sound.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        // The id names the rule in the log's records, whose ids and
        // resources hold no control characters.
        if self.id.trim().is_empty()
            || self.id.chars().count() > 128
            || self.id.chars().any(char::is_control)
        {
            problems.push("`id` must be 1 to 128 characters, none a control character".to_owned());
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            problems.push("`name` must be 1 to 200 characters".to_owned());
        }
        if self.description.chars().count() > 2_000 {
            problems.push("`description` may have at most 2000 characters".to_owned());
        }
        for f in &self.fields {
            if f != "*" && !TEXT_FIELDS.contains(&f.as_str()) {
                problems.push(format!(
                    "`fields`: {f:?} is not a field rules can read ({}, or *)",
                    TEXT_FIELDS.join(", ")
                ));
            }
        }
        match (self.detector.as_str(), &self.pattern) {
            ("regex", None) => {
                problems.push("`pattern` is required when `detector` is \"regex\"".to_owned())
            }
            ("regex", Some(p)) => {
                if let Err(e) = compile_pattern(p) {
                    problems.push(format!("`pattern`: {e}"));
                }
            }
            (name, pattern) => {
                if builtin(name).is_none() {
                    let known: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
                    problems.push(format!(
                        "`detector` {name:?} is not a built-in detector ({}) or \"regex\"",
                        known.join(", ")
                    ));
                }
                if pattern.is_some() {
                    problems.push("`pattern` is only for `detector: \"regex\"`".to_owned());
                }
            }
        }
        if let Some(v) = &self.validator
            && !validators::NAMES.contains(&v.as_str())
        {
            problems.push(format!(
                "`validator` {v:?} is not one of {}",
                validators::NAMES.join(", ")
            ));
        }
        problems
    }
}

/// Compiles a custom pattern with a size limit; the regex engine runs in
/// linear time, so no pattern can stall ingest.
fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.is_empty() {
        return Err("must not be empty".into());
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("is longer than {MAX_PATTERN_CHARS} characters"));
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("is not a valid regular expression: {e}"))?;
    if re.is_match("") {
        return Err("matches the empty string, so it would fire on everything".into());
    }
    Ok(re)
}
