//! Erasure of bodies (DESIGN §4): what a request names, the job that
//! carries it out, and what a pass of erasure asks the store for.
//!
//! A body is erased with the `log.erased` record that tells of it, in one
//! batch ([`crate::AppendBatch::erase`]): there is never an erased body
//! without its record, nor a record of an erasure that did not happen.

use std::ops::Range;

/// What an erased alert's excerpt becomes.
pub const ERASED_EXCERPT: &str = "[erased]";

/// The tenant setting under which nothing may be erased; the store checks
/// it in the transaction that would erase, so no erasure ever commits
/// after the change that turned it on.
pub const IMMUTABLE_SETTING: &str = "immutable_audit_logs";

/// The refusal of an erasure in a tenant whose log is immutable.
pub(crate) fn immutable_refusal() -> crate::StoreError {
    crate::StoreError::Rejected(
        "`immutableAuditLogs` is on: nothing in this tenant's log may be erased".into(),
    )
}

/// Whose bodies an erasure request erases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureSubject {
    Run(String),
    Agent(String),
    Session(String),
    /// The actor's email (or its id when it has no email), as `actor`
    /// filters events.
    Actor(String),
    Events(Vec<String>),
}

impl ErasureSubject {
    /// The subject's kind as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            ErasureSubject::Run(_) => "run_id",
            ErasureSubject::Agent(_) => "agent_id",
            ErasureSubject::Session(_) => "session_id",
            ErasureSubject::Actor(_) => "actor",
            ErasureSubject::Events(_) => "event_ids",
        }
    }

    /// As stored while its job runs: `{"<kind>": value}`.
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            ErasureSubject::Run(v)
            | ErasureSubject::Agent(v)
            | ErasureSubject::Session(v)
            | ErasureSubject::Actor(v) => serde_json::json!(v),
            ErasureSubject::Events(ids) => serde_json::json!(ids),
        };
        serde_json::json!({ self.kind(): value })
    }

    /// The subject [`ErasureSubject::to_json`] wrote; `None` for anything
    /// else.
    pub fn from_json(v: &serde_json::Value) -> Option<Self> {
        let (kind, value) = v.as_object()?.iter().next()?;
        let text = || value.as_str().map(str::to_owned);
        Some(match kind.as_str() {
            "run_id" => ErasureSubject::Run(text()?),
            "agent_id" => ErasureSubject::Agent(text()?),
            "session_id" => ErasureSubject::Session(text()?),
            "actor" => ErasureSubject::Actor(text()?),
            "event_ids" => ErasureSubject::Events(
                value
                    .as_array()?
                    .iter()
                    .map(|id| id.as_str().map(str::to_owned))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }
}

/// Where an erasure job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureStatus {
    /// Accepted; bodies are being erased.
    Pending,
    /// Every body the subject had when the job ran is erased.
    Done,
    /// Ended before that: `immutableAuditLogs` was turned on meanwhile.
    Stopped,
}

impl ErasureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureStatus::Pending => "pending",
            ErasureStatus::Done => "done",
            ErasureStatus::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ErasureStatus::Pending),
            "done" => Some(ErasureStatus::Done),
            "stopped" => Some(ErasureStatus::Stopped),
            _ => None,
        }
    }
}

/// An erasure request and how far it has gone.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasureJob {
    pub tenant: String,
    pub id: String,
    /// [`ErasureSubject::kind`], kept after the subject itself is gone.
    pub subject_kind: String,
    /// The subject, while the job runs; forgotten when it is done, as it
    /// is itself the data being erased (an email, say).
    pub subject: Option<ErasureSubject>,
    pub reason: String,
    /// Who asked (`user:<id>` or `key:<id>`).
    pub requested_by: String,
    pub created_at: String,
    pub status: ErasureStatus,
    /// Bodies erased so far.
    pub erased: u64,
    pub finished_at: Option<String>,
}

/// What a pass of erasure looks for: bodies still present, other than
/// those of flightrec's own `log.erased` records (erasing one would erase
/// the account of other erasures).
#[derive(Debug, Clone)]
pub enum ErasureTarget<'a> {
    /// The subject's records with a `seq` above `after`.
    Subject {
        subject: &'a ErasureSubject,
        after: Option<u64>,
    },
    /// Records with a `seq` in `seqs` and a `time` in `[since, before)`
    /// (normalised times; `since` `None` is unbounded).
    Expired {
        seqs: Range<u64>,
        since: Option<&'a str>,
        before: &'a str,
    },
}
