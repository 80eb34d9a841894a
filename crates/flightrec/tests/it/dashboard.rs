//! The dashboard over HTTP: who gets in, what every page's headers and
//! markup allow, escaping, errors, assets; and `/v1/stats`, its cards'
//! source. (tests/browser drives the same pages in Chromium.)

use crate::support::{API_KEY, BOOTSTRAP_RECORDS, Backend, OWNER_EMAIL, OWNER_PASSWORD, Server};
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use serde_json::json;

const PAGES: &[&str] = &[
    "/",
    "/?since=all&type=start",
    "/runs",
    "/runs/demo-run-fix-pagination",
    "/runs/demo-run-fix-pagination/trace",
    "/runs/demo-run-fix-pagination/compare?with=demo-run-dependency-upgrade",
    "/audit/rows?since=all&after_seq=3",
    "/stats",
    "/stats?by=provider&since=all",
    "/alerts",
    "/reports",
    "/integrity",
    "/settings",
    "/events/demo-01",
    "/connect",
];

/// A client that does not follow redirects, and the owner's session cookie.
async fn signed_in(server: &Server) -> (reqwest::Client, String) {
    let (status, _, headers) = server.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(status, 200);
    let cookies: Vec<String> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, cookies.join("; "))
}

async fn page(
    client: &reqwest::Client,
    server: &Server,
    cookie: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client
        .get(server.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

async fn strangers_are_sent_to_sign_in_and_back(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &["--demo"], &[]);
    let (client, _) = signed_in(&server).await;
    for (path, next) in [("/", "%2F"), ("/runs/x?y=1", "%2Fruns%2Fx%3Fy%3D1")] {
        let (status, headers, _) = page(&client, &server, "", path).await;
        assert_eq!(status, 303, "{path}");
        assert_eq!(headers[LOCATION], format!("/login?next={next}"));
    }
    let (status, _, html) = page(&client, &server, "", "/login?next=%2Fruns").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-then="/runs""#), "{html}");
    // Never onwards to another site.
    for evil in [
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let (_, _, html) = page(&client, &server, "", &format!("/login?next={evil}")).await;
        assert!(html.contains(r#"data-then="/""#), "{evil}: {html}");
    }
    // A key that may read sees the pages too, as it sees the API.
    let r = client
        .get(server.url("/"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn sign_in_from_another_site_is_refused(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &[], &[]);
    let client = reqwest::Client::new();
    let body = json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}).to_string();
    for (site, status) in [
        (Some("cross-site"), 403),
        (Some("same-site"), 403),
        (Some("same-origin"), 200),
        (None, 200),
    ] {
        let mut request = client
            .post(server.url("/v1/auth/login"))
            .header(CONTENT_TYPE, "text/plain")
            .body(body.clone());
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{site:?}");
        if status == 403 {
            assert!(r.headers().get("set-cookie").is_none());
        }
    }
}

async fn every_page_renders_under_a_strict_policy(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &["--demo"], &[]);
    let (client, cookie) = signed_in(&server).await;
    for path in PAGES {
        let (status, headers, html) = page(&client, &server, &cookie, path).await;
        assert_eq!(status, 200, "{path}: {html}");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        // Scripts only from files, no inline handlers, no secrets.
        for tag in html.split("<script").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            assert!(
                tag.contains(" src=\"/assets/"),
                "{path}: inline script {tag}"
            );
        }
        for handler in [
            " onclick=",
            " onerror=",
            " onload=",
            " onsubmit=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!html.contains(handler), "{path}: {handler}");
        }
        assert!(
            !html.contains(API_KEY) && !html.contains(OWNER_PASSWORD),
            "{path}"
        );
    }
}

async fn records_full_of_markup_are_shown_as_text(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &[], &[]);
    let (status, _) = server
        .post(
            "/v1/events",
            &json!({"type": "tool_call", "run_id": "<b>run</b>", "content": "<script>alert(1)</script>",
                    "actor": {"type": "human", "id": "u", "email": "\"><img src=x>@x"},
                    "resource": {"type": "doc", "id": "<i>d</i>"}}),
        )
        .await;
    assert_eq!(status, 201);
    let (client, cookie) = signed_in(&server).await;
    for path in ["/?q=alert", "/runs", "/runs/%3Cb%3Erun%3C%2Fb%3E"] {
        let (status, _, html) = page(&client, &server, &cookie, path).await;
        assert_eq!(status, 200, "{path}");
        for raw in ["<script>alert", "<img src=x>", "<i>d</i>", "<b>run</b>"] {
            assert!(!html.contains(raw), "{path}: {raw} unescaped");
        }
        assert!(
            html.contains("&lt;b&gt;run&lt;/b&gt;") || html.contains("%3Cb%3E"),
            "{path}"
        );
    }
}

async fn bad_filters_and_missing_things_are_clear_error_pages(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &[], &[]);
    let (client, cookie) = signed_in(&server).await;
    for (path, status, says) in [
        (
            "/?status=bogus",
            400,
            "`status` must be one of ok, fail, warn",
        ),
        (
            "/?since=yesterday",
            400,
            "`since` is neither an RFC 3339 time",
        ),
        ("/?colour=red", 400, "unknown query parameter `colour`"),
        ("/?cursor=nonsense", 400, "is not one this listing issued"),
        ("/runs/no-such-run", 404, "no run \"no-such-run\""),
        ("/events/nothing", 404, "no event with id"),
    ] {
        let (got, headers, html) = page(&client, &server, &cookie, path).await;
        assert_eq!(got, status, "{path}: {html}");
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let shown = html
            .replace("&#96;", "`")
            .replace("&quot;", "\"")
            .replace("&#34;", "\"");
        assert!(shown.contains(says), "{path}: {html}");
    }
}

#[tokio::test]
async fn assets_are_embedded_and_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = reqwest::Client::new();
    let r = client
        .get(server.url("/assets/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    let etag = r.headers()[ETAG].clone();
    let again = client
        .get(server.url("/assets/app.css"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let js = client
        .get(server.url("/assets/run.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    let missing = client
        .get(server.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn stats_count_a_window(backend: Backend) {
    let (_store, server) = Server::start_on(backend, &[], &[]);
    let (status, _) = server
        .post(
            "/v1/events/batch",
            &json!([
                {"type": "x", "status": "fail", "time": "2026-01-01T10:30:00Z"},
                {"type": "x", "status": "warn", "time": "2026-01-01T11:30:00Z"},
                {"type": "x", "time": "2026-01-02T10:00:00Z"},
            ]),
        )
        .await;
    assert_eq!(status, 201);
    let (_, all) = server.get("/v1/stats?since=all").await;
    assert_eq!(all["total"], BOOTSTRAP_RECORDS + 3);
    assert_eq!(
        (all["fail"].as_u64(), all["warn"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, day) = server
        .get("/v1/stats?since=2026-01-01T00:00:00Z&until=2026-01-01T11:00:00Z")
        .await;
    assert_eq!(
        (day["total"].as_u64(), day["fail"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(day["failure_rate"], 1.0);
    let (status, body) = server.get("/v1/stats?since=soon").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = server.get("/v1/stats?group_by=minute").await;
    assert_eq!(status, 400);
}

on_both_backends!(
    strangers_are_sent_to_sign_in_and_back,
    sign_in_from_another_site_is_refused,
    every_page_renders_under_a_strict_policy,
    records_full_of_markup_are_shown_as_text,
    bad_filters_and_missing_things_are_clear_error_pages,
    stats_count_a_window,
);
