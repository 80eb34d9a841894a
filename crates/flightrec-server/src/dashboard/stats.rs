//! `/stats`: the rates compliance asks for, per agent, verb, provider or
//! type over a window (the figures of `GET /v1/stats?group_by=`), as a
//! table whose every rate and duration also has a bar, drawn as SVG on the
//! server. The table is the chart's own text, for screen readers too.

use super::filters::{WINDOWS, link};
use super::viewer::{Chrome, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::params::Params;
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use flightrec_store::stats::{GroupBy, NO_VALUE, Tally};

/// The dimensions a person compares, with the audit log's filter for each.
const DIMENSIONS: [(GroupBy, &str, &str); 4] = [
    (GroupBy::Agent, "Agent", "agent_id"),
    (GroupBy::Verb, "Verb", "verb"),
    (GroupBy::Provider, "Provider", "provider"),
    (GroupBy::Type, "Event type", "type"),
];
/// The window shown when the URL names none: the last 7 days.
const DEFAULT_WINDOW: usize = 2;
/// Groups shown, the largest first.
const MAX_GROUPS: usize = 50;

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    chrome: Chrome,
    dimensions: Vec<(&'static str, &'static str, bool)>,
    windows: Vec<(&'static str, &'static str, bool)>,
    dimension: &'static str,
    window_label: &'static str,
    overall: Figures,
    groups: Vec<Figures>,
    left_out: usize,
}

/// One row: a group's (or the window's) counts, rates and durations, each
/// with its bar's length (0–100, against the longest in its column).
struct Figures {
    label: String,
    link: Option<String>,
    total: u64,
    rates: [Rate; 3],
    dry_run: u64,
    /// p50, p95 and p99 in ms; `None` without durations.
    durations: [Option<f64>; 3],
    /// Their bars, against the longest p99 shown.
    duration_bars: [f64; 3],
}

impl Figures {
    /// Percentile `k` (0: p50, 1: p95, 2: p99) as the table shows it.
    fn duration_label(&self, k: usize) -> String {
        match self.durations[k] {
            None => "—".into(),
            Some(ms) if ms >= 100.0 => format!("{ms:.0} ms"),
            Some(ms) => format!("{ms:.1} ms"),
        }
    }
}

/// Failure, governance block and idempotency hit, in that order.
struct Rate {
    count: u64,
    percent: String,
    value: f64,
    bar: f64,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let by = params.take_parsed("by", |v| {
        DIMENSIONS
            .iter()
            .position(|(g, _, _)| g.as_str() == v)
            .ok_or_else(|| format!("must be agent, verb, provider or type, not {v:?}"))
    })?;
    let window = params.take_parsed("since", |v| {
        WINDOWS
            .iter()
            .position(|(w, _)| *w == v)
            .ok_or_else(|| format!("must be 1h, 24h, 7d, 30d or all, not {v:?}"))
    })?;
    params.finish()?;
    let (group_by, label, filter) = DIMENSIONS[by.unwrap_or(0)];
    let (window, window_label) = WINDOWS[window.unwrap_or(DEFAULT_WINDOW)];
    let since = Params::parse(Some(&format!("since={window}")))?.take_since(state.clock().now())?;
    let tenant = viewer.principal.tenant.clone();
    let groups = state
        .blocking(move |store| store.stats(&tenant, since.as_deref(), None, Some(group_by)))
        .await?;

    let mut rows: Vec<(&String, &Tally)> = groups.0.iter().collect();
    rows.sort_by(|a, b| b.1.counts.n.cmp(&a.1.counts.n).then(a.0.cmp(b.0)));
    let left_out = rows.len().saturating_sub(MAX_GROUPS);
    let mut shown: Vec<Figures> = rows
        .into_iter()
        .take(MAX_GROUPS)
        .map(|(key, tally)| {
            let named = key != NO_VALUE;
            figures(
                if named { key.clone() } else { "(none)".into() },
                named.then(|| link([(filter, key.as_str()), ("since", window)])),
                tally,
            )
        })
        .collect();
    scale(&mut shown);
    let mut overall = figures("All records".into(), None, &groups.total());
    scale(std::slice::from_mut(&mut overall));
    render(&StatsPage {
        chrome: viewer.chrome("Rates and durations", "stats"),
        dimensions: DIMENSIONS
            .iter()
            .map(|(g, l, _)| (g.as_str(), *l, *g == group_by))
            .collect(),
        windows: WINDOWS
            .iter()
            .map(|(w, l)| (*w, *l, *w == window))
            .collect(),
        dimension: label,
        window_label,
        overall,
        groups: shown,
        left_out,
    })
}

fn figures(label: String, link: Option<String>, tally: &Tally) -> Figures {
    let c = &tally.counts;
    let rate = |count: u64| {
        let value = c.rate(count);
        Rate {
            count,
            percent: format!("{:.1}%", value * 100.0),
            value,
            bar: 0.0,
        }
    };
    // The bars are set by `scale`, once every row is known.
    Figures {
        label,
        link,
        total: c.n,
        rates: [rate(c.fail), rate(c.blocked), rate(c.idempotency_hits)],
        dry_run: c.dry_run,
        durations: [0.50, 0.95, 0.99].map(|q| tally.percentile(q)),
        duration_bars: [0.0; 3],
    }
}

/// Sets each bar against the longest of its column.
fn scale(rows: &mut [Figures]) {
    for k in 0..3 {
        let max = rows.iter().map(|r| r.rates[k].value).fold(0.0, f64::max);
        for r in rows.iter_mut() {
            r.rates[k].bar = if max > 0.0 {
                r.rates[k].value / max * 100.0
            } else {
                0.0
            };
        }
    }
    let longest = rows
        .iter()
        .filter_map(|r| r.durations[2])
        .fold(0.0, f64::max);
    for r in rows.iter_mut() {
        for (bar, ms) in r.duration_bars.iter_mut().zip(r.durations) {
            *bar = match ms {
                Some(ms) if longest > 0.0 => ms / longest * 100.0,
                _ => 0.0,
            };
        }
    }
}
