//! What the sequencer counts: records appended, batch sizes, how long each
//! commit took, how many requests wait for the writer, and the alerts the
//! committed batches raised.
//!
//! Counted where batches commit (not at the HTTP edge), so every way in —
//! `/v1/events`, OTLP, the admin API, the demo — is counted once, and a
//! batch that failed is not counted as appended.

use flightrec_core::compliance::Severity;
use flightrec_store::AppendBatch;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The sequencer's instruments; clones share their values.
#[derive(Clone, Debug)]
pub struct IngestMetrics {
    events: Counter,
    batch_events: Histogram,
    commit_seconds: Histogram,
    failed_commits: Counter,
    queue_depth: Gauge,
    alerts: Family<SeverityLabel, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabel {
    severity: &'static str,
}

/// What one queued batch adds when it commits, taken before the store
/// consumes it.
pub struct BatchTally {
    events: usize,
    severities: Vec<&'static str>,
}

impl BatchTally {
    pub fn of(batch: &AppendBatch) -> BatchTally {
        BatchTally {
            events: batch.events.len(),
            // Only the four known severities become label values: a label
            // set must stay small and never carry text from a request.
            severities: batch
                .alerts
                .iter()
                .map(|a| Severity::parse(&a.alert.severity).map_or("other", Severity::as_str))
                .collect(),
        }
    }
}

impl Default for IngestMetrics {
    fn default() -> Self {
        // Every known severity from the start, at 0: a series that appears
        // only with its first alert would hide that first increase from
        // `rate()` and `increase()`.
        let alerts = Family::<SeverityLabel, Counter>::default();
        for severity in ["low", "medium", "high", "critical"] {
            drop(alerts.get_or_create(&SeverityLabel { severity }));
        }
        IngestMetrics {
            events: Counter::default(),
            // A request batch holds at most 1,000 events (DESIGN §3).
            batch_events: Histogram::new([
                1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
            ]),
            // 0.5 ms to ~16 s: an fsync on a fast disk up to a stalled
            // database.
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            failed_commits: Counter::default(),
            queue_depth: Gauge::default(),
            alerts,
        }
    }
}

impl IngestMetrics {
    /// Events appended since the server started (what background work
    /// reads to tell whether clients are busy).
    pub fn events_total(&self) -> u64 {
        self.events.get()
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "ingest_events",
            "Events appended to the tenants' logs in committed batches (idempotent retries of an already recorded event included)",
            self.events.clone(),
        );
        registry.register(
            "ingest_batch_events",
            "Events per appended batch (one request's worth)",
            self.batch_events.clone(),
        );
        registry.register(
            "commit_duration_seconds",
            "How long each store transaction of the sequencer took (group commit: one transaction may hold many batches)",
            self.commit_seconds.clone(),
        );
        registry.register(
            "commit_failures",
            "Sequencer transactions that failed as a whole (nothing written)",
            self.failed_commits.clone(),
        );
        registry.register(
            "sequencer_queue_depth",
            "Batches waiting for the sequencer's writer",
            self.queue_depth.clone(),
        );
        registry.register(
            "alerts_raised",
            "Alerts raised by the compliance rules, committed with the records that raised them",
            self.alerts.clone(),
        );
    }

    /// A batch joined the queue.
    pub fn queued(&self) {
        self.queue_depth.inc();
    }

    /// A batch left the queue (the writer took it, or it never got in).
    pub fn dequeued(&self) {
        self.queue_depth.dec();
    }

    /// One store transaction committed these batches (`Ok` outcomes only:
    /// a batch refused on its own wrote nothing).
    pub fn committed<'a>(&self, took: Duration, batches: impl Iterator<Item = &'a BatchTally>) {
        self.commit_seconds.observe(took.as_secs_f64());
        for tally in batches {
            self.events.inc_by(tally.events as u64);
            self.batch_events.observe(tally.events as f64);
            for severity in &tally.severities {
                self.alerts.get_or_create(&SeverityLabel { severity }).inc();
            }
        }
    }

    /// A whole transaction failed.
    pub fn failed(&self, took: Duration) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.failed_commits.inc();
    }
}
