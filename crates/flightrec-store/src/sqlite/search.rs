//! Free-text search: FTS5 over the text each record's body yields.
//!
//! Indexing happens after the append commits, in bounded chunks, so the hot
//! path never pays for it; `index_search` is called by the server whenever
//! the writer is idle (at most a few hundred milliseconds behind).
//!
//! A body sealed at rest is indexed as the blind tokens of its words
//! ([`crate::encryption::SearchKey`]), never the words.

use crate::StoreError;
use crate::body_codec::{self, Searchable};
use crate::encryption::{DataKey, Keyring};
use crate::words::words_only;
use flightrec_core::event::search_text;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;

/// Registers `flightrec_search_text(type, body, tenant, seq)`, the function
/// the `records_search` view derives its text with.
pub fn register_functions(conn: &Connection, keys: &Arc<Keyring>) -> rusqlite::Result<()> {
    let keys = keys.clone();
    conn.create_scalar_function(
        "flightrec_search_text",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let event_type: String = ctx.get(0)?;
            let tenant: String = ctx.get(2)?;
            let seq: i64 = ctx.get(3)?;
            indexed_text(&keys, &tenant, seq as u64, &event_type, ctx.get_raw(1))
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        },
    )
}

/// The text the index holds for a record: the words of its type and body,
/// or, for a body sealed at rest, their blind tokens.
pub fn indexed_text(
    keys: &Keyring,
    tenant: &str,
    seq: u64,
    event_type: &str,
    stored: ValueRef<'_>,
) -> Result<String, StoreError> {
    let stored = match stored {
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Some(bytes),
        _ => None,
    };
    Ok(match body_codec::searchable(keys, tenant, seq, stored)? {
        Searchable::Plain(jcs) => text_of(event_type, Some(&jcs)),
        Searchable::Sealed { jcs, key } => key
            .search_key()
            .blind_words(&words_only(&text_of(event_type, Some(&jcs)))),
        Searchable::Nothing => text_of(event_type, None),
    })
}

/// The search text of a record with this type and (canonical) body.
pub fn text_of(event_type: &str, body: Option<&str>) -> String {
    let value = body
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    search_text(event_type, &value)
}

/// Indexes up to `max` records not yet indexed, in one transaction.
pub fn index_pending(
    conn: &mut Connection,
    keys: &Keyring,
    max: usize,
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    keys.note_destroyed(&super::data_keys::destroyed(&tx)?);
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
            "SELECT rowid, type, body, tenant, seq FROM records WHERE rowid > ?1 \
             ORDER BY rowid LIMIT ?2",
        )?;
        let mut insert =
            tx.prepare_cached("INSERT INTO records_fts (rowid, text) VALUES (?1, ?2)")?;
        let mut rows = select.query(params![done, max as i64])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let event_type: String = row.get(1)?;
            let tenant: String = row.get(3)?;
            let seq: i64 = row.get(4)?;
            let text = indexed_text(keys, &tenant, seq as u64, &event_type, row.get_ref(2)?)?;
            insert.execute(params![rowid, text])?;
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
/// nothing in it is read as FTS5 syntax. Given the tenant's data keys, a
/// word also matches as the phrase of its blind tokens under each, so that
/// bodies sealed at rest are found too.
pub fn match_expression(q: &str, blind: &[Arc<DataKey>]) -> Option<String> {
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let terms: Vec<String> = q
        .split_whitespace()
        .map(|t| {
            let words = words_only(t);
            if blind.is_empty() || words.trim().is_empty() {
                return quote(t);
            }
            let alternatives: Vec<String> = std::iter::once(quote(t))
                .chain(
                    blind
                        .iter()
                        .map(|key| quote(&key.search_key().blind_words(&words))),
                )
                .collect();
            format!("({})", alternatives.join(" OR "))
        })
        .collect();
    // FTS5 reads two phrases side by side as AND, but not a group beside
    // a phrase: that AND is written out.
    let and = if blind.is_empty() { " " } else { " AND " };
    (!terms.is_empty()).then(|| terms.join(and))
}

#[cfg(test)]
mod tests {
    use super::match_expression;
    use crate::encryption::DataKey;
    use std::sync::Arc;

    #[test]
    fn user_text_is_quoted_word_by_word() {
        assert_eq!(match_expression("  ", &[]), None);
        assert_eq!(
            match_expression("refund AND \"x", &[]),
            Some(r#""refund" "AND" """x""#.into())
        );
    }

    #[test]
    fn with_data_keys_a_word_also_matches_as_its_blind_tokens() {
        let key = Arc::new(DataKey::new(1, &[3; 32]));
        let blind = key.search_key();
        let expected = format!(
            "(\"Order-1234\" OR \"{} {}\") AND \"\"\"\"",
            blind.token("order"),
            blind.token("1234")
        );
        assert_eq!(
            match_expression("Order-1234 \"", std::slice::from_ref(&key)),
            Some(expected)
        );
    }
}
