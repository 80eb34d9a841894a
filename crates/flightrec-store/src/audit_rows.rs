//! Rows as `verify` reads them, packed: the bodies of a chunk of rows in
//! one string, their other text columns in another, their blobs in a
//! buffer. A chunk is cleared and refilled rather than dropped, so reading
//! a million rows costs no allocation per column (the one thread that
//! reads them was verify's limit).
//!
//! Not here: reading rows ([`crate::LogStore::audit_rows`]) or checking
//! them ([`crate::verify`]).

use crate::body_codec::{BodyRead, Unpacker};
use crate::encryption::{Keyring, is_sealed};
use flightrec_core::event::Status;
use flightrec_core::record::{HeaderRef, SALT_LEN};

/// One stored record with what the store derived from it, borrowed from
/// its [`AuditRows`] (or, while a backend fills them, from its own row).
#[derive(Debug, Clone, Copy)]
pub struct AuditRow<'a> {
    pub header: HeaderRef<'a>,
    /// JCS(body) as stored; `None` once erased. Bytes, not yet checked to
    /// be UTF-8: `verify` checks that beside its hash, on every core,
    /// rather than on the one thread that reads the rows.
    pub body: Option<&'a [u8]>,
    pub salt: Option<&'a [u8; SALT_LEN]>,
    /// The leaf hash stored beside the record (what receipts gave out).
    pub leaf_hash: &'a [u8],
    /// The filter columns as stored, in
    /// [`flightrec_core::event::IndexColumns::NAMES`] order.
    pub index: [Option<&'a str>; 9],
    /// Set when the body is sealed and could not be opened here (`body`
    /// then holds it as stored). Backends leave it `None`;
    /// [`AuditRows::push`] sets it.
    pub unopened: Option<Unopened>,
}

/// Why a sealed body was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unopened {
    /// Its data key was destroyed (crypto-shredding).
    Shredded,
    /// This process has no master key for it.
    NoKey,
}

/// Where `agent_id` is in [`AuditRow::index`].
const AGENT_ID: usize = 1;

/// A chunk of rows, in the order they were pushed.
#[derive(Debug)]
pub struct AuditRows {
    /// Every text column but the body. Apart from the bodies, so that
    /// reading headers alone (as `header` and `agent_id` do) streams
    /// through a small buffer rather than skipping from body to body.
    text: String,
    bodies: Vec<u8>,
    blobs: Vec<u8>,
    rows: Vec<PackedRow>,
    max_rows: usize,
    max_bytes: usize,
    unpacker: Unpacker,
}

impl AuditRows {
    /// Room for `max_rows` rows, or fewer once they hold `max_bytes`: a
    /// chunk of large bodies stays small in memory.
    pub fn with_limits(max_rows: usize, max_bytes: usize) -> AuditRows {
        AuditRows {
            text: String::new(),
            bodies: Vec::new(),
            blobs: Vec::new(),
            rows: Vec::new(),
            max_rows,
            max_bytes,
            unpacker: Unpacker::new(),
        }
    }

    /// Empties it, keeping its buffers for the next chunk.
    pub fn clear(&mut self) {
        self.text.clear();
        self.bodies.clear();
        self.blobs.clear();
        self.rows.clear();
    }

    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// Whether a backend filling it should stop.
    pub fn is_full(&self) -> bool {
        self.rows.len() >= self.max_rows
            || self.text.len() + self.bodies.len() + self.blobs.len() >= self.max_bytes
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Copies `row` in after the others. Its body is as the store keeps it
    /// ([`crate::body_codec`]) and is unpacked here; one that does not
    /// unpack is kept as stored, for verify to find it does not match its
    /// hash and name the record, rather than stop at it.
    /// A sealed body is opened with `keys` first; one whose key was
    /// destroyed, or that `keys` cannot open, is kept as stored and marked
    /// [`AuditRow::unopened`].
    pub fn push(&mut self, row: AuditRow<'_>, keys: &Keyring) {
        let mut unopened = None;
        let text = &mut self.text;
        let h = &row.header;
        let packed = PackedRow {
            version: h.version,
            seq: h.seq,
            status: h.status,
            tenant: Span::keep(text, h.tenant),
            id: Span::keep(text, h.id),
            time: Span::keep(text, h.time),
            received_at: Span::keep(text, h.received_at),
            event_type: Span::keep(text, h.event_type),
            run_id: h.run_id.map(|s| Span::keep(text, s)),
            span_id: h.span_id.map(|s| Span::keep(text, s)),
            parent_span_id: h.parent_span_id.map(|s| Span::keep(text, s)),
            submitted_by: h.submitted_by.map(|s| Span::keep(text, s)),
            body_hash: Span::keep(text, h.body_hash),
            index: row.index.map(|column| column.map(|s| Span::keep(text, s))),
            body: row.body.map(|stored| {
                let start = self.bodies.len();
                let read = self
                    .unpacker
                    .read_into(keys, h.tenant, h.seq, stored, &mut self.bodies);
                match read {
                    Ok(BodyRead::Text) => {}
                    Ok(BodyRead::Shredded) => unopened = Some(Unopened::Shredded),
                    // A sealed body that names a key this process cannot
                    // unwrap; one that does not open with a key it has is
                    // damaged, and fails its hash like any other.
                    Err(crate::StoreError::Rejected(_)) if is_sealed(stored) => {
                        unopened = Some(Unopened::NoKey)
                    }
                    Err(_) => {}
                }
                if read.as_ref().map_or(true, |r| *r == BodyRead::Shredded) {
                    self.bodies.extend_from_slice(stored);
                }
                Span {
                    start,
                    end: self.bodies.len(),
                }
            }),
            salt: row.salt.copied(),
            leaf_hash: Span::keep_bytes(&mut self.blobs, row.leaf_hash),
            unopened: None,
        };
        let packed = PackedRow { unopened, ..packed };
        self.rows.push(packed);
    }

    /// The `i`th row. Panics past [`AuditRows::len`].
    pub fn get(&self, i: usize) -> AuditRow<'_> {
        let p = &self.rows[i];
        let text = |s: Span| self.text(s);
        AuditRow {
            header: self.header(i),
            body: p.body.map(|s| &self.bodies[s.start..s.end]),
            salt: p.salt.as_ref(),
            leaf_hash: &self.blobs[p.leaf_hash.start..p.leaf_hash.end],
            index: p.index.map(|column| column.map(text)),
            unopened: p.unopened,
        }
    }

    /// The `i`th row's header alone.
    pub fn header(&self, i: usize) -> HeaderRef<'_> {
        let p = &self.rows[i];
        let text = |s: Span| self.text(s);
        HeaderRef {
            version: p.version,
            tenant: text(p.tenant),
            seq: p.seq,
            id: text(p.id),
            time: text(p.time),
            received_at: text(p.received_at),
            event_type: text(p.event_type),
            run_id: p.run_id.map(text),
            span_id: p.span_id.map(text),
            parent_span_id: p.parent_span_id.map(text),
            status: p.status,
            submitted_by: p.submitted_by.map(text),
            body_hash: text(p.body_hash),
        }
    }

    /// The `i`th row's stored `agent_id` column alone (run summaries
    /// take it).
    pub fn agent_id(&self, i: usize) -> Option<&str> {
        self.rows[i].index[AGENT_ID].map(|s| self.text(s))
    }

    pub fn last(&self) -> Option<AuditRow<'_>> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    fn text(&self, s: Span) -> &str {
        &self.text[s.start..s.end]
    }
}

/// A row whose text and blobs are spans of its chunk's buffers.
#[derive(Debug)]
struct PackedRow {
    version: u64,
    seq: u64,
    status: Status,
    tenant: Span,
    id: Span,
    time: Span,
    received_at: Span,
    event_type: Span,
    run_id: Option<Span>,
    span_id: Option<Span>,
    parent_span_id: Option<Span>,
    submitted_by: Option<Span>,
    body_hash: Span,
    index: [Option<Span>; 9],
    /// In the chunk's bodies.
    body: Option<Span>,
    salt: Option<[u8; SALT_LEN]>,
    /// In the chunk's blobs, not its text.
    leaf_hash: Span,
    unopened: Option<Unopened>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn keep(text: &mut String, s: &str) -> Span {
        let start = text.len();
        text.push_str(s);
        Span {
            start,
            end: text.len(),
        }
    }

    fn keep_bytes(blobs: &mut Vec<u8>, b: &[u8]) -> Span {
        let start = blobs.len();
        blobs.extend_from_slice(b);
        Span {
            start,
            end: blobs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::event::IndexColumns;

    #[test]
    fn agent_id_is_where_the_index_names_it() {
        assert_eq!(IndexColumns::NAMES[AGENT_ID], "agent_id");
    }

    #[test]
    fn a_row_reads_back_as_it_was_pushed_and_clearing_keeps_nothing() {
        let salt = [9; SALT_LEN];
        let header = HeaderRef {
            version: 2,
            tenant: "acme",
            seq: 7,
            id: "e-1",
            time: "2026-11-22T10:00:00.000Z",
            received_at: "2026-11-22T10:00:01.000Z",
            event_type: "tool_call",
            run_id: Some("r"),
            span_id: None,
            parent_span_id: Some("p"),
            status: Status::Warn,
            submitted_by: Some("key:k"),
            body_hash: "ab",
        };
        let index = [
            Some("s"),
            Some("agent"),
            None,
            None,
            Some("file"),
            Some("x.rs"),
            None,
            Some("sandbox"),
            None,
        ];
        let mut rows = AuditRows::with_limits(2, 1 << 20);
        // Pushed as stored (compressed), read back as the JCS text.
        let stored = crate::body_codec::pack("{\"type\":\"tool_call\"}");
        for body in [Some(stored.as_slice()), None] {
            rows.push(
                AuditRow {
                    header,
                    body,
                    salt: body.map(|_| &salt),
                    leaf_hash: &[1, 2, 3],
                    index,
                    unopened: None,
                },
                &Keyring::default(),
            );
        }
        assert!(rows.is_full());
        let back = [rows.get(0), rows.get(1)];
        assert_eq!(back[0].header, header);
        assert_eq!(back[0].body, Some(&b"{\"type\":\"tool_call\"}"[..]));
        assert_eq!(back[0].salt, Some(&salt));
        assert_eq!(back[0].leaf_hash, &[1, 2, 3]);
        assert_eq!(back[0].index, index);
        assert_eq!(rows.agent_id(0), Some("agent"));
        assert_eq!(rows.header(1), header);
        assert_eq!((back[1].body, back[1].salt), (None, None));
        assert_eq!(rows.last().unwrap().header.seq, 7);
        rows.clear();
        assert!(rows.is_empty() && !rows.is_full() && rows.last().is_none());
    }
}
