//! Web pages of other origins (the TypeScript SDK in a browser): only the
//! origins the operator names may call the API, with an API key, never
//! with the dashboard's cookie; without the setting no answer says
//! anything of CORS.

use crate::support::{API_KEY, Server};
use reqwest::Method;
use std::process::Command;

const PAGE: &str = "http://app.test:5173";

fn server(args: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), args);
    (dir, server)
}

/// A browser's preflight of an SDK call from `origin`.
async fn preflight(s: &Server, origin: &str) -> reqwest::Response {
    s.http
        .request(Method::OPTIONS, s.url("/v1/events/batch"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn named_origins_may_call_with_a_key_and_no_other() {
    let (_dir, s) = server(&["--cors-origins", &format!("https://other.test, {PAGE}")]);
    let allowed = preflight(&s, PAGE).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some(PAGE));
    let methods = header(&allowed, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = header(&allowed, "access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    // Never with credentials: a page elsewhere cannot ride a signed-in
    // person's cookie.
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None);

    let refused = preflight(&s, "https://evil.test").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);

    // The call itself: the answer is readable by the page, Retry-After too.
    let answer = s
        .http
        .get(s.url("/v1/runs"))
        .header("origin", PAGE)
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(PAGE));
    let exposed = header(&answer, "access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test]
async fn without_the_setting_no_origin_is_allowed() {
    let (_dir, s) = server(&[]);
    let r = preflight(&s, PAGE).await;
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let r = s
        .http
        .get(s.url("/v1/runs"))
        .header("origin", PAGE)
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
}

#[test]
fn a_setting_that_is_not_an_origin_stops_the_start_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("FLIGHTREC_CORS_ORIGINS", "https://app.test/path")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FLIGHTREC_CORS_ORIGINS") && err.contains("is not an origin"),
        "{err}"
    );
}
