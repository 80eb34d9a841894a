//! The values that cross the store's interface.

use crate::guardrails::{GuardrailChange, NewAlert};
use flightrec_core::record::{Receipt, SealedEvent};
use flightrec_core::secret::Secret;

/// Events for one tenant's log, appended all or nothing.
///
/// `access` carries the changes to tenants, people and keys that the events
/// record (an admin action and its `key.created` record, say): they commit
/// in the same transaction as the events or not at all, so no change is
/// ever made without its record in the log. `guardrails` does the same for
/// agents, rules, policies, alerts' status and webhooks; `alerts` are the
/// ones the events raised (see [`crate::guardrails`]). `erase` names the
/// bodies of this tenant's log that the batch erases, with every copy
/// derived from them; its events include the `log.erased` record that
/// tells of it (see [`crate::lifecycle`]).
#[derive(Debug, Clone, Default)]
pub struct AppendBatch {
    pub tenant: String,
    pub events: Vec<SealedEvent>,
    pub access: Vec<AccessChange>,
    pub guardrails: Vec<GuardrailChange>,
    pub alerts: Vec<NewAlert>,
    pub erase: Erase,
}

/// The bodies a batch erases.
#[derive(Debug, Clone, Default)]
pub struct Erase {
    /// Seqs in the batch's tenant's log.
    pub seqs: Vec<u64>,
    /// Remove the erased words from the free-text index's files now, at a
    /// cost (an erasure request), rather than when the index next merges
    /// the pages that hold them (retention).
    pub scrub_index: bool,
}

impl AppendBatch {
    /// Whether the batch destroys data keys (a store's keyring must forget
    /// them once it commits).
    pub fn destroys_keys(&self) -> bool {
        self.access
            .iter()
            .any(|c| matches!(c, AccessChange::DestroyDataKeys { .. }))
    }

    /// A batch of events alone.
    pub fn events(tenant: impl Into<String>, events: Vec<SealedEvent>) -> Self {
        AppendBatch {
            tenant: tenant.into(),
            events,
            ..AppendBatch::default()
        }
    }
}

/// A change to tenants, people, keys or settings, applied with the batch
/// that records it. A change whose precondition no longer holds (the user
/// was removed meanwhile, the role is no longer what the caller saw) fails
/// the batch with [`crate::StoreError::Changed`].
#[derive(Debug, Clone)]
pub enum AccessChange {
    CreateTenant(Tenant),
    CreateUser {
        user: User,
        /// A PHC string, never a password.
        password_hash: Option<Secret>,
    },
    /// Changes a user's role from `from` (as the caller saw it) to `to`.
    SetUserRole {
        tenant: String,
        id: String,
        from: String,
        to: String,
    },
    RemoveUser {
        tenant: String,
        id: String,
    },
    CreateApiKey {
        key: ApiKey,
        /// SHA-256 of the secret; the secret itself is never stored.
        secret_hash: [u8; 32],
    },
    RevokeApiKey {
        tenant: String,
        id: String,
        at: String,
    },
    /// Replaces the tenant's settings, which must still be `from`.
    SetSettings {
        tenant: String,
        from: serde_json::Value,
        to: serde_json::Value,
    },
    /// Turns encryption at rest of the tenant's bodies appended from now on
    /// on or off; the first time on, a data key is made and stored wrapped
    /// by the master key (see [`crate::encryption`]).
    SetEncryption {
        tenant: String,
        on: bool,
        at: String,
    },
    /// Destroys every data key of the tenant (crypto-shredding): the bodies
    /// they sealed can never be read again. Fails with
    /// [`crate::StoreError::Missing`] when the tenant has none.
    DestroyDataKeys {
        tenant: String,
        at: String,
    },
    /// Files an erasure request (its job is pending).
    RequestErasure(crate::ErasureJob),
    /// Files a report job, pending.
    RequestReport(crate::ReportJob),
    /// Adds `erased` to a job's count; `end` (its status and when) ends
    /// the job and forgets
    /// its subject.
    ErasureProgress {
        tenant: String,
        id: String,
        erased: u64,
        end: Option<(crate::ErasureStatus, String)>,
    },
}

/// What became of one [`AppendBatch`]: a receipt per event, in order.
pub type BatchOutcome = Result<Vec<Receipt>, crate::StoreError>;

/// One page of a listing; `more` says whether another page follows the last
/// item.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// The filters of `GET /v1/events`. All given filters must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub run_id: Option<String>,
    pub agent_id: Option<String>,
    pub session_id: Option<String>,
    /// Matches the actor's email, or its id when it has no email.
    pub actor: Option<String>,
    pub actor_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// Matches `verb`, or `tool` when the event has no verb.
    pub verb: Option<String>,
    pub provider: Option<String>,
    pub status: Option<String>,
    pub governance_status: Option<String>,
    /// Event `time` at or after this normalised time.
    pub since: Option<String>,
    /// Event `time` before this normalised time.
    pub until: Option<String>,
    /// Free text; every word must occur.
    pub q: Option<String>,
    /// `type` starts with this (e.g. `key.` for every key action).
    pub type_prefix: Option<String>,
    /// Exactly this `submitted_by` (`key:<id>`, `user:<id>`, `flightrec`).
    pub submitted_by: Option<String>,
    /// Records flightrec wrote itself, or records clients sent. Records of
    /// format 1 say neither, so they match neither.
    pub origin: Option<Origin>,
}

/// Who wrote a record, in the large: flightrec itself or a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flightrec,
    Client,
}

impl Origin {
    pub fn parse(s: &str) -> Option<Origin> {
        match s {
            "flightrec" => Some(Origin::Flightrec),
            "client" => Some(Origin::Client),
            _ => None,
        }
    }
}

/// How many records match a filter, and how many of them failed or warned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub total: u64,
    pub fail: u64,
    pub warn: u64,
}

/// A column whose distinct values a filter offers to choose from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    EventType,
    ResourceType,
}

/// A page of events, newest first (or oldest first when `ascending`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub filter: EventFilter,
    pub limit: usize,
    /// Only events with a smaller `seq` (the previous page's last).
    pub before_seq: Option<u64>,
    /// Only events with a larger `seq`.
    pub after_seq: Option<u64>,
    /// Oldest first.
    pub ascending: bool,
    /// Skips this many matching events first (for numbered pages).
    pub offset: usize,
}

pub use flightrec_core::replay::RunStatus;

/// What `GET /v1/runs` shows of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run_id: String,
    pub first_time: String,
    pub last_time: String,
    pub event_count: u64,
    pub fail_count: u64,
    pub warn_count: u64,
    pub status: RunStatus,
    /// The agent of the run's first event that named one.
    pub agent_id: Option<String>,
}

/// A page of runs, most recently active first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunQuery {
    pub limit: usize,
    pub status: Option<RunStatus>,
    pub agent_id: Option<String>,
    /// Only runs after this one in the listing: its (`last_time`, `run_id`).
    pub after: Option<(String, String)>,
}

/// A run's events in run order (`time`, then `seq`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecordsQuery {
    /// `time` at or after.
    pub from: Option<String>,
    /// `time` at or before.
    pub to: Option<String>,
    /// Only these types; empty means all.
    pub types: Vec<String>,
    pub limit: usize,
    /// Only events after this (`time`, `seq`).
    pub after: Option<(String, u64)>,
}

/// An organisation whose records are kept apart from every other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

/// A person who can sign in, with the PHC hash of their password when they
/// have one.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: User,
    pub password_hash: Option<Secret>,
}

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub tenant: String,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub created_at: String,
}

/// An API key as stored: its secret exists only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub tenant: String,
    pub name: String,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Events sent with this key are this agent's.
    pub agent_id: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A tenant's log beside its newest checkpoint, for monitoring whether
/// checkpoints keep up with appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHead {
    pub tenant: String,
    /// Records in the log.
    pub size: u64,
    /// The newest checkpoint's size and `created_at`, if any.
    pub checkpoint: Option<(u64, String)>,
    /// When the first record not covered by the newest checkpoint was
    /// received; `None` when the checkpoint covers the whole log.
    pub unsigned_since: Option<String>,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: flightrec_core::log::Hash,
    /// The whole C2SP signed note.
    pub note: String,
    pub created_at: String,
}
