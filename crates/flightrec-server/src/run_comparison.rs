//! Two runs compared (`flightrec_core::replay::compare`): what
//! `GET /v1/runs/{id}/compare?with=` answers and the dashboard's
//! comparison page shows.

use crate::run_pages::walk_records_as_steps;
use flightrec_core::event::Status;
use flightrec_core::replay::{Aligned, FileOutcome, RunState, StepKey, align_steps, compare_files};
use flightrec_store::{RunRecordsQuery, RunSummary, Store, StoreError};
use serde_json::Value;

/// Steps of each run set side by side; a longer run is compared on its
/// first this many (its files as they ended, all the same).
pub const MAX_COMPARED_STEPS: usize = 2_000;

/// One step of a compared run.
pub struct ComparedStep {
    pub index: u64,
    pub id: String,
    pub seq: u64,
    pub time: String,
    pub status: Status,
    pub key: StepKey,
    /// The event as the API shows it.
    pub event: Value,
}

pub struct ComparedRun {
    pub run: RunSummary,
    /// The first [`MAX_COMPARED_STEPS`].
    pub steps: Vec<ComparedStep>,
    /// The state after the whole run.
    pub state: RunState,
}

impl ComparedRun {
    /// Whether the run has more steps than were set side by side.
    pub fn truncated(&self) -> bool {
        self.run.event_count > self.steps.len() as u64
    }
}

pub struct Comparison {
    pub a: ComparedRun,
    pub b: ComparedRun,
    /// The steps in aligned order.
    pub rows: Vec<Aligned>,
    /// Every file either run touched, with how it ended.
    pub files: Vec<(String, FileOutcome)>,
}

impl Comparison {
    /// Whether a row shows the runs doing different things: a step only one
    /// took, or the same step with another outcome.
    pub fn differs(&self, row: Aligned) -> bool {
        match row {
            Aligned::Both(i, j) => self.a.steps[i].status != self.b.steps[j].status,
            Aligned::OnlyA(_) | Aligned::OnlyB(_) => true,
        }
    }

    /// The steps of a row: A's and B's, one missing where only the other
    /// run took the step.
    pub fn pair(&self, row: Aligned) -> (Option<&ComparedStep>, Option<&ComparedStep>) {
        match row {
            Aligned::Both(i, j) => (Some(&self.a.steps[i]), Some(&self.b.steps[j])),
            Aligned::OnlyA(i) => (Some(&self.a.steps[i]), None),
            Aligned::OnlyB(j) => (None, Some(&self.b.steps[j])),
        }
    }

    /// The first row where the runs part, if they do.
    pub fn first_difference(&self) -> Option<usize> {
        self.rows.iter().position(|row| self.differs(*row))
    }
}

/// Reads both runs and sets them side by side; a run that does not exist
/// is [`StoreError::Missing`].
pub fn compare_runs(
    store: &dyn Store,
    tenant: &str,
    a: &str,
    b: &str,
) -> Result<Comparison, StoreError> {
    let a = read_run(store, tenant, a)?;
    let b = read_run(store, tenant, b)?;
    let keys = |r: &ComparedRun| r.steps.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
    let rows = align_steps(&keys(&a), &keys(&b));
    let files = compare_files(&a.state, &b.state);
    Ok(Comparison { a, b, rows, files })
}

fn read_run(store: &dyn Store, tenant: &str, run_id: &str) -> Result<ComparedRun, StoreError> {
    let run = store
        .run(tenant, run_id)?
        .ok_or_else(|| StoreError::Missing(format!("run {run_id:?}")))?;
    let mut steps = Vec::new();
    let mut state = RunState::default();
    let mut failure = None;
    let query = RunRecordsQuery::default();
    walk_records_as_steps(store, tenant, run_id, query, 0, &mut |record, step| {
        state.apply(step);
        if steps.len() < MAX_COMPARED_STEPS {
            let event = match record.to_event_json() {
                Ok(event) => event,
                Err(e) => {
                    let seq = record.header.seq;
                    failure = Some(StoreError::Corrupt(format!("record {seq}: {e}")));
                    return false;
                }
            };
            steps.push(ComparedStep {
                index: step.index,
                id: record.header.id.clone(),
                seq: step.seq,
                time: step.time.to_owned(),
                status: step.status,
                key: StepKey::of(step),
                event,
            });
        }
        true
    })?;
    failure.map_or(Ok(ComparedRun { run, steps, state }), Err)
}
