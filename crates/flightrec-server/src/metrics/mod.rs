//! `GET /metrics`: the server's figures in the OpenMetrics text format
//! (which Prometheus reads), from `prometheus-client` rather than our own
//! formatting.
//!
//! Counters and histograms are this process's own (on PostgreSQL, sum them
//! over the nodes); the backlog gauges are read from the store at each
//! scrape and are the deployment's. Labels never name a tenant, a key or
//! anything from a request's path or body: the figures are server-wide,
//! and only the operators may read them (see `routes::metrics`).
//!
//! Not here: tracing or logs, or per-tenant usage.

pub mod backlogs;
pub mod http;
pub mod ingest;

use backlogs::{Backlogs, Reading};
use flightrec_store::Store;
use http::HttpMetrics;
use ingest::IngestMetrics;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};

/// The content type of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every instrument, and the registry that writes them out.
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
    pub ingest: IngestMetrics,
    backlogs: Backlogs,
    queued_bytes: Gauge,
    public: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("flightrec");
        let http = HttpMetrics::default();
        let ingest = IngestMetrics::default();
        let backlogs = Backlogs::default();
        let queued_bytes = Gauge::default();
        http.register(&mut registry);
        ingest.register(&mut registry);
        registry.register(
            "sequencer_queue_bytes",
            "Bytes of the batches waiting for the sequencer's writer (about: bodies and a header's worth per event)",
            queued_bytes.clone(),
        );
        backlogs.register(&mut registry);
        Metrics {
            registry,
            http,
            ingest,
            backlogs,
            queued_bytes,
            public: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// Lets anyone read `/metrics` without credentials
    /// (`FLIGHTREC_METRICS_PUBLIC=true`), for a scraper on a private network.
    pub fn set_public(&self, public: bool) {
        self.public.store(public, Ordering::SeqCst);
    }

    pub fn is_public(&self) -> bool {
        self.public.load(Ordering::SeqCst)
    }

    /// Reads the store's backlogs; on a blocking thread.
    pub fn read_store(store: &dyn Store, witnesses: &[String]) -> Option<Reading> {
        match Reading::take(store, witnesses) {
            Ok(reading) => Some(reading),
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the store did not answer; its gauges keep their last values");
                None
            }
        }
    }

    /// Writes every metric out, after setting the gauges read at scrape
    /// time (`reading` is `None` when the store did not answer).
    pub fn render(
        &self,
        reading: Option<&Reading>,
        queued_bytes: usize,
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        match reading {
            Some(r) => self.backlogs.set(r, now),
            None => self.backlogs.store_down(),
        }
        self.queued_bytes
            .set(i64::try_from(queued_bytes).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
