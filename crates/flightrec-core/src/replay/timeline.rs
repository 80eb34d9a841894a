//! A run folded once, answering its state after any of its events without
//! folding again.
//!
//! The fold only ever appends to a state's context, changes and problems,
//! in event order, so the state after event N holds a prefix of each; the
//! files are the one part that changes in place, so every version of each
//! file is kept with the event that made it. The state after N is then a
//! few binary searches, and [`StateView`] serialises exactly as the
//! [`RunState`] that folding the first N + 1 events would.

use super::fold::{FILE_OPERATIONS, file_path};
use super::state::{ContextEntry, FileChange, FileState, Problem, RunState, RunStatus};
use super::{Step, state::not_started};
use serde::Serialize;
use std::collections::BTreeMap;

/// Bytes counted for each kept item beyond its text, roughly.
const ITEM_OVERHEAD: usize = 96;

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The state after the last event.
    state: RunState,
    /// Per event: its `seq`, its time and the run's status after it.
    marks: Vec<Mark>,
    /// Every version of every file: (event index, the file after it; `None`
    /// once deleted).
    versions: BTreeMap<String, Vec<(u64, Option<FileState>)>>,
    bytes: usize,
}

#[derive(Debug, Clone)]
struct Mark {
    seq: u64,
    time: String,
    status: Option<RunStatus>,
}

impl Timeline {
    /// Folds in the run's next event (`step.index` must be [`Timeline::len`]).
    pub fn push(&mut self, step: &Step<'_>) {
        debug_assert_eq!(step.index, self.len(), "events come in run order");
        let (context, changes, problems) = (
            self.state.context.len(),
            self.state.changes.len(),
            self.state.problems.len(),
        );
        self.state.apply(step);
        let mut bytes = ITEM_OVERHEAD + step.time.len();
        if FILE_OPERATIONS.contains(&step.event_type)
            && let Some(path) = file_path(step.body)
        {
            let now = self.state.files.get(&path).cloned();
            bytes += ITEM_OVERHEAD
                + path.len()
                + now
                    .as_ref()
                    .and_then(|f| f.content.as_ref())
                    .map_or(0, String::len);
            self.versions
                .entry(path)
                .or_default()
                .push((step.index, now));
        }
        bytes += self.state.context[context..]
            .iter()
            .map(|c| {
                ITEM_OVERHEAD
                    + c.text.as_ref().map_or(0, String::len)
                    + json_len(&c.input)
                    + json_len(&c.output)
            })
            .sum::<usize>();
        bytes += self.state.changes[changes..]
            .iter()
            .map(|c| ITEM_OVERHEAD + c.path.len() + c.diff.len())
            .sum::<usize>();
        bytes += self.state.problems[problems..]
            .iter()
            .map(|p| ITEM_OVERHEAD + p.message.len())
            .sum::<usize>();
        self.bytes += bytes;
        self.marks.push(Mark {
            seq: step.seq,
            time: step.time.to_owned(),
            status: self.state.status,
        });
    }

    /// Events folded in.
    pub fn len(&self) -> u64 {
        self.marks.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// The last event's (`time`, `seq`): where the run's order continues.
    pub fn last_key(&self) -> Option<(&str, u64)> {
        self.marks.last().map(|m| (m.time.as_str(), m.seq))
    }

    /// The index of the last event at or before `time` (both in the
    /// store's fixed-width UTC form, which sorts as it reads).
    pub fn index_at(&self, time: &str) -> Option<u64> {
        let n = self.marks.partition_point(|m| m.time.as_str() <= time);
        n.checked_sub(1).map(|i| i as u64)
    }

    /// Roughly how much memory the timeline holds.
    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// The state after event `through` (`None`: before any), clamped to
    /// the last event.
    pub fn view(&self, through: Option<u64>) -> StateView<'_> {
        let Some(n) = through
            .map(|n| n.min(self.len().saturating_sub(1)))
            .filter(|_| !self.is_empty())
        else {
            return StateView::default();
        };
        let mark = &self.marks[n as usize];
        let upto = |index: u64| index <= n;
        let files = self
            .versions
            .iter()
            .filter_map(|(path, versions)| {
                let k = versions.partition_point(|(i, _)| upto(*i));
                let (_, file) = versions.get(k.checked_sub(1)?)?;
                Some((path.as_str(), file.as_ref()?))
            })
            .collect();
        let s = &self.state;
        StateView {
            events: n + 1,
            last_index: Some(n),
            last_seq: Some(mark.seq),
            last_time: Some(&mark.time),
            status: mark.status,
            files,
            context: &s.context[..s.context.partition_point(|c| upto(c.index))],
            changes: &s.changes[..s.changes.partition_point(|c| upto(c.index))],
            problems: &s.problems[..s.problems.partition_point(|p| upto(p.index))],
        }
    }
}

/// About how much memory a JSON value holds, without writing it out.
fn json_len(v: &Option<serde_json::Value>) -> usize {
    fn size(v: &serde_json::Value) -> usize {
        use serde_json::Value::*;
        match v {
            String(s) => 24 + s.len(),
            Array(items) => 24 + items.iter().map(size).sum::<usize>(),
            Object(m) => 48 + m.iter().map(|(k, v)| 24 + k.len() + size(v)).sum::<usize>(),
            _ => 16,
        }
    }
    v.as_ref().map_or(0, size)
}

/// A [`RunState`] borrowed from a [`Timeline`]; serialises the same.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StateView<'a> {
    pub events: u64,
    pub last_index: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_time: Option<&'a str>,
    #[serde(with = "not_started")]
    pub status: Option<RunStatus>,
    pub files: BTreeMap<&'a str, &'a FileState>,
    pub context: &'a [ContextEntry],
    pub changes: &'a [FileChange],
    pub problems: &'a [Problem],
}

impl StateView<'_> {
    /// An owned copy.
    pub fn to_state(&self) -> RunState {
        RunState {
            events: self.events,
            last_index: self.last_index,
            last_seq: self.last_seq,
            last_time: self.last_time.map(str::to_owned),
            status: self.status,
            files: self
                .files
                .iter()
                .map(|(p, f)| (p.to_string(), (*f).clone()))
                .collect(),
            context: self.context.to_vec(),
            changes: self.changes.to_vec(),
            problems: self.problems.to_vec(),
        }
    }
}
