//! Pages whose content the scripts fetch from the API (trace, alerts,
//! reports, settings), the sign-in page, the integrity page and the error page.

use super::chart::{SEVERITIES, TimeChart, Window};
use super::viewer::{Chrome, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::params::Params;
use crate::routes::log::{latest, with_cosignatures};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use flightrec_store::stats::GroupBy;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
}

pub async fn login(viewer: Option<Viewer>, RawQuery(raw): RawQuery) -> PageResult {
    let next = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        // Only a path on this site: never a way to send someone elsewhere.
        .filter(|v| v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
        .unwrap_or_else(|| "/".into());
    // Signed in already: straight on.
    if viewer.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    render(&LoginPage { next })
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    chrome: Chrome,
    run_id: String,
}

pub async fn trace(viewer: Viewer, Path(run_id): Path<String>) -> PageResult {
    viewer.require(Permission::Read)?;
    render(&TracePage {
        chrome: viewer.chrome(format!("Trace of {run_id}"), "runs"),
        run_id,
    })
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    /// Alerts raised per day over the last 30 days, by severity.
    chart: TimeChart,
    chart_caption: String,
}

/// The window the alerts page charts.
const ALERTS_CHARTED: &str = "30d";

/// `/alerts`: alerts over time, drawn here; the list, its filters and
/// *Resolve* are the script's (`GET /v1/alerts`).
pub async fn alerts(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    viewer.require(Permission::Read)?;
    let now = state.clock().now();
    let since = Params::parse(Some(&format!("since={ALERTS_CHARTED}")))?.take_since(now)?;
    let tenant = viewer.principal.tenant.clone();
    let from = since.clone();
    let rows = state
        .blocking(move |store| store.alert_counts(&tenant, from.as_deref(), None, true))
        .await?;
    let mut counts: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (day, severity, n) in rows {
        let Some(k) = SEVERITIES.classes.iter().position(|c| *c == severity) else {
            continue; // not a severity flightrec raises
        };
        counts
            .entry(day)
            .or_insert_with(|| vec![0; SEVERITIES.classes.len()])[k] += n;
    }
    let window = Window {
        since: since.as_deref(),
        until: None,
        now,
    };
    let chart = TimeChart::new(&SEVERITIES, &counts, GroupBy::Day, &window);
    render(&AlertsPage {
        chrome: viewer.chrome("Alerts", "alerts"),
        chart_caption: format!(
            "Alerts raised {} by {}, last 30 days, resolved ones too",
            chart.unit, chart.kinds.by
        ),
        chart,
    })
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
}

/// `/reports`: request a report, watch it being built, download it (the
/// script asks `/v1/reports`).
pub async fn reports(viewer: Viewer) -> PageResult {
    viewer.require(Permission::Read)?;
    render(&ReportsPage {
        chrome: viewer.chrome("Reports", "reports"),
    })
}

#[derive(Template)]
#[template(path = "integrity.html")]
struct IntegrityPage {
    chrome: Chrome,
    /// The newest signed checkpoint with the cosignatures gathered, and
    /// its tree size.
    checkpoint: Option<(String, u64)>,
    public_key: String,
    /// Each witness this server asks, and whether it has cosigned the
    /// newest checkpoint.
    witnesses: Vec<(String, bool)>,
    /// The record to check, when the link named one.
    event: String,
}

/// The names that signed a note: its signature lines (`— name signature`).
fn signers(note: &str) -> Vec<&str> {
    note.lines()
        .filter_map(|l| l.strip_prefix("— "))
        .filter_map(|l| l.split(' ').next())
        .collect()
}

pub async fn integrity(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let checkpoint = match latest(&state, &viewer.principal).await {
        Ok(cp) => {
            let size = cp.size;
            Some((
                with_cosignatures(&state, &viewer.principal.tenant, cp).await?,
                size,
            ))
        }
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    let signed = checkpoint
        .as_ref()
        .map(|(note, _)| signers(note))
        .unwrap_or_default();
    let witnesses = state
        .witnessing()
        .witnesses()
        .iter()
        .map(|w| {
            let name = w.verifier().name();
            (name.to_owned(), signed.contains(&name))
        })
        .collect();
    let public_key = state
        .checkpointing()
        .verifier(&viewer.principal.tenant)
        .map(|k| k.to_key_string())
        .map_err(|e| crate::error::ApiError::internal("no verifier key", &e))?;
    let event = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "event")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    render(&IntegrityPage {
        chrome: viewer.chrome("Integrity", "integrity"),
        checkpoint,
        public_key,
        witnesses,
        event,
    })
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
}

pub async fn settings(viewer: Viewer) -> PageResult {
    viewer.require(Permission::Read)?;
    render(&SettingsPage {
        chrome: viewer.chrome("Settings", "settings"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_note_names_its_signers() {
        let note = "example.com/log\n5\nAAAA\n\n— example.com/log abc\n— witness.example def\n";
        assert_eq!(super::signers(note), ["example.com/log", "witness.example"]);
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}
