//! Calls from web pages of other origins (the TypeScript SDK in a browser):
//! off unless the operator names the origins. Such calls carry an API key;
//! the dashboard's session cookie is never honoured across origins (no
//! `Access-Control-Allow-Credentials`), so a page elsewhere cannot act as a
//! signed-in person.

use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins whose pages may call the API; empty: none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorsOrigins(Vec<HeaderValue>);

impl CorsOrigins {
    /// Reads `scheme://host[:port]` origins, separated by commas.
    pub fn parse(list: &str) -> Result<CorsOrigins, String> {
        let mut origins = Vec::new();
        for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
            let valid = matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', ' ', '*']);
            if !valid {
                return Err(format!(
                    "{origin:?} is not an origin: write scheme://host[:port], such as https://app.example.com, with no path and no wildcard"
                ));
            }
            let value = HeaderValue::from_str(origin)
                .map_err(|_| format!("{origin:?} is not an origin"))?;
            origins.push(value);
        }
        Ok(CorsOrigins(origins))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The layer that answers preflights and marks answers for those
    /// origins, or `None` when there are none.
    pub(crate) fn layer(&self) -> Option<CorsLayer> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.0.clone()))
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([
                    AUTHORIZATION,
                    CONTENT_TYPE,
                    HeaderName::from_static("x-api-key"),
                ])
                // What the SDK reads: when to retry, and an export's name.
                .expose_headers([RETRY_AFTER, CONTENT_DISPOSITION])
                .max_age(Duration::from_secs(3600)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::CorsOrigins;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        let ok = CorsOrigins::parse(" https://app.example.com, http://127.0.0.1:5173 ,").unwrap();
        assert_eq!(ok.0.len(), 2);
        assert!(CorsOrigins::parse("").unwrap().is_empty());
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/",
            "ftp://x",
            "https://*.example.com",
        ] {
            let err = CorsOrigins::parse(bad).unwrap_err();
            assert!(err.contains("is not an origin"), "{bad}: {err}");
        }
    }
}
