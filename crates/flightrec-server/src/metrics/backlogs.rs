//! Gauges read from the store at scrape time: work the server still owes
//! (search indexing, checkpoints, cosignatures, webhook deliveries).
//!
//! They are read, not counted, because on PostgreSQL the work is shared by
//! every node: what one process counted would say nothing about the
//! deployment. Each is one cheap store query (see the store's traits).

use chrono::{DateTime, Utc};
use flightrec_core::event::parse_time;
use flightrec_store::{LogHead, Store, StoreError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type SecondsGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WitnessLabel {
    witness: String,
}

#[derive(Clone, Debug, Default)]
pub struct Backlogs {
    store_up: Gauge,
    search_backlog: Gauge,
    checkpoint_age: SecondsGauge,
    checkpoint_lag: SecondsGauge,
    cosigning_lag: Family<WitnessLabel, Gauge>,
    webhook_backlog: Gauge,
}

/// One reading of the store.
pub struct Reading {
    search_backlog: u64,
    heads: Vec<LogHead>,
    uncosigned: Vec<(String, u64)>,
    pending_deliveries: u64,
}

impl Reading {
    /// Reads everything at once, on a thread that may block. `witnesses`
    /// are the names of the configured witnesses.
    pub fn take(store: &dyn Store, witnesses: &[String]) -> Result<Reading, StoreError> {
        Ok(Reading {
            search_backlog: store.search_backlog()?,
            heads: store.log_heads()?,
            uncosigned: witnesses
                .iter()
                .map(|w| Ok((w.clone(), store.uncosigned(w)?)))
                .collect::<Result<_, StoreError>>()?,
            pending_deliveries: store.pending_deliveries()?,
        })
    }
}

impl Backlogs {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "store_up",
            "1 when this scrape read the store-derived gauges, 0 when the store did not answer (they then keep their last values)",
            self.store_up.clone(),
        );
        registry.register(
            "search_backlog_records",
            "Records appended but not yet in the free-text index, all tenants (search lag)",
            self.search_backlog.clone(),
        );
        registry.register(
            "checkpoint_age_seconds",
            "Seconds since the newest checkpoint of the log whose newest checkpoint is oldest (logs with records)",
            self.checkpoint_age.clone(),
        );
        registry.register(
            "checkpoint_lag_seconds",
            "How long the oldest record not yet covered by a signed checkpoint has waited, worst over tenants; 0 when every log is covered",
            self.checkpoint_lag.clone(),
        );
        registry.register(
            "cosigning_lag_records",
            "Records in the tenants' newest checkpoints that a configured witness has not cosigned yet",
            self.cosigning_lag.clone(),
        );
        registry.register(
            "webhook_backlog_deliveries",
            "Webhook deliveries still pending (due or waiting for a retry), all tenants",
            self.webhook_backlog.clone(),
        );
    }

    pub fn set(&self, reading: &Reading, now: DateTime<Utc>) {
        self.store_up.set(1);
        self.search_backlog.set(gauge_value(reading.search_backlog));
        self.webhook_backlog
            .set(gauge_value(reading.pending_deliveries));
        for (witness, n) in &reading.uncosigned {
            self.cosigning_lag
                .get_or_create(&WitnessLabel {
                    witness: witness.clone(),
                })
                .set(gauge_value(*n));
        }
        let (age, lag) = checkpoint_ages(&reading.heads, now);
        self.checkpoint_age.set(age);
        self.checkpoint_lag.set(lag);
    }

    pub fn store_down(&self) {
        self.store_up.set(0);
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// (worst age of a newest checkpoint, worst wait of an unsigned record),
/// in seconds. A log with records but no checkpoint yet counts from its
/// first record.
fn checkpoint_ages(heads: &[LogHead], now: DateTime<Utc>) -> (f64, f64) {
    let since = |at: &str| {
        parse_time(at)
            .map(|t| ((now - t).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6).max(0.0))
            .unwrap_or(0.0)
    };
    let mut age: f64 = 0.0;
    let mut lag: f64 = 0.0;
    for head in heads {
        let waiting = head.unsigned_since.as_deref().map_or(0.0, since);
        lag = lag.max(waiting);
        age = age.max(
            head.checkpoint
                .as_ref()
                .map_or(waiting, |(_, at)| since(at)),
        );
    }
    (age, lag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(checkpoint: Option<&str>, unsigned_since: Option<&str>) -> LogHead {
        LogHead {
            tenant: "t".into(),
            size: 2,
            checkpoint: checkpoint.map(|at| (1, at.to_owned())),
            unsigned_since: unsigned_since.map(str::to_owned),
        }
    }

    #[test]
    fn the_worst_log_sets_each_age() {
        let now = parse_time("2026-12-01T12:00:10Z").unwrap();
        let heads = [
            // Quiet and covered: old checkpoint, nothing waiting.
            head(Some("2026-12-01T11:00:10Z"), None),
            // Busy: a fresh checkpoint, a record waiting 4 s.
            head(Some("2026-12-01T12:00:08Z"), Some("2026-12-01T12:00:06Z")),
            // Never signed: its first record waits 7 s.
            head(None, Some("2026-12-01T12:00:03Z")),
        ];
        assert_eq!(checkpoint_ages(&heads, now), (3600.0, 7.0));
        assert_eq!(checkpoint_ages(&[], now), (0.0, 0.0));
    }
}
