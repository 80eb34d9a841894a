//! `/v1/stats` on SQLite: the tallies every append adds to `record_stats`
//! (schema V7) and the window's answer read from them and, at its edges,
//! from the records (see `crate::stats`).

use super::SqliteStore;
use crate::StoreError;
use crate::stats::{GroupBy, RowCounts, StatFacts, StatGroups, StatRows, duration_bucket};
use flightrec_core::event::Measures;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, Row, params};

impl SqliteStore {
    pub(super) fn query_stats(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        group_by: Option<GroupBy>,
    ) -> Result<StatGroups, StoreError> {
        self.read(|conn| {
            Ok(crate::hour_windows::window_counts(
                since,
                until,
                |from, before| hour_stats(conn, tenant, group_by, from, before),
                |from, before| record_stats(conn, tenant, group_by, from, before),
            )?)
        })
    }
}

/// Adds one append's tallies, inside its transaction.
pub(super) fn write(conn: &Connection, tenant: &str, rows: &StatRows) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO record_stats (tenant, dim, hour, value, bucket, n, fail, warn, blocked, \
           dry_run, idempotency_hits) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (tenant, dim, hour, value, bucket) DO UPDATE SET \
           n = n + excluded.n, fail = fail + excluded.fail, warn = warn + excluded.warn, \
           blocked = blocked + excluded.blocked, dry_run = dry_run + excluded.dry_run, \
           idempotency_hits = idempotency_hits + excluded.idempotency_hits",
    )?;
    for (key, c) in &rows.0 {
        upsert.execute(params![
            tenant,
            key.dimension.as_str(),
            key.hour,
            key.value,
            key.bucket,
            c.n as i64,
            c.fail as i64,
            c.warn as i64,
            c.blocked as i64,
            c.dry_run as i64,
            c.idempotency_hits as i64,
        ])?;
    }
    Ok(())
}

/// Makes `flightrec_duration_bucket(ms)` callable on `conn`, for the
/// migration that tallies the records already in the store.
pub(super) fn register_bucket_function(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "flightrec_duration_bucket",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(duration_bucket(ctx.get::<Option<f64>>(0)?)),
    )
}

/// The group a `record_stats` row adds to, as an SQL expression.
fn group_expr(group_by: Option<GroupBy>) -> &'static str {
    match group_by {
        None => "''",
        Some(GroupBy::Day) => "substr(hour, 1, 10)",
        Some(GroupBy::Hour) => "hour",
        Some(_) => "value",
    }
}

fn hour_stats(
    conn: &Connection,
    tenant: &str,
    group_by: Option<GroupBy>,
    from_hour: &str,
    before_hour: &str,
) -> rusqlite::Result<StatGroups> {
    let sql = format!(
        "SELECT {group}, bucket, sum(n), sum(fail), sum(warn), sum(blocked), sum(dry_run), \
           sum(idempotency_hits) \
         FROM record_stats WHERE tenant = ?1 AND dim = ?2 AND hour >= ?3 AND hour < ?4 \
         GROUP BY 1, 2",
        group = group_expr(group_by)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let dimension = GroupBy::dimension(group_by);
    let mut rows = stmt.query(params![tenant, dimension.as_str(), from_hour, before_hour])?;
    let mut groups = StatGroups::default();
    while let Some(row) = rows.next()? {
        let counts = row_counts(row, 2)?;
        groups.add_row(row.get_ref(0)?.as_str()?, row.get(1)?, &counts);
    }
    Ok(groups)
}

fn row_counts(row: &Row<'_>, first: usize) -> rusqlite::Result<RowCounts> {
    let n = |i: usize| row.get::<_, i64>(first + i).map(|v| v as u64);
    Ok(RowCounts {
        n: n(0)?,
        fail: n(1)?,
        warn: n(2)?,
        blocked: n(3)?,
        dry_run: n(4)?,
        idempotency_hits: n(5)?,
    })
}

fn record_stats(
    conn: &Connection,
    tenant: &str,
    group_by: Option<GroupBy>,
    from: &str,
    before: &str,
) -> rusqlite::Result<StatGroups> {
    let mut stmt = conn.prepare_cached(
        "SELECT time, type, status, verb, provider, agent_id, governance_status, dry_run, \
           idempotency_hit, duration_ms \
         FROM records WHERE tenant = ?1 AND time >= ?2 AND time < ?3",
    )?;
    let mut rows = stmt.query(params![tenant, from, before])?;
    let mut groups = StatGroups::default();
    while let Some(row) = rows.next()? {
        let text = |i| text(row, i);
        let facts = StatFacts {
            time: text(0)?.unwrap_or_default(),
            event_type: text(1)?.unwrap_or_default(),
            status: text(2)?.unwrap_or_default(),
            verb: text(3)?,
            provider: text(4)?,
            agent_id: text(5)?,
            governance_status: text(6)?,
            measures: Measures {
                dry_run: row.get(7)?,
                idempotency_hit: row.get(8)?,
                duration_ms: row.get(9)?,
            },
        };
        groups.count(&facts, group_by);
    }
    Ok(groups)
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}
