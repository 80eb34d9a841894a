//! Recording without waiting: events go into a bounded buffer and a
//! background task sends them in batches, retrying with backoff. Each
//! event gets its id before it is buffered, so a batch sent twice (its
//! answer lost) is recorded once.

use crate::client::{Client, ensure_id};
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// After a batch failed through every retry, the pause before the
/// recorder tries again by itself (a flush tries at once).
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// How a [`Recorder`] batches.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderConfig {
    /// Events per request, at most (the server takes up to 1,000).
    pub batch_size: usize,
    /// The longest an event waits in the buffer before it is sent.
    pub flush_interval: Duration,
    /// Events buffered and not yet acknowledged, at most; [`Recorder::record`]
    /// waits for room, [`Recorder::try_record`] refuses.
    pub capacity: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            batch_size: 200,
            flush_interval: Duration::from_millis(250),
            capacity: 10_000,
        }
    }
}

/// An event the server refused for good (invalid, too large, not allowed);
/// it is not retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// What a flush achieved: events acknowledged since the last flush, and the
/// ones refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    pub sent: u64,
    pub rejected: Vec<Rejected>,
}

/// Totals over the recorder's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Acknowledged by the server (durable).
    pub sent: u64,
    pub rejected: u64,
    /// Waiting to be sent or acknowledged.
    pub buffered: usize,
}

enum Command {
    Record(Value, String, OwnedSemaphorePermit),
    Flush(oneshot::Sender<Result<FlushReport>>),
}

/// The batching recorder. Cheap to share behind an `Arc`; call
/// [`Recorder::close`] (or at least [`Recorder::flush`]) before the
/// process ends, or what is still buffered is lost with it.
pub struct Recorder {
    commands: mpsc::UnboundedSender<Command>,
    room: Arc<Semaphore>,
    capacity: usize,
    totals: Arc<Mutex<RecorderStats>>,
    worker: JoinHandle<()>,
}

impl Recorder {
    /// Starts the background sender on the current tokio runtime.
    pub fn new(client: Client, config: RecorderConfig) -> Result<Recorder> {
        if config.batch_size == 0 || config.batch_size > 1000 {
            return Err(Error::Invalid(format!(
                "batch_size must be 1 to 1000, not {}",
                config.batch_size
            )));
        }
        if config.capacity < config.batch_size {
            return Err(Error::Invalid(format!(
                "capacity ({}) must hold at least one batch ({})",
                config.capacity, config.batch_size
            )));
        }
        let (commands, inbox) = mpsc::unbounded_channel();
        let totals = Arc::new(Mutex::new(RecorderStats::default()));
        let worker = Worker {
            client,
            config: config.clone(),
            inbox,
            pending: VecDeque::new(),
            due: None,
            report: FlushReport::default(),
            totals: totals.clone(),
        };
        Ok(Recorder {
            commands,
            room: Arc::new(Semaphore::new(config.capacity)),
            capacity: config.capacity,
            totals,
            worker: tokio::spawn(worker.run()),
        })
    }

    /// Buffers an event, waiting while the buffer is full; answers the
    /// event's id. Durable once a later [`Recorder::flush`] says so.
    pub async fn record(&self, mut event: Value) -> Result<String> {
        let id = ensure_id(&mut event)?;
        let permit = self
            .room
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        self.enqueue(event, id, permit)
    }

    /// Buffers an event if there is room, else refuses at once with
    /// [`Error::BufferFull`], for callers that must never wait.
    pub fn try_record(&self, mut event: Value) -> Result<String> {
        let id = ensure_id(&mut event)?;
        let permit = self.room.clone().try_acquire_owned().map_err(|e| match e {
            tokio::sync::TryAcquireError::NoPermits => Error::BufferFull {
                capacity: self.capacity,
            },
            tokio::sync::TryAcquireError::Closed => Error::Closed,
        })?;
        self.enqueue(event, id, permit)
    }

    fn enqueue(&self, event: Value, id: String, permit: OwnedSemaphorePermit) -> Result<String> {
        self.totals.lock().expect("totals").buffered += 1;
        self.commands
            .send(Command::Record(event, id.clone(), permit))
            .map_err(|_| Error::Closed)?;
        Ok(id)
    }

    /// Sends everything recorded before this call and waits for the
    /// server to acknowledge it. When the server stays unreachable through
    /// every retry, answers the error; the events stay buffered and are
    /// tried again later.
    pub async fn flush(&self) -> Result<FlushReport> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Flush(reply))
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    pub fn stats(&self) -> RecorderStats {
        *self.totals.lock().expect("totals")
    }

    /// Flushes, then stops the background sender. When that flush fails
    /// (the server stayed away), its error is answered and what was still
    /// buffered is dropped with the recorder: to keep trying, call
    /// [`Recorder::flush`] until it succeeds before closing.
    pub async fn close(self) -> Result<FlushReport> {
        let report = self.flush().await;
        self.room.close();
        drop(self.commands);
        let _ = self.worker.await;
        report
    }
}

struct Buffered {
    event: Value,
    id: String,
    _room: OwnedSemaphorePermit,
}

struct Worker {
    client: Client,
    config: RecorderConfig,
    inbox: mpsc::UnboundedReceiver<Command>,
    pending: VecDeque<Buffered>,
    /// When the pending events are next due to be sent.
    due: Option<Instant>,
    /// What happened since the last flush.
    report: FlushReport,
    totals: Arc<Mutex<RecorderStats>>,
}

impl Worker {
    async fn run(mut self) {
        loop {
            let command = tokio::select! {
                c = self.inbox.recv() => c,
                _ = sleep_until(self.due) => {
                    // A failure keeps the events for the next round.
                    let _ = self.send_pending(false).await;
                    continue;
                }
            };
            match command {
                Some(Command::Record(event, id, room)) => {
                    let wait = self.config.flush_interval;
                    self.due.get_or_insert_with(|| Instant::now() + wait);
                    self.pending.push_back(Buffered {
                        event,
                        id,
                        _room: room,
                    });
                    if self.pending.len() >= self.config.batch_size {
                        let _ = self.send_pending(true).await;
                    }
                }
                Some(Command::Flush(reply)) => {
                    let outcome = self
                        .send_pending(false)
                        .await
                        .map(|()| std::mem::take(&mut self.report));
                    let _ = reply.send(outcome);
                }
                None => {
                    let _ = self.send_pending(false).await;
                    return;
                }
            }
        }
    }

    /// Sends pending events batch by batch (only full batches when
    /// `full_only`); stops at the first batch the server cannot take now,
    /// and then waits [`PAUSE_AFTER_FAILURE`] before trying on its own.
    async fn send_pending(&mut self, full_only: bool) -> Result<()> {
        while !self.pending.is_empty() {
            if full_only && self.pending.len() < self.config.batch_size {
                break;
            }
            let n = self.pending.len().min(self.config.batch_size);
            if let Err(e) = self.send_batch(n).await {
                self.due = Some(Instant::now() + PAUSE_AFTER_FAILURE);
                return Err(e);
            }
        }
        if self.pending.is_empty() {
            self.due = None;
        }
        Ok(())
    }

    /// Sends the first `n` pending events. Events the server refuses are
    /// set aside as rejected and the rest sent again; a batch too large is
    /// halved. On a failure that may pass, the events stay pending.
    async fn send_batch(&mut self, n: usize) -> Result<()> {
        // The events already have their ids (given when buffered).
        let sent = {
            let events: Vec<&Value> = self.pending.iter().take(n).map(|b| &b.event).collect();
            self.client.post_batch(&events).await
        };
        match sent {
            Ok(_) => {
                self.done(n, None);
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(e),
            Err(Error::Api { status: 413, .. }) if n > 1 => {
                Box::pin(self.send_batch(n / 2)).await?;
                Box::pin(self.send_batch(n - n / 2)).await
            }
            Err(Error::Api {
                status: 400,
                details,
                message,
                ..
            }) if n > 1 && details.iter().any(|d| d.index.is_some()) => {
                // Set aside the events the server named, then try again.
                let mut named: Vec<(usize, String)> = details
                    .iter()
                    .filter_map(|d| Some((d.index?, format!("{}: {}", d.field, d.message))))
                    .filter(|(i, _)| *i < n)
                    .collect();
                named.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
                named.dedup_by_key(|(i, _)| *i);
                for (i, reason) in &named {
                    self.reject(*i, format!("{message} — {reason}"));
                }
                let left = n - named.len();
                if left > 0 {
                    Box::pin(self.send_batch(left)).await?;
                }
                Ok(())
            }
            Err(e) => {
                // Refused for good (a bad key, a forbidden agent, an event
                // too large alone): reported, never retried.
                self.done(n, Some(e.to_string()));
                Ok(())
            }
        }
    }

    /// Takes the first `n` pending events off the buffer, as sent or (with a
    /// reason) as rejected.
    fn done(&mut self, n: usize, rejected: Option<String>) {
        let mut totals = self.totals.lock().expect("totals");
        for b in self.pending.drain(..n) {
            totals.buffered -= 1;
            match &rejected {
                None => {
                    totals.sent += 1;
                    self.report.sent += 1;
                }
                Some(reason) => {
                    totals.rejected += 1;
                    self.report.rejected.push(Rejected {
                        id: b.id,
                        reason: reason.clone(),
                    });
                }
            }
        }
    }

    fn reject(&mut self, index: usize, reason: String) {
        let Some(b) = self.pending.remove(index) else {
            return;
        };
        let mut totals = self.totals.lock().expect("totals");
        totals.buffered -= 1;
        totals.rejected += 1;
        self.report.rejected.push(Rejected { id: b.id, reason });
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
