//! `/v1/stats` on SQLite: the tallies every append adds to `record_stats`
//! (schema V7, filled from the records already stored by the migration)
//! and the window's answer read from them and, at its edges, from the
//! records (see `crate::stats`).

use super::SqliteStore;
use crate::StoreError;
use crate::stats::{
    FACT_COLUMNS, GroupBy, RowCounts, StatFacts, StatGroups, StatRows, Tally, group_expr,
};
use flightrec_core::event::Measures;
use rusqlite::{Connection, OptionalExtension, Row, params};

impl SqliteStore {
    pub(super) fn query_stats(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        group_by: Option<GroupBy>,
    ) -> Result<StatGroups, StoreError> {
        self.read(|conn| {
            crate::hour_windows::window_counts(
                since,
                until,
                |from, before| hour_stats(conn, tenant, group_by, from, before),
                |from, before| record_stats(conn, tenant, group_by, from, before),
            )
        })
    }
}

/// Adds one append's tallies, inside its transaction: each row read,
/// merged and written back (only appends write these rows, and the one
/// writer runs one at a time).
pub(super) fn write(conn: &Connection, tenant: &str, rows: &StatRows) -> Result<(), StoreError> {
    let mut read = conn.prepare_cached(
        "SELECT n, fail, warn, blocked, dry_run, idempotency_hits, durations FROM record_stats \
         WHERE tenant = ?1 AND dim = ?2 AND hour = ?3 AND value = ?4",
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO record_stats (tenant, dim, hour, value, n, fail, warn, blocked, dry_run, \
           idempotency_hits, durations) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (tenant, dim, hour, value) DO UPDATE SET \
           n = excluded.n, fail = excluded.fail, warn = excluded.warn, \
           blocked = excluded.blocked, dry_run = excluded.dry_run, \
           idempotency_hits = excluded.idempotency_hits, durations = excluded.durations",
    )?;
    for (key, added) in &rows.0 {
        let dim = key.dimension.as_str();
        let mut tally = read
            .query_row(params![tenant, dim, key.hour, key.value], |r| {
                Ok((row_counts(r, 0)?, r.get::<_, Vec<u8>>(6)?))
            })
            .optional()?
            .map(|(counts, durations)| stored_tally(counts, &durations))
            .transpose()?
            .unwrap_or_default();
        tally.merge(added);
        let c = tally.counts;
        upsert.execute(params![
            tenant,
            dim,
            key.hour,
            key.value,
            c.n as i64,
            c.fail as i64,
            c.warn as i64,
            c.blocked as i64,
            c.dry_run as i64,
            c.idempotency_hits as i64,
            tally.encode_durations(),
        ])?;
    }
    Ok(())
}

fn stored_tally(counts: RowCounts, durations: &[u8]) -> Result<Tally, StoreError> {
    let mut tally = Tally {
        counts,
        ..Tally::default()
    };
    tally
        .merge_encoded_durations(durations)
        .map_err(|e| StoreError::Corrupt(format!("record_stats: {e}")))?;
    Ok(tally)
}

/// Tallies every record already in the store, for the migration that
/// creates `record_stats`.
pub(super) fn tally_stored_records(conn: &Connection) -> Result<(), StoreError> {
    let mut tenants: Vec<(String, StatRows)> = Vec::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT tenant, {FACT_COLUMNS} FROM records ORDER BY tenant"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let tenant = text(row, 0)?.unwrap_or_default();
        if tenants.last().is_none_or(|(t, _)| t != tenant) {
            tenants.push((tenant.to_owned(), StatRows::default()));
        }
        let (_, tallies) = tenants.last_mut().expect("pushed above");
        tallies.count(&facts(row, 1)?);
    }
    for (tenant, tallies) in &tenants {
        write(conn, tenant, tallies)?;
    }
    Ok(())
}

fn hour_stats(
    conn: &Connection,
    tenant: &str,
    group_by: Option<GroupBy>,
    from_hour: &str,
    before_hour: &str,
) -> Result<StatGroups, StoreError> {
    let sql = format!(
        "SELECT n, fail, warn, blocked, dry_run, idempotency_hits, durations, {group} \
         FROM record_stats WHERE tenant = ?1 AND dim = ?2 AND hour >= ?3 AND hour < ?4",
        group = group_expr(group_by)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let dimension = GroupBy::dimension(group_by);
    let mut rows = stmt.query(params![tenant, dimension.as_str(), from_hour, before_hour])?;
    let mut groups = StatGroups::default();
    while let Some(row) = rows.next()? {
        let durations: &[u8] = row.get_ref(6)?.as_blob().map_err(rusqlite::Error::from)?;
        let tally = stored_tally(row_counts(row, 0)?, durations)?;
        groups
            .group(text(row, 7)?.unwrap_or_default())
            .merge(&tally);
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

fn facts<'r>(row: &'r Row<'_>, first: usize) -> rusqlite::Result<StatFacts<'r>> {
    let text = |i| text(row, first + i);
    Ok(StatFacts {
        time: text(0)?.unwrap_or_default(),
        event_type: text(1)?.unwrap_or_default(),
        status: text(2)?.unwrap_or_default(),
        verb: text(3)?,
        provider: text(4)?,
        agent_id: text(5)?,
        governance_status: text(6)?,
        measures: Measures {
            dry_run: row.get(first + 7)?,
            idempotency_hit: row.get(first + 8)?,
            duration_ms: row.get(first + 9)?,
        },
    })
}

fn record_stats(
    conn: &Connection,
    tenant: &str,
    group_by: Option<GroupBy>,
    from: &str,
    before: &str,
) -> Result<StatGroups, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {FACT_COLUMNS} FROM records WHERE tenant = ?1 AND time >= ?2 AND time < ?3"
    ))?;
    let mut rows = stmt.query(params![tenant, from, before])?;
    let mut groups = StatGroups::default();
    while let Some(row) = rows.next()? {
        groups.count(&facts(row, 0)?, group_by);
    }
    Ok(groups)
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}
