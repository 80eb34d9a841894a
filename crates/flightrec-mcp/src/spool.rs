//! The proxy's on-disk spool: events that could not reach flightrec wait
//! here, in order, across restarts, until they can be delivered. It is
//! bounded: once full, new events are counted as dropped rather than
//! written (the session the proxy serves must never stall on the audit
//! trail), and the proxy says so.
//!
//! Layout: `<dir>/<n>.jsonl` segment files, one event per line, each line
//! flushed to disk before `push` returns; the lowest-numbered segment is
//! the oldest. A segment is deleted once every event in it is delivered.
//! A line cut short by a crash is skipped when read back.

use serde_json::Value;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Events per segment file.
const SEGMENT_EVENTS: usize = 500;

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// The segment being written and how many events it holds.
    writing: Option<(u64, usize)>,
    bytes: u64,
    dropped: u64,
}

/// What `push` did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Kept,
    /// The spool is full; the event is lost (counted in [`Spool::dropped`]).
    Dropped,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, holding at most `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut spool = Spool {
            dir: dir.to_owned(),
            max_bytes,
            writing: None,
            bytes: 0,
            dropped: 0,
        };
        for n in spool.segments()? {
            spool.bytes += fs::metadata(spool.segment(n))?.len();
        }
        Ok(spool)
    }

    /// Writes an event to the end of the spool, on disk before returning.
    pub fn push(&mut self, event: &Value) -> std::io::Result<Pushed> {
        let mut line = serde_json::to_vec(event).expect("events serialise");
        line.push(b'\n');
        if self.bytes + line.len() as u64 > self.max_bytes {
            self.dropped += 1;
            return Ok(Pushed::Dropped);
        }
        let (n, count) = match self.writing {
            Some((n, count)) if count < SEGMENT_EVENTS => (n, count),
            _ => (self.segments()?.last().map_or(0, |n| n + 1), 0),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.segment(n))?;
        file.write_all(&line)?;
        file.sync_data()?;
        self.writing = Some((n, count + 1));
        self.bytes += line.len() as u64;
        Ok(Pushed::Kept)
    }

    /// Hands the oldest segment's events to `deliver`; when it succeeds,
    /// the segment is gone. Answers how many were delivered (0 when the
    /// spool is empty); a failed delivery leaves everything in place.
    pub fn deliver_oldest<E>(
        &mut self,
        deliver: impl FnOnce(Vec<Value>) -> Result<(), E>,
    ) -> Result<usize, SpoolError<E>> {
        let Some(&n) = self.segments().map_err(SpoolError::Io)?.first() else {
            return Ok(0);
        };
        let path = self.segment(n);
        let file = File::open(&path).map_err(SpoolError::Io)?;
        let size = file.metadata().map_err(SpoolError::Io)?.len();
        let events: Vec<Value> = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect();
        let count = events.len();
        if count > 0 {
            deliver(events).map_err(SpoolError::Deliver)?;
        }
        fs::remove_file(&path).map_err(SpoolError::Io)?;
        if self.writing.is_some_and(|(w, _)| w == n) {
            self.writing = None;
        }
        self.bytes = self.bytes.saturating_sub(size);
        Ok(count)
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Events refused since the spool was opened, for being full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn segment(&self, n: u64) -> PathBuf {
        self.dir.join(format!("{n:010}.jsonl"))
    }

    /// The segments' numbers, oldest first.
    fn segments(&self) -> std::io::Result<Vec<u64>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name.strip_suffix(".jsonl").and_then(|s| s.parse().ok()) {
                found.push(n);
            }
        }
        found.sort_unstable();
        Ok(found)
    }
}

#[derive(Debug)]
pub enum SpoolError<E> {
    Io(std::io::Error),
    Deliver(E),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_wait_in_order_across_reopening_and_leave_once_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        for i in 0..1200 {
            assert_eq!(
                spool.push(&json!({"type": "tool_call", "n": i})).unwrap(),
                Pushed::Kept
            );
        }
        drop(spool);
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        assert!(!spool.is_empty());

        // A delivery that fails leaves the events where they were.
        let failed = spool.deliver_oldest(|_| Err("flightrec is down"));
        assert!(matches!(
            failed,
            Err(SpoolError::Deliver("flightrec is down"))
        ));

        let mut seen = Vec::new();
        loop {
            let n = spool
                .deliver_oldest(|events| {
                    seen.extend(events.iter().map(|e| e["n"].as_u64().unwrap()));
                    Ok::<(), ()>(())
                })
                .unwrap();
            if n == 0 {
                break;
            }
        }
        assert_eq!(seen, (0..1200).collect::<Vec<_>>());
        assert!(spool.is_empty());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_full_spool_drops_new_events_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let event = json!({"type": "tool_call", "input": "x".repeat(80)});
        let line = serde_json::to_vec(&event).unwrap().len() as u64 + 1;
        let mut spool = Spool::open(dir.path(), line * 3).unwrap();
        let kept: Vec<Pushed> = (0..5).map(|_| spool.push(&event).unwrap()).collect();
        assert_eq!(
            kept,
            [
                Pushed::Kept,
                Pushed::Kept,
                Pushed::Kept,
                Pushed::Dropped,
                Pushed::Dropped
            ]
        );
        assert_eq!(spool.dropped(), 2);
        // Delivering makes room again.
        spool
            .deliver_oldest(|e| if e.len() == 3 { Ok(()) } else { Err(()) })
            .unwrap();
        assert_eq!(spool.push(&event).unwrap(), Pushed::Kept);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        spool.push(&json!({"n": 1})).unwrap();
        let segment = fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        OpenOptions::new()
            .append(true)
            .open(&segment)
            .unwrap()
            .write_all(b"{\"n\": 2, \"cut")
            .unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        let mut got = Vec::new();
        spool
            .deliver_oldest(|e| {
                got = e;
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(got, [json!({"n": 1})]);
    }
}
