//! Folding records into run summaries: the one definition both the append
//! path (which folds a batch into the stored summary) and verify (which
//! refolds the whole log) use.

use crate::model::{RunStatus, RunSummary};
use flightrec_core::event::Status;

/// A run summary under construction from records in `seq` order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFold {
    pub first_time: String,
    pub last_time: String,
    pub events: u64,
    pub fails: u64,
    pub warns: u64,
    /// The latest lifecycle event in run order: (time, seq, status).
    pub lifecycle: Option<(String, u64, RunStatus)>,
    /// The first `agent_id` in `seq` order.
    pub agent_id: Option<String>,
}

impl RunFold {
    pub fn new(time: &str) -> RunFold {
        RunFold {
            first_time: time.to_owned(),
            last_time: time.to_owned(),
            events: 0,
            fails: 0,
            warns: 0,
            lifecycle: None,
            agent_id: None,
        }
    }

    /// Adds the record at `seq`; records must come in `seq` order.
    pub fn add(
        &mut self,
        seq: u64,
        time: &str,
        event_type: &str,
        status: Status,
        agent_id: Option<&str>,
    ) {
        if time < self.first_time.as_str() {
            self.first_time = time.to_owned();
        }
        if time > self.last_time.as_str() {
            self.last_time = time.to_owned();
        }
        self.events += 1;
        match status {
            Status::Fail => self.fails += 1,
            Status::Warn => self.warns += 1,
            Status::Ok => {}
        }
        if self.agent_id.is_none() {
            self.agent_id = agent_id.map(str::to_owned);
        }
        if let Some(next) = RunStatus::after(event_type, status) {
            let later = self
                .lifecycle
                .as_ref()
                .is_none_or(|(t, s, _)| (time, seq) > (t.as_str(), *s));
            if later {
                self.lifecycle = Some((time.to_owned(), seq, next));
            }
        }
    }

    pub fn summary(&self, run_id: &str) -> RunSummary {
        RunSummary {
            run_id: run_id.to_owned(),
            first_time: self.first_time.clone(),
            last_time: self.last_time.clone(),
            event_count: self.events,
            fail_count: self.fails,
            warn_count: self.warns,
            status: self
                .lifecycle
                .as_ref()
                .map_or(RunStatus::Running, |(_, _, s)| *s),
            agent_id: self.agent_id.clone(),
        }
    }
}
