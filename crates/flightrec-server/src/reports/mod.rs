//! Reports (`/v1/reports`): compliance summaries, audit trails and agent
//! activity as PDF, CSV, JSON or HTML, built in the background by one node
//! at a time (the lease `reports`) and kept in the store, so a job
//! survives a restart and any node serves the file.
//!
//! Each report states the checkpoint it was built from (signed, with the
//! witnesses' cosignatures) and what verifying the tenant's log against it
//! found.

mod csv;
mod document;
mod gather;
mod html;
mod json;
mod pdf;

use crate::error::ApiResult;
use crate::lease::Lease;
use crate::state::AppState;
use document::Document;
use flightrec_core::event::format_time;
use flightrec_store::{ReportFormat, ReportJob, ReportOutcome, ReportStatus};
use gather::BuildError;
use std::time::Duration;
use tokio::sync::Notify;

/// How often a node looks for pending reports (and renews its lease).
const TICK: Duration = Duration::from_secs(2);
/// How many times a report is rebuilt when erasures keep committing while
/// it is built, before it waits for the next tick.
const ATTEMPTS: usize = 3;
/// How often the lease is renewed while a report is built (well within
/// the lease's 30 s).
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// What the background work shares with request handlers.
#[derive(Debug, Default)]
pub struct Reports {
    wake: Notify,
}

impl Reports {
    /// Builds pending reports now rather than at the next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Builds pending reports for as long as the server runs.
pub async fn run(state: AppState) {
    let lease = Lease::new("reports");
    loop {
        tokio::select! {
            () = state.reports().wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        match lease.renew(&state).await {
            Ok(true) => {}
            Ok(false) => continue, // another node builds them
            Err(e) => {
                tracing::warn!(error = %e.message, "could not take the reports lease; will retry");
                continue;
            }
        }
        if let Err(e) = build_pending(&state, &lease).await {
            tracing::warn!(error = %e.message, "a report was not built; will retry");
        }
    }
}

async fn build_pending(state: &AppState, lease: &Lease) -> ApiResult<()> {
    let jobs = state.blocking(|store| store.pending_reports()).await?;
    for job in jobs {
        lease.keep(state).await?;
        build(state, lease, job).await?;
    }
    Ok(())
}

/// How a build ended.
enum Built {
    /// Stored, ready or failed (or ended meanwhile by another node).
    Ended,
    /// An erasure committed while it was built: not stored.
    Erased,
}

/// Builds one report and stores it, unless an erasure committed meanwhile
/// (the file might hold what it erased): then it is built again. The
/// lease is renewed while it builds. Only a store that is away (full, or
/// unreachable) leaves the job pending for later; any other problem ends
/// it as failed, saying why, so one job never holds up the others.
async fn build(state: &AppState, lease: &Lease, job: ReportJob) -> ApiResult<()> {
    for _ in 0..ATTEMPTS {
        let store = state.store();
        let checkpointing = state.checkpointing().clone();
        let now = format_time(&state.clock().now());
        let clock = state.clock_handle();
        let building = job.clone();
        let built = tokio::task::spawn_blocking(move || {
            let job = building;
            let mark = store.erasure_mark(&job.tenant)?;
            let outcome = match gather::build(store.as_ref(), &checkpointing, &job, now) {
                Ok(doc) => ReportOutcome::Ready {
                    file: write(&doc, job.format),
                    basis: doc.basis.to_json().to_string(),
                },
                Err(BuildError::Refused(error)) => ReportOutcome::Failed { error },
                Err(BuildError::Store(e)) if e.is_transient() => return Err(e),
                Err(BuildError::Store(e)) => {
                    tracing::error!(tenant = %job.tenant, id = %job.id, error = %e, "a report could not be built");
                    ReportOutcome::Failed {
                        error: format!("the store could not be read for it: {e}"),
                    }
                }
            };
            let finished_at = format_time(&clock.now());
            if store.finish_report(&job.tenant, &job.id, &finished_at, &outcome, mark)? {
                return Ok(Built::Ended);
            }
            let still_pending = store
                .report(&job.tenant, &job.id)?
                .is_some_and(|j| j.status == ReportStatus::Pending);
            Ok(if still_pending {
                Built::Erased
            } else {
                Built::Ended
            })
        });
        tokio::pin!(built);
        let built = loop {
            tokio::select! {
                done = &mut built => break done,
                () = tokio::time::sleep(RENEW_EVERY) => lease.keep(state).await?,
            }
        };
        match built
            .map_err(|e| crate::error::ApiError::internal("the report builder panicked", &e))??
        {
            Built::Ended => {
                tracing::info!(tenant = %job.tenant, id = %job.id, "report ended");
                return Ok(());
            }
            Built::Erased => {}
        }
    }
    Ok(())
}

/// The document as a file of `format`.
fn write(doc: &Document, format: ReportFormat) -> Vec<u8> {
    match format {
        ReportFormat::Pdf => pdf::write(doc),
        ReportFormat::Csv => csv::write(doc),
        ReportFormat::Json => json::write(doc),
        ReportFormat::Html => html::write(doc),
    }
}
