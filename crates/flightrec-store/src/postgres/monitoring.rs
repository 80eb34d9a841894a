//! The figures `/metrics` reads on every scrape: one statement each, over
//! the tenants' heads and indexed reads, never a scan of the records.

use super::PgStore;
use crate::{LogHead, StoreError};

impl PgStore {
    pub(super) fn count_search_backlog(&self) -> Result<u64, StoreError> {
        self.with_client(|conn| {
            let n: i64 = conn
                .query_one(
                    "SELECT coalesce(sum(h.size - coalesce(p.indexed_size, 0)), 0)::bigint \
                     FROM log_heads h LEFT JOIN search_progress p USING (tenant)",
                    &[],
                )?
                .get(0);
            Ok(n.max(0) as u64)
        })
    }

    pub(super) fn count_pending_deliveries(&self) -> Result<u64, StoreError> {
        self.with_client(|conn| {
            let n: i64 = conn
                .query_one(
                    "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'",
                    &[],
                )?
                .get(0);
            Ok(n as u64)
        })
    }

    pub(super) fn select_log_heads(&self) -> Result<Vec<LogHead>, StoreError> {
        self.with_client(|conn| {
            // The newest checkpoint by the (tenant, size) key, not by
            // reading every checkpoint ever signed.
            let rows = conn.query(
                "SELECT h.tenant, h.size, c.size, c.created_at, r.received_at \
                 FROM log_heads h \
                 LEFT JOIN LATERAL (SELECT size, created_at FROM checkpoints \
                                    WHERE tenant = h.tenant ORDER BY size DESC LIMIT 1) c ON true \
                 LEFT JOIN records r ON r.tenant = h.tenant AND r.seq = coalesce(c.size, 0) \
                                    AND h.size > coalesce(c.size, 0) \
                 WHERE h.size > 0 ORDER BY h.tenant",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let size: Option<i64> = r.get(2);
                    let at: Option<String> = r.get(3);
                    LogHead {
                        tenant: r.get(0),
                        size: r.get::<_, i64>(1) as u64,
                        checkpoint: size.zip(at).map(|(s, at)| (s as u64, at)),
                        unsigned_since: r.get(4),
                    }
                })
                .collect())
        })
    }

    pub(super) fn count_uncosigned(&self, witness: &str) -> Result<u64, StoreError> {
        self.with_client(|conn| {
            let n: i64 = conn
                .query_one(
                    "SELECT coalesce(sum(greatest(c.size - coalesce(w.size, 0), 0)), 0)::bigint \
                     FROM log_heads h \
                     CROSS JOIN LATERAL (SELECT max(size) AS size FROM checkpoints \
                                         WHERE tenant = h.tenant) c \
                     CROSS JOIN LATERAL (SELECT max(size) AS size FROM cosignatures \
                                         WHERE tenant = h.tenant AND witness = $1) w \
                     WHERE c.size IS NOT NULL",
                    &[&witness],
                )?
                .get(0);
            Ok(n as u64)
        })
    }
}
