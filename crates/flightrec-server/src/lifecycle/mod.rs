//! Erasure of bodies, on request and by retention (DESIGN §4), run in the
//! background by one node at a time (the lease `lifecycle`).
//!
//! Each chunk of bodies is erased in the batch that appends the
//! `log.erased` record naming its seqs, so the log always accounts for
//! every erased body, and `verify` checks that it does.

mod erase;
mod requests;
mod retention;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use flightrec_core::event::format_time;
use std::time::Duration;
use tokio::sync::Notify;

/// How often a node looks for erasure requests (and renews its lease).
const TICK: Duration = Duration::from_secs(2);
/// How often retention runs unless a setting changed meanwhile.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
/// How long a lease outlives its holder's last renewal.
const LEASE: Duration = Duration::from_secs(30);

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

/// A store lease under which this node does background work, so that one
/// node at a time does it (`lifecycle`: erasure and retention; `reports`).
pub struct Lease {
    name: &'static str,
    holder: String,
    /// When it was last renewed.
    renewed: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Lease {
    pub fn new(name: &'static str) -> Self {
        Lease {
            name,
            holder: uuid::Uuid::now_v7().to_string(),
            renewed: std::sync::Mutex::new(None),
        }
    }

    /// Takes or renews the lease; `false` when another node holds it.
    pub async fn renew(&self, state: &AppState) -> ApiResult<bool> {
        let now = state.clock().now();
        let until = now + chrono::Duration::from_std(LEASE).expect("a short duration");
        let (name, holder) = (self.name, self.holder.clone());
        let (now, until) = (format_time(&now), format_time(&until));
        let held = state
            .blocking(move |store| store.take_lease(name, &holder, &now, &until))
            .await?;
        *self.renewed.lock().unwrap_or_else(|p| p.into_inner()) =
            held.then(tokio::time::Instant::now);
        Ok(held)
    }

    /// Renews the lease before more work, or says why not to go on: work
    /// longer than the lease must not overlap another node's.
    pub async fn keep(&self, state: &AppState) -> ApiResult<()> {
        let fresh = self
            .renewed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() < LEASE / 3);
        if fresh || self.renew(state).await? {
            Ok(())
        } else {
            Err(ApiError::unavailable(format!(
                "another node took over the {} lease; this node stops its work",
                self.name
            )))
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
