//! The record: what one event becomes once it has a place in a tenant's log
//! (DESIGN §4).
//!
//! A record is a *header* (the fields that identify and order it, plus
//! `body_hash`) and a *body* (everything else). The Merkle leaf is the JCS
//! form of the header, so the body can later be erased (GDPR) without
//! breaking a single proof: its salted hash stays behind and reveals nothing.
//!
//! Not here: where records are kept, or the tree over their leaves
//! ([`crate::log`]).

use crate::event::{Body, Event, IndexColumns, Measures, Status, format_time};
use crate::jcs;
use crate::log::hash::{Hash, leaf_hash};
use rand::RngCore;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The version of the header format new records get, `v` in every header.
///
/// - `1`: the first format.
/// - `2`: adds `submitted_by`, the provenance the server attests.
///
/// Records keep the version they were written with, and every version
/// verifies as it was written.
pub const RECORD_VERSION: u64 = 2;

/// The first version whose headers carry `submitted_by`.
pub const PROVENANCE_VERSION: u64 = 2;

/// Who really sent a record, as the server saw it (`submitted_by`). Unlike
/// a record's `actor`, which a client may claim freely, this is set by the
/// server from the credential of the request, and it is hashed into the
/// leaf, so nobody can change it afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubmittedBy {
    /// Sent with this API key (its id).
    Key(String),
    /// Sent by this signed-in person (their user id), e.g. from the dashboard.
    User(String),
    /// Written by flightrec itself: admin actions, bootstrap, erasures,
    /// retention.
    Flightrec,
}

impl SubmittedBy {
    /// Reads `key:<id>`, `user:<id>` or `flightrec`.
    pub fn parse(text: &str) -> Option<SubmittedBy> {
        let id_ok = |id: &str| !id.is_empty() && !id.chars().any(char::is_control);
        match text.split_once(':') {
            _ if text == "flightrec" => Some(SubmittedBy::Flightrec),
            Some(("key", id)) if id_ok(id) => Some(SubmittedBy::Key(id.to_owned())),
            Some(("user", id)) if id_ok(id) => Some(SubmittedBy::User(id.to_owned())),
            _ => None,
        }
    }

    /// Whether flightrec wrote the record itself.
    pub fn is_flightrec(&self) -> bool {
        *self == SubmittedBy::Flightrec
    }
}

impl std::fmt::Display for SubmittedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmittedBy::Key(id) => write!(f, "key:{id}"),
            SubmittedBy::User(id) => write!(f, "user:{id}"),
            SubmittedBy::Flightrec => f.write_str("flightrec"),
        }
    }
}

/// The length of the per-record salt.
pub const SALT_LEN: usize = 32;

/// A header whose fields are borrowed from wherever they are kept (a row
/// of the store, say), so a verifier can hash millions without copying
/// them. Its JSON and its leaf are [`Header`]'s: the fields are serialised
/// in the order the header's JSON lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeaderRef<'a> {
    #[serde(rename = "v")]
    pub version: u64,
    pub tenant: &'a str,
    pub seq: u64,
    pub id: &'a str,
    pub time: &'a str,
    pub received_at: &'a str,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<&'a str>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<&'a str>,
    pub body_hash: &'a str,
}

impl HeaderRef<'_> {
    /// The Merkle leaf input: JCS(header).
    ///
    /// Written directly, members in JCS order, because it is on the ingest
    /// hot path; a test holds it equal to `jcs::to_vec(&header.to_json())`.
    pub fn leaf_input(&self) -> Vec<u8> {
        fn member(out: &mut String, name: &str, value: Option<&str>) {
            if let Some(v) = value {
                out.push(if out.is_empty() { '{' } else { ',' });
                jcs::write_string(out, name);
                out.push(':');
                jcs::write_string(out, v);
            }
        }
        let mut out = String::with_capacity(320);
        member(&mut out, "body_hash", Some(self.body_hash));
        member(&mut out, "id", Some(self.id));
        member(&mut out, "parent_span_id", self.parent_span_id);
        member(&mut out, "received_at", Some(self.received_at));
        member(&mut out, "run_id", self.run_id);
        write!(out, ",\"seq\":{}", self.seq).expect("writing to a String");
        member(&mut out, "span_id", self.span_id);
        member(&mut out, "status", Some(self.status.as_str()));
        member(&mut out, "submitted_by", self.submitted_by);
        member(&mut out, "tenant", Some(self.tenant));
        member(&mut out, "time", Some(self.time));
        member(&mut out, "type", Some(self.event_type));
        write!(out, ",\"v\":{}}}", self.version).expect("writing to a String");
        out.into_bytes()
    }

    /// SHA-256(0x00 ‖ leaf input).
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.leaf_input())
    }
}

/// The hashed part of a record; its JCS form is the Merkle leaf input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version the record was written with (`v`).
    pub version: u64,
    pub tenant: String,
    pub seq: u64,
    pub id: String,
    /// Normalised by [`format_time`].
    pub time: String,
    pub received_at: String,
    pub event_type: String,
    pub run_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub status: Status,
    /// `key:<id>`, `user:<id>` or `flightrec`, from version 2 on; `None` in
    /// version 1 headers.
    pub submitted_by: Option<String>,
    /// Hex SHA-256 of `salt ‖ JCS(body)`.
    pub body_hash: String,
}

impl Header {
    /// The header as a JSON object. Absent optional fields are left out
    /// rather than written as `null`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.borrowed()).expect("headers serialise")
    }

    /// The header's JSON, as [`Header::to_json`] writes it, appended to
    /// `out` without building a value first (exports write millions).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, &self.borrowed()).expect("headers serialise");
    }

    /// The same header, borrowed.
    pub fn borrowed(&self) -> HeaderRef<'_> {
        HeaderRef {
            version: self.version,
            tenant: &self.tenant,
            seq: self.seq,
            id: &self.id,
            time: &self.time,
            received_at: &self.received_at,
            event_type: &self.event_type,
            run_id: self.run_id.as_deref(),
            span_id: self.span_id.as_deref(),
            parent_span_id: self.parent_span_id.as_deref(),
            status: self.status,
            submitted_by: self.submitted_by.as_deref(),
            body_hash: &self.body_hash,
        }
    }

    /// Reads a header back from its JSON form, strictly: every field of the
    /// right type, nothing unknown, a version we know with exactly its
    /// fields (`submitted_by` in version 2, not in version 1).
    pub fn from_json(value: &Value) -> Result<Header, String> {
        let Value::Object(m) = value else {
            return Err("header must be a JSON object".into());
        };
        let known = [
            "v",
            "tenant",
            "seq",
            "id",
            "time",
            "received_at",
            "type",
            "run_id",
            "span_id",
            "parent_span_id",
            "status",
            "submitted_by",
            "body_hash",
        ];
        if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("header has an unknown field `{k}`"));
        }
        let version = m
            .get("v")
            .and_then(Value::as_u64)
            .filter(|v| (1..=RECORD_VERSION).contains(v))
            .ok_or_else(|| format!("header `v` must be a version from 1 to {RECORD_VERSION}"))?;
        let text = |name: &str| -> Result<String, String> {
            m.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("header `{name}` must be a string"))
        };
        let optional = |name: &str| -> Result<Option<String>, String> {
            match m.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("header `{name}` must be a string")),
            }
        };
        let status = text("status")?;
        let submitted_by = optional("submitted_by")?;
        match (&submitted_by, version >= PROVENANCE_VERSION) {
            (None, true) => {
                return Err(format!(
                    "a version {version} header must have `submitted_by`"
                ));
            }
            (Some(_), false) => {
                return Err(format!("a version {version} header has no `submitted_by`"));
            }
            (Some(s), true) if SubmittedBy::parse(s).is_none() => {
                return Err(format!(
                    "header `submitted_by` {s:?} is not key:<id>, user:<id> or flightrec"
                ));
            }
            _ => {}
        }
        Ok(Header {
            version,
            tenant: text("tenant")?,
            seq: m
                .get("seq")
                .and_then(Value::as_u64)
                .ok_or("header `seq` must be a non-negative integer")?,
            id: text("id")?,
            time: text("time")?,
            received_at: text("received_at")?,
            event_type: text("type")?,
            run_id: optional("run_id")?,
            span_id: optional("span_id")?,
            parent_span_id: optional("parent_span_id")?,
            status: Status::parse(&status)
                .ok_or_else(|| format!("header `status` {status:?} is not ok, fail or warn"))?,
            submitted_by,
            body_hash: text("body_hash")?,
        })
    }

    /// The Merkle leaf input: JCS(header); see [`HeaderRef::leaf_input`].
    pub fn leaf_input(&self) -> Vec<u8> {
        self.borrowed().leaf_input()
    }

    /// SHA-256(0x00 ‖ leaf input).
    pub fn leaf_hash(&self) -> Hash {
        self.borrowed().leaf_hash()
    }
}

/// Hex SHA-256(`salt` ‖ `canonical_body`).
pub fn body_hash(salt: &[u8], canonical_body: &[u8]) -> String {
    hex::encode(body_digest(salt, canonical_body))
}

/// SHA-256(`salt` ‖ `canonical_body`), as bytes: what `body_hash` spells
/// in hex, for a verifier that compares millions of them.
pub fn body_digest(salt: &[u8], canonical_body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(canonical_body);
    h.finalize().into()
}

/// An event made ready for the log: body canonicalised, salted and hashed,
/// query columns derived. Only the tenant and `seq` are missing, and the
/// sequencer supplies them inside its transaction.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub id: String,
    pub time: String,
    pub received_at: String,
    pub event_type: String,
    pub run_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub status: Status,
    /// Who sent it, as the server saw it.
    pub submitted_by: SubmittedBy,
    /// JCS(body): the exact bytes `body_hash` covers.
    pub body: String,
    pub salt: [u8; SALT_LEN],
    pub body_hash: String,
    pub index: IndexColumns,
    pub measures: Measures,
}

impl SealedEvent {
    /// Seals `event`, sent by `submitted_by`, with a fresh random salt.
    pub fn seal(event: &Event, submitted_by: SubmittedBy) -> SealedEvent {
        let mut salt = [0u8; SALT_LEN];
        rand::thread_rng().fill_bytes(&mut salt);
        Self::seal_with_salt(event, submitted_by, salt)
    }

    /// Seals `event` with the given salt; for tests and reproducible fixtures.
    pub fn seal_with_salt(
        event: &Event,
        submitted_by: SubmittedBy,
        salt: [u8; SALT_LEN],
    ) -> SealedEvent {
        let body = event.canonical_body.clone();
        SealedEvent {
            id: event.id.clone(),
            time: format_time(&event.time),
            received_at: format_time(&event.received_at),
            event_type: event.event_type.clone(),
            run_id: event.run_id.clone(),
            span_id: event.span_id.clone(),
            parent_span_id: event.parent_span_id.clone(),
            status: event.status,
            submitted_by,
            body_hash: body_hash(&salt, body.as_bytes()),
            body,
            salt,
            index: IndexColumns::of(&event.body),
            measures: Measures::of(&event.body),
        }
    }

    /// The header this event gets at `seq` in `tenant`'s log, in the
    /// current format.
    pub fn header(&self, tenant: &str, seq: u64) -> Header {
        Header {
            version: RECORD_VERSION,
            tenant: tenant.to_owned(),
            seq,
            id: self.id.clone(),
            time: self.time.clone(),
            received_at: self.received_at.clone(),
            event_type: self.event_type.clone(),
            run_id: self.run_id.clone(),
            span_id: self.span_id.clone(),
            parent_span_id: self.parent_span_id.clone(),
            status: self.status,
            submitted_by: Some(self.submitted_by.to_string()),
            body_hash: self.body_hash.clone(),
        }
    }
}

/// What ingest answers: enough to ask for an inclusion proof later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Receipt {
    pub id: String,
    pub seq: u64,
    /// Hex SHA-256 leaf hash.
    pub leaf_hash: String,
}

/// A record as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub header: Header,
    /// JCS(body); `None` once erased.
    pub body: Option<String>,
    pub salt: Option<[u8; SALT_LEN]>,
}

/// A record in the event shape every response uses: canonical names, header
/// and body fields side by side.
#[derive(Debug, Serialize)]
pub struct EventView<'a> {
    pub id: &'a str,
    pub seq: u64,
    pub time: &'a str,
    pub received_at: &'a str,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<&'a str>,
    pub status: Status,
    /// Who really sent it (record format 2 on); absent on older records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<&'a str>,
    #[serde(flatten)]
    pub body: Option<Body>,
    /// True when the body was erased and only the header remains.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

impl StoredRecord {
    /// The body, parsed. `Ok(None)` when erased; an error means the stored
    /// body is not a body this version wrote.
    pub fn parsed_body(&self) -> Result<Option<Body>, serde_json::Error> {
        self.body.as_deref().map(serde_json::from_str).transpose()
    }

    /// The record as a canonical event.
    pub fn to_event_json(&self) -> Result<Value, serde_json::Error> {
        let body = self.parsed_body()?;
        let h = &self.header;
        serde_json::to_value(EventView {
            id: &h.id,
            seq: h.seq,
            time: &h.time,
            received_at: &h.received_at,
            event_type: &h.event_type,
            run_id: h.run_id.as_deref(),
            span_id: h.span_id.as_deref(),
            parent_span_id: h.parent_span_id.as_deref(),
            status: h.status,
            submitted_by: h.submitted_by.as_deref(),
            erased: body.is_none(),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Limits, parse_event};
    use serde_json::json;

    fn key() -> SubmittedBy {
        SubmittedBy::Key("k1".into())
    }

    fn event(v: Value) -> Event {
        let at = crate::event::parse_time("2026-11-22T10:00:00Z").unwrap();
        parse_event(v, at, &Limits::default(), || "generated".into()).unwrap()
    }

    #[test]
    fn header_json_leaves_out_absent_fields_and_is_canonical() {
        let sealed = SealedEvent::seal_with_salt(
            &event(json!({"type": "start", "run_id": "r1"})),
            key(),
            [7; 32],
        );
        let header = sealed.header("default", 3);
        let text = String::from_utf8(header.leaf_input()).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"body_hash":"{}","id":"generated","received_at":"2026-11-22T10:00:00.000000Z","run_id":"r1","seq":3,"status":"ok","submitted_by":"key:k1","tenant":"default","time":"2026-11-22T10:00:00.000000Z","type":"start","v":2}}"#,
                sealed.body_hash
            )
        );
        assert_eq!(Header::from_json(&header.to_json()).unwrap(), header);
        let mut written = Vec::new();
        header.write_json(&mut written);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            header.to_json().to_string(),
            "both forms write the same JSON"
        );
    }

    #[test]
    fn the_fast_leaf_input_is_the_jcs_of_the_header() {
        let full = json!({"type": "a\"b", "run_id": "r", "span_id": "s", "parent_span_id": "p"});
        for v in [
            full,
            json!({"type": "start"}),
            json!({"type": "x", "span_id": "only"}),
        ] {
            let mut header =
                SealedEvent::seal_with_salt(&event(v), key(), [5; 32]).header("t\u{e9}n", 12_345);
            assert_eq!(header.leaf_input(), jcs::to_vec(&header.to_json()));
            // Escapes too, though ingest refuses control characters in names.
            header.id = "line\nbreak\u{1}\\".into();
            assert_eq!(header.leaf_input(), jcs::to_vec(&header.to_json()));
        }
    }

    #[test]
    fn body_hash_covers_salt_and_canonical_body() {
        let sealed =
            SealedEvent::seal_with_salt(&event(json!({"type": "thinking"})), key(), [0; 32]);
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(sealed.body.as_bytes());
        assert_eq!(sealed.body_hash, hex::encode(h.finalize()));
        // A different salt hides the same body behind a different hash.
        let other =
            SealedEvent::seal_with_salt(&event(json!({"type": "thinking"})), key(), [1; 32]);
        assert_eq!(sealed.body, other.body);
        assert_ne!(sealed.body_hash, other.body_hash);
    }

    #[test]
    fn leaf_hash_is_rfc9162_leaf_of_the_header() {
        let sealed = SealedEvent::seal_with_salt(&event(json!({"type": "start"})), key(), [2; 32]);
        let header = sealed.header("t", 0);
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(header.leaf_input());
        assert_eq!(header.leaf_hash().as_bytes(), &h.finalize()[..]);
    }

    #[test]
    fn stored_record_renders_the_canonical_event() {
        let sealed = SealedEvent::seal_with_salt(
            &event(json!({"action": "tool_call", "agentId": "a1", "args": {"x": 1}})),
            key(),
            [3; 32],
        );
        let record = StoredRecord {
            header: sealed.header("default", 9),
            body: Some(sealed.body.clone()),
            salt: Some(sealed.salt),
        };
        let v = record.to_event_json().unwrap();
        assert_eq!(v["seq"], 9);
        assert_eq!(v["type"], "tool_call");
        assert_eq!(v["agent_id"], "a1");
        assert_eq!(v["input"], json!({"x": 1}));
        assert!(v.get("erased").is_none());
        let erased = StoredRecord {
            body: None,
            salt: None,
            ..record
        };
        assert_eq!(erased.to_event_json().unwrap()["erased"], true);
    }

    #[test]
    fn version_1_headers_read_and_hash_as_they_were_written() {
        // A header of the fixture store (record format 1), as written then.
        let text = r#"{"body_hash":"00","id":"e-1","received_at":"2026-11-22T10:00:00.000000Z","seq":0,"status":"ok","tenant":"default","time":"2026-11-22T10:00:00.000000Z","type":"start","v":1}"#;
        let header = Header::from_json(&serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(header.version, 1);
        assert_eq!(header.submitted_by, None);
        assert_eq!(header.leaf_input(), text.as_bytes());
        assert_eq!(jcs::to_vec(&header.to_json()), text.as_bytes());
    }

    #[test]
    fn each_version_has_exactly_its_fields() {
        let sealed = SealedEvent::seal_with_salt(&event(json!({"type": "start"})), key(), [1; 32]);
        let v2 = sealed.header("default", 0).to_json();
        let mut without = v2.clone();
        without.as_object_mut().unwrap().remove("submitted_by");
        assert!(
            Header::from_json(&without)
                .unwrap_err()
                .contains("must have `submitted_by`")
        );
        let mut v1_with = v2.clone();
        v1_with["v"] = json!(1);
        assert!(
            Header::from_json(&v1_with)
                .unwrap_err()
                .contains("has no `submitted_by`")
        );
        let mut future = v2.clone();
        future["v"] = json!(3);
        assert!(
            Header::from_json(&future)
                .unwrap_err()
                .contains("from 1 to 2")
        );
        let mut forged = v2;
        forged["submitted_by"] = json!("admin");
        assert!(
            Header::from_json(&forged)
                .unwrap_err()
                .contains("not key:<id>")
        );
    }

    #[test]
    fn submitted_by_reads_what_it_writes() {
        for s in [
            SubmittedBy::Key("0193-abc".into()),
            SubmittedBy::User("u-1".into()),
            SubmittedBy::Flightrec,
        ] {
            assert_eq!(SubmittedBy::parse(&s.to_string()), Some(s));
        }
        for bad in [
            "",
            "key:",
            "user:",
            "flightrec:x",
            "root",
            "key:a\nb",
            "KEY:x",
        ] {
            assert_eq!(SubmittedBy::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn provenance_is_part_of_the_leaf() {
        let e = event(json!({"type": "key.revoked"}));
        let by_key = SealedEvent::seal_with_salt(&e, key(), [4; 32]).header("t", 0);
        let by_us = SealedEvent::seal_with_salt(&e, SubmittedBy::Flightrec, [4; 32]).header("t", 0);
        assert_ne!(by_key.leaf_hash(), by_us.leaf_hash());
    }
}
