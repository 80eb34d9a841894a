//! `GET /v1/events/stream?<filters>&after_seq=`: a live tail of the log as
//! Server-Sent Events. Each record committed after the starting point that
//! matches the filters of `GET /v1/events` is sent once, oldest first, as
//! the same JSON (`data:`), with its `seq` as the event's `id:`; a client
//! that reconnects with `Last-Event-ID` (as `EventSource` does) or
//! `after_seq` misses nothing and sees nothing twice. The stream opens with
//! `event: start` naming where it starts (`id:` and `{"after_seq"}`), so a
//! reconnect before the first record resumes from there too.
//!
//! Records are numbered in commit order on both stores (a tenant's appends
//! are serial), so following `seq` upwards is enough. Free-text search
//! (`q`) is refused: the search index catches up after the commit, and a
//! record not yet indexed when the tail passed it would be missed.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::{event_filter, event_json};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use flightrec_store::{EventFilter, EventQuery};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often the log is looked at for new records.
const POLL: Duration = Duration::from_millis(500);
/// A stream ends (`event: end`) after this long; the client reconnects
/// where it was, which frees what a forgotten tab holds.
const MAX_LIFETIME: Duration = Duration::from_secs(3600);
const PAGE: usize = 500;

pub(crate) async fn stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    principal.require(Permission::Read)?;
    let mut p = Params::parse(raw.as_deref())?;
    let filter = event_filter(&mut p, &state)?;
    let after_seq = p.take_parsed("after_seq", parse_seq)?;
    p.finish()?;
    if filter.q.is_some() {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`q` cannot be followed live: records are indexed for search after they are \
             committed; use the other filters, or poll GET /v1/events?q=",
        ));
    }
    let resume = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .map_err(|_| "is not text".to_owned())
                .and_then(parse_seq)
                .map_err(|e| ApiError::bad_request("invalid_header", format!("Last-Event-ID {e}")))
        })
        .transpose()?;
    let tenant = principal.tenant.clone();
    // Where to start: after what the client saw, or else after what the
    // log holds now (only what comes next).
    let after = match resume.or(after_seq) {
        Some(seq) => Some(seq),
        None => {
            let t = tenant.clone();
            let size = state.blocking(move |s| s.log_size(&t)).await?;
            size.checked_sub(1)
        }
    };
    let (tx, rx) = mpsc::channel::<Event>(16);
    tokio::spawn(follow(state, tenant, filter, after, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn parse_seq(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| format!("must be a record's seq (0, 1, …), not {v:?}"))
}

/// Sends every matching record after `after`, then each new one as it is
/// committed, until the client leaves or the stream has lived its time. A
/// store error ends the stream with `event: error`.
async fn follow(
    state: AppState,
    tenant: String,
    filter: EventFilter,
    after: Option<u64>,
    tx: mpsc::Sender<Event>,
) {
    // Where it starts, as an id: a client that reconnects before the
    // first record resumes from here, not from a later "now".
    if let Some(seq) = after {
        let start = Event::default()
            .event("start")
            .id(seq.to_string())
            .data(format!("{{\"after_seq\":{seq}}}"));
        if tx.send(start).await.is_err() {
            return;
        }
    }
    if let Err(message) = send_records(&state, &tenant, &filter, after, &tx).await {
        let _ = tx.send(Event::default().event("error").data(message)).await;
    }
}

async fn send_records(
    state: &AppState,
    tenant: &str,
    filter: &EventFilter,
    mut after: Option<u64>,
    tx: &mpsc::Sender<Event>,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        // Every record below this size was committed before the query
        // below began, so the query sees all of them: past the page's last
        // match, the tail may move on to here, and a selective filter does
        // not read the same unmatched records again at every poll.
        let t = tenant.to_owned();
        let committed = state
            .blocking(move |s| s.log_size(&t))
            .await
            .map_err(|e| e.message)?;
        let query = EventQuery {
            filter: filter.clone(),
            limit: PAGE,
            after_seq: after,
            ascending: true,
            ..Default::default()
        };
        let t = tenant.to_owned();
        let page = state
            .blocking(move |s| s.records(&t, &query))
            .await
            .map_err(|e| e.message)?;
        for record in &page.items {
            let data = event_json(record).map_err(|e| e.message)?.to_string();
            let event = Event::default()
                .id(record.header.seq.to_string())
                .data(data);
            if tx.send(event).await.is_err() {
                return Ok(()); // the client left
            }
            after = Some(record.header.seq);
        }
        if page.more {
            continue;
        }
        after = after.max(committed.checked_sub(1));
        if started.elapsed() > MAX_LIFETIME {
            let end = Event::default()
                .event("end")
                .data(r#"{"reason":"reconnect"}"#);
            let _ = tx.send(end).await;
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
        if tx.is_closed() {
            return Ok(());
        }
    }
}
