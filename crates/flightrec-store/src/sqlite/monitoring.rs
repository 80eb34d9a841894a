//! The figures `/metrics` reads on every scrape: each a handful of indexed
//! reads, never a scan of the records.

use super::SqliteStore;
use super::heads::{log_size, log_tenants};
use crate::{LogHead, StoreError};
use rusqlite::{OptionalExtension, params};

impl SqliteStore {
    pub(super) fn count_search_backlog(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            // Records are indexed in rowid order, so the backlog is the
            // rowid range past the high-water mark.
            let n: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM records WHERE rowid > \
                     (SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'search_indexed_rowid')",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    pub(super) fn count_pending_deliveries(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            let n: i64 = conn
                .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")?
                .query_row([], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    pub(super) fn select_log_heads(&self) -> Result<Vec<LogHead>, StoreError> {
        self.read(|conn| {
            let mut heads = Vec::new();
            for tenant in log_tenants(conn)? {
                let size = log_size(conn, &tenant)?;
                let checkpoint: Option<(i64, String)> = conn
                    .prepare_cached(
                        "SELECT size, created_at FROM checkpoints WHERE tenant = ?1 \
                         ORDER BY size DESC LIMIT 1",
                    )?
                    .query_row([&tenant], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let covered = checkpoint.as_ref().map_or(0, |(s, _)| *s as u64);
                let unsigned_since = if covered < size {
                    conn.prepare_cached(
                        "SELECT received_at FROM records WHERE tenant = ?1 AND seq = ?2",
                    )?
                    .query_row(params![tenant, covered as i64], |r| r.get(0))
                    .optional()?
                } else {
                    None
                };
                heads.push(LogHead {
                    tenant,
                    size,
                    checkpoint: checkpoint.map(|(s, at)| (s as u64, at)),
                    unsigned_since,
                });
            }
            Ok(heads)
        })
    }

    pub(super) fn count_uncosigned(&self, witness: &str) -> Result<u64, StoreError> {
        self.read(|conn| {
            let mut total = 0;
            for tenant in log_tenants(conn)? {
                let (newest, cosigned): (Option<i64>, Option<i64>) = conn
                    .prepare_cached(
                        "SELECT (SELECT max(size) FROM checkpoints WHERE tenant = ?1), \
                                (SELECT max(size) FROM cosignatures WHERE tenant = ?1 AND witness = ?2)",
                    )?
                    .query_row(params![tenant, witness], |r| Ok((r.get(0)?, r.get(1)?)))?;
                total += newest.unwrap_or(0).saturating_sub(cosigned.unwrap_or(0)).max(0) as u64;
            }
            Ok(total)
        })
    }
}
