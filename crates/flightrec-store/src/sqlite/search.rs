//! Free-text search: FTS5 over the text each record's body yields.
//!
//! Indexing happens after the append commits, in bounded chunks, so the hot
//! path never pays for it; `index_search` is called by the server whenever
//! the writer is idle (at most a few hundred milliseconds behind).

use crate::{StoreError, body_codec};
use flightrec_core::event::search_text;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

/// Registers `flightrec_search_text(type, body)`, the function the
/// `records_search` view derives its text with.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "flightrec_search_text",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let event_type: String = ctx.get(0)?;
            let body = searchable_body(ctx.get_raw(1));
            Ok(text_of(&event_type, body.as_deref()))
        },
    )
}

/// A body column's text for the index ([`body_codec::searchable_text`]).
pub fn searchable_body(stored: ValueRef<'_>) -> Option<String> {
    match stored {
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => body_codec::searchable_text(Some(bytes)),
        _ => None,
    }
}

/// The search text of a record with this type and (canonical) body.
pub fn text_of(event_type: &str, body: Option<&str>) -> String {
    let value = body
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    search_text(event_type, &value)
}

/// Indexes up to `max` records not yet indexed, in one transaction.
pub fn index_pending(conn: &mut Connection, max: usize) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let done: i64 = tx
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'search_indexed_rowid'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut last = done;
    let mut count = 0;
    {
        let mut select = tx.prepare_cached(
            "SELECT rowid, type, body FROM records WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?;
        let mut insert =
            tx.prepare_cached("INSERT INTO records_fts (rowid, text) VALUES (?1, ?2)")?;
        let mut rows = select.query(params![done, max as i64])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let event_type: String = row.get(1)?;
            let body = searchable_body(row.get_ref(2)?);
            insert.execute(params![rowid, text_of(&event_type, body.as_deref())])?;
            last = rowid;
            count += 1;
        }
    }
    if count > 0 {
        tx.execute(
            "UPDATE store_meta SET value = ?1 WHERE key = 'search_indexed_rowid'",
            [last.to_string()],
        )?;
        tx.commit()?;
    }
    Ok(count)
}

/// Asks FTS5 to compare its index with the text the records yield now.
pub fn integrity_problem(conn: &Connection) -> Result<Option<String>, StoreError> {
    // `rank = 1` makes FTS5 also read the content (our view) and compare.
    match conn.execute(
        "INSERT INTO records_fts (records_fts, rank) VALUES ('integrity-check', 1)",
        [],
    ) {
        Ok(_) => Ok(None),
        Err(rusqlite::Error::SqliteFailure(f, msg))
            if f.code == rusqlite::ErrorCode::DatabaseCorrupt =>
        {
            Ok(Some(format!(
                "the free-text index does not match the records ({})",
                msg.unwrap_or_default()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Turns what a person typed into an FTS5 query: every word must occur, and
/// nothing in it is read as FTS5 syntax.
pub fn match_expression(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split_whitespace()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::match_expression;

    #[test]
    fn user_text_is_quoted_word_by_word() {
        assert_eq!(match_expression("  "), None);
        assert_eq!(
            match_expression("refund AND \"x"),
            Some(r#""refund" "AND" """x""#.into())
        );
    }
}
