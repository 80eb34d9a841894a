//! Retention: bodies of records whose `time` is older than the tenant's
//! `auditLogRetention` are erased, in chunks, while ingest goes on.
//!
//! A node remembers how far it has gone, so a pass after the first reads
//! only what is new: the window of time that expired since the last pass,
//! through the time index, and the records appended since, by seq. The
//! first pass (after a start, or after the lease came back) walks the
//! whole log by seq, a window at a time.

use super::Lease;
use super::erase::{Why, erase_chunk};
use crate::error::ApiResult;
use crate::routes::settings::TenantSettings;
use crate::state::AppState;
use flightrec_core::event::format_time;
use flightrec_store::ErasureTarget;
use serde_json::json;
use std::collections::HashMap;
use std::ops::Range;

/// Bodies erased per batch, and seqs read per window of the first pass.
/// Small: SQLite keeps the pages a batch changed in a journal that each of
/// its statements walks, so a batch's cost grows faster than its size.
const CHUNK: usize = 500;
/// Retention is never urgent: while clients are recording, it waits this
/// many times each chunk's own time after it, so ingest keeps most of the
/// writer and the CPU. (This node's clients: on PostgreSQL, the others'
/// share the database, not this node's writer.)
const PAUSE_FACTOR: u32 = 8;

/// How far retention has gone in each tenant's log.
#[derive(Debug, Default)]
pub struct Retention {
    done: HashMap<String, Done>,
}

/// Every body with a seq below `below_seq` and a time before `before` is
/// erased.
#[derive(Debug, Clone)]
struct Done {
    below_seq: u64,
    before: String,
}

impl Retention {
    /// One pass over every tenant with a retention and not immutable.
    pub async fn pass(&mut self, state: &AppState, lease: &Lease) -> ApiResult<()> {
        let tenants = state.blocking(|store| store.tenants()).await?;
        let mut erased_any = false;
        for tenant in tenants {
            let id = tenant.id.clone();
            let stored = state.blocking(move |store| store.settings(&id)).await?;
            let settings = TenantSettings::from_stored(&stored);
            let Some(retention) = settings.audit_log_retention else {
                self.done.remove(&tenant.id);
                continue;
            };
            if settings.immutable() {
                continue;
            }
            let before = format_time(&(state.clock().now() - retention.duration()));
            let why = Why {
                reason: "retention",
                resource: ("settings", tenant.id.clone()),
                message: format!(
                    "bodies older than the retention of {} erased",
                    String::from(retention)
                ),
                metadata: json!({
                    "setting": {"auditLogRetention": String::from(retention)},
                    "before": before,
                }),
                // Words of bodies past retention leave the index's files
                // as FTS5 merges them, not at a cost ingest would pay.
                scrub_index: false,
            };
            let id = tenant.id.clone();
            let size = state.blocking(move |store| store.log_size(&id)).await?;
            let done = self.done.get(&tenant.id).cloned();
            let erased = match &done {
                // What expired since the last pass, and what arrived since.
                // (A cutoff that moved back, the retention made longer,
                // walks the whole log again, as a first pass does.)
                Some(d) if d.before.as_str() <= before.as_str() => {
                    let expired = self
                        .erase(
                            state,
                            lease,
                            &tenant.id,
                            0..d.below_seq,
                            Some(&d.before),
                            &before,
                            &why,
                        )
                        .await?;
                    expired
                        + self
                            .walk(state, lease, &tenant.id, d.below_seq..size, &before, &why)
                            .await?
                }
                _ => {
                    self.walk(state, lease, &tenant.id, 0..size, &before, &why)
                        .await?
                }
            };
            erased_any |= erased > 0;
            self.done.insert(
                tenant.id.clone(),
                Done {
                    below_seq: size,
                    before,
                },
            );
        }
        if erased_any {
            super::purge(state).await?;
        }
        Ok(())
    }

    /// Erases what expired among `seqs`, a window of seqs at a time.
    async fn walk(
        &self,
        state: &AppState,
        lease: &Lease,
        tenant: &str,
        seqs: Range<u64>,
        before: &str,
        why: &Why,
    ) -> ApiResult<u64> {
        let mut erased = 0;
        let mut start = seqs.start;
        while start < seqs.end {
            let end = (start + CHUNK as u64).min(seqs.end);
            erased += self
                .erase(state, lease, tenant, start..end, None, before, why)
                .await?;
            start = end;
        }
        Ok(erased)
    }

    /// Erases every body among `seqs` with a time in `[since, before)`,
    /// a chunk at a time.
    #[allow(clippy::too_many_arguments)]
    async fn erase(
        &self,
        state: &AppState,
        lease: &Lease,
        tenant: &str,
        seqs: Range<u64>,
        since: Option<&str>,
        before: &str,
        why: &Why,
    ) -> ApiResult<u64> {
        let mut erased = 0;
        let ingest = &state.metrics().ingest;
        let mut seen = ingest.events_total();
        loop {
            lease.keep(state).await?;
            // Requests are not kept waiting behind a long pass.
            super::requests::run_pending(state, lease).await?;
            if super::immutable(state, tenant).await? {
                return Ok(erased);
            }
            let (t, range, since_now, before_now) = (
                tenant.to_owned(),
                seqs.clone(),
                since.map(str::to_owned),
                before.to_owned(),
            );
            let found = state
                .blocking(move |store| {
                    let target = ErasureTarget::Expired {
                        seqs: range,
                        since: since_now.as_deref(),
                        before: &before_now,
                    };
                    store.erasable(&t, target, CHUNK)
                })
                .await?;
            if found.is_empty() {
                return Ok(erased);
            }
            let n = found.len();
            erased += n as u64;
            let took = std::time::Instant::now();
            erase_chunk(state, tenant, found, why, Vec::new()).await?;
            // More than the chunk's own `log.erased` record came in since
            // the last look: clients are busy.
            let now = ingest.events_total();
            if now > seen + 1 {
                tokio::time::sleep(took.elapsed() * PAUSE_FACTOR).await;
            }
            seen = ingest.events_total();
            if n < CHUNK {
                return Ok(erased);
            }
        }
    }
}
