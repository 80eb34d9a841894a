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

use crate::runs::RunFold;
use crate::{AuditRow, RunQuery, Store, StoreError, StoredCheckpoint};
use flightrec_core::erasure::{ERASED_TYPE, SeqRanges, erased_seqs};
use flightrec_core::event::{Body, IndexColumns};
use flightrec_core::log::tree::RightEdge;
use flightrec_core::log::{Hash, Verifier, open_checkpoint};
use flightrec_core::record::body_hash;
use std::collections::HashMap;

/// Rows read per round trip to the store.
const CHUNK: usize = 16_384;

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

/// For a tenant: the origin its checkpoints must name and the keys that
/// may sign them.
pub type TrustedKeys = Option<(String, Vec<Verifier>)>;

/// Verifies every tenant's log. `verifiers(tenant)` gives the keys its
/// checkpoints must be signed by and the origin they must name; a tenant
/// without them fails at its first checkpoint.
pub fn verify_store(
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
    if let Some(problem) = store.check_search_index()? {
        report.mismatch = Some(Mismatch {
            tenant: "*".into(),
            seq: None,
            reason: problem,
        });
    }
    Ok(report)
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
    // Stored level-0 tile hashes, read one tile at a time as the scan
    // reaches them.
    let mut tile_cache: Option<(u64, Vec<u8>)> = None;

    while let Some(cp) = pending_checkpoints.peek() {
        if cp.size != 0 {
            break;
        }
        if let Err(reason) = check_checkpoint(cp, &edge, &keys) {
            return fail(None, reason);
        }
        pending_checkpoints.next();
    }

    let mut from = 0u64;
    loop {
        let rows = store.audit_rows(tenant, from, CHUNK)?;
        if rows.is_empty() {
            break;
        }
        let n = rows.len() as u64;
        // The per-record work (hashing, parsing the body) runs on every
        // core; the tree and summaries are then built in order.
        let leaves = check_rows_in_parallel(&rows);
        for (row, checked) in rows.into_iter().zip(leaves) {
            let seq = edge.size();
            if row.record.header.seq != seq {
                return fail(
                    Some(seq),
                    format!(
                        "the record is missing (the next stored record is seq {})",
                        row.record.header.seq
                    ),
                );
            }
            let leaf = match checked {
                Ok(row) => {
                    if row.erased {
                        erased.push(seq);
                    }
                    erasures_told.extend(row.tells_of_erasures);
                    row.leaf
                }
                Err(reason) => return fail(Some(seq), reason),
            };
            let tile_index = seq / 256;
            if tile_cache.as_ref().is_none_or(|(i, _)| *i != tile_index) {
                let bytes = store.tile(tenant, 0, tile_index)?.unwrap_or_default();
                tile_cache = Some((tile_index, bytes));
            }
            let tiled = tile_cache
                .as_ref()
                .and_then(|(_, b)| b.get((seq % 256) as usize * 32..)?.get(..32));
            if tiled != Some(leaf.0.as_slice()) {
                return fail(
                    Some(seq),
                    "the tree's stored leaf hash differs from the record's (a tile was changed)"
                        .into(),
                );
            }
            edge.push(leaf);
            let h = &row.record.header;
            if let Some(run_id) = &h.run_id {
                runs.entry(run_id.clone())
                    .or_insert_with(|| RunFold::new(&h.time))
                    .add(
                        seq,
                        &h.time,
                        &h.event_type,
                        h.status,
                        row.index.agent_id.as_deref(),
                    );
            }
            if edge.size().is_multiple_of(256)
                && let Err((seq, reason)) = compare_tiles(store, tenant, &mut edge)?
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
        from += n;
        report.records += n;
        progress(n);
    }
    if let Err((seq, reason)) = compare_tiles(store, tenant, &mut edge)? {
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

/// What one row holds, once checked.
struct CheckedRow {
    leaf: Hash,
    /// Its body was erased.
    erased: bool,
    /// The seqs it tells were erased, if it is flightrec's `log.erased`.
    tells_of_erasures: Vec<std::ops::RangeInclusive<u64>>,
}

/// [`check_row`] for every row, spread over the machine's cores.
fn check_rows_in_parallel(rows: &[AuditRow]) -> Vec<Result<CheckedRow, String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(check_row).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a verify worker panicked"))
            .collect()
    })
}

/// Checks one row on its own: body against `body_hash`, derived columns
/// against the body, the header against the stored leaf hash.
fn check_row(row: &AuditRow) -> Result<CheckedRow, String> {
    let leaf = row.record.header.leaf_hash();
    if leaf.0.as_slice() != row.leaf_hash.as_slice() {
        return Err(
            "the header does not hash to the stored leaf hash (a header column was changed)".into(),
        );
    }
    let record = &row.record;
    let (body, salt) = match (&record.body, &record.salt) {
        (Some(body), Some(salt)) => (body, salt),
        (None, None) => {
            return Ok(CheckedRow {
                leaf,
                erased: true,
                tells_of_erasures: Vec::new(),
            });
        }
        _ => return Err("only one of body and salt is present".into()),
    };
    if body_hash(salt, body.as_bytes()) != record.header.body_hash {
        return Err("the body (or its salt) does not hash to body_hash".into());
    }
    let parsed: Body =
        serde_json::from_str(body).map_err(|e| format!("the body is not an event body: {e}"))?;
    let expected = IndexColumns::of(&parsed);
    for ((name, stored), (_, derived)) in row.index.named().into_iter().zip(expected.named()) {
        if stored != derived {
            return Err(format!(
                "the query column `{name}` holds {stored:?} but the body says {derived:?}"
            ));
        }
    }
    // Only flightrec's own word counts: a client may record any type.
    let header = &record.header;
    let tells_of_erasures = if header.event_type == ERASED_TYPE
        && header.submitted_by.as_deref() == Some("flightrec")
    {
        erased_seqs(&parsed).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(CheckedRow {
        leaf,
        erased: false,
        tells_of_erasures,
    })
}

/// Compares every tile the rebuilt tree changed with the stored one.
fn compare_tiles(
    store: &dyn Store,
    tenant: &str,
    edge: &mut RightEdge,
) -> Result<Result<(), (Option<u64>, String)>, StoreError> {
    for tile in edge.dirty_tiles() {
        let stored = store
            .tile(tenant, tile.id.level, tile.id.index)?
            .unwrap_or_default();
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
