//! Reading rows for `verify`: each column is borrowed from SQLite's row
//! and copied once, into the caller's [`AuditRows`].
//!
//! A snapshot's rows are read on connections of the pool rather than
//! through the snapshot's one connection, so that several threads can read
//! at once. Those connections see the store as it is now, not as it was at
//! the snapshot, but a stored row can change in only two ways (the
//! schema's triggers allow no other) and both are undone here: rows
//! appended since are left out (none past the snapshot's last `seq` is
//! read), and a body erased since is read again through the snapshot.

use super::rows::RECORD_COLUMNS;
use super::{SqliteStore, heads};
use crate::encryption::Keyring;
use crate::{AuditRow, AuditRows, StoreError};
use flightrec_core::event::{IndexColumns, Status};
use flightrec_core::record::{HeaderRef, SALT_LEN};
use rusqlite::types::{FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::ops::Range;
use std::sync::Mutex;

impl SqliteStore {
    pub(super) fn read_audit_rows(
        &self,
        tenant: &str,
        seqs: Range<u64>,
        into: &mut AuditRows,
    ) -> Result<(), StoreError> {
        into.clear();
        let Some(snapshot) = &self.snapshot else {
            return self.read(|conn| read_rows(conn, tenant, seqs, into, None, &self.keyring));
        };
        let size = self.read(|conn| heads::log_size(conn, tenant))?;
        let seqs = seqs.start..seqs.end.min(size);
        self.read_pooled(|conn| read_rows(conn, tenant, seqs, into, Some(snapshot), &self.keyring))
    }
}

/// Reads the rows in `seqs` into `into`; with a `snapshot`, each row
/// without a body is read again through it, which may still have one.
fn read_rows(
    conn: &Connection,
    tenant: &str,
    seqs: Range<u64>,
    into: &mut AuditRows,
    snapshot: Option<&Mutex<Connection>>,
    keys: &Keyring,
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(&audit_query())?;
    let mut rows = stmt.query(params![
        tenant,
        seqs.start as i64,
        seqs.end as i64,
        into.max_rows() as i64
    ])?;
    while !into.is_full()
        && let Some(row) = rows.next()?
    {
        let row = audit_row(row)?;
        match snapshot {
            Some(snapshot) if row.body.is_none() => {
                let seq = row.header.seq;
                // Left out if the snapshot has no such row: verify then
                // names it missing, as it was.
                let snapshot = snapshot.lock().unwrap_or_else(|p| p.into_inner());
                snapshot
                    .prepare_cached(&audit_query())?
                    .query_row(params![tenant, seq as i64, seq as i64 + 1, 1], |r| {
                        into.push(audit_row(r)?, keys);
                        Ok(())
                    })
                    .optional()?;
            }
            _ => into.push(row, keys),
        }
    }
    Ok(())
}

/// Up to ?4 rows of tenant ?1 with a `seq` in [?2, ?3), in `seq` order.
fn audit_query() -> String {
    format!(
        "SELECT {RECORD_COLUMNS}, leaf_hash, {} FROM records \
         WHERE tenant = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq LIMIT ?4",
        IndexColumns::NAMES.join(", ")
    )
}

/// The row, in the columns `read_audit_rows` selects, borrowed.
fn audit_row<'r>(row: &'r Row<'_>) -> rusqlite::Result<AuditRow<'r>> {
    let status = text(row, 9)?;
    let status = Status::parse(status)
        .ok_or_else(|| conversion_failure(row, 9, format!("unknown status {status:?}")))?;
    let salt = blob_or_null(row, 12)?
        .map(|salt| {
            <&[u8; SALT_LEN]>::try_from(salt)
                .map_err(|_| conversion_failure(row, 12, format!("salt of {} bytes", salt.len())))
        })
        .transpose()?;
    let mut index = [None; 9];
    for (i, column) in index.iter_mut().enumerate() {
        *column = text_or_null(row, 16 + i)?;
    }
    Ok(AuditRow {
        header: HeaderRef {
            version: row.get::<_, i64>(13)? as u64,
            tenant: text(row, 0)?,
            seq: row.get::<_, i64>(1)? as u64,
            id: text(row, 2)?,
            time: text(row, 3)?,
            received_at: text(row, 4)?,
            event_type: text(row, 5)?,
            run_id: text_or_null(row, 6)?,
            span_id: text_or_null(row, 7)?,
            parent_span_id: text_or_null(row, 8)?,
            status,
            submitted_by: text_or_null(row, 14)?,
            body_hash: text(row, 10)?,
        },
        body: stored_body(row, 11)?,
        salt,
        leaf_hash: blob(row, 15)?,
        index,
        unopened: None,
    })
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    borrow(row, i, |v| v.as_str())
}

fn text_or_null<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    borrow(row, i, |v| v.as_str_or_null())
}

/// The body column's bytes as stored, left for [`AuditRows::push`] to
/// unpack.
fn stored_body<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r [u8]>> {
    borrow(row, i, |v| match v {
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Ok(Some(bytes)),
        ValueRef::Null => Ok(None),
        _ => Err(FromSqlError::InvalidType),
    })
}

fn blob<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r [u8]> {
    borrow(row, i, |v| v.as_blob())
}

fn blob_or_null<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r [u8]>> {
    borrow(row, i, |v| v.as_blob_or_null())
}

/// Column `i` as `read` borrows it, with the error `Row::get` would give.
fn borrow<'r, T>(
    row: &'r Row<'_>,
    i: usize,
    read: impl FnOnce(ValueRef<'r>) -> FromSqlResult<T>,
) -> rusqlite::Result<T> {
    let value = row.get_ref(i)?;
    read(value).map_err(|e| match e {
        FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
            i,
            row.as_ref().column_name(i).unwrap_or("?").to_owned(),
            value.data_type(),
        ),
        FromSqlError::Utf8Error(e) => rusqlite::Error::Utf8Error(i, e),
        other => rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(other)),
    })
}

fn conversion_failure(row: &Row<'_>, i: usize, why: String) -> rusqlite::Error {
    let found = row
        .get_ref(i)
        .map_or(rusqlite::types::Type::Null, |v| v.data_type());
    rusqlite::Error::FromSqlConversionFailure(i, found, why.into())
}
