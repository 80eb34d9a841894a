//! The append transaction: sequencing, idempotency, the run summaries, the
//! tiles and, when due, a signed checkpoint, all committed together.
//!
//! Sequencing across nodes: the transaction first locks the head row of
//! every tenant it appends to (`SELECT … FOR UPDATE`, in tenant order), so
//! at most one transaction at a time extends a tenant's tree, whichever
//! node it runs on; it reads the size and the tree's right edge only after
//! taking the lock, and writes the new size, tiles and records before
//! COMMIT releases it. A retried `id` is looked up under the same lock, so
//! it returns the first receipt whichever node wrote it.

use super::PgStore;
use super::errors::conflict;
use super::heads::{ensure_heads, lock_heads, set_size};
use super::log::{Tiles, latest_checkpoint, store_checkpoint, write_tiles};
use crate::encryption::{DataKey, Keyring};
use crate::model::{AppendBatch, BatchOutcome};
use crate::runs::RunFold;
use crate::stats::{StatFacts, StatRows};
use crate::{StoreError, body_codec};
use flightrec_core::event::format_time;
use flightrec_core::log::leaf_hash;
use flightrec_core::log::tree::RightEdge;
use flightrec_core::record::{Header, Receipt, SealedEvent};
use postgres::{GenericClient, Transaction};
use std::collections::HashMap;

/// C2SP entry bundles prefix each leaf input with a 16-bit length.
const MAX_LEAF_INPUT: usize = u16::MAX as usize;

impl PgStore {
    pub(super) fn append_batches(
        &self,
        batches: Vec<AppendBatch>,
    ) -> Result<Vec<BatchOutcome>, StoreError> {
        self.refuse_writes_if_inconsistent()?;
        let checkpointing = self.checkpointing();
        let mut tenants: Vec<&str> = batches.iter().map(|b| b.tenant.as_str()).collect();
        tenants.sort_unstable();
        tenants.dedup();
        self.with_client(|client| {
            ensure_heads(client, &tenants)?;
            let mut tx = client.transaction()?;
            let sizes = lock_heads(&mut tx, &tenants)?;
            let mut logs: HashMap<String, TenantLog> = HashMap::new();
            for tenant in &tenants {
                let log = TenantLog::load(&mut tx, tenant, sizes[*tenant])?;
                logs.insert((*tenant).to_owned(), log);
            }
            let mut outcomes = Vec::with_capacity(batches.len());
            for batch in &batches {
                let log = logs.get_mut(&batch.tenant).expect("loaded above");
                outcomes.push(append_one(&mut tx, log, batch, &self.keyring)?);
            }
            for (tenant, log) in &logs {
                if log.edge.size() == sizes[tenant] {
                    continue; // nothing new for this tenant
                }
                log.write_runs(&mut tx, tenant)?;
                write_tiles(&mut tx, tenant, &log.edge)?;
                set_size(&mut tx, tenant, log.edge.size())?;
                if let Some(signing) = &checkpointing
                    && checkpoint_due(&mut tx, tenant, log.edge.size(), signing)?
                {
                    store_checkpoint(&mut tx, tenant, &log.edge, signing)?;
                }
            }
            // Acknowledged means committed: receipts go out only after this.
            // One case breaks "an error means nothing was written": the
            // connection lost while COMMIT was on its way, when the server
            // may have committed. The caller sees `Unavailable` and retries
            // with the same ids, which return the first receipts: nothing
            // is written twice.
            tx.commit()?;
            if batches.iter().any(|b| b.erase.scrub_index) {
                self.keyring.forget_words();
            }
            if batches.iter().any(AppendBatch::destroys_keys)
                && let Err(e) = self.keyring.reload()
            {
                // Committed all the same; the keyring reloads within
                // half a minute anyway.
                tracing::warn!(error = %e, "could not reload the data keys after destroying some");
            }
            Ok(outcomes)
        })
    }
}

/// Appends one batch inside a savepoint, so that a batch that fails leaves
/// no trace and the others in the transaction go on. Errors that mean the
/// whole transaction is lost (the connection, the disk) are the call's.
fn append_one(
    tx: &mut Transaction<'_>,
    log: &mut TenantLog,
    batch: &AppendBatch,
    keys: &Keyring,
) -> Result<BatchOutcome, StoreError> {
    let mut staged = log.clone();
    let mut sp = tx.savepoint("batch")?;
    let applied = batch
        .access
        .iter()
        .try_for_each(|change| super::access::apply(&mut sp, change, keys))
        .and_then(|()| {
            batch
                .guardrails
                .iter()
                .try_for_each(|change| super::guardrails::apply(&mut sp, change))
        })
        .and_then(|()| {
            let first_new = staged.edge.size();
            // Read after the batch's own changes: the batch that turns
            // encryption on already seals its bodies.
            let sealing = super::data_keys::sealing_key(&mut sp, &batch.tenant)?
                .map(|row| keys.key_of_row(&row))
                .transpose()?;
            let receipts = append_events(&mut sp, &mut staged, batch, sealing.as_deref())?;
            insert_alerts(&mut sp, batch, &receipts, first_new, sealing.as_deref())?;
            super::lifecycle::erase(&mut sp, &batch.tenant, &batch.erase.seqs)?;
            Ok(receipts)
        });
    match applied {
        Ok(receipts) => {
            sp.commit()?;
            *log = staged;
            Ok(Ok(receipts))
        }
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            sp.rollback()?;
            if matches!(
                e,
                StoreError::Conflict(_) | StoreError::Changed(_) | StoreError::Missing(_)
            ) {
                tracing::info!(tenant = %batch.tenant, error = %e, "a batch was refused by the store");
            } else {
                tracing::error!(tenant = %batch.tenant, error = %e, "a batch was refused by the store");
            }
            Ok(Err(e))
        }
    }
}

/// The columns of the records one batch adds, as arrays for one `unnest`.
#[derive(Default)]
struct NewRecords {
    seq: Vec<i64>,
    id: Vec<String>,
    time: Vec<String>,
    received_at: Vec<String>,
    event_type: Vec<String>,
    run_id: Vec<Option<String>>,
    span_id: Vec<Option<String>>,
    parent_span_id: Vec<Option<String>>,
    status: Vec<&'static str>,
    body_hash: Vec<String>,
    version: Vec<i64>,
    submitted_by: Vec<Option<String>>,
    leaf_hash: Vec<Vec<u8>>,
    body: Vec<Vec<u8>>,
    salt: Vec<Vec<u8>>,
    session_id: Vec<Option<String>>,
    agent_id: Vec<Option<String>>,
    actor: Vec<Option<String>>,
    actor_type: Vec<Option<String>>,
    resource_type: Vec<Option<String>>,
    resource_id: Vec<Option<String>>,
    verb: Vec<Option<String>>,
    provider: Vec<Option<String>>,
    governance_status: Vec<Option<String>>,
    dry_run: Vec<bool>,
    idempotency_hit: Vec<bool>,
    duration_ms: Vec<Option<f64>>,
}

impl NewRecords {
    fn push(
        &mut self,
        event: &SealedEvent,
        seq: u64,
        leaf: &[u8],
        header: &Header,
        sealing: Option<&DataKey>,
    ) {
        let ix = &event.index;
        self.seq.push(seq as i64);
        self.id.push(event.id.clone());
        self.time.push(event.time.clone());
        self.received_at.push(event.received_at.clone());
        self.event_type.push(event.event_type.clone());
        self.run_id.push(event.run_id.clone());
        self.span_id.push(event.span_id.clone());
        self.parent_span_id.push(event.parent_span_id.clone());
        self.status.push(event.status.as_str());
        self.body_hash.push(event.body_hash.clone());
        self.version.push(header.version as i64);
        self.submitted_by.push(header.submitted_by.clone());
        self.leaf_hash.push(leaf.to_vec());
        self.body.push(body_codec::pack_for(
            &header.tenant,
            seq,
            sealing,
            &event.body,
        ));
        self.salt.push(event.salt.to_vec());
        self.session_id.push(ix.session_id.clone());
        self.agent_id.push(ix.agent_id.clone());
        self.actor.push(ix.actor.clone());
        self.actor_type.push(ix.actor_type.clone());
        self.resource_type.push(ix.resource_type.clone());
        self.resource_id.push(ix.resource_id.clone());
        self.verb.push(ix.verb.clone());
        self.provider.push(ix.provider.clone());
        self.governance_status.push(ix.governance_status.clone());
        self.dry_run.push(event.measures.dry_run);
        self.idempotency_hit.push(event.measures.idempotency_hit);
        self.duration_ms.push(event.measures.duration_ms);
    }

    /// Inserts every record in one statement.
    fn insert(&self, tx: &mut impl GenericClient, tenant: &str) -> Result<(), StoreError> {
        if self.seq.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO records (tenant, seq, id, time, received_at, type, run_id, span_id, \
               parent_span_id, status, body_hash, v, submitted_by, leaf_hash, body, salt, \
               session_id, agent_id, actor, actor_type, resource_type, resource_id, verb, \
               provider, governance_status, dry_run, idempotency_hit, duration_ms) \
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], \
               $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
               $12::bigint[], $13::text[], $14::bytea[], $15::bytea[], $16::bytea[], \
               $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], \
               $23::text[], $24::text[], $25::text[], $26::boolean[], $27::boolean[], \
               $28::double precision[])",
            &[
                &tenant,
                &self.seq,
                &self.id,
                &self.time,
                &self.received_at,
                &self.event_type,
                &self.run_id,
                &self.span_id,
                &self.parent_span_id,
                &self.status,
                &self.body_hash,
                &self.version,
                &self.submitted_by,
                &self.leaf_hash,
                &self.body,
                &self.salt,
                &self.session_id,
                &self.agent_id,
                &self.actor,
                &self.actor_type,
                &self.resource_type,
                &self.resource_id,
                &self.verb,
                &self.provider,
                &self.governance_status,
                &self.dry_run,
                &self.idempotency_hit,
                &self.duration_ms,
            ],
        )?;
        Ok(())
    }
}

fn append_events(
    tx: &mut impl GenericClient,
    log: &mut TenantLog,
    batch: &AppendBatch,
    sealing: Option<&DataKey>,
) -> Result<Vec<Receipt>, StoreError> {
    // Under the tenant's lock no one else can write these ids meanwhile.
    let ids: Vec<&str> = batch.events.iter().map(|e| e.id.as_str()).collect();
    for row in tx.query(
        "SELECT id, seq, leaf_hash FROM records WHERE tenant = $1 AND id = ANY($2)",
        &[&batch.tenant, &ids],
    )? {
        let id: String = row.get(0);
        let receipt = Receipt {
            id: id.clone(),
            seq: row.get::<_, i64>(1) as u64,
            leaf_hash: hex::encode(row.get::<_, Vec<u8>>(2)),
        };
        log.seen.insert(id, receipt);
    }
    let mut new = NewRecords::default();
    let mut tallies = StatRows::default();
    let mut receipts = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        if let Some(first) = log.seen.get(&event.id) {
            receipts.push(first.clone());
            continue;
        }
        let seq = log.edge.size();
        let header = event.header(&batch.tenant, seq);
        let leaf_input = header.leaf_input();
        if leaf_input.len() > MAX_LEAF_INPUT {
            return Err(StoreError::Rejected(format!(
                "event {:?}: its header is {} bytes, more than a log entry may hold ({MAX_LEAF_INPUT})",
                event.id,
                leaf_input.len()
            )));
        }
        let leaf = leaf_hash(&leaf_input);
        new.push(event, seq, leaf.as_bytes(), &header, sealing);
        tallies.count(&StatFacts::of(event));
        log.edge.push(leaf);
        log.note_run(event, seq);
        let receipt = Receipt {
            id: event.id.clone(),
            seq,
            leaf_hash: leaf.to_string(),
        };
        log.seen.insert(event.id.clone(), receipt.clone());
        receipts.push(receipt);
    }
    new.insert(tx, &batch.tenant).map_err(|e| match e {
        StoreError::Postgres(e) => conflict(e, || "a record with one of these ids".into()),
        e => e,
    })?;
    super::stats::write(tx, &batch.tenant, &tallies)?;
    Ok(receipts)
}

/// Writes the alerts of the events this batch added to the log (`seq` from
/// `first_new` on, each once); a retried event raised its alerts the first
/// time.
fn insert_alerts(
    tx: &mut impl GenericClient,
    batch: &AppendBatch,
    receipts: &[Receipt],
    first_new: u64,
    sealing: Option<&DataKey>,
) -> Result<(), StoreError> {
    // Each new seq's alerts come from the first event that got it; a later
    // duplicate of that event in the batch shares its receipt, not its alerts.
    let mut owner: HashMap<u64, usize> = HashMap::new();
    for new in &batch.alerts {
        let (Some(receipt), Some(event)) = (
            receipts.get(new.event_index),
            batch.events.get(new.event_index),
        ) else {
            return Err(StoreError::Rejected(format!(
                "an alert names event {} of a batch of {}",
                new.event_index,
                batch.events.len()
            )));
        };
        let new_record = receipt.seq >= first_new
            && *owner.entry(receipt.seq).or_insert(new.event_index) == new.event_index;
        if new_record {
            super::alerts::insert(tx, &new.alert, receipt.seq, &event.received_at, sealing)?;
        }
    }
    Ok(())
}

/// What the transaction knows of one tenant's log: read under the lock of
/// its head row, never carried over from an earlier call, so that any node
/// may append.
#[derive(Clone)]
struct TenantLog {
    /// The tree's right edge, loaded from the stored tiles; its size is
    /// the next `seq`.
    edge: RightEdge,
    /// Receipts of ids this call met, for duplicates within it.
    seen: HashMap<String, Receipt>,
    /// What this call adds to each run's summary.
    runs: HashMap<String, RunFold>,
}

impl TenantLog {
    fn load(tx: &mut Transaction<'_>, tenant: &str, size: u64) -> Result<TenantLog, StoreError> {
        let edge = RightEdge::load(&Tiles::uncached(tx, tenant), size)?;
        Ok(TenantLog {
            edge,
            seen: HashMap::new(),
            runs: HashMap::new(),
        })
    }

    fn note_run(&mut self, event: &SealedEvent, seq: u64) {
        let Some(run_id) = &event.run_id else { return };
        self.runs
            .entry(run_id.clone())
            .or_insert_with(|| RunFold::new(&event.time))
            .add(
                seq,
                &event.time,
                &event.event_type,
                event.status,
                event.index.agent_id.as_deref(),
            );
    }

    /// Folds this call's records into the runs' summaries in one upsert,
    /// whatever the number of runs. Rows this call added come after every
    /// stored row in `seq`, so a new lifecycle event (pause, complete, …)
    /// wins unless the stored one is later in time.
    fn write_runs(&self, tx: &mut impl GenericClient, tenant: &str) -> Result<(), StoreError> {
        if self.runs.is_empty() {
            return Ok(());
        }
        let mut rows = RunRows::default();
        for (run_id, d) in &self.runs {
            let lifecycle = d.lifecycle.as_ref();
            rows.run_id.push(run_id);
            rows.first_time.push(&d.first_time);
            rows.last_time.push(&d.last_time);
            rows.events.push(d.events as i64);
            rows.fails.push(d.fails as i64);
            rows.warns.push(d.warns as i64);
            rows.status
                .push(lifecycle.map_or("running", |(_, _, status)| status.as_str()));
            rows.status_time
                .push(lifecycle.map(|(time, _, _)| time.as_str()));
            rows.status_seq
                .push(lifecycle.map(|(_, seq, _)| *seq as i64));
            rows.agent_id.push(d.agent_id.as_deref());
        }
        tx.execute(
            "INSERT INTO runs AS r (tenant, run_id, first_time, last_time, event_count, \
               fail_count, warn_count, status, status_time, status_seq, agent_id) \
             SELECT $1, run_id, first_time, last_time, events, fails, warns, status, \
               status_time, status_seq, agent_id \
             FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], \
               $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::text[]) \
               AS u (run_id, first_time, last_time, events, fails, warns, status, status_time, \
                     status_seq, agent_id) \
             ORDER BY run_id \
             ON CONFLICT (tenant, run_id) DO UPDATE SET \
               first_time = least(r.first_time, excluded.first_time), \
               last_time = greatest(r.last_time, excluded.last_time), \
               event_count = r.event_count + excluded.event_count, \
               fail_count = r.fail_count + excluded.fail_count, \
               warn_count = r.warn_count + excluded.warn_count, \
               status = CASE WHEN excluded.status_time IS NOT NULL \
                   AND excluded.status_time >= coalesce(r.status_time, '') \
                 THEN excluded.status ELSE r.status END, \
               status_seq = CASE WHEN excluded.status_time IS NOT NULL \
                   AND excluded.status_time >= coalesce(r.status_time, '') \
                 THEN excluded.status_seq ELSE r.status_seq END, \
               status_time = CASE WHEN excluded.status_time IS NOT NULL \
                   AND excluded.status_time >= coalesce(r.status_time, '') \
                 THEN excluded.status_time ELSE r.status_time END, \
               agent_id = coalesce(r.agent_id, excluded.agent_id)",
            &[
                &tenant,
                &rows.run_id,
                &rows.first_time,
                &rows.last_time,
                &rows.events,
                &rows.fails,
                &rows.warns,
                &rows.status,
                &rows.status_time,
                &rows.status_seq,
                &rows.agent_id,
            ],
        )?;
        Ok(())
    }
}

/// The columns of the run summaries one call changes, as arrays for one
/// `unnest`.
#[derive(Default)]
struct RunRows<'a> {
    run_id: Vec<&'a str>,
    first_time: Vec<&'a str>,
    last_time: Vec<&'a str>,
    events: Vec<i64>,
    fails: Vec<i64>,
    warns: Vec<i64>,
    status: Vec<&'a str>,
    status_time: Vec<Option<&'a str>>,
    status_seq: Vec<Option<i64>>,
    agent_id: Vec<Option<&'a str>>,
}

/// Whether a commit that grew `tenant`'s log to `size` should sign a
/// checkpoint now: the log outgrew the newest one, and that one is at least
/// an interval old.
fn checkpoint_due(
    conn: &mut impl GenericClient,
    tenant: &str,
    size: u64,
    signing: &crate::Checkpointing,
) -> Result<bool, StoreError> {
    Ok(match latest_checkpoint(conn, tenant)? {
        None => size > 0,
        Some(latest) => {
            let due_after = signing.clock.now()
                - chrono::Duration::from_std(signing.interval).unwrap_or_default();
            latest.size < size && latest.created_at <= format_time(&due_after)
        }
    })
}
