//! `GET /v1/runs/{id}/replay?speed=&from_event=&max_gap_ms=&follow=`: a
//! run's events as Server-Sent Events, one canonical event per `data:`
//! line, paced by the gaps between them divided by `speed` (idle gaps
//! capped at `max_gap_ms`). Reaching the end of a run that has not
//! finished, the stream follows it live until it completes, is cancelled
//! or fails (`event: end`), or stays quiet for [`TAIL_IDLE_LIMIT`].
//! Each event's `id:` is its index in the run, so a client that
//! reconnects can pass `from_event`.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::event_json;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use flightrec_core::event::parse_time;
use flightrec_core::replay::{RunStatus, delay};
use flightrec_store::RunRecordsQuery;
use futures_util::Stream;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/runs/{id}/replay", get(replay))
}

/// How often a live run is looked at for new events.
const TAIL_POLL: Duration = Duration::from_millis(250);
/// A followed run that sends nothing for this long ends the stream.
const TAIL_IDLE_LIMIT: Duration = Duration::from_secs(600);
const PAGE: usize = 500;

struct Options {
    speed: f64,
    from_event: u64,
    max_gap: Duration,
    follow: bool,
}

async fn replay(
    State(state): State<AppState>,
    principal: Principal,
    Path(run_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    principal.require(Permission::Read)?;
    let mut p = Params::parse(raw.as_deref())?;
    let speed = p
        .take_parsed("speed", |v| match v.parse::<f64>() {
            Ok(s) if (0.01..=10_000.0).contains(&s) => Ok(s),
            _ => Err(format!("must be a number from 0.01 to 10000, not {v:?}")),
        })?
        .unwrap_or(1.0);
    let from_event = p
        .take_parsed("from_event", |v| {
            v.parse::<u64>()
                .map_err(|_| format!("must be an event index (0, 1, …), not {v:?}"))
        })?
        .unwrap_or(0);
    let max_gap = p
        .take_parsed("max_gap_ms", |v| {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("must be a whole number of milliseconds, not {v:?}"))
        })?
        .unwrap_or(Duration::from_secs(2));
    let follow = match p.take("follow").as_deref() {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("`follow` must be true or false, not {other:?}"),
            ));
        }
    };
    p.finish()?;
    super::runs::existing_run(&state, &principal, &run_id).await?;
    let options = Options {
        speed,
        from_event,
        max_gap,
        follow,
    };
    let (tx, rx) = mpsc::channel::<Event>(16);
    tokio::spawn(produce(state, principal.tenant, run_id, options, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Sends the run's events, paced, until the end (or, following, until the
/// run finishes); stops as soon as the client goes away.
async fn produce(
    state: AppState,
    tenant: String,
    run_id: String,
    o: Options,
    tx: mpsc::Sender<Event>,
) {
    let mut index = 0u64;
    let mut after: Option<(String, u64)> = None;
    let mut prev = None;
    let mut idle_since = Instant::now();
    let mut ending: Option<&'static str> = None;
    loop {
        let query = RunRecordsQuery {
            limit: PAGE,
            after: after.clone(),
            ..Default::default()
        };
        let (t, r) = (tenant.clone(), run_id.clone());
        let page = match state.blocking(move |s| s.run_records(&t, &r, &query)).await {
            Ok(page) => page,
            Err(e) => {
                let _ = tx
                    .send(Event::default().event("error").data(e.message))
                    .await;
                return;
            }
        };
        if !page.items.is_empty() {
            idle_since = Instant::now();
        }
        for record in &page.items {
            let this = index;
            index += 1;
            if this < o.from_event {
                continue;
            }
            let time = parse_time(&record.header.time).ok();
            if let (Some(p), Some(t)) = (prev, time) {
                tokio::time::sleep(delay(p, t, o.speed, o.max_gap)).await;
            }
            prev = time;
            let data = match event_json(record) {
                Ok(v) => v.to_string(),
                Err(e) => {
                    let _ = tx
                        .send(Event::default().event("error").data(e.message))
                        .await;
                    return;
                }
            };
            if tx
                .send(Event::default().id(this.to_string()).data(data))
                .await
                .is_err()
            {
                return; // the client left
            }
        }
        if let Some(last) = page.items.last() {
            after = Some((last.header.time.clone(), last.header.seq));
        }
        if page.more {
            continue;
        }
        // Caught up. A finished run, or one not followed, ends here — once
        // a read that began after that was seen has found nothing more.
        if let Some(why) = ending.filter(|_| page.items.is_empty()) {
            let _ = tx
                .send(
                    Event::default()
                        .event("end")
                        .data(format!("{{\"events\":{index},\"reason\":\"{why}\"}}")),
                )
                .await;
            return;
        }
        let (t, r) = (tenant.clone(), run_id.clone());
        let status = state
            .blocking(move |s| s.run(&t, &r))
            .await
            .ok()
            .flatten()
            .map(|run| run.status);
        let finished = !matches!(status, Some(RunStatus::Running | RunStatus::Paused));
        if !o.follow || finished || idle_since.elapsed() > TAIL_IDLE_LIMIT {
            // Events committed just before the status was read may not
            // have been in the page: look once more before ending.
            ending = Some(match status {
                Some(s) if finished => s.as_str(),
                _ if !o.follow => "caught_up",
                _ => "idle",
            });
            continue;
        }
        // Live: new events show as they come, not re-paced.
        prev = None;
        tokio::time::sleep(TAIL_POLL).await;
        if tx.is_closed() {
            return;
        }
    }
}
