//! What a span or log event says, in flightrec's terms, whichever
//! convention said it: the GenAI semantic conventions ([`super::genai`]),
//! OpenInference ([`super::openinference`]) or MCP ([`super::mcp`]).
//!
//! Each convention's reader takes the attributes it knows out of the
//! span's and fills what is still empty here, so the first convention to
//! name a fact wins and the others' copies stay in the attributes.

use super::attributes::Attributes;
use serde_json::{Map, Value};

/// What kind of step a span is, which decides its events (docs/otlp.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An agent's run: `start`, then `complete` (or `error`).
    Agent,
    /// A tool's execution: `tool_call`, then `tool_result`.
    Tool,
    /// A call to a model: one `llm_call`.
    Model,
    /// A guardrail's check: one `guardrail_check`.
    Guardrail,
    /// Anything else: one `span`, with its attributes.
    Other,
}

/// The facts a mapping reads from a span or a log event.
#[derive(Debug, Default)]
pub struct Semantics {
    pub kind: Option<Kind>,
    /// The convention that named the kind: `gen_ai`, `openinference`, `mcp`.
    pub convention: Option<&'static str>,
    /// `gen_ai.operation.name`, the OpenInference span kind, or the MCP method.
    pub operation: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub tool_name: Option<String>,
    pub tool_call_id: Option<String>,
    /// Messages, a prompt, or a tool's arguments.
    pub input: Option<Value>,
    /// Messages, a completion, or a tool's result.
    pub output: Option<Value>,
    pub system_instructions: Option<Value>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub provider: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
    pub session_id: Option<String>,
    /// `error.type`: the operation failed, this way.
    pub error_type: Option<String>,
    /// Other facts a convention names, kept in `metadata` under these names.
    pub extra: Map<String, Value>,
}

impl Semantics {
    /// Reads every convention's attributes out of `attributes`.
    pub fn read(attributes: &mut Attributes) -> Semantics {
        let mut s = Semantics::default();
        super::genai::read(attributes, &mut s);
        super::openinference::read(attributes, &mut s);
        super::mcp::read(attributes, &mut s);
        super::genai::read_legacy_model(attributes, &mut s);
        s
    }

    /// Sets the kind, unless a convention read earlier already did.
    pub fn name_kind(&mut self, kind: Kind, convention: &'static str, operation: String) {
        if self.kind.is_none() {
            self.kind = Some(kind);
            self.convention = Some(convention);
            self.operation = Some(operation);
        }
    }

    /// The model that answered, else the one asked for.
    pub fn model(&self) -> Option<&str> {
        self.response_model
            .as_deref()
            .or(self.request_model.as_deref())
    }

    /// Keeps `value` under `metadata.<name>` unless it is already there.
    pub fn keep(&mut self, name: &str, value: Option<Value>) {
        if let Some(v) = value
            && !self.extra.contains_key(name)
        {
            self.extra.insert(name.to_owned(), v);
        }
    }
}

/// Fills `slot` with `value` when it is still empty.
pub fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}
