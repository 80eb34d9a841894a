//! Erasure of bodies, on request and by retention (DESIGN §4), run in the
//! background by one node at a time (the lease `lifecycle`).
//!
//! Each chunk of bodies is erased in the batch that appends the
//! `log.erased` record naming its seqs, so the log always accounts for
//! every erased body, and `verify` checks that it does.

mod erase;
mod requests;
mod retention;

use crate::error::ApiResult;
use crate::lease::Lease;
use crate::state::AppState;
use std::time::Duration;
use tokio::sync::Notify;

/// How often a node looks for erasure requests (and renews its lease).
const TICK: Duration = Duration::from_secs(2);
/// How often retention runs unless a setting changed meanwhile.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

/// What the background work shares with request handlers.
#[derive(Debug, Default)]
pub struct Lifecycle {
    wake: Notify,
}

impl Lifecycle {
    /// Runs a pass now rather than at the next tick (a request or a
    /// retention setting just arrived).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs erasure requests and retention for as long as the server runs.
pub async fn run(state: AppState) {
    let lease = Lease::new("lifecycle");
    let mut retention = retention::Retention::default();
    let mut last_retention: Option<tokio::time::Instant> = None;
    loop {
        let woken = tokio::select! {
            () = state.lifecycle().wake.notified() => true,
            () = tokio::time::sleep(TICK) => false,
        };
        match lease.renew(&state).await {
            Ok(true) => {}
            Ok(false) => {
                // Another node does this work; start afresh if it comes back.
                retention = retention::Retention::default();
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "could not take the lifecycle lease; will retry");
                continue;
            }
        }
        if let Err(e) = requests::run_pending(&state, &lease).await {
            tracing::warn!(error = %e.message, "an erasure request did not finish; will retry");
        }
        let due = last_retention.is_none_or(|at| at.elapsed() >= RETENTION_EVERY);
        if woken || due {
            match retention.pass(&state, &lease).await {
                Ok(()) => last_retention = Some(tokio::time::Instant::now()),
                Err(e) => {
                    tracing::warn!(error = %e.message, "a retention pass did not finish; will retry");
                }
            }
        }
    }
}

/// Whether nothing may be erased in `tenant` (checked again before each
/// chunk: the store refuses, and the work stops).
async fn immutable(state: &AppState, tenant: &str) -> ApiResult<bool> {
    let tenant = tenant.to_owned();
    let stored = state.blocking(move |store| store.settings(&tenant)).await?;
    Ok(crate::routes::settings::TenantSettings::from_stored(&stored).immutable())
}

/// Empties what the store's files still hold of erased bodies, trying a
/// few times while readers finish with older snapshots.
async fn purge(state: &AppState) -> ApiResult<()> {
    for _ in 0..20 {
        if state.blocking(|store| store.purge_erased()).await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tracing::warn!(
        "erased bodies may linger in the write-ahead log until its next checkpoint: readers kept it busy"
    );
    Ok(())
}
