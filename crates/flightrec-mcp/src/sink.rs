//! Where the proxy's events go: to flightrec when it answers, else to the
//! on-disk spool, from which they are delivered, in order, once it answers
//! again. Recording never holds up the session: events are handed over
//! without waiting, and what happens to them is said on stderr (the MCP
//! client's log), once per change — never an event's content.
//!
//! Events are masked before they touch the disk: the spool holds no
//! credential, and the paths that were masked travel with the event as
//! `metadata.masked_before_spooling` (the server masks everything again,
//! but can no longer see what was there).
//!
//! Each proxy spools into `<spool root>/<session id>/`; a proxy that
//! starts delivers what earlier proxies left behind (a spool no process
//! holds).

use crate::events::bound_fields;
use crate::spool::{Pushed, Spool};
use flightrec_client::{Client, Error};
use flightrec_core::mask::mask_object;
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

/// Events handed over but not yet sent or spooled.
const QUEUE: usize = 10_000;
/// Events sent in one batch.
const BATCH: usize = 200;
/// How long one delivery may take before flightrec counts as unreachable
/// (and the events are spooled: short, since a client that hangs up gives
/// the proxy only a few seconds before it stops it).
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the spool is tried again while flightrec is away.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// How the sink is set up.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The spools of every proxy of this user live under here.
    pub spool_root: PathBuf,
    pub session_id: String,
    /// At most this much waits on disk; beyond it, events are dropped and
    /// counted.
    pub spool_max_bytes: u64,
    /// How often the spool is tried again while flightrec is away.
    pub retry_every: Duration,
}

impl SinkConfig {
    pub fn new(spool_root: PathBuf, session_id: &str) -> SinkConfig {
        SinkConfig {
            spool_root,
            session_id: session_id.to_owned(),
            spool_max_bytes: 256 << 20,
            retry_every: RETRY_EVERY,
        }
    }
}

/// What became of the events, when the sink is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkReport {
    pub delivered: u64,
    /// Still on disk, to be delivered by a later proxy.
    pub spooled: u64,
    /// Lost: the queue or the spool was full, or flightrec refused them as
    /// invalid.
    pub dropped: u64,
}

/// Hands events to the delivery task.
pub struct Sink {
    queue: mpsc::Sender<Value>,
    /// Events dropped because the queue was full.
    overflow: Arc<AtomicU64>,
    task: JoinHandle<SinkReport>,
}

impl Sink {
    /// Opens this session's spool and starts delivering.
    pub fn start(client: Client, config: SinkConfig) -> std::io::Result<Sink> {
        let dir = config.spool_root.join(&config.session_id);
        let spool = Spool::open(&dir, config.spool_max_bytes)?;
        let leftovers = leftover_spools(&config.spool_root, &dir, config.spool_max_bytes);
        let (queue, rx) = mpsc::channel(QUEUE);
        let delivery = Delivery {
            client,
            spool,
            leftovers,
            retry_every: config.retry_every,
            next_try: Instant::now(),
            away: false,
            report: SinkReport::default(),
            queue_dropped: 0,
        };
        Ok(Sink {
            queue,
            overflow: Arc::default(),
            task: tokio::spawn(delivery.run(rx)),
        })
    }

    /// Hands over an event; never waits. A full queue drops it (counted).
    pub fn record(&self, event: Value) {
        if self.queue.try_send(event).is_err() && self.overflow.fetch_add(1, Relaxed) == 0 {
            notice("events come faster than they can be delivered or spooled: some are dropped");
        }
    }

    /// Delivers what it can within `grace`, spools the rest, and reports.
    pub async fn finish(self, grace: Duration) -> SinkReport {
        drop(self.queue);
        let mut report = match timeout(grace, self.task).await {
            Ok(Ok(report)) => report,
            // Out of time: what was not spooled yet is lost with the task.
            _ => SinkReport::default(),
        };
        report.dropped += self.overflow.load(Relaxed);
        report
    }
}

/// Spools under `root` that no process holds, other than `ours`.
fn leftover_spools(root: &Path, ours: &Path, max_bytes: u64) -> Vec<Spool> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p != ours)
        .filter_map(|p| Spool::open(&p, max_bytes).ok())
        .collect()
}

struct Delivery {
    client: Client,
    spool: Spool,
    leftovers: Vec<Spool>,
    retry_every: Duration,
    next_try: Instant,
    /// Whether flightrec was last found unreachable (said once).
    away: bool,
    report: SinkReport,
    queue_dropped: u64,
}

impl Delivery {
    async fn run(mut self, mut rx: mpsc::Receiver<Value>) -> SinkReport {
        self.drain_spools().await;
        loop {
            let waiting = !self.spool.is_empty() || !self.leftovers.is_empty();
            tokio::select! {
                next = rx.recv() => {
                    let Some(first) = next else { break };
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                    self.take(batch).await;
                }
                _ = sleep_until(self.next_try), if waiting => self.drain_spools().await,
            }
        }
        // The session is over: one last try, then what is left stays on disk.
        self.drain_spools().await;
        self.report.spooled = self.spool.pending();
        self.report.dropped += self.spool.dropped() + self.queue_dropped;
        if self.report.spooled > 0 {
            notice(&format!(
                "{} events wait in {} and will be delivered by the next proxy that reaches flightrec",
                self.report.spooled,
                self.spool.dir().display()
            ));
        }
        if let Err(e) = self.spool.close() {
            notice(&format!("could not tidy the spool: {e}"));
        }
        self.report
    }

    /// Sends a batch, or spools it (behind anything already waiting, so
    /// that order is kept).
    async fn take(&mut self, mut batch: Vec<Value>) {
        // Here rather than on the relay's path: it means serialising.
        batch.iter_mut().for_each(bound_fields);
        if self.spool.is_empty() && self.leftovers.is_empty() && !self.away {
            match self.send(&mut batch).await {
                Ok(()) => return,
                Err(why) => self.went_away(&why),
            }
        }
        for mut event in batch {
            mask_for_disk(&mut event);
            match self.spool.push(&event) {
                Ok(Pushed::Kept) => {}
                Ok(Pushed::Dropped) => {
                    if self.spool.dropped() == 1 {
                        notice("the spool is full: new events are dropped until flightrec is back");
                    }
                }
                Err(e) => {
                    self.queue_dropped += 1;
                    notice(&format!("could not spool an event: {e}"));
                }
            }
        }
    }

    /// Delivers spooled events, oldest first, until one delivery fails.
    async fn drain_spools(&mut self) {
        let mut delivered = 0;
        let outcome = loop {
            let spool = match self.leftovers.last_mut() {
                Some(s) => s,
                None => &mut self.spool,
            };
            let mut segment = match spool.oldest() {
                Ok(Some(segment)) => segment,
                Ok(None) => match self.leftovers.pop() {
                    Some(done) => {
                        let _ = done.close();
                        continue;
                    }
                    None => break Ok(()),
                },
                Err(e) => break Err(format!("could not read the spool: {e}")),
            };
            let count = segment.events.len() as u64;
            if let Err(why) = self.send(&mut segment.events).await {
                break Err(why);
            }
            let spool = self.leftovers.last_mut().unwrap_or(&mut self.spool);
            if let Err(e) = spool.delivered(segment) {
                break Err(format!("could not remove a delivered segment: {e}"));
            }
            delivered += count;
        };
        match outcome {
            Ok(()) => {
                if self.away || delivered > 0 {
                    notice(&format!(
                        "flightrec is reachable at {}: {delivered} spooled events delivered",
                        self.client.server()
                    ));
                }
                self.away = false;
            }
            Err(why) => {
                self.went_away(&why);
                self.next_try = Instant::now() + self.retry_every;
            }
        }
    }

    /// Sends events as one batch. A batch flightrec refuses as invalid is
    /// sent one by one, and the events it refuses are dropped (said, never
    /// shown): they would be refused for ever.
    async fn send(&mut self, events: &mut [Value]) -> Result<(), String> {
        match self.post(events).await {
            Ok(()) => {
                self.report.delivered += events.len() as u64;
                Ok(())
            }
            Err(Error::Api { status, .. }) if status == 400 || status == 413 => {
                for event in events.iter_mut() {
                    match self.post(std::slice::from_mut(event)).await {
                        Ok(()) => self.report.delivered += 1,
                        Err(Error::Api {
                            status: 400 | 413,
                            message,
                            ..
                        }) => {
                            self.report.dropped += 1;
                            notice(&format!(
                                "flightrec refused a {} event: {message}",
                                event["type"].as_str().unwrap_or("?")
                            ));
                        }
                        Err(e) => return Err(why_not_delivered(&e)),
                    }
                }
                Ok(())
            }
            Err(e) => Err(why_not_delivered(&e)),
        }
    }

    /// Sends events (which already have their ids) as one batch.
    async fn post(&self, events: &mut [Value]) -> Result<(), Error> {
        match timeout(SEND_TIMEOUT, self.client.record_batch(events)).await {
            Ok(result) => result.map(drop),
            Err(_) => Err(Error::Unreachable {
                server: self.client.server().to_owned(),
                reason: format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
            }),
        }
    }

    fn went_away(&mut self, why: &str) {
        if !self.away {
            notice(&format!(
                "{why}; events are kept in {} and delivered once it takes them",
                self.spool.dir().display()
            ));
        }
        self.away = true;
        self.next_try = Instant::now() + self.retry_every;
    }
}

/// What to tell the user about a delivery that failed.
fn why_not_delivered(e: &Error) -> String {
    match e {
        Error::Unreachable { .. } => format!("flightrec is unreachable ({e})"),
        _ => format!("flightrec did not take the events ({e})"),
    }
}

/// Masks an event's credentials before it is written to disk, keeping the
/// paths that were masked.
fn mask_for_disk(event: &mut Value) {
    let Value::Object(map) = event else { return };
    let mut masked = Vec::new();
    mask_object("", map, &mut masked);
    if !masked.is_empty() {
        let paths: Vec<Value> = masked
            .iter()
            .map(|r| json!({"path": r.path, "kind": r.kind}))
            .collect();
        let metadata = map.entry("metadata").or_insert_with(|| json!({}));
        if let Value::Object(m) = metadata {
            m.insert("masked_before_spooling".into(), Value::Array(paths));
        }
    }
}

/// Says something on stderr, where MCP clients log what a server says.
pub(crate) fn notice(message: &str) {
    eprintln!("flightrec proxy: {message}");
}
