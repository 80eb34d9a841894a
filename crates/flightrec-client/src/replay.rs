//! A cursor over a run that plays it back at the pace it happened: pause,
//! resume, change speed, seek to an event or a time, ask for the state.
//!
//! The server sends the run as fast as it is read (its SSE replay at its
//! top speed, following a run still being written); the cursor paces it
//! here, so pausing or changing speed acts at once rather than after what
//! the server had already sent. Seeking reopens the stream at the event.

use crate::client::{Client, Until, path_segment};
use crate::error::{Error, Result};
use crate::sse;
use chrono::{DateTime, Utc};
use flightrec_core::event::parse_time;
use flightrec_core::replay::{RunState, delay};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The fastest the server is asked to send: pacing happens here.
const SOURCE_SPEED: &str = "10000";

/// The time a replay paces by, injectable so that pacing can be tested
/// without waiting. Times are offsets from the clock's own start.
pub trait PaceClock: Send + Sync + 'static {
    fn now(&self) -> Duration;
    /// Completes once [`PaceClock::now`] has reached `at`.
    fn sleep_until(&self, at: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock (tokio's).
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl PaceClock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep_until(&self, at: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep_until(self.start + at))
    }
}

/// How to play a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// 1 is as it happened, 2 twice as fast; above 0, at most 10,000.
    pub speed: f64,
    /// The first event to show (run order, from 0).
    pub from_event: u64,
    /// The longest wait between two events, however long the run idled.
    pub max_gap: Duration,
    /// At the end of a run still being written, wait for more.
    pub follow: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            speed: 1.0,
            from_event: 0,
            max_gap: Duration::from_secs(2),
            follow: true,
        }
    }
}

/// One event of the run as it is played.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// Its position in the run, from 0.
    pub index: u64,
    /// The event, canonical JSON as the API serves it.
    pub event: Value,
}

impl RunEvent {
    pub fn time(&self) -> Option<DateTime<Utc>> {
        parse_time(self.event["time"].as_str()?).ok()
    }
    pub fn event_type(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }
}

/// How a replay ended.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReplayEnd {
    /// Events in the run when it ended.
    pub events: u64,
    /// `completed`, `cancelled`, `failed` (the run finished), `caught_up`
    /// (not following) or `idle` (a followed run went quiet).
    pub reason: String,
}

/// What the controls say; shared by the cursor and its handles.
#[derive(Debug, Clone)]
struct Controls {
    speed: f64,
    paused_since: Option<Duration>,
    /// Time spent paused, in all.
    paused_for: Duration,
    /// A requested jump: (request number, index).
    seek: Option<(u64, u64)>,
    /// Steps asked for in all: each lets one event through at once,
    /// paused or not.
    steps: u64,
}

/// Pauses, resumes, re-speeds and seeks a [`Replay`] from anywhere (a key
/// handler, another task) while something else reads it.
#[derive(Clone)]
pub struct ReplayControl {
    client: Client,
    run_id: Arc<str>,
    clock: Arc<dyn PaceClock>,
    controls: Arc<watch::Sender<Controls>>,
}

impl ReplayControl {
    pub fn pause(&self) {
        let now = self.clock.now();
        self.controls.send_if_modified(|c| {
            let change = c.paused_since.is_none();
            c.paused_since.get_or_insert(now);
            change
        });
    }

    pub fn resume(&self) {
        let now = self.clock.now();
        self.controls
            .send_if_modified(|c| match c.paused_since.take() {
                Some(since) => {
                    c.paused_for += now.saturating_sub(since);
                    true
                }
                None => false,
            });
    }

    /// Shows the next event now, without waiting for its time; a paused
    /// replay stays paused after it.
    pub fn step(&self) {
        self.controls.send_modify(|c| c.steps += 1);
    }

    pub fn is_paused(&self) -> bool {
        self.controls.borrow().paused_since.is_some()
    }

    pub fn speed(&self) -> f64 {
        self.controls.borrow().speed
    }

    /// Plays at `speed` from now on (the wait under way included).
    pub fn set_speed(&self, speed: f64) -> Result<()> {
        check_speed(speed)?;
        self.controls.send_modify(|c| c.speed = speed);
        Ok(())
    }

    /// Makes event `n` (run order, from 0) the next one shown.
    pub fn seek_to_event(&self, n: u64) {
        self.controls.send_modify(|c| {
            let request = c.seek.map_or(1, |(r, _)| r + 1);
            c.seek = Some((request, n));
        });
    }

    /// Makes the first event after `time` the next one shown; answers its
    /// index.
    pub async fn seek_to(&self, time: DateTime<Utc>) -> Result<u64> {
        let before = self.state_at(time).await?.events;
        self.seek_to_event(before);
        Ok(before)
    }

    /// The run's state through every event at or before `time`.
    pub async fn state_at(&self, time: DateTime<Utc>) -> Result<RunState> {
        self.client.run_state(&self.run_id, Until::Time(time)).await
    }
}

/// The replay cursor: [`Replay::next`] answers the run's events in order,
/// each when its time comes.
pub struct Replay {
    control: ReplayControl,
    changes: watch::Receiver<Controls>,
    options: ReplayOptions,
    source: Option<sse::Source>,
    /// The seek request the source was opened for.
    opened_for: u64,
    /// The next event, read but not yet due.
    ahead: Option<RunEvent>,
    /// The last event shown: its time in the run, when it was shown, and
    /// how long the replay had been paused by then.
    shown: Option<Shown>,
    /// The index the next event will have.
    position: u64,
    end: Option<ReplayEnd>,
    /// Steps already taken (see [`ReplayControl::step`]).
    steps_taken: u64,
}

#[derive(Debug, Clone, Copy)]
struct Shown {
    time: Option<DateTime<Utc>>,
    at: Duration,
    paused_for: Duration,
}

impl Client {
    /// A replay of `run_id`, paced by the real clock. Nothing is read
    /// until the first [`Replay::next`].
    pub fn replay(&self, run_id: &str, options: ReplayOptions) -> Result<Replay> {
        self.replay_with_clock(run_id, options, Arc::new(TokioClock::default()))
    }

    /// A replay paced by `clock`.
    pub fn replay_with_clock(
        &self,
        run_id: &str,
        options: ReplayOptions,
        clock: Arc<dyn PaceClock>,
    ) -> Result<Replay> {
        check_speed(options.speed)?;
        let (controls, changes) = watch::channel(Controls {
            speed: options.speed,
            paused_since: None,
            paused_for: Duration::ZERO,
            seek: None,
            steps: 0,
        });
        Ok(Replay {
            control: ReplayControl {
                client: self.clone(),
                run_id: run_id.into(),
                clock,
                controls: Arc::new(controls),
            },
            changes,
            position: options.from_event,
            options,
            source: None,
            opened_for: 0,
            ahead: None,
            shown: None,
            end: None,
            steps_taken: 0,
        })
    }
}

impl Replay {
    /// A handle on the controls, for another task.
    pub fn control(&self) -> ReplayControl {
        self.control.clone()
    }

    pub fn pause(&self) {
        self.control.pause()
    }

    pub fn resume(&self) {
        self.control.resume()
    }

    pub fn set_speed(&self, speed: f64) -> Result<()> {
        self.control.set_speed(speed)
    }

    pub fn seek_to_event(&self, n: u64) {
        self.control.seek_to_event(n)
    }

    pub fn step(&self) {
        self.control.step()
    }

    pub async fn seek_to(&self, time: DateTime<Utc>) -> Result<u64> {
        self.control.seek_to(time).await
    }

    pub async fn state_at(&self, time: DateTime<Utc>) -> Result<RunState> {
        self.control.state_at(time).await
    }

    /// The state after the events behind the cursor (the last one shown,
    /// or the one before a seek's target); at the start, the empty state.
    pub async fn state(&self) -> Result<RunState> {
        let Some(n) = self.position.checked_sub(1) else {
            return Ok(RunState::default());
        };
        let until = Until::Event(n);
        let c = &self.control;
        c.client.run_state(&c.run_id, until).await
    }

    /// The index the next event will have.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// How the replay ended, once [`Replay::next`] has answered `None`.
    pub fn end(&self) -> Option<&ReplayEnd> {
        self.end.as_ref()
    }

    /// The next event, when it is due; `None` at the end of the run (or,
    /// following, when it finishes).
    pub async fn next(&mut self) -> Option<Result<RunEvent>> {
        loop {
            let controls = self.changes.borrow_and_update().clone();
            if let Some((request, n)) = controls.seek
                && request != self.opened_for
            {
                self.opened_for = request;
                self.jump(n);
            }
            let stepping = controls.steps > self.steps_taken;
            if controls.paused_since.is_some() && !stepping {
                if self.changes.changed().await.is_err() {
                    return None;
                }
                continue;
            }
            if self.ahead.is_none() {
                if self.end.is_some() {
                    return None;
                }
                match self.read().await {
                    Ok(Some(e)) => self.ahead = Some(e),
                    Ok(None) => return None,
                    Err(e) => return Some(Err(e)),
                }
                continue; // the controls may have moved while reading
            }
            let next_time = self.ahead.as_ref().and_then(RunEvent::time);
            let due = match (self.shown, next_time) {
                _ if stepping => Duration::ZERO,
                (Some(s), Some(t)) => {
                    let wait = s.time.map_or(Duration::ZERO, |p| {
                        delay(p, t, controls.speed, self.options.max_gap)
                    });
                    // Time spent paused since that event does not count.
                    s.at + wait + controls.paused_for.saturating_sub(s.paused_for)
                }
                _ => Duration::ZERO,
            };
            let clock = self.control.clock.clone();
            if clock.now() < due {
                tokio::select! {
                    _ = clock.sleep_until(due) => {}
                    changed = self.changes.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        continue;
                    }
                }
            }
            let event = self.ahead.take().expect("an event is ahead");
            if stepping {
                self.steps_taken += 1;
            }
            let now = clock.now();
            // A step taken while paused: the pause so far is behind it.
            let paused_now = controls
                .paused_since
                .map_or(Duration::ZERO, |p| now.saturating_sub(p));
            self.shown = Some(Shown {
                time: next_time,
                at: now,
                paused_for: controls.paused_for + paused_now,
            });
            self.position = event.index + 1;
            return Some(Ok(event));
        }
    }

    /// The events as a stream.
    pub fn into_stream(self) -> impl Stream<Item = Result<RunEvent>> {
        futures_util::stream::unfold(self, |mut replay| async move {
            let item = replay.next().await?;
            Some((item, replay))
        })
    }

    fn jump(&mut self, n: u64) {
        self.source = None;
        self.ahead = None;
        self.shown = None;
        self.end = None;
        self.position = n;
    }

    /// The next event from the server, opening the stream first if needed.
    async fn read(&mut self) -> Result<Option<RunEvent>> {
        if self.source.is_none() {
            let c = &self.control;
            let query = [
                ("speed", SOURCE_SPEED.to_owned()),
                ("max_gap_ms", "0".to_owned()),
                ("from_event", self.position.to_string()),
                ("follow", self.options.follow.to_string()),
            ];
            let path = format!("/v1/runs/{}/replay", path_segment(&c.run_id));
            let response = c.client.get_stream(&path, &query).await?;
            self.source = Some(sse::Source::new(response, c.client.server(), "replay"));
        }
        let source = self.source.as_mut().expect("opened above");
        loop {
            // A broken stream is opened again, from here, on the next call.
            let message = match source.next().await {
                Ok(Some(m)) => m,
                Ok(None) => {
                    let server = source.server().to_owned();
                    self.source = None;
                    return Err(Error::Unreachable {
                        server,
                        reason: "the replay stream ended without its end message".into(),
                    });
                }
                Err(e) => {
                    self.source = None;
                    return Err(e);
                }
            };
            match message.event.as_deref() {
                Some("end") => {
                    self.end = Some(serde_json::from_str(&message.data).map_err(|e| {
                        unexpected(format!("its end message is not understood ({e})"))
                    })?);
                    return Ok(None);
                }
                Some("error") => {
                    return Err(unexpected(format!("the server stopped: {}", message.data)));
                }
                None | Some("message") => {}
                Some(_) => continue,
            }
            let index = message
                .id
                .as_deref()
                .and_then(|i| i.parse::<u64>().ok())
                .ok_or_else(|| unexpected("an event came without its index".into()))?;
            let event = serde_json::from_str(&message.data)
                .map_err(|e| unexpected(format!("an event is not JSON ({e})")))?;
            return Ok(Some(RunEvent { index, event }));
        }
    }
}

fn unexpected(reason: String) -> Error {
    Error::Unexpected {
        path: "the replay stream".into(),
        reason,
    }
}

fn check_speed(speed: f64) -> Result<()> {
    if speed > 0.0 && speed <= 10_000.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "a replay's speed is above 0 and at most 10000, not {speed}"
        )))
    }
}
