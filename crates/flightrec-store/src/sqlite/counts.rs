//! Summaries of the whole log: totals for a time window (see
//! `hour_windows`; the hourly counts are `record_stats`' status rows) and the distinct
//! values of a column.

use super::SqliteStore;
use crate::StoreError;
use crate::model::{Facet, RecordCounts};
use rusqlite::{Connection, params};

impl SqliteStore {
    pub(super) fn query_window_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<RecordCounts, StoreError> {
        self.read(|conn| Ok(window_counts(conn, tenant, since, until)?))
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
        // rather than a read of every record. (`IS NOT NULL` lets the
        // first step use a partial index.)
        let sql = format!(
            "WITH RECURSIVE v (value) AS ( \
               SELECT min({column}) FROM records WHERE tenant = ?1 AND {column} IS NOT NULL \
               UNION ALL \
               SELECT (SELECT min({column}) FROM records WHERE tenant = ?1 AND {column} > v.value) \
               FROM v WHERE v.value IS NOT NULL) \
             SELECT value FROM v WHERE value IS NOT NULL"
        );
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let values = stmt
                .query_map([tenant], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(values)
        })
    }
}

fn window_counts(
    conn: &Connection,
    tenant: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> rusqlite::Result<RecordCounts> {
    crate::hour_windows::window_counts(
        since,
        until,
        |from, before| hour_counts(conn, tenant, from, before),
        |from, before| record_counts(conn, tenant, from, before),
    )
}

/// Whole hours come from the `status` rows of `record_stats`: one row per
/// hour and status.
fn hour_counts(
    conn: &Connection,
    tenant: &str,
    from_hour: &str,
    before_hour: &str,
) -> rusqlite::Result<RecordCounts> {
    conn.prepare_cached(
        "SELECT coalesce(sum(n), 0), coalesce(sum(fail), 0), coalesce(sum(warn), 0) \
         FROM record_stats WHERE tenant = ?1 AND dim = 'status' AND hour >= ?2 AND hour < ?3",
    )?
    .query_row(params![tenant, from_hour, before_hour], |r| {
        Ok(RecordCounts {
            total: r.get::<_, i64>(0)? as u64,
            fail: r.get::<_, i64>(1)? as u64,
            warn: r.get::<_, i64>(2)? as u64,
        })
    })
}

fn record_counts(
    conn: &Connection,
    tenant: &str,
    from: &str,
    before: &str,
) -> rusqlite::Result<RecordCounts> {
    conn.prepare_cached(
        "SELECT count(*), coalesce(sum(status = 'fail'), 0), coalesce(sum(status = 'warn'), 0) \
         FROM records WHERE tenant = ?1 AND time >= ?2 AND time < ?3",
    )?
    .query_row(params![tenant, from, before], |r| {
        Ok(RecordCounts {
            total: r.get::<_, i64>(0)? as u64,
            fail: r.get::<_, i64>(1)? as u64,
            warn: r.get::<_, i64>(2)? as u64,
        })
    })
}
