//! The proxy's on-disk spool: events that could not reach flightrec wait
//! here, in order, across restarts, until they can be delivered. It is
//! bounded: once full, new events are counted as dropped rather than
//! written (the session the proxy serves must never stall on the audit
//! trail), and the proxy says so.
//!
//! Layout: `<dir>/<n>.jsonl` segment files, one event per line, each line
//! flushed to disk before `push` returns; the lowest-numbered segment is
//! the oldest. A segment is deleted once every event in it is delivered.
//! A line cut short by a crash is skipped when read back. The events may
//! hold what an agent read, so the directory is the user's alone (0700,
//! files 0600), and masked before they get here (see `sink`). One process
//! at a time holds a spool: `<dir>/lock` is locked while it is open.

use serde_json::Value;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
    /// Held locked while the spool is open.
    _lock: File,
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
    /// Fails with [`std::io::ErrorKind::WouldBlock`] while another process
    /// holds it.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Spool> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let lock = private_file(dir.join("lock"), false)?;
        lock.try_lock().map_err(|e| match e {
            fs::TryLockError::WouldBlock => std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("the spool {} is in use by another process", dir.display()),
            ),
            fs::TryLockError::Error(e) => e,
        })?;
        let mut spool = Spool {
            dir: dir.to_owned(),
            max_bytes,
            writing: None,
            bytes: 0,
            dropped: 0,
            _lock: lock,
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
        let mut file = private_file(self.segment(n), true)?;
        file.write_all(&line)?;
        file.sync_data()?;
        self.writing = Some((n, count + 1));
        self.bytes += line.len() as u64;
        Ok(Pushed::Kept)
    }

    /// The oldest segment's events, to be delivered; `None` when nothing
    /// waits. Nothing leaves the spool until [`Spool::delivered`] says so.
    pub fn oldest(&self) -> std::io::Result<Option<Segment>> {
        let Some(&number) = self.segments()?.first() else {
            return Ok(None);
        };
        let file = File::open(self.segment(number))?;
        let bytes = file.metadata()?.len();
        let events = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect();
        Ok(Some(Segment {
            number,
            bytes,
            events,
        }))
    }

    /// Removes a segment whose events reached flightrec.
    pub fn delivered(&mut self, segment: Segment) -> std::io::Result<()> {
        fs::remove_file(self.segment(segment.number))?;
        if self.writing.is_some_and(|(w, _)| w == segment.number) {
            self.writing = None;
        }
        self.bytes = self.bytes.saturating_sub(segment.bytes);
        Ok(())
    }

    /// Removes the spool's directory if nothing waits in it.
    pub fn close(self) -> std::io::Result<()> {
        if self.is_empty() && self.segments()?.is_empty() {
            fs::remove_file(self.dir.join("lock"))?;
            fs::remove_dir(&self.dir)?;
        }
        Ok(())
    }

    /// How many events wait.
    pub fn pending(&self) -> u64 {
        let lines = |n| -> std::io::Result<u64> {
            let file = BufReader::new(File::open(self.segment(n))?);
            Ok(file.split(b'\n').count() as u64)
        };
        self.segments()
            .unwrap_or_default()
            .into_iter()
            .map(|n| lines(n).unwrap_or(0))
            .sum()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
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

/// Opens `path` for writing (appending, or not), created readable by the
/// user alone.
fn private_file(path: PathBuf, append: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .write(!append)
        .append(append)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// One segment's events, oldest first (a line cut short by a crash is
/// left out).
#[derive(Debug)]
pub struct Segment {
    number: u64,
    bytes: u64,
    pub events: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_wait_in_order_across_reopening_and_leave_once_delivered() {
        let root = tempfile::tempdir().unwrap();
        let dir = &root.path().join("session");
        let mut spool = Spool::open(dir, 1 << 20).unwrap();
        for i in 0..1200 {
            assert_eq!(
                spool.push(&json!({"type": "tool_call", "n": i})).unwrap(),
                Pushed::Kept
            );
        }
        assert!(Spool::open(dir, 1 << 20).is_err(), "one process at a time");
        drop(spool);
        let mut spool = Spool::open(dir, 1 << 20).unwrap();
        assert!(!spool.is_empty());
        let mode = fs::metadata(dir.join(format!("{:010}.jsonl", 0)))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        // Reading a segment without saying it was delivered keeps it.
        let first = spool.oldest().unwrap().unwrap();
        assert_eq!(first.events.len(), SEGMENT_EVENTS);
        assert_eq!(spool.oldest().unwrap().unwrap().events, first.events);

        let mut seen = Vec::new();
        while let Some(segment) = spool.oldest().unwrap() {
            seen.extend(segment.events.iter().map(|e| e["n"].as_u64().unwrap()));
            spool.delivered(segment).unwrap();
        }
        assert_eq!(seen, (0..1200).collect::<Vec<_>>());
        assert!(spool.is_empty());
        spool.close().unwrap();
        assert!(!dir.exists(), "an emptied spool leaves nothing behind");
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
        let segment = spool.oldest().unwrap().unwrap();
        assert_eq!(segment.events.len(), 3);
        spool.delivered(segment).unwrap();
        assert_eq!(spool.push(&event).unwrap(), Pushed::Kept);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        spool.push(&json!({"n": 1})).unwrap();
        let segment = dir.path().join(format!("{:010}.jsonl", 0));
        OpenOptions::new()
            .append(true)
            .open(&segment)
            .unwrap()
            .write_all(b"{\"n\": 2, \"cut")
            .unwrap();
        drop(spool);
        let spool = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(spool.oldest().unwrap().unwrap().events, [json!({"n": 1})]);
    }
}
