//! A live tail of the log (`GET /v1/events/stream`): each record matching
//! the filters, once, in the order it was committed. A stream that breaks
//! or that the server ends, and a server that is away, are tried again
//! (waiting longer each time, up to [`MAX_WAIT`]) after the last record
//! seen, so nothing is missed and nothing comes twice.

use crate::sse::Source;
use crate::{Client, Error, Result};
use serde_json::Value;
use std::time::Duration;

/// The longest wait between two attempts to reach the server.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
const FIRST_WAIT: Duration = Duration::from_millis(250);

/// One record of the tail.
#[derive(Debug, Clone, PartialEq)]
pub struct TailRecord {
    pub seq: u64,
    /// The event as `GET /v1/events` shows it.
    pub event: Value,
}

/// Records as they are committed; see [`Client::tail`].
pub struct Tail {
    client: Client,
    filters: Vec<(&'static str, String)>,
    after_seq: Option<u64>,
    source: Option<Source>,
    /// Before the next attempt to open the stream.
    wait: Duration,
    /// Whether the stream was ever opened: a server unreachable from the
    /// start is a mistake to report, not an outage to wait out.
    opened: bool,
}

impl Client {
    /// Follows the log: the records committed from now on (or after
    /// `after_seq`) that match `filters`, the filters of `GET /v1/events`
    /// but `q` (as `[("type", "deploy".into())]`).
    pub fn tail(&self, filters: Vec<(&'static str, String)>, after_seq: Option<u64>) -> Tail {
        Tail {
            client: self.clone(),
            filters,
            after_seq,
            source: None,
            wait: Duration::ZERO,
            opened: false,
        }
    }
}

impl Tail {
    /// The next record; waits for one as long as it takes.
    pub async fn next(&mut self) -> Result<TailRecord> {
        loop {
            if self.source.is_none() {
                tokio::time::sleep(self.wait).await;
                let mut query = self.filters.clone();
                if let Some(seq) = self.after_seq {
                    query.push(("after_seq", seq.to_string()));
                }
                match self.client.get_stream("/v1/events/stream", &query).await {
                    Ok(response) => {
                        self.source = Some(Source::new(response, self.client.server(), "tail"));
                        self.opened = true;
                    }
                    // Away (down, restarting, 503): try again, later.
                    Err(e) if self.opened && e.is_retryable() => {
                        self.wait = (self.wait * 2).clamp(FIRST_WAIT, MAX_WAIT);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let source = self.source.as_mut().expect("opened above");
            let message = match source.next().await {
                Ok(Some(m)) => m,
                // Ended by the server (it ends streams after an hour), or
                // broken: open it again after the last record.
                Ok(None) | Err(Error::Unreachable { .. }) => {
                    self.source = None;
                    self.wait = (self.wait * 2).clamp(FIRST_WAIT, MAX_WAIT);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match message.event.as_deref() {
                None | Some("message") => {}
                // Where the server started: resume from there if broken.
                Some("start") => {
                    if let Some(seq) = message.id.as_deref().and_then(|i| i.parse().ok()) {
                        self.after_seq = Some(seq);
                    }
                    continue;
                }
                Some("error") => {
                    self.source = None;
                    return Err(unexpected(format!("the server stopped: {}", message.data)));
                }
                Some(_) => continue,
            }
            let seq = message
                .id
                .as_deref()
                .and_then(|i| i.parse::<u64>().ok())
                .ok_or_else(|| unexpected("a record came without its seq".into()))?;
            let event = serde_json::from_str(&message.data)
                .map_err(|e| unexpected(format!("a record is not JSON ({e})")))?;
            self.after_seq = Some(seq);
            self.wait = Duration::ZERO;
            return Ok(TailRecord { seq, event });
        }
    }
}

fn unexpected(reason: String) -> Error {
    Error::Unexpected {
        path: "/v1/events/stream".into(),
        reason,
    }
}
