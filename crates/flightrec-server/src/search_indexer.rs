//! Keeps free-text search caught up with the log, in steps.
//!
//! Where indexing may run beside appends (PostgreSQL: a pool of
//! connections, and the database works on both at once), it has a thread
//! of its own that the writer wakes after each commit. Where it may not
//! (SQLite: one writing connection), the writer takes a step between
//! commits, small enough that a waiting append is never held up long.

use flightrec_store::Store;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// How often search takes a step while appends keep the writer busy.
const SEARCH_LAG: Duration = Duration::from_millis(100);
/// Records indexed per step: at least what was appended since the last
/// step, so search keeps up, but in small steps (indexing a ~1 KB record
/// costs about a quarter of appending it).
const CHUNK_MIN: usize = 250;
const CHUNK_MAX: usize = 5_000;
/// After indexing failed (the database is away, say), the pause before it
/// is tried again: without it, it would be tried, and a warning logged,
/// every few milliseconds for as long as the outage lasts.
const RETRY: Duration = Duration::from_secs(1);

/// Where the writer's commits are indexed.
pub(crate) enum Search {
    /// By the writer itself, between commits.
    Inline(Indexer),
    /// By a thread of its own, told how many events each commit added.
    Beside(SyncSender<usize>),
}

impl Search {
    /// The way `store` allows.
    pub(crate) fn for_store(store: Arc<dyn Store>) -> Search {
        if !store.indexes_beside_appends() {
            return Search::Inline(Indexer::new(store));
        }
        // One wake-up pending is enough: the thread reads the backlog from
        // the store, not from the count.
        let (wake, woken) = sync_channel(1);
        std::thread::Builder::new()
            .name("flightrec-search".into())
            .spawn(move || Indexer::new(store).run_beside(woken))
            .expect("spawn the search indexing thread");
        Search::Beside(wake)
    }

    /// A commit added `events`.
    pub(crate) fn appended(&mut self, events: usize) {
        match self {
            Search::Inline(indexer) => indexer.appended(events),
            Search::Beside(wake) => match wake.try_send(events) {
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => {
                    tracing::error!("the search indexing thread has stopped");
                }
            },
        }
    }

    /// Whether the writer should look back soon for search's sake.
    pub(crate) fn owed(&self) -> bool {
        matches!(self, Search::Inline(indexer) if indexer.behind)
    }

    /// The writer's chance to index: after a commit (`busy`), only once
    /// per [`SEARCH_LAG`]; when idle, always.
    pub(crate) fn between_commits(&mut self, busy: bool) {
        if let Search::Inline(indexer) = self
            && (!busy || indexer.last_step.elapsed() >= SEARCH_LAG)
        {
            indexer.step();
        }
    }
}

pub(crate) struct Indexer {
    store: Arc<dyn Store>,
    last_step: Instant,
    behind: bool,
    /// Events committed since the last step.
    unindexed: usize,
    /// No step before this, after one failed.
    retry_at: Option<Instant>,
}

impl Indexer {
    fn new(store: Arc<dyn Store>) -> Indexer {
        Indexer {
            store,
            last_step: Instant::now(),
            // Records may be owed from before a restart.
            behind: true,
            unindexed: 0,
            retry_at: None,
        }
    }

    fn appended(&mut self, events: usize) {
        self.behind = true;
        self.unindexed += events;
    }

    fn step(&mut self) {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        self.last_step = Instant::now();
        let chunk = self.unindexed.clamp(CHUNK_MIN, CHUNK_MAX);
        self.unindexed = self.unindexed.saturating_sub(chunk);
        match self.store.index_search(chunk) {
            Ok(n) => {
                self.behind = n > 0;
                self.retry_at = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "search indexing failed; will retry");
                self.behind = true;
                self.retry_at = Some(Instant::now() + RETRY);
            }
        }
    }

    /// Indexes whatever is behind, whenever woken or every so often, until
    /// the writer is gone.
    fn run_beside(mut self, woken: Receiver<usize>) {
        loop {
            let wait = match self.retry_at {
                Some(at) => at.saturating_duration_since(Instant::now()),
                None if self.behind => Duration::ZERO,
                None => Duration::from_millis(250),
            };
            match woken.recv_timeout(wait) {
                Ok(events) => self.appended(events),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            // Alone on its thread, each step may take the most.
            self.unindexed = self.unindexed.max(CHUNK_MAX);
            self.step();
        }
    }
}
