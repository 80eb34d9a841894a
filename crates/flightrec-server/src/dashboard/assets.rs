//! The stylesheet and script modules, compiled into the binary.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const FILES: &[(&str, &str)] = &[
    ("app.css", include_str!("../../assets/app.css")),
    ("api.js", include_str!("../../assets/api.js")),
    ("dom.js", include_str!("../../assets/dom.js")),
    ("forms.js", include_str!("../../assets/forms.js")),
    ("audit.js", include_str!("../../assets/audit.js")),
    ("reports.js", include_str!("../../assets/reports.js")),
    ("stats.js", include_str!("../../assets/stats.js")),
    ("run.js", include_str!("../../assets/run.js")),
    ("trace.js", include_str!("../../assets/trace.js")),
    ("alerts.js", include_str!("../../assets/alerts.js")),
    ("integrity.js", include_str!("../../assets/integrity.js")),
    ("proof.js", include_str!("../../assets/proof.js")),
    ("settings.js", include_str!("../../assets/settings.js")),
    ("connect.js", include_str!("../../assets/connect.js")),
];

/// Each file's ETag: a hash of its content, so a new build is fetched anew.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, body)| format!("\"{}\"", hex::encode(&Sha256::digest(body)[..8])))
        .collect()
});

pub async fn serve(Path(file): Path<String>, request: HeaderMap) -> Response {
    let Some(i) = FILES.iter().position(|(name, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = &ETAGS[i];
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let content_type = if file.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        FILES[i].1.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    response
}
