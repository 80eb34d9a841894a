//! Checking each row on its own, on every core: its header against the
//! stored leaf hash, its body against `body_hash`, the query columns
//! against the body.

use crate::{AuditRow, AuditRows};
use flightrec_core::erasure::{ERASED_TYPE, KEYS_DESTROYED_TYPE, erased_seqs};
use flightrec_core::event::{Body, IndexColumns};
use flightrec_core::log::Hash;
use flightrec_core::record::body_digest;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one row holds, once checked.
pub(super) struct CheckedRow {
    pub leaf: Hash,
    /// Its body was erased.
    pub erased: bool,
    /// Its body is sealed and was not opened here (so not checked against
    /// its hash; the header, which holds that hash, is).
    pub unopened: Option<crate::audit_rows::Unopened>,
    /// The seqs it tells were erased, if it is flightrec's `log.erased`.
    pub tells_of_erasures: Vec<std::ops::RangeInclusive<u64>>,
    /// It is flightrec's `encryption.keys_destroyed`.
    pub tells_of_shredding: bool,
}

/// [`check_row`] for every row, spread over the machine's cores. The
/// threads take small parts of the chunk in turn rather than a share each:
/// one the system lends to other work for a while holds none up.
pub(super) fn check_rows_in_parallel(rows: &AuditRows) -> Vec<Result<CheckedRow, String>> {
    const PART: usize = 256;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(PART, Ordering::Relaxed);
            if start >= rows.len() {
                return done;
            }
            let part = start..(start + PART).min(rows.len());
            done.push((
                start,
                part.map(|i| check_row(rows.get(i))).collect::<Vec<_>>(),
            ));
        }
    };
    let mut parts = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = work();
        for helper in helpers {
            parts.extend(helper.join().expect("a verify worker panicked"));
        }
        parts
    });
    parts.sort_unstable_by_key(|(start, _)| *start);
    parts.into_iter().flat_map(|(_, checked)| checked).collect()
}

/// Checks one row on its own: body against `body_hash`, derived columns
/// against the body, the header against the stored leaf hash.
fn check_row(row: AuditRow<'_>) -> Result<CheckedRow, String> {
    let header = &row.header;
    let leaf = header.leaf_hash();
    if leaf.0.as_slice() != row.leaf_hash {
        return Err(
            "the header does not hash to the stored leaf hash (a header column was changed)".into(),
        );
    }
    if row.unopened.is_some() {
        return Ok(CheckedRow {
            leaf,
            erased: false,
            unopened: row.unopened,
            tells_of_erasures: Vec::new(),
            tells_of_shredding: false,
        });
    }
    let (body, salt) = match (row.body, row.salt) {
        (Some(body), Some(salt)) => (body, salt),
        (None, None) => {
            return Ok(CheckedRow {
                leaf,
                erased: true,
                unopened: None,
                tells_of_erasures: Vec::new(),
                tells_of_shredding: false,
            });
        }
        _ => return Err("only one of body and salt is present".into()),
    };
    // Compared as hex, either case, as decoding the stored hash would.
    let mut digest_hex = [0u8; 64];
    hex::encode_to_slice(body_digest(salt, body), &mut digest_hex)
        .expect("32 bytes are 64 hex digits");
    let hash_ok = header
        .body_hash
        .as_bytes()
        .eq_ignore_ascii_case(&digest_hex);
    if !hash_ok {
        return Err("the body (or its salt) does not hash to body_hash".into());
    }
    // The body hashes to what was sealed, so it is the body ingest
    // validated; what is left to check is that the query columns were
    // derived from it. Only their fields are read, borrowed.
    let body = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let derived: IndexedFields<'_> =
        serde_json::from_str(body).map_err(|e| format!("the body is not an event body: {e}"))?;
    let stored = IndexColumns::NAMES.into_iter().zip(row.index);
    for ((name, stored), derived) in stored.zip(derived.columns()) {
        let derived = derived.map(|c| c.as_ref());
        if stored != derived {
            return Err(format!(
                "the query column `{name}` holds {stored:?} but the body says {derived:?}"
            ));
        }
    }
    // Only flightrec's own word counts: a client may record any type.
    let tells_of_erasures =
        if header.event_type == ERASED_TYPE && header.submitted_by == Some("flightrec") {
            let parsed: Body = serde_json::from_str(body)
                .map_err(|e| format!("the body is not an event body: {e}"))?;
            erased_seqs(&parsed).unwrap_or_default()
        } else {
            Vec::new()
        };
    let tells_of_shredding =
        header.event_type == KEYS_DESTROYED_TYPE && header.submitted_by == Some("flightrec");
    Ok(CheckedRow {
        leaf,
        erased: false,
        unopened: None,
        tells_of_erasures,
        tells_of_shredding,
    })
}

/// The fields of a body the query columns come from, borrowed where the
/// JSON needs no unescaping; every other field is skipped unread. It must
/// derive exactly what `IndexColumns::of` does (a test holds them equal).
#[derive(serde::Deserialize)]
struct IndexedFields<'a> {
    #[serde(borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    agent_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    actor: Option<ActorFields<'a>>,
    #[serde(borrow, default)]
    resource: Option<ResourceFields<'a>>,
    #[serde(borrow, default)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    provider: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    governance: Option<GovernanceFields<'a>>,
}

#[derive(serde::Deserialize)]
struct ActorFields<'a> {
    #[serde(borrow, rename = "type")]
    actor_type: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    email: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct ResourceFields<'a> {
    #[serde(borrow, rename = "type")]
    resource_type: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct GovernanceFields<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
}

impl<'a> IndexedFields<'a> {
    /// The columns in `IndexColumns::named`'s order.
    fn columns(&self) -> [Option<&Cow<'a, str>>; 9] {
        [
            self.session_id.as_ref(),
            self.agent_id.as_ref(),
            self.actor
                .as_ref()
                .map(|a| a.email.as_ref().unwrap_or(&a.id)),
            self.actor.as_ref().map(|a| &a.actor_type),
            self.resource.as_ref().map(|r| &r.resource_type),
            self.resource.as_ref().map(|r| &r.id),
            self.verb.as_ref().or(self.tool.as_ref()),
            self.provider.as_ref(),
            self.governance.as_ref().map(|g| &g.status),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::event::IndexColumns;
    use serde_json::json;

    #[test]
    fn the_borrowed_fields_derive_what_index_columns_do() {
        let at = flightrec_core::event::parse_time("2026-11-22T10:00:00Z").unwrap();
        for event in [
            json!({"type": "x"}),
            json!({"type": "tool_call", "tool": "bash", "session_id": "s\\\"1", "agent_id": "a",
                   "actor": {"type": "human", "id": "u1", "email": "a@b.c"},
                   "resource": {"type": "file", "id": "src/\u{e9}.rs"}, "provider": "p",
                   "governance": {"status": "blocked", "policy": "x"}, "input": {"k": [1, 2]}}),
            json!({"type": "tool_call", "verb": "v", "tool": "t",
                   "actor": {"type": "agent", "id": "bot"}}),
        ] {
            let e = flightrec_core::event::parse_event(
                event,
                at,
                &flightrec_core::event::Limits::default(),
                || "id".into(),
            )
            .unwrap();
            let expected = IndexColumns::of(&e.body);
            let fields: IndexedFields<'_> = serde_json::from_str(&e.canonical_body).unwrap();
            let got: Vec<Option<&str>> = fields
                .columns()
                .iter()
                .map(|c| c.map(|c| c.as_ref()))
                .collect();
            let want: Vec<Option<&str>> = expected.named().iter().map(|(_, v)| *v).collect();
            assert_eq!(got, want);
        }
    }
}
