//! Summaries of the whole log: totals for a time window (see
//! `hour_windows`) and the distinct values of a column.

use super::PgStore;
use crate::StoreError;
use crate::model::{Facet, RecordCounts};
use postgres::GenericClient;

impl PgStore {
    pub(super) fn query_window_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<RecordCounts, StoreError> {
        self.with_client(|conn| window_counts(conn, tenant, since, until))
    }

    pub(super) fn query_distinct(
        &self,
        tenant: &str,
        facet: Facet,
    ) -> Result<Vec<String>, StoreError> {
        let column = match facet {
            Facet::EventType => "type",
            Facet::ResourceType => "resource_type",
        };
        // A skip scan by hand: each step seeks the column's index to the
        // next larger value, so this costs one seek per distinct value
        // rather than a read of every record.
        let sql = format!(
            "WITH RECURSIVE v (value) AS ( \
               SELECT min({column}) FROM records WHERE tenant = $1 AND {column} IS NOT NULL \
               UNION ALL \
               SELECT (SELECT min({column}) FROM records WHERE tenant = $1 AND {column} > v.value) \
               FROM v WHERE v.value IS NOT NULL) \
             SELECT value FROM v WHERE value IS NOT NULL"
        );
        self.with_client(|conn| {
            Ok(conn
                .query(&sql, &[&tenant])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }
}

fn window_counts(
    conn: &mut impl GenericClient,
    tenant: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<RecordCounts, StoreError> {
    // Both readers need the connection; they take turns.
    let conn = std::cell::RefCell::new(conn);
    crate::hour_windows::window_counts(
        since,
        until,
        |from, before| hour_counts(&mut **conn.borrow_mut(), tenant, from, before),
        |from, before| record_counts(&mut **conn.borrow_mut(), tenant, from, before),
    )
}

/// Whole hours come from the `status` rows of `record_stats`: one row per
/// hour and status.
fn hour_counts(
    conn: &mut impl GenericClient,
    tenant: &str,
    from_hour: &str,
    before_hour: &str,
) -> Result<RecordCounts, StoreError> {
    let row = conn.query_one(
        "SELECT coalesce(sum(n), 0)::bigint, coalesce(sum(fail), 0)::bigint, \
           coalesce(sum(warn), 0)::bigint \
         FROM record_stats WHERE tenant = $1 AND dim = 'status' AND hour >= $2 AND hour < $3",
        &[&tenant, &from_hour, &before_hour],
    )?;
    Ok(RecordCounts {
        total: row.try_get::<_, i64>(0)? as u64,
        fail: row.try_get::<_, i64>(1)? as u64,
        warn: row.try_get::<_, i64>(2)? as u64,
    })
}

fn record_counts(
    conn: &mut impl GenericClient,
    tenant: &str,
    from: &str,
    before: &str,
) -> Result<RecordCounts, StoreError> {
    let row = conn.query_one(
        "SELECT count(*), count(*) FILTER (WHERE status = 'fail'), \
           count(*) FILTER (WHERE status = 'warn') \
         FROM records WHERE tenant = $1 AND time >= $2 AND time < $3",
        &[&tenant, &from, &before],
    )?;
    Ok(RecordCounts {
        total: row.try_get::<_, i64>(0)? as u64,
        fail: row.try_get::<_, i64>(1)? as u64,
        warn: row.try_get::<_, i64>(2)? as u64,
    })
}
