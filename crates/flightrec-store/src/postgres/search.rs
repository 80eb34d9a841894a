//! Free-text search: PostgreSQL full text (a `tsvector` per record, GIN
//! indexed) over the text each record's body yields.
//!
//! The same `q` semantics as SQLite's FTS5 with the `unicode61` tokenizer:
//! text is cut into runs of letters and digits and lower-cased, here, in
//! Rust (so the database's locale plays no part), and every word of `q`
//! must occur, a word such as `order-1234` as the phrase `order 1234`.
//! Documented differences: accents are kept (`café` does not find `cafe`),
//! a word with no letter or digit is ignored rather than matching nothing,
//! and only the first 256 KiB of a record's text is indexed (a tsvector
//! holds at most 1 MB).
//!
//! The `tsvector` of a record and the `tsquery` of a search are written
//! out here too, never parsed by `to_tsvector`: the database's text parser
//! costs about three times as much as reading the written form back (it
//! was most of what indexing cost), and index and query then cut words the
//! same way whatever the database's locale.
//!
//! Indexing happens after the append commits, by `index_search`, so the hot
//! path never pays for it; nodes index different tenants at once (each
//! tenant's progress row is taken `FOR UPDATE SKIP LOCKED`).

use super::PgStore;
use super::query::Conditions;
use crate::StoreError;
use crate::body_codec::{self, Searchable};
use crate::encryption::{DataKey, Keyring};
use crate::words::words_only;
use flightrec_core::event::search_text;
use postgres::GenericClient;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// The most text indexed per record, in bytes.
const MAX_INDEXED_TEXT: usize = 256 * 1024;

/// Records compared per statement when checking the index.
const CHECK_CHUNK: i64 = 1000;

/// What a `tsvector` holds, as PostgreSQL's own `to_tsvector` would have
/// made it: words of 2,047 bytes or more are left out, positions stop at
/// 16,383, and a word keeps at most 255 of them.
const MAX_WORD_BYTES: usize = 2_047;
const MAX_POSITION: u16 = 16_383;
const MAX_POSITIONS: usize = 255;

/// The text of a record as the index sees it: letters and digits, lower
/// case, everything else a space.
pub fn indexed_text(event_type: &str, body: Option<&str>) -> String {
    let value = body
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    let mut text = words_only(&search_text(event_type, &value));
    truncate_text(&mut text);
    text
}

fn truncate_text(text: &mut String) {
    if text.len() > MAX_INDEXED_TEXT {
        let mut end = MAX_INDEXED_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// [`indexed_text`] of the record `seq` of `tenant` as stored: for a body
/// sealed at rest, the blind tokens of its words.
pub fn record_text(
    keys: &Keyring,
    tenant: &str,
    seq: u64,
    event_type: &str,
    stored: Option<&[u8]>,
) -> Result<String, StoreError> {
    Ok(match body_codec::searchable(keys, tenant, seq, stored)? {
        Searchable::Plain(jcs) => indexed_text(event_type, Some(&jcs)),
        Searchable::Sealed { jcs, key } => {
            let mut blind = key
                .search_key()
                .blind_words(&indexed_text(event_type, Some(&jcs)));
            // Whole tokens only: a cut one would be a token of no word.
            truncate_text(&mut blind);
            if let Some(space) = blind.rfind(' ').filter(|_| blind.len() == MAX_INDEXED_TEXT) {
                blind.truncate(space);
            }
            blind
        }
        Searchable::Nothing => indexed_text(event_type, None),
    })
}

/// The words of an indexed text that a `tsvector` keeps.
fn lexemes(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace().filter(|w| w.len() < MAX_WORD_BYTES)
}

/// The `tsvector` of an indexed text, in PostgreSQL's input form:
/// `'word':1,4 'other':2`, each word with the positions it has.
pub fn document(text: &str) -> String {
    let mut positions: HashMap<&str, Vec<u16>> = HashMap::new();
    for (i, word) in lexemes(text).enumerate() {
        let at = u16::try_from(i + 1)
            .unwrap_or(MAX_POSITION)
            .min(MAX_POSITION);
        let kept = positions.entry(word).or_default();
        if kept.len() < MAX_POSITIONS && kept.last().is_none_or(|&last| last < at) {
            kept.push(at);
        }
    }
    let mut out = String::with_capacity(text.len() + positions.len() * 4);
    for (word, at) in positions {
        // Letters and digits only: nothing in a word needs escaping.
        let _ = write!(out, "'{word}':");
        for (n, p) in at.iter().enumerate() {
            let _ = write!(out, "{}{p}", if n == 0 { "" } else { "," });
        }
        out.push(' ');
    }
    out
}

/// The `tsquery` that finds a word of a search as a phrase of its parts
/// (`order-1234` → `'order' <-> '1234'`), or `None` if it has none.
fn phrase(word: &str) -> Option<String> {
    let text = words_only(word);
    let parts: Vec<String> = lexemes(&text).map(|w| format!("'{w}'")).collect();
    (!parts.is_empty()).then(|| parts.join(" <-> "))
}

/// Narrows `c` (records of `tenant`) to records whose text holds every word
/// of `q`; given the tenant's data keys, a word also matches as the phrase
/// of its blind tokens under each, so bodies sealed at rest are found too.
pub(super) fn push_match(c: &mut Conditions, tenant: &str, q: &str, blind: &[Arc<DataKey>]) {
    let words: Vec<String> = q
        .split_whitespace()
        .filter_map(|word| {
            let plain = phrase(word)?;
            if blind.is_empty() {
                return Some(plain);
            }
            let words = words_only(word);
            let alternatives: Vec<String> = std::iter::once(plain)
                .chain(
                    blind
                        .iter()
                        .filter_map(|key| phrase(&key.search_key().blind_words(&words))),
                )
                .map(|p| format!("({p})"))
                .collect();
            Some(alternatives.join(" | "))
        })
        .collect();
    if words.is_empty() {
        return;
    }
    let n = c.add_param(words);
    // The tenant as a parameter, not `records.tenant`: a subquery correlated
    // with the outer row ran once per record, walking the whole log for a
    // rare word (minutes at a million records); uncorrelated, it is joined.
    let t = c.add_param(tenant.to_owned());
    c.push_sql(&format!(
        "records.seq IN (SELECT seq FROM record_search WHERE tenant = ${t} \
           AND document @@ (SELECT flightrec_every_word(w::tsquery) \
                            FROM unnest(${n}::text[]) AS w))"
    ));
}

impl PgStore {
    /// Indexes up to `max` records not yet indexed, tenant by tenant.
    pub(super) fn index_pending(&self, max: usize) -> Result<usize, StoreError> {
        self.refuse_writes_if_snapshot()?;
        self.with_client(|conn| {
            let behind: Vec<String> = conn
                .query(
                    "SELECT h.tenant FROM log_heads h LEFT JOIN search_progress p USING (tenant) \
                     WHERE h.size > coalesce(p.indexed_size, 0) ORDER BY h.tenant",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut done = 0;
            for tenant in behind {
                if done >= max {
                    break;
                }
                done += index_tenant(conn, &self.keyring, &tenant, max - done)?;
            }
            Ok(done)
        })
    }

    /// Compares the index with the records it was built from, in one
    /// snapshot.
    pub(super) fn search_index_problem(&self) -> Result<Option<String>, StoreError> {
        self.read_consistently(|tx| {
            let progress: Vec<(String, i64)> = tx
                .query(
                    "SELECT tenant, indexed_size FROM search_progress ORDER BY tenant",
                    &[],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            for (tenant, indexed) in progress {
                if let Some(problem) = tenant_index_problem(tx, &self.keyring, &tenant, indexed)? {
                    return Ok(Some(format!(
                        "the free-text index does not match the records: tenant {tenant:?}: {problem}"
                    )));
                }
            }
            Ok(None)
        })
    }
}

/// Indexes up to `max` of one tenant's records, unless another node is
/// indexing that tenant right now.
fn index_tenant(
    conn: &mut postgres::Client,
    keys: &Keyring,
    tenant: &str,
    max: usize,
) -> Result<usize, StoreError> {
    conn.execute(
        "INSERT INTO search_progress (tenant, indexed_size) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        &[&tenant],
    )?;
    let mut tx = conn.transaction()?;
    let Some(progress) = tx.query_opt(
        "SELECT indexed_size FROM search_progress WHERE tenant = $1 FOR UPDATE SKIP LOCKED",
        &[&tenant],
    )?
    else {
        return Ok(0);
    };
    let from: i64 = progress.get(0);
    // Keys destroyed by another node a moment ago open nothing more here.
    keys.note_destroyed(&super::data_keys::destroyed(&mut tx, tenant)?);
    // Committed records of a tenant are always a gapless prefix of its log.
    let rows = tx.query(
        "SELECT seq, type, body FROM records WHERE tenant = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        &[&tenant, &from, &(max as i64)],
    )?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let next: i64 = last.get::<_, i64>(0) + 1;
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let documents = documents_of(keys, tenant, &rows)?;
    tx.execute(
        "INSERT INTO record_search (tenant, seq, document) \
         SELECT $1, s, d::tsvector FROM unnest($2::bigint[], $3::text[]) AS x (s, d)",
        &[&tenant, &seqs, &documents],
    )?;
    tx.execute(
        "UPDATE search_progress SET indexed_size = $2 WHERE tenant = $1",
        &[&tenant, &next],
    )?;
    tx.commit()?;
    Ok(seqs.len())
}

/// The `tsvector` of each row of `seq, type, body`.
fn documents_of(
    keys: &Keyring,
    tenant: &str,
    rows: &[postgres::Row],
) -> Result<Vec<String>, StoreError> {
    rows.iter()
        .map(|r| {
            let seq: i64 = r.get(0);
            Ok(document(&record_text(
                keys,
                tenant,
                seq as u64,
                r.get(1),
                r.get(2),
            )?))
        })
        .collect()
}

/// What is wrong with one tenant's part of the index, if anything.
fn tenant_index_problem(
    tx: &mut impl GenericClient,
    keys: &Keyring,
    tenant: &str,
    indexed: i64,
) -> Result<Option<String>, StoreError> {
    let row = tx.query_one(
        "SELECT count(*) FILTER (WHERE seq < $2), count(*) FILTER (WHERE seq >= $2) \
         FROM record_search WHERE tenant = $1",
        &[&tenant, &indexed],
    )?;
    let (inside, beyond): (i64, i64) = (row.get(0), row.get(1));
    if inside != indexed || beyond != 0 {
        return Ok(Some(format!(
            "{inside} entries for {indexed} indexed records, {beyond} beyond them"
        )));
    }
    let mut from = 0;
    while from < indexed {
        let rows = tx.query(
            "SELECT seq, type, body FROM records WHERE tenant = $1 AND seq >= $2 AND seq < $3 \
             ORDER BY seq",
            &[&tenant, &from, &(from + CHECK_CHUNK).min(indexed)],
        )?;
        let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let documents = documents_of(keys, tenant, &rows)?;
        let differs = tx.query_opt(
            "SELECT x.seq FROM unnest($2::bigint[], $3::text[]) AS x (seq, document) \
             LEFT JOIN record_search s ON s.tenant = $1 AND s.seq = x.seq \
             WHERE s.document IS DISTINCT FROM x.document::tsvector \
             ORDER BY x.seq LIMIT 1",
            &[&tenant, &seqs, &documents],
        )?;
        if let Some(row) = differs {
            let seq: i64 = row.get(0);
            return Ok(Some(format!(
                "the entry of record {seq} is not the text of the record"
            )));
        }
        from += CHECK_CHUNK;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::{document, phrase};
    use crate::conformance::postgres::TestDatabase;
    use crate::words::words_only;

    #[test]
    fn only_letters_and_digits_remain_in_lower_case() {
        assert_eq!(words_only("Order-1234, ÉTÉ!"), "order 1234  été ");
        assert_eq!(words_only("\"unbalanced OR ("), " unbalanced or  ");
    }

    /// The documents written here are exactly what the database's own
    /// `to_tsvector('simple', …)` makes of the same text (which is how every
    /// index before this form was built, so older indexes still verify),
    /// at the edges too: repeated words, long words, very long texts.
    #[test]
    fn written_documents_equal_what_to_tsvector_makes() {
        let db = TestDatabase::create();
        let mut conn = db.connect();
        let texts = [
            String::new(),
            words_only("Order-1234 failed: café ÉTÉ 東京, v1.2.3 0x1F 1e10 naïve"),
            words_only(&"lorem ipsum dolor ".repeat(400)),
            format!("short {} tail", "w".repeat(3000)),
            format!("a {} b", "é".repeat(1023)),
            (0..20_000).map(|i| format!("w{} ", i % 7)).collect(),
            (0..17_000).map(|i| format!("u{i} ")).collect(),
        ];
        for text in &texts {
            let row = conn
                .query_one(
                    "SELECT $1::text::tsvector = to_tsvector('simple', $2), \
                            $1::text::tsvector::text, to_tsvector('simple', $2)::text",
                    &[&document(text), text],
                )
                .unwrap();
            let (same, ours, theirs): (bool, String, String) = (row.get(0), row.get(1), row.get(2));
            assert!(
                same,
                "{:.200}…\nours:   {ours:.300}\ntheirs: {theirs:.300}",
                text
            );
        }
    }

    /// A search word is the phrase `phraseto_tsquery` made of its words.
    #[test]
    fn written_phrases_equal_what_phraseto_tsquery_makes() {
        let db = TestDatabase::create();
        let mut conn = db.connect();
        for word in ["order-1234", "Café", "a.b.c", "x"] {
            let ours = phrase(word).unwrap();
            let row = conn
                .query_one(
                    "SELECT $1::text::tsquery = phraseto_tsquery('simple', $2)",
                    &[&ours, &words_only(word)],
                )
                .unwrap();
            assert!(row.get::<_, bool>(0), "{word}: {ours}");
        }
        assert_eq!(phrase("--"), None);
    }
}
