//! Runs kept folded in memory, so that the state after any event is read
//! from a [`Timeline`] instead of folding the run again on every request
//! (a player stepping through a run asks for each event in turn).
//!
//! A run's records are never removed, so a timeline is current while the
//! run has as many events as it folded. A run that grew is extended when
//! its new events all sort after the folded ones (the usual case: a live
//! run), and folded again when one arrived with an earlier `time`.
//! Timelines are kept least-recently-used first out within a memory
//! budget; a run too large for the budget is not kept.
//!
//! Whatever removes a record's body (erasure) must [`Timelines::forget`]
//! the run, or its content would outlive it here.

use crate::run_pages::walk_steps;
use flightrec_core::replay::Timeline;
use flightrec_store::{RunRecordsQuery, Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Memory the kept timelines may hold together.
pub const DEFAULT_BUDGET: usize = 64 * 1024 * 1024;

type Key = (String, String);

pub struct Timelines {
    kept: Mutex<HashMap<Key, Kept>>,
    budget: usize,
    clock: AtomicU64,
}

struct Kept {
    timeline: Arc<RwLock<Timeline>>,
    /// Its size when last brought up to date.
    bytes: usize,
    last_used: u64,
}

/// A run's timeline, or why there is none.
pub enum Current {
    Timeline(Arc<RwLock<Timeline>>),
    /// The run exists but is too large to keep: fold it directly.
    TooLarge,
}

impl Default for Timelines {
    fn default() -> Self {
        Timelines::with_budget(DEFAULT_BUDGET)
    }
}

impl Timelines {
    pub fn with_budget(budget: usize) -> Timelines {
        Timelines {
            kept: Mutex::new(HashMap::new()),
            budget,
            clock: AtomicU64::new(0),
        }
    }

    /// The run's timeline, brought up to date; `None` when there is no such
    /// run.
    pub fn current(
        &self,
        store: &dyn Store,
        tenant: &str,
        run_id: &str,
    ) -> Result<Option<Current>, StoreError> {
        let Some(run) = store.run(tenant, run_id)? else {
            return Ok(None);
        };
        let key = (tenant.to_owned(), run_id.to_owned());
        let kept = self
            .kept
            .lock()
            .expect("timelines")
            .get(&key)
            .map(|k| k.timeline.clone());
        let timeline = match kept {
            Some(t) => t,
            None if run.event_count as usize > self.budget / 64 => {
                // Even at its smallest it would not fit.
                return Ok(Some(Current::TooLarge));
            }
            None => Arc::new(RwLock::new(Timeline::default())),
        };
        let bytes = {
            let mut t = timeline.write().expect("timeline");
            if t.len() < run.event_count {
                self.extend(store, tenant, run_id, &mut t)?;
                if t.len() < run.event_count {
                    // An event came in before the folded ones: start over.
                    *t = Timeline::default();
                    self.extend(store, tenant, run_id, &mut t)?;
                }
            }
            if t.approx_bytes() > self.budget {
                drop(t);
                self.forget(tenant, run_id);
                return Ok(Some(Current::TooLarge));
            }
            t.approx_bytes()
        };
        self.keep(key, timeline.clone(), bytes);
        Ok(Some(Current::Timeline(timeline)))
    }

    /// Folds in the run's events after the timeline's last, stopping past
    /// the budget.
    fn extend(
        &self,
        store: &dyn Store,
        tenant: &str,
        run_id: &str,
        t: &mut Timeline,
    ) -> Result<(), StoreError> {
        let query = RunRecordsQuery {
            after: t.last_key().map(|(time, seq)| (time.to_owned(), seq)),
            ..Default::default()
        };
        let budget = self.budget;
        let first = t.len();
        walk_steps(store, tenant, run_id, query, first, &mut |step| {
            t.push(step);
            t.approx_bytes() <= budget
        })
    }

    fn keep(&self, key: Key, timeline: Arc<RwLock<Timeline>>, bytes: usize) {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.kept.lock().expect("timelines");
        kept.insert(
            key,
            Kept {
                timeline,
                bytes,
                last_used: now,
            },
        );
        // Over budget: the least recently used go first.
        let mut total: usize = kept.values().map(|k| k.bytes).sum();
        while total > self.budget && kept.len() > 1 {
            let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, k)| k.last_used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(gone) = kept.remove(&oldest) {
                total -= gone.bytes;
            }
        }
    }

    /// Drops what is kept of a run.
    pub fn forget(&self, tenant: &str, run_id: &str) {
        self.kept
            .lock()
            .expect("timelines")
            .remove(&(tenant.to_owned(), run_id.to_owned()));
    }
}
