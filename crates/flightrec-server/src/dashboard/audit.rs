//! The audit log (`/`): totals for the window, filters that live in the
//! URL, and a page of records with their whole payload one click away.

use super::format;
use super::viewer::{Chrome, PageError, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::cursor;
use crate::params::Params;
use crate::routes::events::{event_filter, event_json};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use flightrec_store::{EventQuery, Facet, RecordCounts};
use serde_json::Value;

const PAGE_SIZE: usize = 50;
const DEFAULT_WINDOW: &str = "24h";
const WINDOWS: [(&str, &str); 5] = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("all", "All time"),
];
const ACTOR_TYPES: [(&str, &str); 3] =
    [("human", "Human"), ("agent", "Agent"), ("system", "System")];

/// The filters a chip can show, with the words it shows them with.
const CHIPS: &[(&str, &str)] = &[
    ("type", "Action"),
    ("status", "Status"),
    ("resource_type", "Resource type"),
    ("resource_id", "Resource"),
    ("actor_type", "Actor type"),
    ("actor", "Actor"),
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
    /// Links from the cards: every status, failures, warnings.
    card_links: [String; 3],
    actions: Vec<Choice>,
    resource_types: Vec<Choice>,
    actor_types: Vec<Choice>,
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
    // The filters as given (empty values dropped), and the page's cursor.
    let mut filters = Vec::new();
    let mut before_seq = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned() {
        match k.as_str() {
            _ if v.is_empty() => {}
            "cursor" => before_seq = Some(cursor::decode::<u64>("events", &v)?),
            _ => filters.push((k, v)),
        }
    }
    let window = value_of(&filters, "since")
        .unwrap_or(DEFAULT_WINDOW)
        .to_owned();
    let mut with_window = filters.clone();
    if value_of(&filters, "since").is_none() {
        with_window.push(("since".into(), DEFAULT_WINDOW.into()));
    }
    let mut params = Params::parse(Some(&query(&with_window)))?;
    let filter = event_filter(&mut params, &state)?;
    params.finish()?;

    let tenant = viewer.principal.tenant.clone();
    let (since, until) = (filter.since.clone(), filter.until.clone());
    let event_query = EventQuery {
        filter,
        limit: PAGE_SIZE,
        before_seq,
        ..Default::default()
    };
    let (page, counts, types, resource_types) = state
        .blocking(move |store| {
            Ok((
                store.records(&tenant, &event_query)?,
                store.window_counts(&tenant, since.as_deref(), until.as_deref())?,
                store.distinct_values(&tenant, Facet::EventType)?,
                store.distinct_values(&tenant, Facet::ResourceType)?,
            ))
        })
        .await?;

    let now = state.clock().now();
    let rows = page
        .items
        .iter()
        .map(|record| {
            let event = event_json(record)?;
            Ok(row(&event, record.header.seq, now))
        })
        .collect::<Result<Vec<_>, PageError>>()?;
    let older = page.more.then(|| page.items.last()).flatten().map(|last| {
        let mut q = filters.clone();
        q.push(("cursor".into(), cursor::encode("events", &last.header.seq)));
        format!("/?{}", query(&q))
    });
    let newest = before_seq.map(|_| format!("/?{}", query(&filters)));

    let without = |name: &str| {
        let rest: Vec<_> = filters.iter().filter(|(k, _)| k != name).cloned().collect();
        format!("/?{}", query(&rest))
    };
    let with_status = |status: &str| {
        let mut q: Vec<_> = filters
            .iter()
            .filter(|(k, _)| k != "status")
            .cloned()
            .collect();
        q.push(("status".into(), status.into()));
        format!("/?{}", query(&q))
    };
    let chips = filters
        .iter()
        .filter_map(|(k, v)| {
            let (_, label) = CHIPS.iter().find(|(name, _)| name == k)?;
            let shown = match k.as_str() {
                "since" => window_name(v).unwrap_or(v).to_owned(),
                _ => v.clone(),
            };
            Some(Chip {
                label: format!("{label}: {shown}"),
                remove: without(k),
            })
        })
        .collect();
    let selected = |name: &str| value_of(&filters, name).unwrap_or("");
    let choices = |values: Vec<(String, String)>, current: &str| {
        values
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == current,
                value,
                label,
            })
            .collect::<Vec<_>>()
    };
    let same = |v: Vec<String>| v.into_iter().map(|t| (t.clone(), t)).collect();
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    };
    let toolbar = ["type", "resource_type", "actor_type", "since", "actor", "q"];
    let template = AuditPage {
        chrome: viewer.chrome("Audit log", "audit"),
        window_label: window_name(&window).unwrap_or(&window).to_owned(),
        counts,
        card_links: [without("status"), with_status("fail"), with_status("warn")],
        actions: choices(same(types), selected("type")),
        resource_types: choices(same(resource_types), selected("resource_type")),
        actor_types: choices(pairs(&ACTOR_TYPES), selected("actor_type")),
        windows: choices(pairs(&WINDOWS), &window),
        actor: selected("actor").to_owned(),
        q: selected("q").to_owned(),
        hidden: filters
            .iter()
            .filter(|(k, _)| !toolbar.contains(&k.as_str()))
            .cloned()
            .collect(),
        chips,
        rows,
        older,
        newest,
        export: format!("/v1/events/export?{}&format=csv", query(&with_window)),
    };
    render(&template)
}

fn row(event: &Value, seq: u64, now: chrono::DateTime<chrono::Utc>) -> Row {
    let text = |k: &str| event[k].as_str().unwrap_or_default().to_owned();
    let time = text("time");
    let actor = format::actor(event);
    let actor_key = event["actor"]["email"]
        .as_str()
        .or_else(|| event["actor"]["id"].as_str());
    let resource = &event["resource"];
    let resource_link = match (resource["type"].as_str(), resource["id"].as_str()) {
        (Some(t), Some(id)) => Some(format!(
            "/?{}",
            query(&[
                ("resource_type".into(), t.into()),
                ("resource_id".into(), id.into()),
                ("since".into(), "all".into()),
            ])
        )),
        _ => None,
    };
    Row {
        id: text("id"),
        seq,
        relative: format::relative(&time, now),
        time,
        event_type: text("type"),
        status: match event["status"].as_str() {
            Some("fail") => "fail",
            Some("warn") => "warn",
            _ => "ok",
        },
        actor_link: actor_key.map(|a| {
            format!(
                "/?{}",
                query(&[("actor".into(), a.into()), ("since".into(), "all".into())])
            )
        }),
        actor,
        resource: format::resource(event),
        resource_link,
        run_id: event["run_id"].as_str().map(str::to_owned),
        payload: format::pretty(event),
    }
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

fn value_of<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn window_name(value: &str) -> Option<&'static str> {
    WINDOWS.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}

/// A query string of `pairs`, encoded.
fn query(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
