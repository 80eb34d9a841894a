//! Summaries of the whole log: totals for a time window (whole hours from
//! the hourly counts of schema V4, the partial hours at the window's edges
//! from the records) and the distinct values of a column.

use super::SqliteStore;
use crate::StoreError;
use crate::model::{Facet, RecordCounts};
use chrono::{NaiveDateTime, TimeDelta};
use rusqlite::{Connection, params};

/// Sorts before and after every hour key.
const NO_HOUR_BEFORE: &str = "";
const NO_HOUR_AFTER: &str = "~";

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
    // Times are fixed-width UTC text, so an hour key (`2026-11-23T02`)
    // compares with them as text: every time in that hour sorts after it
    // and before the next hour's key.
    let first_whole = since.map(|s| next_hour(hour_of(s)));
    let last_partial = until.map(hour_of);
    let mut counts = hour_counts(
        conn,
        tenant,
        first_whole.as_deref().unwrap_or(NO_HOUR_BEFORE),
        last_partial.unwrap_or(NO_HOUR_AFTER),
    )?;
    if let Some(since) = since {
        // From `since` to the end of its hour (or `until`, if sooner).
        let end = match (first_whole.as_deref(), until) {
            (Some(h), Some(u)) => h.min(u),
            (Some(h), None) => h,
            (None, _) => unreachable!("set with since"),
        };
        add(&mut counts, record_counts(conn, tenant, since, end)?);
    }
    if let Some(until) = until {
        // From the start of `until`'s hour (unless `since` is later, in
        // which case the range above covered it) to `until`.
        let hour = hour_of(until);
        let start = first_whole.as_deref().map_or(hour, |h| h.max(hour));
        add(&mut counts, record_counts(conn, tenant, start, until)?);
    }
    Ok(counts)
}

fn hour_of(time: &str) -> &str {
    time.get(..13).unwrap_or(time)
}

/// The key of the hour after `hour`.
fn next_hour(hour: &str) -> String {
    NaiveDateTime::parse_from_str(&format!("{hour}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .and_then(|t| t.checked_add_signed(TimeDelta::hours(1)))
        .map(|t| t.format("%Y-%m-%dT%H").to_string())
        .filter(|key| key.len() == 13)
        .unwrap_or_else(|| NO_HOUR_AFTER.to_owned())
}

fn hour_counts(
    conn: &Connection,
    tenant: &str,
    from_hour: &str,
    before_hour: &str,
) -> rusqlite::Result<RecordCounts> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, sum(n) FROM record_counts \
         WHERE tenant = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY status",
    )?;
    let mut rows = stmt.query(params![tenant, from_hour, before_hour])?;
    let mut counts = RecordCounts::default();
    while let Some(row) = rows.next()? {
        let n = row.get::<_, i64>(1)? as u64;
        counts.total += n;
        match row.get_ref(0)?.as_str()? {
            "fail" => counts.fail += n,
            "warn" => counts.warn += n,
            _ => {}
        }
    }
    Ok(counts)
}

fn record_counts(
    conn: &Connection,
    tenant: &str,
    from: &str,
    before: &str,
) -> rusqlite::Result<RecordCounts> {
    if from >= before {
        return Ok(RecordCounts::default());
    }
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

fn add(to: &mut RecordCounts, more: RecordCounts) {
    to.total += more.total;
    to.fail += more.fail;
    to.warn += more.warn;
}

#[cfg(test)]
mod tests {
    use super::next_hour;

    #[test]
    fn next_hour_crosses_days_and_years() {
        assert_eq!(next_hour("2026-11-23T02"), "2026-11-23T03");
        assert_eq!(next_hour("2026-12-31T23"), "2027-01-01T00");
        assert_eq!(next_hour("2028-02-28T23"), "2028-02-29T00");
        assert_eq!(next_hour("9999-12-31T23"), "~");
    }
}
