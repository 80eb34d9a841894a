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
//! An erasure leaves a run's count as it was, so each timeline also keeps
//! the tenant's newest `log.erased` seq when it was folded: a timeline
//! folded before a later erasure (on any node) is folded again. The node
//! that erases also forgets the tenant's timelines at once
//! ([`Timelines::forget_tenant`]).

use crate::run_pages::walk_steps;
use flightrec_core::erasure::ERASED_TYPE;
use flightrec_core::replay::Timeline;
use flightrec_store::{EventFilter, EventQuery, Origin, RunRecordsQuery, Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

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
    /// The tenant's newest erasure when it was folded.
    erasures: Option<u64>,
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
        let erasures = newest_erasure(store, tenant)?;
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .filter(|k| k.erasures == erasures)
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
            let mut t = timeline.write().unwrap_or_else(|poisoned| {
                // A fold that panicked may have left it half-extended, and
                // a poisoned lock must not fail every later request: start
                // this run's timeline over.
                timeline.clear_poison();
                let mut t = poisoned.into_inner();
                *t = Timeline::default();
                t
            });
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
        self.keep(key, timeline.clone(), bytes, erasures);
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

    fn keep(&self, key: Key, timeline: Arc<RwLock<Timeline>>, bytes: usize, erasures: Option<u64>) {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.insert(
            key,
            Kept {
                timeline,
                erasures,
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

    /// Drops what is kept of a tenant's runs.
    pub fn forget_tenant(&self, tenant: &str) {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(t, _), _| t != tenant);
    }

    /// Drops what is kept of a run.
    pub fn forget(&self, tenant: &str, run_id: &str) {
        self.kept
            .lock()
            .expect("timelines")
            .remove(&(tenant.to_owned(), run_id.to_owned()));
    }
}

/// The seq of the tenant's newest `log.erased` record of flightrec's (one
/// indexed read).
fn newest_erasure(store: &dyn Store, tenant: &str) -> Result<Option<u64>, StoreError> {
    let query = EventQuery {
        filter: EventFilter {
            event_type: Some(ERASED_TYPE.into()),
            origin: Some(Origin::Flightrec),
            ..EventFilter::default()
        },
        limit: 1,
        ..EventQuery::default()
    };
    Ok(store
        .records(tenant, &query)?
        .items
        .first()
        .map(|r| r.header.seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_store::conformance::append;
    use flightrec_store::{SqliteOptions, SqliteStore};
    use serde_json::{Value, json};

    fn thought(at: &str, n: u32) -> Value {
        json!({"type": "thinking", "run_id": "r", "time": at, "content": format!("thought {n}")})
    }

    fn kept(t: &Timelines, store: &dyn Store) -> Arc<RwLock<Timeline>> {
        match t.current(store, "t", "r").unwrap().unwrap() {
            Current::Timeline(timeline) => timeline,
            Current::TooLarge => panic!("expected the run to be kept"),
        }
    }

    fn texts(timeline: &RwLock<Timeline>) -> Vec<String> {
        let t = timeline.read().unwrap();
        t.view(t.len().checked_sub(1))
            .context
            .iter()
            .map(|c| c.text.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_timeline_follows_its_run_and_starts_over_when_an_event_comes_early() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
        append(
            &store,
            "t",
            vec![
                thought("2026-11-22T10:00:01Z", 1),
                thought("2026-11-22T10:00:03Z", 3),
            ],
        );
        let timelines = Timelines::default();
        let first = kept(&timelines, &store);
        assert_eq!(texts(&first), ["thought 1", "thought 3"]);

        // A later event: the same timeline, extended.
        append(&store, "t", vec![thought("2026-11-22T10:00:05Z", 5)]);
        let extended = kept(&timelines, &store);
        assert!(Arc::ptr_eq(&first, &extended));
        assert_eq!(texts(&extended), ["thought 1", "thought 3", "thought 5"]);

        // An event earlier than those folded: folded again, in run order.
        append(&store, "t", vec![thought("2026-11-22T10:00:02Z", 2)]);
        assert_eq!(
            texts(&kept(&timelines, &store)),
            ["thought 1", "thought 2", "thought 3", "thought 5"]
        );
        assert!(
            timelines
                .current(&store, "t", "no-such-run")
                .unwrap()
                .is_none()
        );
    }

    /// A panic while a timeline was being extended poisoned its lock, and
    /// every later request for the run panicked too (regression).
    #[test]
    fn a_poisoned_timeline_is_rebuilt_not_a_cascade_of_panics() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
        append(&store, "t", vec![thought("2026-11-22T10:00:01Z", 1)]);
        let timelines = Timelines::default();
        let timeline = kept(&timelines, &store);
        let poisoner = timeline.clone();
        let _ = std::thread::spawn(move || {
            let _held = poisoner.write().unwrap();
            panic!("a fold went wrong");
        })
        .join();
        assert!(timeline.is_poisoned());
        append(&store, "t", vec![thought("2026-11-22T10:00:02Z", 2)]);
        let again = kept(&timelines, &store);
        assert_eq!(texts(&again), ["thought 1", "thought 2"]);
        assert!(!again.is_poisoned());
    }

    #[test]
    fn runs_beyond_the_budget_are_not_kept_and_the_oldest_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
        let long = "x".repeat(4000);
        append(
            &store,
            "t",
            vec![json!({"type": "thinking", "run_id": "big", "content": long})],
        );
        append(
            &store,
            "t",
            vec![json!({"type": "thinking", "run_id": "r", "content": "y".repeat(2000)})],
        );
        let tiny = Timelines::with_budget(2000);
        assert!(matches!(
            tiny.current(&store, "t", "big").unwrap(),
            Some(Current::TooLarge)
        ));
        assert!(tiny.kept.lock().unwrap().is_empty(), "nothing kept of it");

        // Room for either run (about 2.2 and 4.2 kB), not for both.
        let small = Timelines::with_budget(5000);
        kept(&small, &store);
        assert!(matches!(
            small.current(&store, "t", "big").unwrap(),
            Some(Current::Timeline(_))
        ));
        // Both do not fit: the run used longest ago went.
        let left: Vec<String> = small
            .kept
            .lock()
            .unwrap()
            .keys()
            .map(|k| k.1.clone())
            .collect();
        assert_eq!(left, ["big"]);
    }
}
