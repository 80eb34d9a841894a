//! The contract every backend keeps.

use crate::StoreError;
use crate::guardrails::*;
use crate::lifecycle::*;
use crate::model::*;
use crate::reports::{ReportJob, ReportOutcome};
use flightrec_core::record::StoredRecord;

/// The tenants' append-only logs and the queries over them.
///
/// Every method may block on I/O: call it from a thread that may block.
pub trait RecordStore: Send + Sync + 'static {
    /// Appends every batch in one transaction and returns once that
    /// transaction is durable (with [`crate::Durability::Fsync`], on disk).
    ///
    /// Each batch is atomic on its own: its events all get consecutive
    /// `seq`s in its tenant's log, or none does and its outcome is an error,
    /// while the other batches still go through. An event whose `id` is
    /// already in its tenant's log (or earlier in the same call) is not
    /// written again: its receipt is the first one's.
    ///
    /// An `Err` from the call itself means nothing was written.
    fn append(&self, batches: Vec<AppendBatch>) -> Result<Vec<BatchOutcome>, StoreError>;

    /// One record by its event `id`.
    fn record(&self, tenant: &str, id: &str) -> Result<Option<StoredRecord>, StoreError>;

    /// Records matching a filter, newest (highest `seq`) first.
    fn records(&self, tenant: &str, query: &EventQuery) -> Result<Page<StoredRecord>, StoreError>;

    /// How many records match `filter` (`q` included), and how many of
    /// those failed or warned.
    fn count_records(&self, tenant: &str, filter: &EventFilter)
    -> Result<RecordCounts, StoreError>;

    /// The distinct values of a column across the tenant's log, sorted.
    fn distinct_values(&self, tenant: &str, facet: Facet) -> Result<Vec<String>, StoreError>;

    /// How many records have a `time` in `[since, until)` (normalised
    /// times; `None` is unbounded), and how many of those failed or warned:
    /// the same as `count_records` with only a window, but quick over any
    /// window of any log.
    fn window_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<RecordCounts, StoreError>;

    /// Counts, rates and duration percentiles of the records with a
    /// `time` in `[since, until)`, in one group or one per value of
    /// `group_by`; as quick as `window_counts` over any window.
    fn stats(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        group_by: Option<crate::stats::GroupBy>,
    ) -> Result<crate::stats::StatGroups, StoreError>;

    /// Runs, most recently active first.
    fn runs(&self, tenant: &str, query: &RunQuery) -> Result<Page<RunSummary>, StoreError>;

    /// One run's summary.
    fn run(&self, tenant: &str, run_id: &str) -> Result<Option<RunSummary>, StoreError>;

    /// One run's records in run order.
    fn run_records(
        &self,
        tenant: &str,
        run_id: &str,
        query: &RunRecordsQuery,
    ) -> Result<Page<StoredRecord>, StoreError>;

    /// How many records the tenant's log holds.
    fn log_size(&self, tenant: &str) -> Result<u64, StoreError>;

    /// Brings free-text search up to date with up to `max` more records;
    /// returns how many it indexed. Search may lag appends until this runs.
    fn index_search(&self, max: usize) -> Result<usize, StoreError>;

    /// Whether [`RecordStore::index_search`] may run on a thread of its
    /// own while appends go on, rather than between them on the writer's.
    fn indexes_beside_appends(&self) -> bool {
        false
    }

    /// How many records, over every tenant, are not yet in the free-text
    /// index (what [`RecordStore::index_search`] still has to do). One
    /// cheap query: it is read on every metrics scrape.
    fn search_backlog(&self) -> Result<u64, StoreError>;
}

/// Tenants, people, API keys and settings. They change only through
/// [`AppendBatch::access`], with the record that tells of the change.
pub trait AccessStore: Send + Sync + 'static {
    fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;

    fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// The user with this email (emails are unique across tenants), with
    /// their password hash, for signing in.
    fn login(&self, email: &str) -> Result<Option<Login>, StoreError>;

    fn user(&self, tenant: &str, id: &str) -> Result<Option<User>, StoreError>;

    /// A tenant's users, oldest first.
    fn users(&self, tenant: &str) -> Result<Vec<User>, StoreError>;

    /// The key whose secret hashes to `secret_hash`, revoked or not.
    fn api_key_by_secret_hash(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError>;

    fn api_key(&self, tenant: &str, id: &str) -> Result<Option<ApiKey>, StoreError>;

    /// A tenant's keys, revoked ones included, oldest first.
    fn api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError>;

    /// Notes when a key was last used (bookkeeping, not a logged change).
    fn touch_api_key(&self, id: &str, at: &str) -> Result<(), StoreError>;

    /// A tenant's settings: a JSON object, empty until first set.
    fn settings(&self, tenant: &str) -> Result<serde_json::Value, StoreError>;

    /// The data keys of tenants that encrypt at rest; give it the master
    /// key ([`crate::encryption::Keyring::use_master`]) to read and write
    /// their bodies.
    fn keyring(&self) -> &crate::encryption::Keyring;

    /// Wraps every live data key with `to` instead of the master key the
    /// keyring holds (`flightrec keys rotate-master`); says how many.
    fn rewrap_data_keys(&self, to: &dyn crate::encryption::MasterKey) -> Result<u64, StoreError>;
}

/// Agents, compliance rules, policies, alerts and webhooks. They change
/// only through [`AppendBatch::guardrails`] and [`AppendBatch::alerts`];
/// deliveries' bookkeeping is the exception, as it is no one's action.
pub trait GuardrailStore: Send + Sync + 'static {
    fn agent(&self, tenant: &str, id: &str) -> Result<Option<Agent>, StoreError>;

    /// A tenant's agents, oldest first.
    fn agents(&self, tenant: &str) -> Result<Vec<Agent>, StoreError>;

    fn rule(&self, tenant: &str, id: &str) -> Result<Option<StoredRule>, StoreError>;

    /// A tenant's own rules, oldest first.
    fn rules(&self, tenant: &str) -> Result<Vec<StoredRule>, StoreError>;

    /// A policy at `version`, or its current version when `None`. A deleted
    /// policy's versions can still be read this way, with no agents.
    fn policy(
        &self,
        tenant: &str,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<Policy>, StoreError>;

    /// A tenant's policies at their current versions, oldest first.
    fn policies(&self, tenant: &str) -> Result<Vec<Policy>, StoreError>;

    fn alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError>;

    fn alerts(&self, tenant: &str, query: &AlertQuery) -> Result<Page<Alert>, StoreError>;

    /// How many alerts were raised in each hour (`2026-11-23T02`) or, with
    /// `by_day`, each day (`2026-11-23`) of `[since, until)`, per severity:
    /// `(bucket, severity, count)`, in bucket order.
    fn alert_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        by_day: bool,
    ) -> Result<Vec<(String, String, u64)>, StoreError>;

    fn webhook(&self, tenant: &str, id: &str) -> Result<Option<Webhook>, StoreError>;

    /// A tenant's webhooks, oldest first.
    fn webhooks(&self, tenant: &str) -> Result<Vec<Webhook>, StoreError>;

    /// A webhook's deliveries, newest first.
    fn deliveries(
        &self,
        tenant: &str,
        webhook_id: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Takes up to `limit` pending deliveries due at `now`, of any tenant,
    /// and holds them until `lease_until`: another sender (another node)
    /// does not take them meanwhile, and if this one dies they come due
    /// again then.
    fn claim_deliveries(
        &self,
        now: &str,
        lease_until: &str,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Notes how an attempt went (bookkeeping, not a logged change).
    fn record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError>;

    /// How many deliveries, over every tenant, are still pending (due or
    /// waiting for a retry); delivered and abandoned ones are not. Read on
    /// every metrics scrape.
    fn pending_deliveries(&self) -> Result<u64, StoreError>;
}

/// Erasure jobs and what retention and erasure look for. Bodies are erased
/// only through [`AppendBatch::erase`], with the record that tells of it.
pub trait LifecycleStore: Send + Sync + 'static {
    fn erasure(&self, tenant: &str, id: &str) -> Result<Option<ErasureJob>, StoreError>;

    /// A tenant's erasure jobs, newest first, at most `limit`.
    fn erasures(&self, tenant: &str, limit: usize) -> Result<Vec<ErasureJob>, StoreError>;

    /// Every tenant's jobs not yet done, oldest first.
    fn pending_erasures(&self) -> Result<Vec<ErasureJob>, StoreError>;

    /// Up to `max` seqs, ascending, of the bodies `target` covers that are
    /// still present.
    fn erasable(
        &self,
        tenant: &str,
        target: ErasureTarget<'_>,
        max: usize,
    ) -> Result<Vec<u64>, StoreError>;

    /// Takes or renews the lease called `name` for `holder` until `until`
    /// (normalised times), if no other holder has it at `now`; says whether
    /// `holder` has it. Background work that only one node may do at a
    /// time runs under one.
    fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &str,
        until: &str,
    ) -> Result<bool, StoreError>;

    /// Makes what erasures freed unreadable in the store's files, as far as
    /// the backend can: SQLite overwrites freed pages as it goes and here
    /// empties its write-ahead log; PostgreSQL leaves dead row versions to
    /// VACUUM (docs/operations.md). Says whether it finished; a reader that
    /// holds an old snapshot can keep it from finishing for now.
    fn purge_erased(&self) -> Result<bool, StoreError>;
}

/// Report jobs and their files (see [`crate::reports`]).
/// (A job is filed with the record of its request:
/// [`crate::AccessChange::RequestReport`].)
pub trait ReportStore: Send + Sync + 'static {
    fn report(&self, tenant: &str, id: &str) -> Result<Option<ReportJob>, StoreError>;

    /// A tenant's report jobs, newest first, at most `limit`.
    fn reports(&self, tenant: &str, limit: usize) -> Result<Vec<ReportJob>, StoreError>;

    /// Every tenant's pending jobs, oldest first.
    fn pending_reports(&self) -> Result<Vec<ReportJob>, StoreError>;

    /// A ready report's file; `None` for any other.
    fn report_file(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// The seq of the newest `log.erased` (or `encryption.keys_destroyed`)
    /// record of flightrec's own in a tenant's log: read before building a
    /// report, and compared by [`ReportStore::finish_report`].
    fn erasure_mark(&self, tenant: &str) -> Result<Option<u64>, StoreError>;

    /// Ends a pending job. A ready report is stored only if the tenant's
    /// erasure mark is still `mark` (no erasure committed while it was
    /// built); says whether the job ended.
    fn finish_report(
        &self,
        tenant: &str,
        id: &str,
        finished_at: &str,
        outcome: &ReportOutcome,
        mark: Option<u64>,
    ) -> Result<bool, StoreError>;
}

/// A whole backend.
pub trait Store:
    RecordStore + LogStore + AccessStore + GuardrailStore + LifecycleStore + ReportStore
{
}

impl<T: RecordStore + LogStore + AccessStore + GuardrailStore + LifecycleStore + ReportStore> Store
    for T
{
}

/// The Merkle log over each tenant's records: tiles, checkpoints, proofs.
pub trait LogStore: Send + Sync + 'static {
    /// The stored hashes of a tile (up to 256 × 32 bytes; a partial tile is
    /// a prefix of its full self).
    fn tile(&self, tenant: &str, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The leaf inputs (JCS headers) of up to `count` records from `from_seq`.
    fn leaf_inputs(
        &self,
        tenant: &str,
        from_seq: u64,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The checkpoint of exactly `size` leaves, or the newest when `None`.
    fn checkpoint(
        &self,
        tenant: &str,
        size: Option<u64>,
    ) -> Result<Option<crate::StoredCheckpoint>, StoreError>;

    /// Every checkpoint of a tenant, oldest first.
    fn checkpoints(&self, tenant: &str) -> Result<Vec<crate::StoredCheckpoint>, StoreError>;

    fn inclusion_proof(
        &self,
        tenant: &str,
        seq: u64,
        tree_size: u64,
    ) -> Result<flightrec_core::log::InclusionProof, StoreError>;

    fn consistency_proof(
        &self,
        tenant: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<flightrec_core::log::ConsistencyProof, StoreError>;

    /// Signs a checkpoint for every tenant whose log has grown past its
    /// newest checkpoint; returns how many it signed. Does nothing without
    /// [`crate::Checkpointing`].
    fn sign_checkpoints(&self) -> Result<usize, StoreError>;

    /// A read-only view of the whole store as it is now, however it is
    /// written to afterwards: what reports verify and read, so that they
    /// describe one consistent log.
    fn snapshot(&self) -> Result<Box<dyn crate::Store>, StoreError>;

    /// Keeps a witness's cosignature of the tenant's checkpoint of `size`
    /// (a C2SP cosignature line, already checked by the caller); keeping
    /// the same witness's cosignature of one checkpoint twice keeps the
    /// first. Durable when it returns.
    fn add_cosignature(
        &self,
        tenant: &str,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError>;

    /// The cosignature lines kept for the tenant's checkpoint of `size`,
    /// in the order they came.
    fn cosignatures(&self, tenant: &str, size: u64) -> Result<Vec<String>, StoreError>;

    /// The largest checkpoint size `witness` has cosigned for the tenant.
    fn witnessed_size(&self, tenant: &str, witness: &str) -> Result<Option<u64>, StoreError>;

    /// Every tenant with at least one record.
    fn log_tenants(&self) -> Result<Vec<String>, StoreError>;

    /// Every tenant with at least one record, its log's size beside its
    /// newest checkpoint: a few indexed reads per tenant, for metrics.
    fn log_heads(&self) -> Result<Vec<crate::LogHead>, StoreError>;

    /// Records, summed over tenants, that the tenants' newest checkpoints
    /// hold beyond the largest checkpoint `witness` has cosigned (all of
    /// them where it has cosigned none): how far that witness lags.
    fn uncosigned(&self, witness: &str) -> Result<u64, StoreError>;

    /// Replaces what `into` holds with the stored rows whose `seq` is in
    /// `seqs`, in `seq` order, with what the store derived from them, as
    /// many as `into` has room for ([`crate::AuditRows::is_full`]); for
    /// `verify`, which calls it from several threads at once. A store
    /// opened as a snapshot gives every call the rows as they were at the
    /// snapshot.
    fn audit_rows(
        &self,
        tenant: &str,
        seqs: std::ops::Range<u64>,
        into: &mut crate::AuditRows,
    ) -> Result<(), StoreError>;

    /// Checks the free-text index against the records it was built from;
    /// `Some(problem)` if they disagree.
    fn check_search_index(&self) -> Result<Option<String>, StoreError>;
}
