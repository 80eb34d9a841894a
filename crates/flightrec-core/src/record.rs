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

use crate::event::{Body, Event, IndexColumns, Status, format_time};
use crate::jcs;
use crate::log::hash::{Hash, leaf_hash};
use rand::RngCore;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The version of the header format, `v` in every header.
pub const RECORD_VERSION: u64 = 1;

/// The length of the per-record salt.
pub const SALT_LEN: usize = 32;

/// A header's fields in the order its JSON lists them.
#[derive(Serialize)]
struct HeaderFields<'a> {
    v: u64,
    tenant: &'a str,
    seq: u64,
    id: &'a str,
    time: &'a str,
    received_at: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<&'a str>,
    status: &'a str,
    body_hash: &'a str,
}

/// The hashed part of a record; its JCS form is the Merkle leaf input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
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
    /// Hex SHA-256 of `salt ‖ JCS(body)`.
    pub body_hash: String,
}

impl Header {
    /// The header as a JSON object. Absent optional fields are left out
    /// rather than written as `null`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.fields()).expect("headers serialise")
    }

    /// The header's JSON, as [`Header::to_json`] writes it, appended to
    /// `out` without building a value first (exports write millions).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, &self.fields()).expect("headers serialise");
    }

    fn fields(&self) -> HeaderFields<'_> {
        HeaderFields {
            v: RECORD_VERSION,
            tenant: &self.tenant,
            seq: self.seq,
            id: &self.id,
            time: &self.time,
            received_at: &self.received_at,
            event_type: &self.event_type,
            run_id: self.run_id.as_deref(),
            span_id: self.span_id.as_deref(),
            parent_span_id: self.parent_span_id.as_deref(),
            status: self.status.as_str(),
            body_hash: &self.body_hash,
        }
    }

    /// Reads a header back from its JSON form, strictly: every field of the
    /// right type, nothing unknown, the version we know.
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
            "body_hash",
        ];
        if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("header has an unknown field `{k}`"));
        }
        if m.get("v").and_then(Value::as_u64) != Some(RECORD_VERSION) {
            return Err(format!("header `v` must be {RECORD_VERSION}"));
        }
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
        Ok(Header {
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
            body_hash: text("body_hash")?,
        })
    }

    /// The Merkle leaf input: JCS(header).
    ///
    /// Written directly, members in JCS order, because it is on the ingest
    /// hot path; a test holds it equal to `jcs::to_vec(&self.to_json())`.
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
        member(&mut out, "body_hash", Some(&self.body_hash));
        member(&mut out, "id", Some(&self.id));
        member(&mut out, "parent_span_id", self.parent_span_id.as_deref());
        member(&mut out, "received_at", Some(&self.received_at));
        member(&mut out, "run_id", self.run_id.as_deref());
        out.push_str(&format!(",\"seq\":{}", self.seq));
        member(&mut out, "span_id", self.span_id.as_deref());
        member(&mut out, "status", Some(self.status.as_str()));
        member(&mut out, "tenant", Some(&self.tenant));
        member(&mut out, "time", Some(&self.time));
        member(&mut out, "type", Some(&self.event_type));
        out.push_str(&format!(",\"v\":{RECORD_VERSION}}}"));
        out.into_bytes()
    }

    /// SHA-256(0x00 ‖ leaf input).
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.leaf_input())
    }
}

/// Hex SHA-256(`salt` ‖ `canonical_body`).
pub fn body_hash(salt: &[u8], canonical_body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(canonical_body);
    hex::encode(h.finalize())
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
    /// JCS(body): the exact bytes `body_hash` covers.
    pub body: String,
    pub salt: [u8; SALT_LEN],
    pub body_hash: String,
    pub index: IndexColumns,
}

impl SealedEvent {
    /// Seals `event` with a fresh random salt.
    pub fn seal(event: &Event) -> SealedEvent {
        let mut salt = [0u8; SALT_LEN];
        rand::thread_rng().fill_bytes(&mut salt);
        Self::seal_with_salt(event, salt)
    }

    /// Seals `event` with the given salt; for tests and reproducible fixtures.
    pub fn seal_with_salt(event: &Event, salt: [u8; SALT_LEN]) -> SealedEvent {
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
            body_hash: body_hash(&salt, body.as_bytes()),
            body,
            salt,
            index: IndexColumns::of(&event.body),
        }
    }

    /// The header this event gets at `seq` in `tenant`'s log.
    pub fn header(&self, tenant: &str, seq: u64) -> Header {
        Header {
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

    fn event(v: Value) -> Event {
        let at = crate::event::parse_time("2026-11-22T10:00:00Z").unwrap();
        parse_event(v, at, &Limits::default(), || "generated".into()).unwrap()
    }

    #[test]
    fn header_json_leaves_out_absent_fields_and_is_canonical() {
        let sealed =
            SealedEvent::seal_with_salt(&event(json!({"type": "start", "run_id": "r1"})), [7; 32]);
        let header = sealed.header("default", 3);
        let text = String::from_utf8(header.leaf_input()).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"body_hash":"{}","id":"generated","received_at":"2026-11-22T10:00:00.000000Z","run_id":"r1","seq":3,"status":"ok","tenant":"default","time":"2026-11-22T10:00:00.000000Z","type":"start","v":1}}"#,
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
                SealedEvent::seal_with_salt(&event(v), [5; 32]).header("t\u{e9}n", 12_345);
            assert_eq!(header.leaf_input(), jcs::to_vec(&header.to_json()));
            // Escapes too, though ingest refuses control characters in names.
            header.id = "line\nbreak\u{1}\\".into();
            assert_eq!(header.leaf_input(), jcs::to_vec(&header.to_json()));
        }
    }

    #[test]
    fn body_hash_covers_salt_and_canonical_body() {
        let sealed = SealedEvent::seal_with_salt(&event(json!({"type": "thinking"})), [0; 32]);
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(sealed.body.as_bytes());
        assert_eq!(sealed.body_hash, hex::encode(h.finalize()));
        // A different salt hides the same body behind a different hash.
        let other = SealedEvent::seal_with_salt(&event(json!({"type": "thinking"})), [1; 32]);
        assert_eq!(sealed.body, other.body);
        assert_ne!(sealed.body_hash, other.body_hash);
    }

    #[test]
    fn leaf_hash_is_rfc9162_leaf_of_the_header() {
        let sealed = SealedEvent::seal_with_salt(&event(json!({"type": "start"})), [2; 32]);
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
}
