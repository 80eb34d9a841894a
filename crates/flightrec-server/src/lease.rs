//! Store leases: background work that only one node may do at a time
//! (erasure and retention, reports) runs under one, taken and renewed in
//! the store, and taken over by another node once its holder stops
//! renewing it.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use flightrec_core::event::format_time;
use std::time::Duration;

/// How long a lease outlives its holder's last renewal.
const LEASE: Duration = Duration::from_secs(30);

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
