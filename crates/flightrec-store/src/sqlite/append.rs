//! The append transaction: sequencing, idempotency, the run summaries, the
//! tiles and, when due, a signed checkpoint, all committed together.

use super::SqliteStore;
use super::log::{Tiles, latest_checkpoint, store_checkpoint, write_tiles};
use crate::encryption::{DataKey, Keyring};
use crate::model::{AppendBatch, BatchOutcome};
use crate::runs::RunFold;
use crate::stats::{StatFacts, StatRows};
use crate::{StoreError, body_codec};
use flightrec_core::event::format_time;
use flightrec_core::log::leaf_hash;
use flightrec_core::log::tree::RightEdge;
use flightrec_core::record::{Receipt, SealedEvent};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::HashMap;

/// C2SP entry bundles prefix each leaf input with a 16-bit length.
const MAX_LEAF_INPUT: usize = u16::MAX as usize;

impl SqliteStore {
    pub(super) fn append_batches(
        &self,
        batches: Vec<AppendBatch>,
    ) -> Result<Vec<BatchOutcome>, StoreError> {
        self.refuse_writes_if_inconsistent()?;
        let checkpointing = self.checkpointing();
        self.write(|conn| {
            let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut logs: HashMap<String, TenantLog> = HashMap::new();
            let mut outcomes = Vec::with_capacity(batches.len());
            for batch in &batches {
                if !logs.contains_key(&batch.tenant) {
                    let log = TenantLog::load(&tx, &batch.tenant)?;
                    logs.insert(batch.tenant.clone(), log);
                }
                let log = logs.get_mut(&batch.tenant).expect("loaded above");
                outcomes.push(append_one(&mut tx, log, batch, &self.keyring)?);
            }
            for (tenant, log) in &logs {
                log.write_runs(&tx, tenant)?;
                write_tiles(&tx, tenant, &log.edge)?;
                if let Some(signing) = &checkpointing
                    && checkpoint_due(&tx, tenant, log.edge.size(), signing)?
                {
                    store_checkpoint(&tx, tenant, &log.edge, signing)?;
                }
            }
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
/// whole transaction is lost (disk full, I/O) are returned as the call's.
fn append_one(
    tx: &mut Transaction<'_>,
    log: &mut TenantLog,
    batch: &AppendBatch,
    keys: &Keyring,
) -> Result<BatchOutcome, StoreError> {
    let mut staged = log.clone();
    let sp = tx.savepoint()?;
    let applied = batch
        .access
        .iter()
        .try_for_each(|change| super::access::apply(&sp, change, keys))
        .and_then(|()| {
            batch
                .guardrails
                .iter()
                .try_for_each(|change| super::guardrails::apply(&sp, change))
        })
        .and_then(|()| {
            let first_new = staged.next_seq;
            // Read after the batch's own changes: the batch that turns
            // encryption on already seals its bodies.
            let sealing = super::data_keys::sealing_key(&sp, &batch.tenant)?
                .map(|row| keys.key_of_row(&row))
                .transpose()?;
            let receipts = append_events(&sp, &mut staged, batch, sealing.as_deref())?;
            insert_alerts(&sp, batch, &receipts, first_new, sealing.as_deref())?;
            super::lifecycle::erase(&sp, &batch.tenant, &batch.erase, keys)?;
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
            drop(sp); // rolls back to the savepoint
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

fn append_events(
    tx: &Connection,
    log: &mut TenantLog,
    batch: &AppendBatch,
    sealing: Option<&DataKey>,
) -> Result<Vec<Receipt>, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO records (tenant, seq, id, time, received_at, type, run_id, span_id, \
         parent_span_id, status, body_hash, leaf_hash, body, salt, session_id, agent_id, actor, \
         actor_type, resource_type, resource_id, verb, provider, governance_status, v, \
         submitted_by, dry_run, idempotency_hit, duration_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
    )?;
    let mut tallies = StatRows::default();
    let mut receipts = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        if let Some(first) = log.seen.get(&event.id) {
            receipts.push(first.clone());
            continue;
        }
        let seq = log.next_seq;
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
        let ix = &event.index;
        let inserted = insert.execute(params![
            batch.tenant,
            seq as i64,
            event.id,
            event.time,
            event.received_at,
            event.event_type,
            event.run_id,
            event.span_id,
            event.parent_span_id,
            event.status.as_str(),
            event.body_hash,
            leaf.as_bytes().as_slice(),
            body_codec::pack_for(&batch.tenant, seq, sealing, &event.body),
            event.salt.as_slice(),
            ix.session_id,
            ix.agent_id,
            ix.actor,
            ix.actor_type,
            ix.resource_type,
            ix.resource_id,
            ix.verb,
            ix.provider,
            ix.governance_status,
            header.version as i64,
            header.submitted_by,
            event.measures.dry_run,
            event.measures.idempotency_hit,
            event.measures.duration_ms,
        ]);
        let receipt = match inserted {
            Ok(_) => {
                tallies.count(&StatFacts::of(event));
                log.next_seq += 1;
                log.edge.push(leaf);
                log.note_run(event, seq);
                Receipt {
                    id: event.id.clone(),
                    seq,
                    leaf_hash: leaf.to_string(),
                }
            }
            // The id is already in the log: an idempotent retry.
            Err(e) if is_unique_violation(&e) => {
                existing_receipt(tx, &batch.tenant, &event.id)?.ok_or(StoreError::Sqlite(e))?
            }
            Err(e) => return Err(e.into()),
        };
        log.seen.insert(event.id.clone(), receipt.clone());
        receipts.push(receipt);
    }
    super::stats::write(tx, &batch.tenant, &tallies)?;
    Ok(receipts)
}

/// Writes the alerts of the events this batch added to the log (`seq` from
/// `first_new` on, each once); a retried event raised its alerts the first
/// time.
fn insert_alerts(
    tx: &Connection,
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

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn existing_receipt(
    tx: &Connection,
    tenant: &str,
    id: &str,
) -> Result<Option<Receipt>, StoreError> {
    let found = tx
        .prepare_cached("SELECT seq, leaf_hash FROM records WHERE tenant = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    Ok(found.map(|(seq, leaf)| Receipt {
        id: id.to_owned(),
        seq: seq as u64,
        leaf_hash: hex::encode(leaf),
    }))
}

/// What the transaction knows of one tenant's log: read from the store when
/// the tenant is first touched, never carried over from an earlier call, so
/// that any process holding the write lock may append.
#[derive(Clone)]
struct TenantLog {
    next_seq: u64,
    /// The tree's right edge, loaded from the stored tiles.
    edge: RightEdge,
    /// Receipts given in this call, for duplicates within it.
    seen: HashMap<String, Receipt>,
    /// What this call adds to each run's summary.
    runs: HashMap<String, RunFold>,
}

impl TenantLog {
    fn load(tx: &Transaction<'_>, tenant: &str) -> Result<TenantLog, StoreError> {
        let size = super::heads::log_size(tx, tenant)?;
        let edge = RightEdge::load(&Tiles::uncached(tx, tenant), size)?;
        Ok(TenantLog {
            next_seq: size,
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

    fn write_runs(&self, tx: &Transaction<'_>, tenant: &str) -> Result<(), StoreError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO runs (tenant, run_id, first_time, last_time, event_count, fail_count, \
             warn_count, status, status_time, status_seq, agent_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, 'running'), ?9, ?10, ?11) \
             ON CONFLICT (tenant, run_id) DO UPDATE SET \
               first_time = min(first_time, excluded.first_time), \
               last_time = max(last_time, excluded.last_time), \
               event_count = event_count + excluded.event_count, \
               fail_count = fail_count + excluded.fail_count, \
               warn_count = warn_count + excluded.warn_count, \
               status = CASE WHEN ?12 THEN excluded.status ELSE status END, \
               status_time = CASE WHEN ?12 THEN excluded.status_time ELSE status_time END, \
               status_seq = CASE WHEN ?12 THEN excluded.status_seq ELSE status_seq END, \
               agent_id = coalesce(agent_id, excluded.agent_id)",
        )?;
        for (run_id, d) in &self.runs {
            let (status, status_time, status_seq) = match &d.lifecycle {
                Some((t, s, st)) => (Some(st.as_str()), Some(t.as_str()), Some(*s as i64)),
                None => (None, None, None),
            };
            // Rows this call added come after every stored row in `seq`, so a
            // new lifecycle event wins unless the stored one is later in time.
            let newer = match (status_time, self.stored_lifecycle(tx, tenant, run_id)?) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(t), Some(stored)) => t >= stored.as_str(),
            };
            upsert.execute(params![
                tenant,
                run_id,
                d.first_time,
                d.last_time,
                d.events as i64,
                d.fails as i64,
                d.warns as i64,
                status,
                status_time,
                status_seq,
                d.agent_id,
                newer,
            ])?;
        }
        Ok(())
    }

    fn stored_lifecycle(
        &self,
        tx: &Transaction<'_>,
        tenant: &str,
        run_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(tx
            .prepare_cached("SELECT status_time FROM runs WHERE tenant = ?1 AND run_id = ?2")?
            .query_row(params![tenant, run_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }
}

/// Whether a commit that grew `tenant`'s log to `size` should sign a
/// checkpoint now: the log outgrew the newest one, and that one is at least
/// an interval old.
pub(super) fn checkpoint_due(
    conn: &Connection,
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
