//! `/v1/stats` on PostgreSQL: the window's answer from `record_stats`
//! (schema V3, kept by a statement trigger on every insert into `records`)
//! and, at its edges, from the records (see `crate::stats`).

use super::PgStore;
use crate::StoreError;
use crate::stats::{GroupBy, RowCounts, StatFacts, StatGroups};
use flightrec_core::event::Measures;
use postgres::GenericClient;

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

/// The group a `record_stats` row adds to, as an SQL expression.
fn group_expr(group_by: Option<GroupBy>) -> &'static str {
    match group_by {
        None => "''",
        Some(GroupBy::Day) => "left(hour, 10)",
        Some(GroupBy::Hour) => "hour",
        Some(_) => "value",
    }
}

fn hour_stats(
    conn: &mut impl GenericClient,
    tenant: &str,
    group_by: Option<GroupBy>,
    from_hour: &str,
    before_hour: &str,
) -> Result<StatGroups, StoreError> {
    let sql = format!(
        "SELECT {group}::text, bucket, sum(n)::bigint, sum(fail)::bigint, sum(warn)::bigint, \
           sum(blocked)::bigint, sum(dry_run)::bigint, sum(idempotency_hits)::bigint \
         FROM record_stats WHERE tenant = $1 AND dim = $2 AND hour >= $3 AND hour < $4 \
         GROUP BY 1, 2",
        group = group_expr(group_by)
    );
    let dimension = GroupBy::dimension(group_by).as_str();
    let mut groups = StatGroups::default();
    for row in conn.query(&sql, &[&tenant, &dimension, &from_hour, &before_hour])? {
        let n = |i: usize| row.try_get::<_, i64>(i).map(|v| v as u64);
        let counts = RowCounts {
            n: n(2)?,
            fail: n(3)?,
            warn: n(4)?,
            blocked: n(5)?,
            dry_run: n(6)?,
            idempotency_hits: n(7)?,
        };
        groups.add_row(row.try_get(0)?, row.try_get(1)?, &counts);
    }
    Ok(groups)
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
        "SELECT time, type, status, verb, provider, agent_id, governance_status, dry_run, \
           idempotency_hit, duration_ms \
         FROM records WHERE tenant = $1 AND time >= $2 AND time < $3",
        &[&tenant, &from, &before],
    )? {
        let facts = StatFacts {
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
        };
        groups.count(&facts, group_by);
    }
    Ok(groups)
}
