//! `flightrec verify`: recompute a store's logs from its rows and check
//! everything stored against them.
//!
//! For every tenant, in `seq` order: each body against its `body_hash`,
//! each header against its stored leaf hash, the tree rebuilt from those
//! leaves against every stored tile and every signed checkpoint, and every
//! column the store derives for queries (filter columns, run summaries, the
//! free-text index) against the records themselves, and every erased body
//! against the `log.erased` records of flightrec's own that must name it.
//! The first thing that does not match is reported with the `seq` it
//! concerns.
//!
//! Not here: deciding whom to trust. The caller passes the verifier keys.

mod check;
mod read;

use crate::runs::RunFold;
use crate::{RunQuery, Store, StoreError, StoredCheckpoint};
use check::check_rows_in_parallel;
use flightrec_core::erasure::{ERASED_TYPE, KEYS_DESTROYED_TYPE, SeqRanges};
use flightrec_core::log::tree::RightEdge;
use flightrec_core::log::{Hash, Verifier, open_checkpoint};
use read::{Chunk, Spare, in_seq_order};
use std::collections::HashMap;

/// The first mismatch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub tenant: String,
    /// The record concerned, when one is.
    pub seq: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "tenant {:?}, seq {seq}: {}", self.tenant, self.reason),
            None => write!(f, "tenant {:?}: {}", self.tenant, self.reason),
        }
    }
}

/// What one tenant's log held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantReport {
    pub tenant: String,
    pub records: u64,
    pub erased: u64,
    /// Bodies sealed with a data key that was destroyed (crypto-shredded).
    pub shredded: u64,
    /// Bodies sealed with a data key this process was given no master key
    /// for: their headers and proofs were checked, the bodies not.
    pub sealed_unchecked: u64,
    pub checkpoints: u64,
    pub runs: u64,
    /// The root of the whole tree.
    pub root: Option<Hash>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenants: Vec<TenantReport>,
    /// `None` when everything matched.
    pub mismatch: Option<Mismatch>,
}

impl Report {
    pub fn records(&self) -> u64 {
        self.tenants.iter().map(|t| t.records).sum()
    }
}

/// Where verification is.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub records_done: u64,
    pub records_total: u64,
}

/// Whether to compare the free-text index with the records it was built
/// from. The index only chooses which records a search finds (their
/// content is always read from the records), and the comparison
/// re-tokenises every record's text, several times the cost of checking
/// the log itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchIndex {
    Check,
    Skip,
}

/// For a tenant: the origin its checkpoints must name and the keys that
/// may sign them.
pub type TrustedKeys = Option<(String, Vec<Verifier>)>;

/// Verifies every tenant's log. `verifiers(tenant)` gives the keys its
/// checkpoints must be signed by and the origin they must name; a tenant
/// without them fails at its first checkpoint.
pub fn verify_store(
    store: &dyn Store,
    verifiers: &dyn Fn(&str) -> TrustedKeys,
    search_index: SearchIndex,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, StoreError> {
    // The free-text index's check is independent of the log's: it runs
    // beside it.
    std::thread::scope(|scope| {
        let search = (search_index == SearchIndex::Check)
            .then(|| scope.spawn(|| store.check_search_index()));
        let mut report = verify_logs(store, verifiers, progress)?;
        let search = match search {
            Some(check) => check.join().expect("the search index check panicked")?,
            None => None,
        };
        if let (None, Some(problem)) = (&report.mismatch, search) {
            report.mismatch = Some(Mismatch {
                tenant: "*".into(),
                seq: None,
                reason: problem,
            });
        }
        Ok(report)
    })
}

fn verify_logs(
    store: &dyn Store,
    verifiers: &dyn Fn(&str) -> TrustedKeys,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, StoreError> {
    let tenants = store.log_tenants()?;
    let mut total = 0;
    for t in &tenants {
        total += store.log_size(t)?;
    }
    let mut report = Report::default();
    let mut done = 0;
    for tenant in tenants {
        let mut tenant_report = TenantReport {
            tenant: tenant.clone(),
            ..Default::default()
        };
        let outcome = verify_tenant(
            store,
            &tenant,
            verifiers(&tenant),
            &mut tenant_report,
            &mut |n| {
                done += n;
                progress(Progress {
                    records_done: done,
                    records_total: total,
                });
            },
        )?;
        report.tenants.push(tenant_report);
        if let Err(reason) = outcome {
            report.mismatch = Some(reason);
            return Ok(report);
        }
    }
    Ok(report)
}

/// Verifies one tenant's log, as `verify_store` does each (without the
/// free-text index): what it held, and the first mismatch if any.
pub fn verify_tenant_log(
    store: &dyn Store,
    tenant: &str,
    keys: TrustedKeys,
    progress: &mut dyn FnMut(u64),
) -> Result<(TenantReport, Option<Mismatch>), StoreError> {
    let mut report = TenantReport {
        tenant: tenant.to_owned(),
        ..Default::default()
    };
    let outcome = verify_tenant(store, tenant, keys, &mut report, progress)?;
    Ok((report, outcome.err()))
}

type Outcome = Result<(), Mismatch>;

fn verify_tenant(
    store: &dyn Store,
    tenant: &str,
    keys: TrustedKeys,
    report: &mut TenantReport,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, StoreError> {
    let fail = |seq: Option<u64>, reason: String| {
        Ok(Err(Mismatch {
            tenant: tenant.to_owned(),
            seq,
            reason,
        }))
    };
    let checkpoints = store.checkpoints(tenant)?;
    let mut pending_checkpoints = checkpoints.iter().peekable();
    let mut edge = RightEdge::empty();
    let mut runs: HashMap<String, RunFold> = HashMap::new();
    // Erased bodies, and the seqs flightrec's `log.erased` records name.
    let mut erased = SeqRanges::default();
    let mut erasures_told = Vec::new();
    // The last body found crypto-shredded, and the last record of
    // flightrec's that tells of shredding: the first must precede one.
    let (mut last_shredded, mut last_shredding_told) = (None, None);

    while let Some(cp) = pending_checkpoints.peek() {
        if cp.size != 0 {
            break;
        }
        if let Err(reason) = check_checkpoint(cp, &edge, &keys) {
            return fail(None, reason);
        }
        pending_checkpoints.next();
    }

    // A pipeline of three stages: reading chunks of rows (on a thread per
    // core, see `read`), checking each row on its own (hashes, the body's
    // columns; spread over every core), and here, in order, the tree, the
    // tiles, the checkpoints and the runs.
    let spare = &Spare::default();
    let scanned = std::thread::scope(|scope| -> Result<Outcome, StoreError> {
        let (checks, checked) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for chunk in in_seq_order(scope, store, tenant, spare) {
                let results = chunk.map(|c| {
                    let results = check_rows_in_parallel(&c.rows);
                    (c, results)
                });
                if checks.send(results).is_err() {
                    return;
                }
            }
        });
        for chunk in checked {
            let (Chunk { rows, leaf_tiles }, leaves) = chunk?;
            let n = rows.len() as u64;
            for (i, checked) in leaves.into_iter().enumerate() {
                let seq = edge.size();
                let h = rows.header(i);
                if h.seq != seq {
                    return fail(
                        Some(seq),
                        format!(
                            "the record is missing (the next stored record is seq {})",
                            h.seq
                        ),
                    );
                }
                let leaf = match checked {
                    Ok(row) => {
                        if row.erased {
                            erased.push(seq);
                        }
                        if row.tells_of_shredding {
                            last_shredding_told = Some(seq);
                        }
                        match row.unopened {
                            Some(crate::audit_rows::Unopened::Shredded) => {
                                report.shredded += 1;
                                last_shredded = Some(seq);
                            }
                            Some(crate::audit_rows::Unopened::NoKey) => {
                                report.sealed_unchecked += 1
                            }
                            None => {}
                        }
                        erasures_told.extend(row.tells_of_erasures);
                        row.leaf
                    }
                    Err(reason) => return fail(Some(seq), reason),
                };
                let tiled = leaf_tiles
                    .get(&(seq / 256))
                    .and_then(|b| b.get((seq % 256) as usize * 32..)?.get(..32));
                if tiled != Some(leaf.0.as_slice()) {
                    return fail(
                    Some(seq),
                    "the tree's stored leaf hash differs from the record's (a tile was changed)"
                        .into(),
                );
                }
                edge.push(leaf);
                if let Some(run_id) = h.run_id {
                    // Looked up before inserting: most records join a run
                    // already seen, and its id need not be copied.
                    if !runs.contains_key(run_id) {
                        runs.insert(run_id.to_owned(), RunFold::new(h.time));
                    }
                    runs.get_mut(run_id).expect("inserted above").add(
                        seq,
                        h.time,
                        h.event_type,
                        h.status,
                        rows.agent_id(i),
                    );
                }
                if edge.size().is_multiple_of(256)
                    && let Err((seq, reason)) =
                        compare_tiles(store, tenant, &mut edge, &leaf_tiles)?
                {
                    return fail(seq, reason);
                }
                while let Some(cp) = pending_checkpoints.peek() {
                    if cp.size != edge.size() {
                        break;
                    }
                    if let Err(reason) = check_checkpoint(cp, &edge, &keys) {
                        return fail(Some(cp.size - 1), reason);
                    }
                    report.checkpoints += 1;
                    pending_checkpoints.next();
                }
            }
            report.records += n;
            progress(n);
            // Its buffers go back to the readers.
            spare.lock().unwrap_or_else(|p| p.into_inner()).push(rows);
        }
        Ok(Ok(()))
    });
    if let Err(mismatch) = scanned? {
        return Ok(Err(mismatch));
    }
    if let Err((seq, reason)) = compare_tiles(store, tenant, &mut edge, &HashMap::new())? {
        return fail(seq, reason);
    }
    // Leaves in the tree past the last record mean records were removed
    // from the end.
    let size = edge.size();
    let last_tile = store.tile(tenant, 0, size / 256)?.unwrap_or_default();
    let beyond = store.tile(tenant, 0, size / 256 + 1)?.is_some();
    if last_tile.len() as u64 > (size % 256) * 32 || beyond {
        return fail(
            Some(size),
            "the tree has leaves past the last stored record (records were removed)".into(),
        );
    }
    if let Some(seq) = last_shredded
        && last_shredding_told.is_none_or(|told| told < seq)
    {
        return fail(
            Some(seq),
            format!(
                "the body's data key was destroyed, but no `{KEYS_DESTROYED_TYPE}` record of flightrec's follows it (a body was made unreadable)"
            ),
        );
    }
    report.erased = erased.len();
    if let Some(seq) = erased.first_not_in(&erasures_told) {
        return fail(
            Some(seq),
            format!(
                "the body was erased, but no `{ERASED_TYPE}` record of flightrec's names this seq (a body was removed)"
            ),
        );
    }
    if let Some(cp) = pending_checkpoints.next() {
        return fail(
            None,
            format!(
                "a checkpoint covers {} records but the log holds only {}",
                cp.size,
                edge.size()
            ),
        );
    }
    report.root = Some(edge.root());
    if let Err(reason) = compare_runs(store, tenant, &runs, report)? {
        return fail(None, reason);
    }
    Ok(Ok(()))
}

/// Compares every tile the rebuilt tree changed with the stored one.
fn compare_tiles(
    store: &dyn Store,
    tenant: &str,
    edge: &mut RightEdge,
    leaf_tiles: &HashMap<u64, Vec<u8>>,
) -> Result<Result<(), (Option<u64>, String)>, StoreError> {
    for tile in edge.dirty_tiles() {
        let stored = match leaf_tiles
            .get(&tile.id.index)
            .filter(|_| tile.id.level == 0)
        {
            Some(read) => read.clone(),
            None => store
                .tile(tenant, tile.id.level, tile.id.index)?
                .unwrap_or_default(),
        };
        let rebuilt: Vec<u8> = tile.hashes.iter().flat_map(|h| h.0).collect();
        if stored.get(..rebuilt.len()) != Some(rebuilt.as_slice()) {
            let leaves_per_hash = 1u64 << (8 * u32::from(tile.id.level));
            let first = tile.id.index * 256 * leaves_per_hash;
            let at = stored
                .chunks(32)
                .zip(rebuilt.chunks(32))
                .position(|(a, b)| a != b)
                .unwrap_or(stored.len() / 32) as u64;
            let seq = first + at * leaves_per_hash;
            return Ok(Err((
                Some(seq),
                format!(
                    "stored tile {}/{} does not match the tree rebuilt from the records",
                    tile.id.level, tile.id.index
                ),
            )));
        }
    }
    edge.clear_dirty();
    Ok(Ok(()))
}

fn check_checkpoint(
    cp: &StoredCheckpoint,
    edge: &RightEdge,
    keys: &TrustedKeys,
) -> Result<(), String> {
    let Some((origin, verifiers)) = keys else {
        return Err("no verifier key is known for this log's checkpoints".into());
    };
    let checkpoint = open_checkpoint(&cp.note, origin, verifiers).map_err(|e| {
        format!(
            "the checkpoint of size {} is not validly signed: {e}",
            cp.size
        )
    })?;
    if checkpoint.size() != cp.size || checkpoint.root() != cp.root {
        return Err(format!(
            "the signed checkpoint of size {} does not say what its row says",
            cp.size
        ));
    }
    if checkpoint.root() != edge.root() {
        return Err(format!(
            "the signed checkpoint of size {} has a different root than the records",
            cp.size
        ));
    }
    Ok(())
}

fn compare_runs(
    store: &dyn Store,
    tenant: &str,
    folded: &HashMap<String, RunFold>,
    report: &mut TenantReport,
) -> Result<Result<(), String>, StoreError> {
    let mut stored = Vec::new();
    let mut after = None;
    loop {
        let page = store.runs(
            tenant,
            &RunQuery {
                limit: 1000,
                after: after.clone(),
                ..Default::default()
            },
        )?;
        after = page
            .items
            .last()
            .map(|r| (r.last_time.clone(), r.run_id.clone()));
        stored.extend(page.items);
        if !page.more {
            break;
        }
    }
    report.runs = stored.len() as u64;
    if stored.len() != folded.len() {
        return Ok(Err(format!(
            "{} run summaries are stored but the records make {}",
            stored.len(),
            folded.len()
        )));
    }
    for run in stored {
        let expected = folded.get(&run.run_id).map(|f| f.summary(&run.run_id));
        if expected.as_ref() != Some(&run) {
            return Ok(Err(format!(
                "the summary of run {:?} does not match its records",
                run.run_id
            )));
        }
    }
    Ok(Ok(()))
}
