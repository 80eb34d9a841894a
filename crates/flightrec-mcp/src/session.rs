//! What a recording proxy learns from the messages it relays: each
//! JSON-RPC message, from the client or from the server, in whatever order
//! they come, turns into the facts worth recording — a tool call asked
//! for, and its answer with how long it took. The tools' annotations (for
//! their risk) and the server's name come from the answers to `tools/list`
//! and `initialize` as they pass.
//!
//! Requests and answers are paired by id per direction: the server's
//! answers close the client's requests, never the other way round (the
//! server may ask the client things too, with ids of its own).

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// A tool call, as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The request's id, as JSON text (ids may be numbers or strings).
    pub id: String,
    pub tool: String,
    pub arguments: Value,
    /// The tool's annotations from the last `tools/list`, if it was listed.
    pub annotations: Option<Value>,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A result; `isError` results are the tool's own failures.
    Result(Value),
    /// A JSON-RPC error: the call never ran to a result.
    Error { code: i64, message: String },
    /// The client withdrew it (`notifications/cancelled`).
    Cancelled { reason: Option<String> },
}

impl Outcome {
    /// Whether the call failed, by any of the three ways.
    pub fn failed(&self) -> bool {
        match self {
            Outcome::Result(r) => r.get("isError").and_then(Value::as_bool) == Some(true),
            Outcome::Error { .. } | Outcome::Cancelled { .. } => true,
        }
    }
}

/// A fact to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Called(Call),
    Answered {
        call: Call,
        outcome: Outcome,
        took: Duration,
    },
}

enum Pending {
    Call(Box<Call>, Instant),
    ToolList,
    Initialize,
}

/// One proxied session's bookkeeping.
#[derive(Default)]
pub struct Session {
    pending: HashMap<String, Pending>,
    annotations: HashMap<String, Value>,
    server: Option<String>,
}

impl Session {
    /// The server's name, once `initialize` has been answered.
    pub fn server_name(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// The tool call a client's message asks for, if it is one (without
    /// waiting for its answer: for calls the proxy answers itself).
    pub fn call_of(&self, m: &Value) -> Option<Call> {
        if m.get("method").and_then(Value::as_str) != Some("tools/call") {
            return None;
        }
        let id = m.get("id").filter(|id| !id.is_null())?.to_string();
        let params = m.get("params")?;
        let tool = params.get("name")?.as_str()?.to_owned();
        Some(Call {
            id,
            annotations: self.annotations.get(&tool).cloned(),
            arguments: params.get("arguments").cloned().unwrap_or(Value::Null),
            tool,
        })
    }

    /// The calls still unanswered, closed as failed: the session ended.
    pub fn abandon(&mut self, now: Instant) -> Vec<Seen> {
        let ids: Vec<String> = self.pending.keys().cloned().collect();
        ids.into_iter()
            .filter_map(|id| {
                let outcome = Outcome::Error {
                    code: -32000,
                    message: "the session ended before the call was answered".into(),
                };
                self.close(&id, outcome, now)
            })
            .collect()
    }

    /// Takes in one relayed message (a batch counts as its members).
    pub fn observe(&mut self, from: Side, message: &Value, now: Instant) -> Vec<Seen> {
        match message {
            Value::Array(batch) => batch
                .iter()
                .flat_map(|m| self.observe(from, m, now))
                .collect(),
            Value::Object(_) => self.one(from, message, now).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn one(&mut self, from: Side, m: &Value, now: Instant) -> Option<Seen> {
        let method = m.get("method").and_then(Value::as_str);
        let id = m.get("id").filter(|id| !id.is_null()).map(Value::to_string);
        match (from, method, id) {
            (Side::Client, Some("tools/call"), Some(id)) => {
                let call = self.call_of(m)?;
                self.pending
                    .insert(id, Pending::Call(Box::new(call.clone()), now));
                Some(Seen::Called(call))
            }
            (Side::Client, Some("tools/list"), Some(id)) => {
                self.pending.insert(id, Pending::ToolList);
                None
            }
            (Side::Client, Some("initialize"), Some(id)) => {
                self.pending.insert(id, Pending::Initialize);
                None
            }
            (Side::Client, Some("notifications/cancelled"), None) => {
                let params = m.get("params")?;
                let id = params.get("requestId")?.to_string();
                let reason = params
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.close(&id, Outcome::Cancelled { reason }, now)
            }
            (Side::Server, None, Some(id)) => {
                let outcome = match (m.get("result"), m.get("error")) {
                    (Some(result), _) => Outcome::Result(result.clone()),
                    (None, Some(error)) => Outcome::Error {
                        code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                        message: error
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("error")
                            .to_owned(),
                    },
                    (None, None) => return None,
                };
                self.close(&id, outcome, now)
            }
            _ => None,
        }
    }

    /// Closes the request `id` of the client with `outcome`.
    fn close(&mut self, id: &str, outcome: Outcome, now: Instant) -> Option<Seen> {
        match self.pending.remove(id)? {
            Pending::Call(call, started) => Some(Seen::Answered {
                call: *call,
                outcome,
                took: now.saturating_duration_since(started),
            }),
            Pending::ToolList => {
                if let Outcome::Result(result) = outcome {
                    for tool in result.get("tools").and_then(Value::as_array)? {
                        if let (Some(name), Some(a)) = (
                            tool.get("name").and_then(Value::as_str),
                            tool.get("annotations"),
                        ) {
                            self.annotations.insert(name.to_owned(), a.clone());
                        }
                    }
                }
                None
            }
            Pending::Initialize => {
                if let Outcome::Result(result) = outcome {
                    self.server = result
                        .pointer("/serverInfo/name")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_pair_with_their_answers_in_any_order() {
        let mut s = Session::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Some servers speak before they answer `initialize`.
        let noise = json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info"}});
        assert!(s.observe(Side::Server, &noise, at(0)).is_empty());
        s.observe(
            Side::Client,
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}),
            at(0),
        );
        s.observe(Side::Server, &json!({"jsonrpc": "2.0", "id": 0, "result": {"serverInfo": {"name": "secure-filesystem-server", "version": "1"}}}), at(1));
        assert_eq!(s.server_name(), Some("secure-filesystem-server"));
        s.observe(
            Side::Client,
            &json!({"jsonrpc": "2.0", "id": "list", "method": "tools/list"}),
            at(2),
        );
        s.observe(
            Side::Server,
            &json!({"jsonrpc": "2.0", "id": "list", "result": {"tools": [
            {"name": "read_file", "annotations": {"readOnlyHint": true}},
            {"name": "echo"}]}}),
            at(3),
        );

        let a = s.observe(
            Side::Client,
            &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "read_file", "arguments": {"path": "a.txt"}}}),
            at(10),
        );
        let b = s.observe(
            Side::Client,
            &json!({"jsonrpc": "2.0", "id": "7", "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "hi"}}}),
            at(11),
        );
        match (&a[..], &b[..]) {
            ([Seen::Called(a)], [Seen::Called(b)]) => {
                assert_eq!(a.annotations, Some(json!({"readOnlyHint": true})));
                assert_eq!(b.annotations, None);
                assert_ne!(a.id, b.id, "7 and \"7\" are different ids");
            }
            other => panic!("{other:?}"),
        }
        // The server asks the client something with the same id: not an answer.
        s.observe(
            Side::Server,
            &json!({"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage"}),
            at(12),
        );
        assert!(
            s.observe(
                Side::Client,
                &json!({"jsonrpc": "2.0", "id": 7, "result": {}}),
                at(13)
            )
            .is_empty()
        );

        // Answered in the other order.
        let echo = s.observe(Side::Server, &json!({"jsonrpc": "2.0", "id": "7", "result": {"content": [{"type": "text", "text": "hi"}]}}), at(15));
        let read = s.observe(
            Side::Server,
            &json!({"jsonrpc": "2.0", "id": 7, "result": {"isError": true, "content": []}}),
            at(30),
        );
        match (&echo[..], &read[..]) {
            (
                [
                    Seen::Answered {
                        call: e,
                        outcome: eo,
                        took: et,
                    },
                ],
                [
                    Seen::Answered {
                        call: r,
                        outcome: ro,
                        took: rt,
                    },
                ],
            ) => {
                assert_eq!(
                    (e.tool.as_str(), eo.failed(), *et),
                    ("echo", false, Duration::from_millis(4))
                );
                assert_eq!(
                    (r.tool.as_str(), ro.failed(), *rt),
                    ("read_file", true, Duration::from_millis(20))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(s.pending.is_empty());
    }

    #[test]
    fn errors_cancellations_and_batches() {
        let mut s = Session::default();
        let now = Instant::now();
        let batch = json!([
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "a"}},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "b"}},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call"}
        ]);
        assert_eq!(
            s.observe(Side::Client, &batch, now).len(),
            2,
            "a call without params names no tool"
        );
        let error = s.observe(Side::Server, &json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "Unknown tool: a"}}), now);
        assert!(matches!(
            &error[..],
            [Seen::Answered {
                outcome: Outcome::Error { code: -32602, .. },
                ..
            }]
        ));
        let cancelled = s.observe(
            Side::Client,
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 2, "reason": "took too long"}}),
            now,
        );
        match &cancelled[..] {
            [Seen::Answered { call, outcome, .. }] => {
                assert_eq!(call.tool, "b");
                assert_eq!(
                    outcome,
                    &Outcome::Cancelled {
                        reason: Some("took too long".into())
                    }
                );
                assert!(outcome.failed());
            }
            other => panic!("{other:?}"),
        }
        // A late answer to a cancelled call, junk, and an unknown id: nothing.
        assert!(
            s.observe(
                Side::Server,
                &json!({"jsonrpc": "2.0", "id": 2, "result": {}}),
                now
            )
            .is_empty()
        );
        assert!(
            s.observe(Side::Server, &json!("not a message"), now)
                .is_empty()
        );
        assert!(
            s.observe(
                Side::Server,
                &json!({"jsonrpc": "2.0", "id": 99, "result": {}}),
                now
            )
            .is_empty()
        );
    }
}
