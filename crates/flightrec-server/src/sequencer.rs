//! Group commit: one writer thread turns many concurrent requests into one
//! durable transaction.
//!
//! Requests queue their batches; the writer takes everything queued (up to a
//! cap), appends it in one store transaction, and only then answers each
//! request. Under load many requests share one fsync; alone, a request waits
//! for just its own. Free-text search follows the commits
//! (search_indexer.rs).

use crate::error::ApiError;
use crate::metrics::ingest::{BatchTally, IngestMetrics};
use crate::search_indexer::Search;
use flightrec_core::record::Receipt;
use flightrec_store::{AppendBatch, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The most events one transaction takes; more wait for the next one.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;
/// Checkpoints are normally signed inside the append transaction; the
/// writer also signs one when a log has grown past its newest checkpoint
/// and has been quiet for a checkpoint interval.
/// Requests that may wait for the writer before new ones are turned away.
const QUEUE_CAPACITY: usize = 8_192;
/// Bytes of records that may wait for the writer: the count alone would
/// let 8,192 batches of 16 MiB queue up (128 GiB).
const QUEUE_BYTES: usize = 256 * 1024 * 1024;

type Reply = oneshot::Sender<Result<Vec<Receipt>, ApiError>>;

struct Job {
    batch: AppendBatch,
    /// What the batch adds to the metrics if it commits.
    tally: BatchTally,
    reply: Reply,
    /// Gives its bytes back to the queue's budget when the job is done.
    charge: Charge,
}

/// A job's share of [`QUEUE_BYTES`], returned when it is dropped.
struct Charge {
    bytes: usize,
    queued: Arc<AtomicUsize>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// About what a batch holds in memory: its bodies and a header's worth
/// per event.
fn batch_bytes(batch: &AppendBatch) -> usize {
    batch.events.iter().map(|e| e.body.len() + 512).sum()
}

/// The handle requests use to append.
#[derive(Clone)]
pub struct Sequencer {
    queue: SyncSender<Job>,
    running: Arc<AtomicBool>,
    /// Bytes of the batches waiting for the writer.
    queued: Arc<AtomicUsize>,
    metrics: IngestMetrics,
}

/// Clears the running flag when the writer thread ends, however it ends
/// (a panic included), so readiness can tell.
struct RunningGuard(Arc<AtomicBool>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Sequencer {
    /// Starts the writer thread, which counts what it commits in
    /// `metrics`. It stops when every handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        checkpoint_interval: Duration,
        metrics: IngestMetrics,
    ) -> Sequencer {
        let (queue, jobs) = sync_channel(QUEUE_CAPACITY);
        let running = Arc::new(AtomicBool::new(true));
        let guard = RunningGuard(running.clone());
        let writer_metrics = metrics.clone();
        std::thread::Builder::new()
            .name("flightrec-sequencer".into())
            .spawn(move || {
                let _guard = guard;
                Writer::new(store, jobs, checkpoint_interval, writer_metrics).run()
            })
            .expect("spawn the sequencer thread");
        Sequencer {
            queue,
            running,
            queued: Arc::new(AtomicUsize::new(0)),
            metrics,
        }
    }

    /// Bytes of the batches waiting for the writer, for `/metrics`.
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Whether the writer thread is alive: `/readyz` is not ready without
    /// it, since nothing could be appended.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Appends a batch; resolves once it is durable.
    pub async fn append(&self, batch: AppendBatch) -> Result<Vec<Receipt>, ApiError> {
        let (reply, answer) = oneshot::channel();
        let bytes = batch_bytes(&batch);
        let before = self.queued.fetch_add(bytes, Ordering::SeqCst);
        let charge = Charge {
            bytes,
            queued: self.queued.clone(),
        };
        // One batch alone always fits, so no size is refused for ever.
        if before > 0 && before + bytes > QUEUE_BYTES {
            return Err(ApiError::unavailable(
                "the server is at capacity (too much waiting to be written); nothing was written, retry shortly",
            ));
        }
        // Counted before it is sent, so the writer can never take it
        // (and count it out) first.
        self.metrics.queued();
        let tally = BatchTally::of(&batch);
        match self.queue.try_send(Job {
            batch,
            tally,
            reply,
            charge,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.dequeued();
                return Err(ApiError::unavailable(
                    "the server is at capacity; nothing was written, retry shortly",
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                self.metrics.dequeued();
                return Err(ApiError::unavailable("the sequencer has stopped"));
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the sequencer has stopped")))
    }
}

struct Writer {
    store: Arc<dyn Store>,
    jobs: Receiver<Job>,
    search: Search,
    checkpoint_interval: Duration,
    /// A commit happened that may not be covered by a checkpoint yet.
    unsigned_since: Option<Instant>,
    metrics: IngestMetrics,
}

impl Writer {
    fn new(
        store: Arc<dyn Store>,
        jobs: Receiver<Job>,
        checkpoint_interval: Duration,
        metrics: IngestMetrics,
    ) -> Self {
        Writer {
            search: Search::for_store(store.clone()),
            store,
            jobs,
            checkpoint_interval,
            // A checkpoint may be owed from before a restart.
            unsigned_since: Some(
                Instant::now()
                    .checked_sub(checkpoint_interval)
                    .unwrap_or_else(Instant::now),
            ),
            metrics,
        }
    }

    fn run(mut self) {
        loop {
            // While search or a checkpoint is owed, look back often; when
            // idle, rarely.
            let owed = self.search.owed() || self.unsigned_since.is_some();
            let wait = Duration::from_millis(if owed { 20 } else { 250 });
            match self.jobs.recv_timeout(wait) {
                Ok(job) => {
                    self.commit(job);
                    self.search.between_commits(true);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.sign_owed_checkpoints();
                    self.search.between_commits(false);
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn commit(&mut self, first: Job) {
        let mut jobs = vec![first];
        let mut events = jobs[0].batch.events.len();
        while events < MAX_EVENTS_PER_COMMIT {
            match self.jobs.try_recv() {
                Ok(job) => {
                    events += job.batch.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        for _ in &jobs {
            self.metrics.dequeued();
        }
        // The jobs' charges are given back once the store is done with
        // their batches.
        let mut charges = Vec::with_capacity(jobs.len());
        let mut tallies = Vec::with_capacity(jobs.len());
        let (batches, replies): (Vec<AppendBatch>, Vec<Reply>) = jobs
            .into_iter()
            .map(|j| {
                charges.push(j.charge);
                tallies.push(j.tally);
                (j.batch, j.reply)
            })
            .unzip();
        let started = Instant::now();
        let appended = self.store.append(batches);
        // The batches are spent: their bytes go back to the budget before
        // any request hears its answer, so an answered caller never sees
        // its own batch still charged (the unit test below raced on this).
        drop(charges);
        match appended {
            Ok(outcomes) => {
                let took = started.elapsed();
                tracing::debug!(
                    requests = replies.len(),
                    events,
                    took_ms = took.as_secs_f64() * 1000.0,
                    "committed"
                );
                // A batch refused on its own (`Err` outcome) wrote nothing.
                self.metrics.committed(
                    took,
                    tallies
                        .iter()
                        .zip(&outcomes)
                        .filter(|(_, o)| o.is_ok())
                        .map(|(t, _)| t),
                );
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome.map_err(ApiError::from));
                }
                self.search.appended(events);
                self.unsigned_since.get_or_insert_with(Instant::now);
            }
            Err(e) => {
                self.metrics.failed(started.elapsed());
                tracing::error!(error = %e, requests = replies.len(), "append failed; nothing was written");
                for reply in replies {
                    let _ = reply.send(Err(failure(&e)));
                }
            }
        }
    }

    fn sign_owed_checkpoints(&mut self) {
        let Some(since) = self.unsigned_since else {
            return;
        };
        if since.elapsed() < self.checkpoint_interval {
            return;
        }
        match self.store.sign_checkpoints() {
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(signed = n, "signed checkpoints while idle");
                }
                self.unsigned_since = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not sign checkpoints; will retry");
                self.unsigned_since = Some(Instant::now());
            }
        }
    }
}

/// What a request hears when its whole transaction failed (already logged).
fn failure(e: &StoreError) -> ApiError {
    match e {
        StoreError::Full => {
            ApiError::unavailable("the store's disk is full; nothing was written, retry later")
        }
        e if e.is_transient() => {
            ApiError::unavailable("the store is unavailable; nothing was written, retry later")
        }
        _ => ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; nothing was written and the server log has the details",
        ),
    }
}

#[cfg(test)]
mod running {
    use super::*;

    /// `/readyz` said ready while the sequencer thread was dead
    /// (regression): the flag follows the thread, however it ends.
    #[test]
    fn the_running_flag_falls_when_the_writer_thread_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = flightrec_store::SqliteStore::create(
            &dir.path().join("data"),
            flightrec_store::SqliteOptions::default(),
        )
        .unwrap();
        let sequencer = Sequencer::start(
            Arc::new(store),
            Duration::from_secs(1),
            IngestMetrics::default(),
        );
        assert!(sequencer.is_running());
        let flag = sequencer.running.clone();
        drop(sequencer);
        let deadline = Instant::now() + Duration::from_secs(10);
        while flag.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the writer never stopped");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The queue had no bound on bytes: 8,192 waiting batches of 16 MiB
    /// each (regression). Past the budget a batch is turned away with 503;
    /// a committed batch gives its share back.
    #[tokio::test]
    async fn the_queue_is_bounded_in_bytes_and_gives_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = flightrec_store::SqliteStore::create(
            &dir.path().join("data"),
            flightrec_store::SqliteOptions::default(),
        )
        .unwrap();
        let sequencer = Sequencer::start(
            Arc::new(store),
            Duration::from_secs(1),
            IngestMetrics::default(),
        );
        let batch = || {
            AppendBatch::events(
                "t",
                vec![flightrec_store::conformance::sealed(
                    serde_json::json!({"type": "x"}),
                )],
            )
        };
        sequencer.append(batch()).await.unwrap();
        assert_eq!(sequencer.queued.load(Ordering::SeqCst), 0, "given back");
        // As if the writer were behind by the whole budget.
        sequencer.queued.store(QUEUE_BYTES, Ordering::SeqCst);
        let refused = sequencer.append(batch()).await.unwrap_err();
        assert_eq!(refused.status.as_u16(), 503);
        assert_eq!(sequencer.queued.load(Ordering::SeqCst), QUEUE_BYTES);
    }
}
