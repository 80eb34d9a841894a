//! The audit log (`/`): totals for the window, filters that live in the
//! URL, and a page of records with their whole payload one click away.

use super::chart::{TimeChart, Window};
use super::connect::has_begun_recording;
use super::filters::{Filters, WINDOWS, link};
use super::format;
use super::viewer::{Chrome, PageError, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::cursor;
use crate::params::Params;
use crate::routes::events::{event_filter, event_json};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use flightrec_core::record::{StoredRecord, SubmittedBy};
use flightrec_store::{EventQuery, Facet, RecordCounts};
use serde_json::Value;

const PAGE_SIZE: usize = 50;
const ACTOR_TYPES: [(&str, &str); 3] =
    [("human", "Human"), ("agent", "Agent"), ("system", "System")];
const ORIGINS: [(&str, &str); 2] = [
    ("flightrec", "flightrec's own records"),
    ("client", "Sent by clients"),
];

/// The filters the toolbar has a control for; others ride along hidden.
const TOOLBAR: [&str; 7] = [
    "type",
    "resource_type",
    "actor_type",
    "origin",
    "since",
    "actor",
    "q",
];

/// The filters a chip can show, with the words it shows them with.
const CHIPS: &[(&str, &str)] = &[
    ("type", "Action"),
    ("status", "Status"),
    ("resource_type", "Resource type"),
    ("resource_id", "Resource"),
    ("actor_type", "Actor type"),
    ("actor", "Actor"),
    ("origin", "Origin"),
    ("submitted_by", "Sent by"),
    ("run_id", "Run"),
    ("agent_id", "Agent"),
    ("since", "When"),
    ("until", "Until"),
    ("q", "Search"),
];

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    window_label: String,
    counts: RecordCounts,
    /// The window's records over time, by status.
    chart: TimeChart,
    chart_caption: String,
    /// Links from the cards: every status, failures, warnings.
    card_links: [String; 3],
    actions: Vec<Choice>,
    resource_types: Vec<Choice>,
    actor_types: Vec<Choice>,
    origins: Vec<Choice>,
    windows: Vec<Choice>,
    actor: String,
    q: String,
    /// Filters the toolbar has no control for, kept when it is submitted.
    hidden: Vec<(String, String)>,
    chips: Vec<Chip>,
    rows: Vec<Row>,
    older: Option<String>,
    newest: Option<String>,
    export: String,
    /// Following new records, offered on the newest page without `q`.
    live: Option<Live>,
}

/// What the audit page's live tail needs: the API stream of these filters
/// and the rows to add when it says there are new records.
struct Live {
    api_query: String,
    filters: String,
    /// Where the tail starts; `None` on an empty log.
    after_seq: Option<u64>,
}

/// `/audit/rows`: the table rows the live tail adds.
#[derive(Template)]
#[template(path = "audit_rows.html")]
struct AuditRows {
    rows: Vec<Row>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct Chip {
    label: String,
    remove: String,
}

struct Row {
    id: String,
    seq: u64,
    time: String,
    relative: String,
    event_type: String,
    status: &'static str,
    actor: String,
    actor_link: Option<String>,
    /// Who really sent the record, as flightrec attests it.
    sender: Sender,
    resource: String,
    resource_link: Option<String>,
    run_id: Option<String>,
    payload: String,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    // A tenant with nothing recorded yet is shown how to begin; any filter
    // in the URL means someone asked for the log itself.
    if raw.as_deref().unwrap_or_default().is_empty() {
        let tenant = viewer.principal.tenant.clone();
        let begun = state
            .blocking(move |store| has_begun_recording(store, &tenant))
            .await?;
        if !begun {
            return Ok(Redirect::to("/connect").into_response());
        }
    }
    let (filters, before_seq) = Filters::parse(raw.as_deref())?;
    let mut params = Params::parse(Some(&filters.api_query()))?;
    let filter = event_filter(&mut params, &state)?;
    params.finish()?;

    let tenant = viewer.principal.tenant.clone();
    let (since, until) = (filter.since.clone(), filter.until.clone());
    let now = state.clock().now();
    let chart_by = Window {
        since: since.as_deref(),
        until: until.as_deref(),
        now,
    }
    .granularity();
    let event_query = EventQuery {
        filter,
        limit: PAGE_SIZE,
        before_seq,
        ..Default::default()
    };
    let (chart_since, chart_until) = (since.clone(), until.clone());
    let (log_size, page, over_time, types, resource_types) = state
        .blocking(move |store| {
            let (since, until) = (since.as_deref(), until.as_deref());
            Ok((
                // Before the records: the live tail starts after both.
                store.log_size(&tenant)?,
                store.records(&tenant, &event_query)?,
                store.stats(&tenant, since, until, Some(chart_by))?,
                store.distinct_values(&tenant, Facet::EventType)?,
                store.distinct_values(&tenant, Facet::ResourceType)?,
            ))
        })
        .await?;

    let rows = page
        .items
        .iter()
        .map(|record| Ok(row(record, &event_json(record)?, now)))
        .collect::<Result<Vec<_>, PageError>>()?;
    let older = page
        .more
        .then(|| page.items.last())
        .flatten()
        .map(|last| filters.with("cursor", &cursor::encode("events", &last.header.seq)));
    let chips = filters
        .iter()
        .filter_map(|(name, value)| {
            let (_, label) = CHIPS.iter().find(|(n, _)| *n == name)?;
            let shown = if name == "since" {
                window_name(value).unwrap_or(value)
            } else {
                value
            };
            Some(Chip {
                label: format!("{label}: {shown}"),
                remove: filters.without(name),
            })
        })
        .collect();
    let selected = |name: &str| filters.get(name).unwrap_or("");
    let named = |v: Vec<String>| v.into_iter().map(|t| (t.clone(), t));
    let window = filters.window();
    let window_label = window_name(window).unwrap_or(window);
    let chart = TimeChart::of_statuses(
        &over_time,
        chart_by,
        &Window {
            since: chart_since.as_deref(),
            until: chart_until.as_deref(),
            now,
        },
    );
    render(&AuditPage {
        chrome: viewer.chrome("Audit log", "audit"),
        window_label: window_label.to_owned(),
        // The cards' totals are the chart's bars summed: one read of the
        // window's tallies serves both.
        counts: {
            let all = over_time.total().counts;
            RecordCounts {
                total: all.n,
                fail: all.fail,
                warn: all.warn,
            }
        },
        chart_caption: format!(
            "Events {} by {}, {window_label}: every record of the window, whatever the filters",
            chart.unit, chart.kinds.by
        ),
        chart,
        card_links: [
            filters.without("status"),
            filters.with("status", "fail"),
            filters.with("status", "warn"),
        ],
        actions: choices(named(types), selected("type")),
        resource_types: choices(named(resource_types), selected("resource_type")),
        actor_types: choices(fixed(&ACTOR_TYPES), selected("actor_type")),
        origins: choices(fixed(&ORIGINS), selected("origin")),
        windows: choices(fixed(&WINDOWS), window),
        actor: selected("actor").to_owned(),
        q: selected("q").to_owned(),
        hidden: filters
            .iter()
            .filter(|(name, _)| !TOOLBAR.contains(name))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        chips,
        rows,
        older,
        newest: before_seq.map(|_| filters.href()),
        export: format!("/v1/events/export?{}&format=csv", filters.api_query()),
        live: (before_seq.is_none() && filters.get("q").is_none()).then(|| Live {
            api_query: filters.api_query(),
            filters: filters.query(),
            // The newest record the page could have shown: those after it
            // are what the tail adds.
            after_seq: page
                .items
                .first()
                .map(|r| r.header.seq)
                .max(log_size.checked_sub(1)),
        }),
    })
}

/// Rows at most one `/audit/rows` answer holds; the tail asks again while
/// it knows of newer records.
const LIVE_ROWS: usize = 200;

/// `/audit/rows?<filters>&after_seq=N`: the records after `N` that match
/// the audit log's filters (the oldest [`LIVE_ROWS`] of them), newest
/// first, as the table rows the page shows them with.
pub async fn new_rows(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let (mut filters, _) = Filters::parse(raw.as_deref())?;
    let after_seq = filters
        .take("after_seq")
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                crate::error::ApiError::bad_request(
                    "invalid_parameter",
                    format!("`after_seq` must be a record's seq, not {v:?}"),
                )
            })
        })
        .transpose()?;
    let mut params = Params::parse(Some(&filters.api_query()))?;
    let filter = event_filter(&mut params, &state)?;
    params.finish()?;
    let tenant = viewer.principal.tenant.clone();
    let query = EventQuery {
        filter,
        limit: LIVE_ROWS,
        after_seq,
        ascending: true,
        ..Default::default()
    };
    let page = state
        .blocking(move |store| store.records(&tenant, &query))
        .await?;
    let now = state.clock().now();
    let rows = page
        .items
        .iter()
        .rev()
        .map(|record| Ok(row(record, &event_json(record)?, now)))
        .collect::<Result<Vec<_>, PageError>>()?;
    render(&AuditRows { rows })
}

/// A select's options, `current` selected.
fn choices(values: impl IntoIterator<Item = (String, String)>, current: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

fn fixed(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    pairs
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
}

fn row(record: &StoredRecord, event: &Value, now: chrono::DateTime<chrono::Utc>) -> Row {
    let h = &record.header;
    let actor = format::actor(event);
    let actor_key = event["actor"]["email"]
        .as_str()
        .or_else(|| event["actor"]["id"].as_str());
    let resource = &event["resource"];
    let resource_link = match (resource["type"].as_str(), resource["id"].as_str()) {
        (Some(t), Some(id)) => Some(link([
            ("resource_type", t),
            ("resource_id", id),
            ("since", "all"),
        ])),
        _ => None,
    };
    let sender = Sender::of(h.submitted_by.as_deref(), !actor.is_empty());
    Row {
        sender,
        id: h.id.clone(),
        seq: h.seq,
        relative: format::relative(&h.time, now),
        time: h.time.clone(),
        event_type: h.event_type.clone(),
        status: h.status.as_str(),
        actor_link: actor_key.map(|a| link([("actor", a), ("since", "all")])),
        actor,
        resource: format::resource(event),
        resource_link,
        run_id: h.run_id.clone(),
        payload: format::pretty(event),
    }
}

/// How the audit log shows a record's provenance (`submitted_by`).
pub struct Sender {
    /// `flightrec`, `key` or `user`; `unattested` for record format 1.
    pub class: &'static str,
    pub label: String,
    /// Said on hover: what the label means.
    pub title: String,
    /// Whether the actor shown is only what the sender claimed.
    pub actor_claimed: bool,
}

impl Sender {
    fn of(submitted_by: Option<&str>, has_actor: bool) -> Sender {
        match submitted_by.and_then(SubmittedBy::parse) {
            Some(SubmittedBy::Flightrec) => Sender {
                class: "flightrec",
                label: "flightrec".into(),
                title: "Written by flightrec itself: the actor is who it saw act".into(),
                actor_claimed: false,
            },
            Some(SubmittedBy::Key(id)) => Sender {
                class: "key",
                label: format!("key {}", short(&id)),
                title: format!(
                    "Sent with API key {id}; its actor is what the key claimed, not checked by flightrec"
                ),
                actor_claimed: has_actor,
            },
            Some(SubmittedBy::User(id)) => Sender {
                class: "user",
                label: format!("user {}", short(&id)),
                title: format!("Sent by the signed-in person {id}; its actor is what they claimed"),
                actor_claimed: has_actor,
            },
            None => Sender {
                class: "unattested",
                label: "—".into(),
                title: "Recorded before flightrec attested who sent records (format 1)".into(),
                actor_claimed: has_actor,
            },
        }
    }
}

/// The last characters of an id, enough to tell keys apart on a page (a
/// UUIDv7 begins with its time, so keys made together share a prefix).
fn short(id: &str) -> &str {
    let chars = id.chars().count();
    id.char_indices()
        .nth(chars.saturating_sub(8))
        .map_or(id, |(i, _)| &id[i..])
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    chrome: Chrome,
    id: String,
    seq: u64,
    run_id: Option<String>,
    payload: String,
}

/// `/events/{id}`: one record whole, with the way to check it.
pub async fn event_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let tenant = viewer.principal.tenant.clone();
    let lookup = id.clone();
    let record = state
        .blocking(move |store| store.record(&tenant, &lookup))
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found(format!("no event with id {id:?}")))?;
    let event = event_json(&record)?;
    render(&EventPage {
        chrome: viewer.chrome(format!("Event {id}"), "audit"),
        seq: record.header.seq,
        run_id: record.header.run_id.clone(),
        payload: format::pretty(&event),
        id,
    })
}

fn window_name(value: &str) -> Option<&'static str> {
    WINDOWS.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}
