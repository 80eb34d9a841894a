//! `/v1/stats` on PostgreSQL: the tallies every append adds to
//! `record_stats` (schema V3, filled from the records already stored by the
//! migration) and the window's answer read from them and, at its edges,
//! from the records (see `crate::stats`).

use super::PgStore;
use crate::StoreError;
use crate::stats::{
    FACT_COLUMNS, GroupBy, RowCounts, StatFacts, StatGroups, StatRows, Tally, group_expr,
};
use flightrec_core::event::Measures;
use postgres::{GenericClient, Row};
use std::collections::HashMap;

impl PgStore {
    pub(super) fn query_stats(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        group_by: Option<GroupBy>,
    ) -> Result<StatGroups, StoreError> {
        self.with_client(|conn| {
            // Both readers need the connection; they take turns.
            let conn = std::cell::RefCell::new(conn);
            crate::hour_windows::window_counts(
                since,
                until,
                |from, before| hour_stats(&mut **conn.borrow_mut(), tenant, group_by, from, before),
                |from, before| {
                    record_stats(&mut **conn.borrow_mut(), tenant, group_by, from, before)
                },
            )
        })
    }
}

/// Adds one append's tallies, inside its transaction: the rows are read,
/// merged and written back in two statements. Only appends write these
/// rows, and they hold the tenant's head row locked, so no other
/// transaction writes them meanwhile.
pub(super) fn write(
    conn: &mut impl GenericClient,
    tenant: &str,
    rows: &StatRows,
) -> Result<(), StoreError> {
    if rows.0.is_empty() {
        return Ok(());
    }
    let dims: Vec<&str> = rows.0.keys().map(|k| k.dimension.as_str()).collect();
    let hours: Vec<&str> = rows.0.keys().map(|k| k.hour.as_str()).collect();
    let values: Vec<&str> = rows.0.keys().map(|k| k.value.as_str()).collect();
    let mut stored: HashMap<(String, String, String), Tally> = HashMap::new();
    for row in conn.query(
        "SELECT s.dim, s.hour, s.value, s.n, s.fail, s.warn, s.blocked, s.dry_run, \
           s.idempotency_hits, s.durations \
         FROM record_stats s JOIN unnest($2::text[], $3::text[], $4::text[]) AS k (dim, hour, value) \
           ON s.tenant = $1 AND s.dim = k.dim AND s.hour = k.hour AND s.value = k.value",
        &[&tenant, &dims, &hours, &values],
    )? {
        let key = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        stored.insert(key, stored_tally(&row, 3)?);
    }
    let mut n = Vec::with_capacity(rows.0.len());
    let mut fail = Vec::with_capacity(rows.0.len());
    let mut warn = Vec::with_capacity(rows.0.len());
    let mut blocked = Vec::with_capacity(rows.0.len());
    let mut dry_run = Vec::with_capacity(rows.0.len());
    let mut hits = Vec::with_capacity(rows.0.len());
    let mut durations = Vec::with_capacity(rows.0.len());
    for (key, added) in &rows.0 {
        let mut tally = stored
            .remove(&(
                key.dimension.as_str().to_owned(),
                key.hour.clone(),
                key.value.clone(),
            ))
            .unwrap_or_default();
        tally.merge(added);
        let c = tally.counts;
        n.push(c.n as i64);
        fail.push(c.fail as i64);
        warn.push(c.warn as i64);
        blocked.push(c.blocked as i64);
        dry_run.push(c.dry_run as i64);
        hits.push(c.idempotency_hits as i64);
        durations.push(tally.encode_durations());
    }
    conn.execute(
        "INSERT INTO record_stats AS s (tenant, dim, hour, value, n, fail, warn, blocked, \
           dry_run, idempotency_hits, durations) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], \
           $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bytea[]) \
         ON CONFLICT (tenant, dim, hour, value) DO UPDATE SET \
           n = excluded.n, fail = excluded.fail, warn = excluded.warn, \
           blocked = excluded.blocked, dry_run = excluded.dry_run, \
           idempotency_hits = excluded.idempotency_hits, durations = excluded.durations",
        &[
            &tenant, &dims, &hours, &values, &n, &fail, &warn, &blocked, &dry_run, &hits,
            &durations,
        ],
    )?;
    Ok(())
}

/// The tally of a `record_stats` row whose counts start at column `first`
/// (n, fail, warn, blocked, dry_run, idempotency_hits, durations).
fn stored_tally(row: &Row, first: usize) -> Result<Tally, StoreError> {
    let n = |i: usize| row.try_get::<_, i64>(first + i).map(|v| v as u64);
    let mut tally = Tally {
        counts: RowCounts {
            n: n(0)?,
            fail: n(1)?,
            warn: n(2)?,
            blocked: n(3)?,
            dry_run: n(4)?,
            idempotency_hits: n(5)?,
        },
        ..Tally::default()
    };
    tally
        .merge_encoded_durations(row.try_get(first + 6)?)
        .map_err(|e| StoreError::Corrupt(format!("record_stats: {e}")))?;
    Ok(tally)
}

/// Records read at a time by [`fill_in_stored_records`].
const FILL_STEP: i64 = 5_000;

/// Fills in the promoted columns of every record already in the store and
/// tallies them, for the migration that adds both (the append-only trigger
/// is off meanwhile, inside the migration's transaction): each tenant's
/// records read in steps, so only the tallies are held in memory.
pub(super) fn fill_in_stored_records(conn: &mut impl GenericClient) -> Result<(), StoreError> {
    conn.batch_execute("ALTER TABLE records DISABLE TRIGGER records_only_erase")?;
    let tenants: Vec<String> = conn
        .query("SELECT DISTINCT tenant FROM records", &[])?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    for tenant in tenants {
        let mut tallies = StatRows::default();
        let mut after = -1i64;
        loop {
            let rows = conn.query(
                "SELECT seq, body, time, type, status, verb, provider, agent_id, \
                   governance_status FROM records WHERE tenant = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
                &[&tenant, &after, &FILL_STEP],
            )?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            let (mut seqs, mut dry_run, mut hits, mut durations) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for row in &rows {
                let body: Option<&str> = row.try_get(1)?;
                let measures = body.map(Measures::of_stored).unwrap_or_default();
                if measures != Measures::default() {
                    seqs.push(row.try_get::<_, i64>(0)?);
                    dry_run.push(measures.dry_run);
                    hits.push(measures.idempotency_hit);
                    durations.push(measures.duration_ms);
                }
                tallies.count(&StatFacts {
                    time: row.try_get(2)?,
                    event_type: row.try_get(3)?,
                    status: row.try_get(4)?,
                    verb: row.try_get(5)?,
                    provider: row.try_get(6)?,
                    agent_id: row.try_get(7)?,
                    governance_status: row.try_get(8)?,
                    measures,
                });
            }
            if !seqs.is_empty() {
                conn.execute(
                    "UPDATE records r SET dry_run = x.d, idempotency_hit = x.h, duration_ms = x.m \
                     FROM unnest($2::bigint[], $3::boolean[], $4::boolean[], \
                       $5::double precision[]) AS x (seq, d, h, m) \
                     WHERE r.tenant = $1 AND r.seq = x.seq",
                    &[&tenant, &seqs, &dry_run, &hits, &durations],
                )?;
            }
        }
        write(conn, &tenant, &tallies)?;
    }
    conn.batch_execute("ALTER TABLE records ENABLE TRIGGER records_only_erase")?;
    Ok(())
}

fn hour_stats(
    conn: &mut impl GenericClient,
    tenant: &str,
    group_by: Option<GroupBy>,
    from_hour: &str,
    before_hour: &str,
) -> Result<StatGroups, StoreError> {
    let sql = format!(
        "SELECT {group}::text, n, fail, warn, blocked, dry_run, idempotency_hits, durations \
         FROM record_stats WHERE tenant = $1 AND dim = $2 AND hour >= $3 AND hour < $4",
        group = group_expr(group_by)
    );
    let dimension = GroupBy::dimension(group_by).as_str();
    let mut groups = StatGroups::default();
    for row in conn.query(&sql, &[&tenant, &dimension, &from_hour, &before_hour])? {
        let tally = stored_tally(&row, 1)?;
        groups.group(row.try_get(0)?).merge(&tally);
    }
    Ok(groups)
}

fn facts(row: &Row) -> Result<StatFacts<'_>, StoreError> {
    Ok(StatFacts {
        time: row.try_get(0)?,
        event_type: row.try_get(1)?,
        status: row.try_get(2)?,
        verb: row.try_get(3)?,
        provider: row.try_get(4)?,
        agent_id: row.try_get(5)?,
        governance_status: row.try_get(6)?,
        measures: Measures {
            dry_run: row.try_get(7)?,
            idempotency_hit: row.try_get(8)?,
            duration_ms: row.try_get(9)?,
        },
    })
}

fn record_stats(
    conn: &mut impl GenericClient,
    tenant: &str,
    group_by: Option<GroupBy>,
    from: &str,
    before: &str,
) -> Result<StatGroups, StoreError> {
    let mut groups = StatGroups::default();
    for row in conn.query(
        &format!(
            "SELECT {FACT_COLUMNS} FROM records WHERE tenant = $1 AND time >= $2 AND time < $3"
        ),
        &[&tenant, &from, &before],
    )? {
        groups.count(&facts(&row)?, group_by);
    }
    Ok(groups)
}
