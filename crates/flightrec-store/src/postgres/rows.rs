//! Reading records out of rows.

use crate::encryption::Keyring;
use crate::{StoreError, body_codec};
use flightrec_core::event::Status;
use flightrec_core::record::{Header, HeaderRef, SALT_LEN, StoredRecord};
use postgres::Row;

/// The columns [`record_from_row`] reads, in its order.
pub const RECORD_COLUMNS: &str = "tenant, seq, id, time, received_at, type, run_id, span_id, \
     parent_span_id, status, body_hash, body, salt, v, submitted_by";

/// [`RECORD_COLUMNS`] with no body in its place, for readers of headers
/// alone (a log's entries): they neither unpack bodies nor stop at one
/// that does not unpack.
pub const HEADER_COLUMNS: &str = "tenant, seq, id, time, received_at, type, run_id, span_id, \
     parent_span_id, status, body_hash, NULL::bytea, salt, v, submitted_by";

/// The same columns qualified by the `records` table, for joins.
pub const QUALIFIED_RECORD_COLUMNS: &str = "records.tenant, records.seq, records.id, records.time, \
     records.received_at, records.type, records.run_id, records.span_id, records.parent_span_id, \
     records.status, records.body_hash, records.body, records.salt, records.v, \
     records.submitted_by";

pub fn record_from_row(row: &Row, keys: &Keyring) -> Result<StoredRecord, StoreError> {
    let status: String = row.try_get(9)?;
    let status = Status::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("a record has unknown status {status:?}")))?;
    let salt: Option<Vec<u8>> = row.try_get(12)?;
    let salt = salt
        .map(|s| {
            <[u8; SALT_LEN]>::try_from(s.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("a salt of {} bytes", s.len())))
        })
        .transpose()?;
    let tenant: String = row.try_get(0)?;
    let seq = row.try_get::<_, i64>(1)? as u64;
    let body = body_codec::read_text(keys, &tenant, seq, row.try_get(11)?)?;
    // A crypto-shredded body reads as an erased one: without its salt.
    let salt = salt.filter(|_| body.is_some());
    Ok(StoredRecord {
        header: Header {
            version: row.try_get::<_, i64>(13)? as u64,
            tenant,
            seq,
            id: row.try_get(2)?,
            time: row.try_get(3)?,
            received_at: row.try_get(4)?,
            event_type: row.try_get(5)?,
            run_id: row.try_get(6)?,
            span_id: row.try_get(7)?,
            parent_span_id: row.try_get(8)?,
            status,
            submitted_by: row.try_get(14)?,
            body_hash: row.try_get(10)?,
        },
        body,
        salt,
    })
}

/// The row, in the columns `read_audit_rows` selects, borrowed.
pub fn audit_row(row: &Row) -> Result<crate::AuditRow<'_>, StoreError> {
    let status: &str = row.try_get(9)?;
    let status = Status::parse(status)
        .ok_or_else(|| StoreError::Corrupt(format!("a record has unknown status {status:?}")))?;
    let salt: Option<&[u8]> = row.try_get(12)?;
    let salt = salt
        .map(|s| {
            <&[u8; SALT_LEN]>::try_from(s)
                .map_err(|_| StoreError::Corrupt(format!("a salt of {} bytes", s.len())))
        })
        .transpose()?;
    let mut index = [None; 9];
    for (i, column) in index.iter_mut().enumerate() {
        *column = row.try_get(16 + i)?;
    }
    Ok(crate::AuditRow {
        header: HeaderRef {
            version: row.try_get::<_, i64>(13)? as u64,
            tenant: row.try_get(0)?,
            seq: row.try_get::<_, i64>(1)? as u64,
            id: row.try_get(2)?,
            time: row.try_get(3)?,
            received_at: row.try_get(4)?,
            event_type: row.try_get(5)?,
            run_id: row.try_get(6)?,
            span_id: row.try_get(7)?,
            parent_span_id: row.try_get(8)?,
            status,
            submitted_by: row.try_get(14)?,
            body_hash: row.try_get(10)?,
        },
        // As stored: `AuditRows::push` unpacks it.
        body: row.try_get(11)?,
        salt,
        leaf_hash: row.try_get(15)?,
        index,
        unopened: None,
    })
}

/// Reads every row with `map`.
pub fn collect<T>(
    rows: Vec<Row>,
    map: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(map).collect()
}
