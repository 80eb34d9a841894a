//! A run's records, read page by page in run order (`time`, then `seq`),
//! so that walking a run of any length holds one page at a time.

use flightrec_core::record::StoredRecord;
use flightrec_core::replay::Step;
use flightrec_store::{RunRecordsQuery, Store, StoreError};

/// Records read per page.
const PAGE: usize = 1000;

/// Calls `each` with every page of the records of `run_id` that `query`
/// selects (from after `query.after`, if set; `limit` is this function's),
/// until the run ends or `each` returns false.
pub fn walk_run(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    mut query: RunRecordsQuery,
    each: &mut dyn FnMut(&[StoredRecord]) -> bool,
) -> Result<(), StoreError> {
    query.limit = PAGE;
    loop {
        let page = store.run_records(tenant, run_id, &query)?;
        if !each(&page.items) {
            return Ok(());
        }
        match page.items.last() {
            Some(last) if page.more => {
                query.after = Some((last.header.time.clone(), last.header.seq));
            }
            _ => return Ok(()),
        }
    }
}

/// Calls `each` with every event of the run that `query` selects, as the
/// replay fold reads it, numbered on from `first_index`; stops when `each`
/// returns false. An erased body folds as an empty one (the event still
/// counts); a body that cannot be read is corruption.
pub fn walk_steps(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    query: RunRecordsQuery,
    first_index: u64,
    each: &mut dyn FnMut(&Step<'_>) -> bool,
) -> Result<(), StoreError> {
    walk_records_as_steps(store, tenant, run_id, query, first_index, &mut |_, step| {
        each(step)
    })
}

/// [`walk_steps`], with each step's record beside it.
pub fn walk_records_as_steps(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    query: RunRecordsQuery,
    first_index: u64,
    each: &mut dyn FnMut(&StoredRecord, &Step<'_>) -> bool,
) -> Result<(), StoreError> {
    let mut index = first_index;
    let mut failure = None;
    walk_run(store, tenant, run_id, query, &mut |records| {
        for record in records {
            let body = match record.parsed_body() {
                Ok(body) => body.unwrap_or_default(),
                Err(e) => {
                    failure = Some(StoreError::Corrupt(format!(
                        "record {}: {e}",
                        record.header.seq
                    )));
                    return false;
                }
            };
            let h = &record.header;
            let step = Step {
                index,
                seq: h.seq,
                time: &h.time,
                event_type: &h.event_type,
                status: h.status,
                body: &body,
            };
            if !each(record, &step) {
                return false;
            }
            index += 1;
        }
        true
    })?;
    failure.map_or(Ok(()), Err)
}
