//! Walking the text of an event's body, for the compliance rules.

use super::types::Body;
use serde_json::Value;

/// The body fields that carry what an agent saw, said and did; the ones
/// rules read unless told otherwise.
pub const CONTENT_FIELDS: &[&str] = &["input", "output", "message", "content", "error", "metadata"];

/// Every body field a rule may name.
pub const TEXT_FIELDS: &[&str] = &[
    "input",
    "output",
    "message",
    "content",
    "error",
    "metadata",
    "actor",
    "resource",
    "verb",
    "tool",
    "provider",
    "session_id",
];

impl Body {
    /// Calls `f` with the path and text of every string in the given
    /// top-level fields (see [`TEXT_FIELDS`]), which it may change in place.
    /// Paths read like `input.args[2].query`.
    pub fn visit_strings_mut(&mut self, fields: &[&str], f: &mut dyn FnMut(&str, &mut String)) {
        for field in fields {
            match *field {
                "input" => visit_value("input", self.input.as_mut(), f),
                "output" => visit_value("output", self.output.as_mut(), f),
                "message" => visit_text("message", self.message.as_mut(), f),
                "content" => visit_text("content", self.content.as_mut(), f),
                "error" => {
                    if let Some(e) = self.error.as_mut() {
                        f("error.message", &mut e.message);
                        visit_value("error.code", e.code.as_mut(), f);
                    }
                }
                "metadata" => {
                    if let Some(m) = self.metadata.as_mut() {
                        for (k, v) in m.iter_mut() {
                            visit(&format!("metadata.{k}"), v, f);
                        }
                    }
                }
                "actor" => {
                    if let Some(a) = self.actor.as_mut() {
                        f("actor.id", &mut a.id);
                        visit_text("actor.email", a.email.as_mut(), f);
                        visit_text("actor.name", a.name.as_mut(), f);
                    }
                }
                "resource" => {
                    if let Some(r) = self.resource.as_mut() {
                        f("resource.type", &mut r.resource_type);
                        f("resource.id", &mut r.id);
                    }
                }
                "verb" => visit_text("verb", self.verb.as_mut(), f),
                "tool" => visit_text("tool", self.tool.as_mut(), f),
                "provider" => visit_text("provider", self.provider.as_mut(), f),
                "session_id" => visit_text("session_id", self.session_id.as_mut(), f),
                _ => {}
            }
        }
    }
}

fn visit_text(path: &str, text: Option<&mut String>, f: &mut dyn FnMut(&str, &mut String)) {
    if let Some(t) = text {
        f(path, t);
    }
}

fn visit_value(path: &str, value: Option<&mut Value>, f: &mut dyn FnMut(&str, &mut String)) {
    if let Some(v) = value {
        visit(path, v, f);
    }
}

fn visit(path: &str, value: &mut Value, f: &mut dyn FnMut(&str, &mut String)) {
    match value {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit(&format!("{path}[{i}]"), item, f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                visit(&format!("{path}.{k}"), v, f);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
