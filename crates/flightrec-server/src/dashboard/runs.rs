//! Runs (`/runs`) and one run (`/runs/{id}`): its timeline, rendered here,
//! and the replay player (`assets/run.js`) that asks the API for the state
//! at each point.

use super::format;
use super::viewer::{Chrome, PageError, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::cursor;
use crate::error::ApiError;
use crate::params::Params;
use crate::routes::events::event_json;
use crate::run_pages::walk_run;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use flightrec_core::event::parse_time;
use flightrec_core::record::StoredRecord;
use flightrec_store::{RunQuery, RunRecordsQuery, RunSummary};

const PAGE_SIZE: usize = 50;

/// The most events a run page lists; a longer run says so and offers its
/// exports (the player's API reads any point of any run).
const MAX_TIMELINE: usize = 20_000;

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunRow>,
    older: Option<String>,
}

struct RunRow {
    run: RunSummary,
    relative: String,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let query = RunQuery {
        limit: PAGE_SIZE,
        after: params
            .take("cursor")
            .map(|c| cursor::decode::<(String, String)>("runs", &c))
            .transpose()?,
        ..Default::default()
    };
    params.finish()?;
    let tenant = viewer.principal.tenant.clone();
    let page = state
        .blocking(move |store| store.runs(&tenant, &query))
        .await?;
    let older = page.more.then(|| page.items.last()).flatten().map(|r| {
        let c = cursor::encode("runs", &(&r.last_time, &r.run_id));
        format!("/runs?cursor={c}")
    });
    let now = state.clock().now();
    let runs = page
        .items
        .into_iter()
        .map(|run| RunRow {
            relative: format::relative(&run.last_time, now),
            run,
        })
        .collect();
    render(&RunsPage {
        chrome: viewer.chrome("Runs", "runs"),
        runs,
        older,
    })
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunSummary,
    duration: String,
    /// The scrubber's range.
    duration_ms: i64,
    steps: Vec<Step>,
    exports: [(&'static str, &'static str); 5],
}

/// One event on the timeline.
struct Step {
    index: usize,
    id: String,
    time: String,
    /// Milliseconds since the run's first event: where the scrubber puts it.
    offset_ms: i64,
    event_type: String,
    status: String,
    summary: String,
}

impl Step {
    /// `+12.5 s` from the run's start.
    fn offset_label(&self) -> String {
        format!("+{:.1} s", self.offset_ms as f64 / 1000.0)
    }
}

pub async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(run_id): Path<String>,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let tenant = viewer.principal.tenant.clone();
    let id = run_id.clone();
    let (run, records) = state
        .blocking(move |store| {
            let Some(run) = store.run(&tenant, &id)? else {
                return Ok(None);
            };
            let mut records: Vec<StoredRecord> = Vec::new();
            walk_run(
                store,
                &tenant,
                &id,
                RunRecordsQuery::default(),
                &mut |page| {
                    records.extend_from_slice(page);
                    records.len() < MAX_TIMELINE
                },
            )?;
            records.truncate(MAX_TIMELINE);
            Ok(Some((run, records)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {run_id:?}")))?;
    let millis = |t: &str| parse_time(t).map_or(0, |t| t.timestamp_millis());
    let start = records.first().map_or(0, |r| millis(&r.header.time));
    let steps = records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let event = event_json(record)?;
            let h = &record.header;
            Ok(Step {
                index,
                id: h.id.clone(),
                time: h.time.clone(),
                offset_ms: millis(&h.time) - start,
                event_type: h.event_type.clone(),
                status: h.status.as_str().to_owned(),
                summary: format::summary(&event),
            })
        })
        .collect::<Result<Vec<_>, PageError>>()?;
    let duration = steps.last().map_or(0, |s| s.offset_ms);
    render(&RunPage {
        chrome: viewer.chrome(format!("Run {run_id}"), "runs"),
        duration: format!("{:.1} s", duration as f64 / 1000.0),
        duration_ms: duration,
        run,
        steps,
        exports: [
            ("transcript", "Transcript"),
            ("json", "JSON"),
            ("csv", "CSV"),
            ("asciicast", "asciicast"),
            ("html", "HTML replay"),
        ],
    })
}
