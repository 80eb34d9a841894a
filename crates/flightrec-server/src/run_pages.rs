//! A run's records, read page by page in run order (`time`, then `seq`),
//! so that walking a run of any length holds one page at a time.

use flightrec_core::record::StoredRecord;
use flightrec_store::{RunRecordsQuery, Store, StoreError};

/// Records read per page.
const PAGE: usize = 1000;

/// Calls `each` with every page of the records of `run_id` that `query`
/// selects (its `limit` and `after` are this function's), until the run
/// ends or `each` returns false.
pub fn walk_run(
    store: &dyn Store,
    tenant: &str,
    run_id: &str,
    mut query: RunRecordsQuery,
    each: &mut dyn FnMut(&[StoredRecord]) -> bool,
) -> Result<(), StoreError> {
    query.limit = PAGE;
    query.after = None;
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
