//! From incoming JSON, in any accepted shape, to a canonical [`Event`].
//!
//! Aliases (DESIGN §3) are folded into canonical names first; then every
//! field is checked, and all problems are reported together, each naming its
//! field, so a client can fix a request in one go. Fields flightrec does not
//! know are kept under `metadata` rather than dropped.

use super::limits::{Limits, MAX_ID_CHARS, MAX_NAME_CHARS};
use super::time::{parse_time, time_from_epoch_millis};
use super::types::*;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::fmt;

/// One thing wrong with one field of an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Everything wrong with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "`{}` {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Canonical name ← the other names ingest accepts for it.
const ALIASES: &[(&str, &[&str])] = &[
    ("id", &["execution_id"]),
    ("time", &["timestamp"]),
    ("type", &["action"]),
    ("run_id", &["traceId", "trace_id"]),
    ("span_id", &["spanId"]),
    ("parent_span_id", &["parentSpanId"]),
    ("agent_id", &["agentId"]),
    ("governance", &["governance_status"]),
    ("input", &["args", "prompt"]),
    ("output", &["result", "response"]),
];

/// Fields only the server sets.
const SERVER_FIELDS: &[&str] = &["seq", "received_at", "redactions", "credential_masked"];

/// Validates and normalises one incoming event.
///
/// `received_at` is the server's clock at arrival; `new_id` is called only
/// when the client did not choose an id.
pub fn parse_event(
    value: Value,
    received_at: DateTime<Utc>,
    limits: &Limits,
    new_id: impl FnOnce() -> String,
) -> Result<Event, ValidationError> {
    let mut errors = Vec::new();
    let Value::Object(raw) = value else {
        return Err(ValidationError {
            errors: vec![FieldError {
                field: "(event)".into(),
                message: format!("must be a JSON object, not {}", kind_of(&value)),
            }],
        });
    };
    let mut fields = fold_aliases(raw, &mut errors);
    // Before anything is read, hashed or kept: no credential gets past here.
    let mut redactions = Vec::new();
    crate::mask::mask_object("", &mut fields, &mut redactions);
    let mut f = Fields {
        map: &mut fields,
        errors: &mut errors,
    };

    for name in SERVER_FIELDS {
        if f.map.remove(*name).is_some() {
            f.error(name, "is set by the server and cannot be sent");
        }
    }

    let id = f.string("id", MAX_ID_CHARS);
    let time = f.time("time");
    let explicit_type = f.string("type", MAX_NAME_CHARS);
    let run_id = f.string("run_id", MAX_NAME_CHARS);
    let span_id = f.string("span_id", MAX_NAME_CHARS);
    let parent_span_id = f.string("parent_span_id", MAX_NAME_CHARS);
    let status = f.enumeration("status", Status::parse, "ok, fail or warn");

    let mut body = Body {
        session_id: f.string("session_id", MAX_NAME_CHARS),
        agent_id: f.string("agent_id", MAX_NAME_CHARS),
        actor: f.actor(),
        resource: f.resource(),
        verb: f.string("verb", MAX_NAME_CHARS),
        tool: f.string("tool", MAX_NAME_CHARS),
        provider: f.string("provider", MAX_NAME_CHARS),
        risk_level: f.enumeration(
            "risk_level",
            RiskLevel::parse,
            "low, medium, high or critical",
        ),
        governance: f.governance(),
        dry_run: f.flag("dry_run"),
        idempotent: f.flag("idempotent"),
        idempotency_hit: f.flag("idempotency_hit"),
        duration_ms: f.duration(),
        input: f.any("input"),
        output: f.any("output"),
        error: f.error_info(),
        message: f.text("message"),
        content: f.text("content"),
        metadata: f.object("metadata"),
        credential_masked: !redactions.is_empty(),
        redactions,
    };

    let event_type = match explicit_type {
        Some(t) => Some(t),
        None if body.verb.is_some() || body.tool.is_some() => Some("tool_call".to_owned()),
        None => {
            if !f.errors.iter().any(|e| e.field == "type") {
                f.error(
                    "type",
                    "is required (or send `verb`/`tool` for a tool_call)",
                );
            }
            None
        }
    };

    // Whatever is left is not ours to interpret: keep it, under metadata.
    let leftovers = std::mem::take(f.map);
    if !leftovers.is_empty() {
        let metadata = body.metadata.get_or_insert_with(Map::new);
        for (key, value) in leftovers {
            if metadata.contains_key(&key) {
                errors.push(FieldError {
                    message: format!(
                        "is not an event field and `metadata.{key}` is already set; send it in metadata only"
                    ),
                    field: key,
                });
            } else {
                metadata.insert(key, value);
            }
        }
    }

    if !errors.is_empty() {
        return Err(ValidationError { errors });
    }
    let event_type = event_type.expect("checked above");
    let status = status.unwrap_or(if event_type == "error" {
        Status::Fail
    } else {
        Status::Ok
    });
    let mut event = Event {
        id: id.unwrap_or_else(new_id),
        time: time.unwrap_or(received_at),
        received_at,
        event_type,
        run_id,
        span_id,
        parent_span_id,
        status,
        body: std::mem::take(&mut body),
        canonical_body: String::new(),
    };
    event.canonicalise();
    let size = event_size(&event);
    if size > limits.max_event_bytes {
        return Err(ValidationError {
            errors: vec![FieldError {
                field: "(event)".into(),
                message: format!(
                    "is {size} bytes; the limit is {} bytes",
                    limits.max_event_bytes
                ),
            }],
        });
    }
    Ok(event)
}

/// The size an event is held to: its canonical body plus its header fields.
fn event_size(event: &Event) -> usize {
    event.canonical_body.len()
        + event.id.len()
        + event.event_type.len()
        + [&event.run_id, &event.span_id, &event.parent_span_id]
            .iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + 128
}

fn fold_aliases(raw: Map<String, Value>, errors: &mut Vec<FieldError>) -> Map<String, Value> {
    let mut out = Map::new();
    // (canonical name, the name the client used), for the few fields that
    // have aliases.
    let mut source: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in raw {
        let canonical = ALIASES
            .iter()
            .find(|(name, aliases)| *name == key || aliases.contains(&key.as_str()))
            .map(|(name, _)| *name);
        if let Some(name) = canonical {
            if let Some((_, first)) = source.iter().find(|(n, _)| *n == name) {
                errors.push(FieldError {
                    message: format!("and `{first}` both set `{name}`; send only one"),
                    field: key,
                });
                continue;
            }
            source.push((name, key.clone()));
        }
        let target = canonical.map_or(key.clone(), str::to_owned);
        let value = match (key.as_str(), value) {
            // The flat `governance_status: "approved"` form.
            ("governance_status", Value::String(s)) => {
                let mut g = Map::new();
                g.insert("status".into(), Value::String(s));
                Value::Object(g)
            }
            (_, v) => v,
        };
        out.insert(target, value);
    }
    out
}

/// What kind of JSON a value is, for error messages ("a string").
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Takes fields out of the map one by one, recording what is wrong.
struct Fields<'a> {
    map: &'a mut Map<String, Value>,
    errors: &'a mut Vec<FieldError>,
}

impl Fields<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// A present, non-null value.
    fn take(&mut self, name: &str) -> Option<Value> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn string(&mut self, name: &str, max_chars: usize) -> Option<String> {
        let v = self.take(name)?;
        match check_name(&v, max_chars) {
            Ok(s) => Some(s),
            Err(msg) => {
                self.error(name, msg);
                None
            }
        }
    }

    fn text(&mut self, name: &str) -> Option<String> {
        match self.take(name)? {
            Value::String(s) => Some(s),
            other => {
                self.error(name, format!("must be a string, not {}", kind_of(&other)));
                None
            }
        }
    }

    fn any(&mut self, name: &str) -> Option<Value> {
        self.take(name)
    }

    fn flag(&mut self, name: &str) -> bool {
        match self.take(name) {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                self.error(
                    name,
                    format!("must be true or false, not {}", kind_of(&other)),
                );
                false
            }
        }
    }

    fn object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.take(name)? {
            Value::Object(m) => Some(m),
            other => {
                self.error(
                    name,
                    format!("must be a JSON object, not {}", kind_of(&other)),
                );
                None
            }
        }
    }

    fn enumeration<T>(
        &mut self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Option<T> {
        let v = self.take(name)?;
        // Clients send enumerations in their own casing (`"risk_level":
        // "HIGH"`); they are stored canonical, lower case.
        match v
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
            .and_then(parse)
        {
            Some(t) => Some(t),
            None => {
                self.error(name, format!("must be one of {allowed}, not {v}"));
                None
            }
        }
    }

    fn time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let parsed = match self.take(name)? {
            Value::String(s) => parse_time(&s),
            Value::Number(n) => time_from_epoch_millis(n.as_f64().unwrap_or(f64::NAN)),
            other => Err(format!(
                "must be an RFC 3339 time or epoch milliseconds, not {}",
                kind_of(&other)
            )),
        };
        parsed.map_err(|msg| self.error(name, msg)).ok()
    }

    fn duration(&mut self) -> Option<serde_json::Number> {
        let v = self.take("duration_ms")?;
        match &v {
            Value::Number(n) if n.as_f64().is_some_and(|ms| ms >= 0.0) => Some(n.clone()),
            _ => {
                self.error(
                    "duration_ms",
                    format!("must be a number of milliseconds ≥ 0, not {v}"),
                );
                None
            }
        }
    }

    fn actor(&mut self) -> Option<Actor> {
        let mut m = self.object("actor")?;
        let start = self.errors.len();
        let mut sub = Fields {
            map: &mut m,
            errors: self.errors,
        };
        let actor_type = sub.enumeration("type", ActorType::parse, "human, agent or system");
        let id = sub.string("id", MAX_NAME_CHARS);
        let email = sub.string("email", MAX_NAME_CHARS);
        let name = sub.string("name", MAX_NAME_CHARS);
        let unknown: Vec<String> = m.keys().cloned().collect();
        prefix_errors(self.errors, "actor", start);
        for key in unknown {
            self.error(
                &format!("actor.{key}"),
                "is not an actor field (type, id, email, name)",
            );
        }
        let actor_type = match actor_type {
            Some(t) => t,
            None => {
                if !self.errors.iter().any(|e| e.field == "actor.type") {
                    self.error("actor.type", "is required: human, agent or system");
                }
                return None;
            }
        };
        // An actor known only by email is identified by it.
        let Some(id) = id.or_else(|| email.clone()) else {
            self.error("actor.id", "is required (or give `email`)");
            return None;
        };
        Some(Actor {
            actor_type,
            id,
            email,
            name,
        })
    }

    fn resource(&mut self) -> Option<Resource> {
        let mut m = self.object("resource")?;
        let start = self.errors.len();
        let mut sub = Fields {
            map: &mut m,
            errors: self.errors,
        };
        let resource_type = sub.string("type", MAX_NAME_CHARS);
        let id = sub.string("id", MAX_NAME_CHARS);
        let unknown: Vec<String> = m.keys().cloned().collect();
        prefix_errors(self.errors, "resource", start);
        for key in unknown {
            self.error(
                &format!("resource.{key}"),
                "is not a resource field (type, id)",
            );
        }
        match (resource_type, id) {
            (Some(resource_type), Some(id)) => Some(Resource { resource_type, id }),
            (rt, id) => {
                if rt.is_none() && !self.errors.iter().any(|e| e.field == "resource.type") {
                    self.error("resource.type", "is required");
                }
                if id.is_none() && !self.errors.iter().any(|e| e.field == "resource.id") {
                    self.error("resource.id", "is required");
                }
                None
            }
        }
    }

    fn governance(&mut self) -> Option<Governance> {
        let mut m = self.object("governance")?;
        let start = self.errors.len();
        let mut sub = Fields {
            map: &mut m,
            errors: self.errors,
        };
        let status = sub.enumeration(
            "status",
            GovernanceStatus::parse,
            "approved, blocked, pending, dry_run or auto",
        );
        let policy = sub.string("policy", MAX_NAME_CHARS);
        let reason = sub.text("reason");
        let unknown: Vec<String> = m.keys().cloned().collect();
        prefix_errors(self.errors, "governance", start);
        for key in unknown {
            self.error(
                &format!("governance.{key}"),
                "is not a governance field (status, policy, reason)",
            );
        }
        match status {
            Some(status) => Some(Governance {
                status,
                policy,
                reason,
            }),
            None => {
                if !self.errors.iter().any(|e| e.field == "governance.status") {
                    self.error("governance.status", "is required");
                }
                None
            }
        }
    }

    fn error_info(&mut self) -> Option<ErrorInfo> {
        match self.take("error")? {
            // A bare message is the common shortcut.
            Value::String(message) => Some(ErrorInfo {
                message,
                code: None,
            }),
            Value::Object(mut m) => {
                let code = m.remove("code").filter(|c| !c.is_null());
                let message = match m.remove("message") {
                    Some(Value::String(s)) => s,
                    None | Some(Value::Null) => {
                        self.error("error.message", "is required");
                        return None;
                    }
                    Some(other) => {
                        self.error(
                            "error.message",
                            format!("must be a string, not {}", kind_of(&other)),
                        );
                        return None;
                    }
                };
                if let Some(key) = m.keys().next() {
                    self.error(
                        &format!("error.{key}"),
                        "is not an error field (message, code); put details in metadata",
                    );
                    return None;
                }
                Some(ErrorInfo { message, code })
            }
            other => {
                self.error(
                    "error",
                    format!(
                        "must be an object {{message, code?}} or a string, not {}",
                        kind_of(&other)
                    ),
                );
                None
            }
        }
    }
}

/// Nested helpers report bare names (`type`); make them `actor.type`.
fn prefix_errors(errors: &mut [FieldError], prefix: &str, from: usize) {
    for e in &mut errors[from..] {
        e.field = format!("{prefix}.{}", e.field);
    }
}

fn check_name(v: &Value, max_chars: usize) -> Result<String, String> {
    let Value::String(s) = v else {
        return Err(format!("must be a string, not {}", kind_of(v)));
    };
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max_chars {
        return Err(format!("is longer than {max_chars} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.clone())
}
