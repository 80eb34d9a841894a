//! The fields of a canonical event and their types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A validated, normalised event that has not been sequenced yet.
///
/// The first fields are the ones that go into the record's hashed header;
/// everything else is the [`Body`].
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub event_type: String,
    pub run_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub status: Status,
    pub body: Body,
    /// JCS(body), computed once when the event is parsed; call
    /// [`Event::canonicalise`] after changing `body`.
    pub canonical_body: String,
}

impl Event {
    /// Recomputes [`Event::canonical_body`] from `body`.
    pub fn canonicalise(&mut self) {
        self.canonical_body =
            crate::jcs::to_string(&serde_json::to_value(&self.body).expect("body serialises"));
    }
}

/// Every field of an event that is not in the record header.
///
/// Serialises to the canonical names; `body_hash` is taken over the JCS form
/// of this value, so a field's presence or absence is part of the hash.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<Governance>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub idempotent: bool,
    #[serde(default)]
    pub idempotency_hit: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub redactions: Vec<Redaction>,
    #[serde(default)]
    pub credential_masked: bool,
}

/// The outcome of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Fail,
    Warn,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Ok, Status::Fail, Status::Warn];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "fail",
            Status::Warn => "warn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    #[serde(rename = "type")]
    pub actor_type: ActorType,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    Human,
    Agent,
    System,
}

impl ActorType {
    pub const ALL: [ActorType; 3] = [ActorType::Human, ActorType::Agent, ActorType::System];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Human => "human",
            ActorType::Agent => "agent",
            ActorType::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<ActorType> {
        ActorType::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What was acted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<RiskLevel> {
        RiskLevel::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What the policy decided about the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    pub status: GovernanceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceStatus {
    Approved,
    Blocked,
    Pending,
    DryRun,
    Auto,
}

impl GovernanceStatus {
    pub const ALL: [GovernanceStatus; 5] = [
        GovernanceStatus::Approved,
        GovernanceStatus::Blocked,
        GovernanceStatus::Pending,
        GovernanceStatus::DryRun,
        GovernanceStatus::Auto,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GovernanceStatus::Approved => "approved",
            GovernanceStatus::Blocked => "blocked",
            GovernanceStatus::Pending => "pending",
            GovernanceStatus::DryRun => "dry_run",
            GovernanceStatus::Auto => "auto",
        }
    }

    pub fn parse(s: &str) -> Option<GovernanceStatus> {
        GovernanceStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// An error an action ran into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorInfo {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
}

/// One value the server masked before writing: where it was and what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    pub path: String,
    pub kind: String,
}
