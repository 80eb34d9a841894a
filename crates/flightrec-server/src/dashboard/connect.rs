//! Connect an agent (`/connect`): snippets that carry this server's URL for
//! every way in (OTLP, the SDKs, the MCP proxy, curl). A tenant that has
//! not begun recording is sent here from the audit log, until its first
//! run or client event arrives.

use super::viewer::{Chrome, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use flightrec_store::{EventFilter, EventQuery, Origin, RunQuery, Store, StoreError};

#[derive(Template)]
#[template(path = "connect.html")]
struct ConnectPage {
    chrome: Chrome,
    server: String,
    /// Whether a client has sent an event already.
    connected: bool,
}

pub async fn page(State(state): State<AppState>, viewer: Viewer, headers: HeaderMap) -> PageResult {
    viewer.require(Permission::Read)?;
    let tenant = viewer.principal.tenant.clone();
    let connected = state
        .blocking(move |store| has_client_events(store, &tenant))
        .await?;
    render(&ConnectPage {
        chrome: viewer.chrome("Connect an agent", "connect"),
        server: server_url(&headers),
        connected,
    })
}

/// Whether `tenant` has begun recording: a run, or an event a client sent
/// (flightrec's own records, its admin actions, do not count).
pub fn has_begun_recording(store: &dyn Store, tenant: &str) -> Result<bool, StoreError> {
    let runs = store.runs(
        tenant,
        &RunQuery {
            limit: 1,
            ..Default::default()
        },
    )?;
    Ok(!runs.items.is_empty() || has_client_events(store, tenant)?)
}

fn has_client_events(store: &dyn Store, tenant: &str) -> Result<bool, StoreError> {
    let query = EventQuery {
        filter: EventFilter {
            origin: Some(Origin::Client),
            ..Default::default()
        },
        limit: 1,
        ..Default::default()
    };
    Ok(!store.records(tenant, &query)?.items.is_empty())
}

/// This server's URL as the request reached it: its `Host`, and `https`
/// when a proxy in front says so. (The page's script puts the browser's
/// own address in its place, which a proxy cannot get wrong.)
fn server_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1:7340");
    let scheme = match headers.get("x-forwarded-proto").map(|v| v.as_bytes()) {
        Some(b"https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_comes_from_the_request_and_only_a_plain_host_is_taken() {
        let mut headers = HeaderMap::new();
        assert_eq!(server_url(&headers), "http://127.0.0.1:7340");
        headers.insert(header::HOST, "audit.example.com:8443".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(server_url(&headers), "https://audit.example.com:8443");
        headers.insert(header::HOST, "evil\"><script>".parse().unwrap());
        headers.insert("x-forwarded-proto", "gopher".parse().unwrap());
        assert_eq!(server_url(&headers), "http://127.0.0.1:7340");
    }
}
