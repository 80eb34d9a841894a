//! The connection to one flightrec server: authenticated requests, errors
//! read from the server's JSON, and retries where repeating is safe.

use crate::error::{Detail, Error, Result};
use crate::retry::RetryPolicy;
use chrono::{DateTime, SecondsFormat, Utc};
use flightrec_core::event::kind_of;
use flightrec_core::record::Receipt;
use flightrec_core::replay::RunState;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a request that is not a stream may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A flightrec server and the API key to use with it. Cheap to clone; the
/// clones share connections.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Arc<str>,
    api_key: Arc<str>,
    retry: RetryPolicy,
}

/// The key stays out of debug output.
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("api_key", &"[hidden]")
            .field("retry", &self.retry)
            .finish()
    }
}

/// How far into a run a state goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Until {
    /// Through the run's event at this index (run order, from 0).
    Event(u64),
    /// Through every event at or before this time.
    Time(DateTime<Utc>),
    /// Through the last event.
    End,
}

impl Client {
    /// A client of the server at `server` (`http://…` or `https://…`).
    pub fn new(server: &str, api_key: &str) -> Result<Client> {
        let server = server.trim_end_matches('/');
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(Error::Invalid(format!(
                "the server must be an http:// or https:// URL, not {server:?}"
            )));
        }
        if api_key.is_empty() {
            return Err(Error::Invalid("the API key is empty".into()));
        }
        // HTTPS needs a crypto provider chosen once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("flightrec-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Invalid(format!("could not set up HTTP: {e}")))?;
        Ok(Client {
            http,
            server: server.into(),
            api_key: api_key.into(),
            retry: RetryPolicy::default(),
        })
    }

    /// A client from `FLIGHTREC_SERVER` (default `http://127.0.0.1:7340`)
    /// and `FLIGHTREC_API_KEY`.
    pub fn from_env() -> Result<Client> {
        let server = std::env::var("FLIGHTREC_SERVER")
            .unwrap_or_else(|_| "http://127.0.0.1:7340".to_owned());
        let key = std::env::var("FLIGHTREC_API_KEY").map_err(|_| {
            Error::Invalid(
                "FLIGHTREC_API_KEY is not set (the server prints a key on its first start)".into(),
            )
        })?;
        Client::new(&server, &key)
    }

    /// The same client, retrying as `retry` says (reads and event writes
    /// are retried; other writes never are).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// Records one event and answers its receipt once it is durable. An
    /// event without an `id` gets a UUIDv7 first, so a retry after a lost
    /// answer finds the first copy instead of recording a second.
    pub async fn record(&self, mut event: Value) -> Result<Receipt> {
        ensure_id(&mut event)?;
        let answer = self
            .send_json(
                Method::POST,
                "/v1/events",
                &[],
                Some(json_body(&event)),
                true,
            )
            .await?;
        let receipt = answer.get("receipt").unwrap_or(&answer);
        parse(receipt, "/v1/events")
    }

    /// Records events in one all-or-nothing batch, ids assigned as in
    /// [`Client::record`]; the receipts are in the events' order.
    pub async fn record_batch(&self, events: &mut [Value]) -> Result<Vec<Receipt>> {
        for event in events.iter_mut() {
            ensure_id(event)?;
        }
        let events: Vec<&Value> = events.iter().collect();
        self.post_batch(&events).await
    }

    /// Sends events that already have their ids as one batch.
    pub(crate) async fn post_batch(&self, events: &[&Value]) -> Result<Vec<Receipt>> {
        let body = json_body(&events);
        let answer = self
            .send_json(Method::POST, "/v1/events/batch", &[], Some(body), true)
            .await?;
        parse(&answer["receipts"], "/v1/events/batch")
    }

    /// What the agent of `run_id` had at a point: files, context, status.
    pub async fn run_state(&self, run_id: &str, until: Until) -> Result<RunState> {
        let query = match until {
            Until::Event(n) => vec![("event", n.to_string())],
            Until::Time(t) => vec![("at", t.to_rfc3339_opts(SecondsFormat::AutoSi, true))],
            Until::End => vec![],
        };
        let path = format!("/v1/runs/{}/state", path_segment(run_id));
        let answer = self.get(&path, &query).await?;
        parse(&answer, &path)
    }

    /// GETs `path` with `query` as JSON, retried.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.send_json(Method::GET, path, query, None, true).await
    }

    /// GETs `path` as text (signed notes, keys), retried.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        let response = self.send(Method::GET, path, &[], None, true, true).await?;
        response.text().await.map_err(|e| self.unreachable(&e))
    }

    /// GETs `path` as bytes (tiles, bundles), retried.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let response = self.send(Method::GET, path, &[], None, true, true).await?;
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        Ok(bytes.to_vec())
    }

    /// GETs `path` to read as it arrives (exports, replays); connecting is
    /// retried, the stream is not.
    pub async fn get_stream(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<reqwest::Response> {
        self.send(Method::GET, path, query, None, true, false).await
    }

    /// POSTs a JSON body; not retried, since it may not be safe to repeat.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.send_json(Method::POST, path, &[], Some(json_body(body)), false)
            .await
    }

    /// DELETEs `path`; not retried.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        self.send_json(Method::DELETE, path, &[], None, false).await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        retry: bool,
    ) -> Result<Value> {
        let response = self.send(method, path, query, body, retry, true).await?;
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            path: path.to_owned(),
            reason: format!("not JSON ({e})"),
        })
    }

    /// Sends a request (its JSON body written once, whatever the retries),
    /// trying again while the failure is one that may pass (when `retry`);
    /// an error status becomes [`Error::Api`].
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        retry: bool,
        bounded: bool,
    ) -> Result<reqwest::Response> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.server))
                .bearer_auth(&*self.api_key);
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            if bounded {
                request = request.timeout(REQUEST_TIMEOUT);
            }
            let outcome = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => api_error(response).await,
                Err(e) => self.unreachable(&e),
            };
            let wait = match &outcome {
                Error::Api { retry_after, .. } => *retry_after,
                _ => None,
            };
            match self.retry.delay(attempt, wait) {
                Some(delay) if retry && outcome.is_retryable() => tokio::time::sleep(delay).await,
                _ => return Err(outcome),
            }
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        // The innermost cause says most ("connection refused").
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        Error::Unreachable {
            server: self.server.to_string(),
            reason,
        }
    }
}

/// The server's `{"error", "status", "code", "details"}` as an error.
async fn api_error(response: reqwest::Response) -> Error {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: Value = response.json().await.unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("request failed");
    Error::Api {
        status: status.as_u16(),
        code: body["code"].as_str().unwrap_or(code_of(status)).to_owned(),
        message: body["error"].as_str().unwrap_or(reason).to_owned(),
        details: serde_json::from_value::<Vec<Detail>>(body["details"].clone()).unwrap_or_default(),
        retry_after,
    }
}

/// A code for an error answer that did not carry one (a proxy's, say).
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "rate_limited",
        500..=599 => "unavailable",
        _ => "http_error",
    }
}

fn json_body(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialise")
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value, path: &str) -> Result<T> {
    T::deserialize(value).map_err(|e| Error::Unexpected {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The event's id (`id`, or its alias `execution_id`), given a new UUIDv7
/// when it has none.
pub(crate) fn ensure_id(event: &mut Value) -> Result<String> {
    let Value::Object(fields) = event else {
        return Err(Error::Invalid(format!(
            "an event is a JSON object, not {}",
            kind_of(event)
        )));
    };
    for key in ["id", "execution_id"] {
        if let Some(Value::String(id)) = fields.get(key) {
            return Ok(id.clone());
        }
    }
    let id = uuid::Uuid::now_v7().to_string();
    fields.insert("id".into(), Value::String(id.clone()));
    Ok(id)
}

/// Percent-encodes one path segment (a run id, an event id).
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_kept_or_given() {
        let mut e = json!({"type": "thinking"});
        let id = ensure_id(&mut e).unwrap();
        assert_eq!(e["id"], json!(id));
        assert_eq!(ensure_id(&mut e).unwrap(), id, "the same id on a retry");
        let mut aliased = json!({"execution_id": "x-1"});
        assert_eq!(ensure_id(&mut aliased).unwrap(), "x-1");
        assert!(aliased.get("id").is_none());
        assert!(ensure_id(&mut json!([1])).is_err());
    }

    #[test]
    fn keys_are_not_printed() {
        let c = Client::new("http://127.0.0.1:1", "fr_secret_key").unwrap();
        assert!(!format!("{c:?}").contains("fr_secret_key"));
    }

    #[test]
    fn servers_are_urls() {
        assert!(Client::new("127.0.0.1:7340", "k").is_err());
        assert!(Client::new("http://127.0.0.1:7340", "").is_err());
        assert_eq!(
            Client::new("http://h:1/", "k").unwrap().server(),
            "http://h:1"
        );
        assert_eq!(path_segment("a b/ü"), "a%20b%2F%C3%BC");
    }
}
