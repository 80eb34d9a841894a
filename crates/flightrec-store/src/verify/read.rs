//! Reading a tenant's rows in `seq` order, on several threads at once.
//!
//! Reading was verify's longest stage on one thread (SQLite's own work is
//! sequential per connection), so the log is cut into ranges of
//! [`RANGE`] seqs, dealt out in turn to [`readers`] threads, and put back
//! in order for the checks. A range whose rows take more room than a
//! chunk has ([`AuditRows::is_full`]) comes in several chunks.

use crate::{AuditRows, Store, StoreError};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::Scope;

/// Seqs per range, and rows per chunk (fewer under test, so that small
/// logs take many).
const RANGE: u64 = if cfg!(test) { 64 } else { 4_096 };

/// The most a chunk's rows may hold: a range of large bodies is cut into
/// several chunks.
const CHUNK_BYTES: usize = if cfg!(test) { 8 << 10 } else { 64 << 20 };

/// A run of rows and the stored leaf-level tiles that cover them, read
/// together so the checking thread need not wait on the store.
pub(super) struct Chunk {
    pub rows: AuditRows,
    pub leaf_tiles: HashMap<u64, Vec<u8>>,
}

/// Chunks whose rows are read; filled again rather than allocated anew.
pub(super) type Spare = Mutex<Vec<AuditRows>>;

/// How many threads read at once: one per core.
fn readers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The tenant's rows in `seq` order, a chunk at a time, read on threads of
/// `scope` until the log ends (at the first range with no rows) or a read
/// fails. Dropping it stops the threads.
pub(super) fn in_seq_order<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    store: &'env dyn Store,
    tenant: &'env str,
    spare: &'env Spare,
) -> InSeqOrder {
    let readers = readers();
    let pieces = (0..readers)
        .map(|first| {
            let (send, pieces) = sync_channel(1);
            scope.spawn(move || read_ranges(store, tenant, spare, first, readers, send));
            pieces
        })
        .collect();
    InSeqOrder {
        pieces,
        range: 0,
        range_had_rows: false,
        ended: false,
    }
}

/// A chunk of a range, and whether it is the range's last.
struct Piece {
    chunk: Result<Chunk, StoreError>,
    ends_range: bool,
}

/// Reads ranges `first`, `first + step`, … in turn, each in as many chunks
/// as it takes, until one has no rows (it and all after it lie past the
/// log's end) or the chunks are no longer wanted.
fn read_ranges(
    store: &dyn Store,
    tenant: &str,
    spare: &Spare,
    first: usize,
    step: usize,
    send: SyncSender<Piece>,
) {
    for range in (first as u64..).step_by(step) {
        let end = (range + 1) * RANGE;
        let mut from = range * RANGE;
        let mut had_rows = false;
        loop {
            let rows = spare
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop()
                .unwrap_or_else(|| AuditRows::with_limits(RANGE as usize, CHUNK_BYTES));
            let chunk = read_chunk(store, tenant, from..end, rows);
            let failed = chunk.is_err();
            // The range goes on past a chunk that ran out of room.
            let rest = chunk
                .as_ref()
                .ok()
                .filter(|c| c.rows.is_full())
                .and_then(|c| c.rows.last())
                .map(|last| last.header.seq + 1)
                .filter(|&next| next < end);
            had_rows |= chunk.as_ref().is_ok_and(|c| !c.rows.is_empty());
            let piece = Piece {
                chunk,
                ends_range: rest.is_none(),
            };
            if send.send(piece).is_err() || failed {
                return;
            }
            match rest {
                Some(next) => from = next,
                None => break,
            }
        }
        if !had_rows {
            return;
        }
    }
}

/// Fills `rows` (emptied first) with the rows in `seqs`, and reads the
/// leaf tiles that cover them.
fn read_chunk(
    store: &dyn Store,
    tenant: &str,
    seqs: Range<u64>,
    mut rows: AuditRows,
) -> Result<Chunk, StoreError> {
    store.audit_rows(tenant, seqs.clone(), &mut rows)?;
    let mut leaf_tiles = HashMap::new();
    if let Some(last) = rows.last() {
        for index in seqs.start / 256..=last.header.seq / 256 {
            leaf_tiles.insert(index, store.tile(tenant, 0, index)?.unwrap_or_default());
        }
    }
    Ok(Chunk { rows, leaf_tiles })
}

/// The readers' chunks, put back in `seq` order: range `r` is read by
/// reader `r % readers`.
pub(super) struct InSeqOrder {
    pieces: Vec<Receiver<Piece>>,
    range: usize,
    range_had_rows: bool,
    ended: bool,
}

impl Iterator for InSeqOrder {
    type Item = Result<Chunk, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended {
            let reader = &self.pieces[self.range % self.pieces.len()];
            let Ok(Piece { chunk, ends_range }) = reader.recv() else {
                break;
            };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            };
            let has_rows = !chunk.rows.is_empty();
            if ends_range {
                // A range without rows: the log ends before it.
                self.ended = !(has_rows || self.range_had_rows);
                self.range += 1;
                self.range_had_rows = false;
            } else {
                self.range_had_rows |= has_rows;
            }
            if has_rows {
                return Some(Ok(chunk));
            }
        }
        self.ended = true;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteOptions, SqliteStore, conformance};
    use serde_json::json;

    /// A store of `n` records of tenant `t`.
    fn store_of(n: u64) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::create(&dir.path().join("data"), SqliteOptions::default()).unwrap();
        store.set_checkpointing(conformance::checkpointing());
        for batch in 0..n.div_ceil(100) {
            let events = (batch * 100..(batch * 100 + 100).min(n))
                .map(|i| json!({"type": "thinking", "run_id": "r", "content": format!("step {i}")}))
                .collect();
            conformance::append(&store, "t", events);
        }
        (dir, store)
    }

    /// Removes records as an attacker would, past the triggers.
    fn remove(dir: &tempfile::TempDir, seqs: Range<u64>) {
        let conn = rusqlite::Connection::open(dir.path().join("data/flightrec.db")).unwrap();
        conn.execute_batch("DROP TRIGGER IF EXISTS records_no_delete")
            .unwrap();
        conn.execute(
            "DELETE FROM records WHERE tenant = 't' AND seq >= ?1 AND seq < ?2",
            [seqs.start as i64, seqs.end as i64],
        )
        .unwrap();
    }

    /// Every seq read, in the order it came, and how many chunks it took.
    fn read_all(store: &SqliteStore) -> (Vec<u64>, usize) {
        let spare = Spare::default();
        std::thread::scope(|scope| {
            let (mut seqs, mut chunks) = (Vec::new(), 0);
            for chunk in in_seq_order(scope, store, "t", &spare) {
                let chunk = chunk.unwrap();
                let first = chunk.rows.header(0).seq;
                let last = chunk.rows.last().unwrap().header.seq;
                assert!((first / 256..=last / 256).all(|t| chunk.leaf_tiles.contains_key(&t)));
                seqs.extend((0..chunk.rows.len()).map(|i| chunk.rows.header(i).seq));
                chunks += 1;
            }
            (seqs, chunks)
        })
    }

    #[test]
    fn every_row_comes_once_and_in_order_however_the_ranges_are_cut() {
        let (dir, store) = store_of(700);
        let snapshot = SqliteStore::open_snapshot(&dir.path().join("data")).unwrap();
        for store in [&store, &snapshot] {
            let (seqs, chunks) = read_all(store);
            assert_eq!(seqs, (0..700).collect::<Vec<_>>());
            // More chunks than ranges: ranges ran out of room and went on.
            assert!(chunks > 700usize.div_ceil(RANGE as usize), "{chunks}");
        }
    }

    #[test]
    fn the_rows_end_before_the_first_range_without_any() {
        let (dir, store) = store_of(400);
        remove(&dir, 5..6);
        remove(&dir, 2 * RANGE..3 * RANGE);
        let (seqs, _) = read_all(&store);
        let expected: Vec<u64> = (0..5).chain(6..2 * RANGE).collect();
        assert_eq!(seqs, expected);
    }

    #[test]
    fn a_missing_record_is_named_in_whichever_range_it_falls() {
        let (dir, store) = store_of(400);
        // Removed from the end first: the first record missing is named.
        for missing in [
            399..400,
            5 * RANGE..5 * RANGE + 10,
            // A whole range: the log seems to end there.
            4 * RANGE..5 * RANGE,
            200..201,
            RANGE..RANGE + 1,
            63..64,
        ] {
            remove(&dir, missing.clone());
            let report = conformance::verify_with_test_key(&store);
            let mismatch = report.mismatch.expect("a removed record is noticed");
            assert_eq!(mismatch.seq, Some(missing.start), "{mismatch}");
        }
    }
}
