//! Reading records out of rows.

use crate::body_codec;
use crate::encryption::Keyring;
use flightrec_core::event::Status;
use flightrec_core::record::{Header, SALT_LEN, StoredRecord};
use rusqlite::Row;
use rusqlite::types::{Type, ValueRef};

/// The columns [`record_from_row`] reads, in its order.
pub const RECORD_COLUMNS: &str = "tenant, seq, id, time, received_at, type, run_id, span_id, \
     parent_span_id, status, body_hash, body, salt, v, submitted_by";

/// [`RECORD_COLUMNS`] with no body in its place, for readers of headers
/// alone (a log's entries): they neither unpack bodies nor stop at one
/// that does not unpack.
pub const HEADER_COLUMNS: &str = "tenant, seq, id, time, received_at, type, run_id, span_id, \
     parent_span_id, status, body_hash, NULL, salt, v, submitted_by";

/// The same columns qualified by the `records` table, for joins.
pub const QUALIFIED_RECORD_COLUMNS: &str = "records.tenant, records.seq, records.id, records.time, \
     records.received_at, records.type, records.run_id, records.span_id, records.parent_span_id, \
     records.status, records.body_hash, records.body, records.salt, records.v, \
     records.submitted_by";

pub fn record_from_row(row: &Row<'_>, keys: &Keyring) -> rusqlite::Result<StoredRecord> {
    let status: String = row.get(9)?;
    let status = Status::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            9,
            Type::Text,
            format!("unknown status {status:?}").into(),
        )
    })?;
    let salt: Option<Vec<u8>> = row.get(12)?;
    let salt = salt
        .map(|s| {
            <[u8; SALT_LEN]>::try_from(s.as_slice()).map_err(|_| {
                rusqlite::Error::FromSqlConversionFailure(
                    12,
                    Type::Blob,
                    format!("salt of {} bytes", s.len()).into(),
                )
            })
        })
        .transpose()?;
    let tenant: String = row.get(0)?;
    let seq = row.get::<_, i64>(1)? as u64;
    let body = body_at(row, 11, keys, &tenant, seq)?;
    // A crypto-shredded body reads as an erased one: without its salt.
    let salt = salt.filter(|_| body.is_some());
    Ok(StoredRecord {
        header: Header {
            version: row.get::<_, i64>(13)? as u64,
            tenant,
            seq,
            id: row.get(2)?,
            time: row.get(3)?,
            received_at: row.get(4)?,
            event_type: row.get(5)?,
            run_id: row.get(6)?,
            span_id: row.get(7)?,
            parent_span_id: row.get(8)?,
            status,
            submitted_by: row.get(14)?,
            body_hash: row.get(10)?,
        },
        body,
        salt,
    })
}

/// The body column `i` of record `seq` of `tenant` read to its JCS text;
/// `None` once erased or crypto-shredded.
pub fn body_at(
    row: &Row<'_>,
    i: usize,
    keys: &Keyring,
    tenant: &str,
    seq: u64,
) -> rusqlite::Result<Option<String>> {
    let stored = match row.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Blob(stored) | ValueRef::Text(stored) => Some(stored),
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                i,
                other.data_type(),
                format!("a body of type {}", other.data_type()).into(),
            ));
        }
    };
    body_codec::read_text(keys, tenant, seq, stored)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Blob, Box::new(e)))
}
