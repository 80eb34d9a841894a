//! Integration tests: the real `flightrec` binary on port 0.

/// Runs each `async fn NAME(backend: Backend)` as two tests, `NAME::sqlite`
/// and `NAME::postgres` (each on a fresh store of its own).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(crate::support::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(crate::support::Backend::Postgres).await
            }
        }
    )*};
}

mod access;
mod api;
mod cli;
mod compat;
mod cors;
mod crash;
mod dashboard;
mod encryption;
mod erasure;
mod event_stream;
mod exports;
mod faults_postgres;
mod guardrails;
mod hostile;
mod log;
mod masking;
mod mcp_audit;
mod mcp_peers;
mod metrics;
mod migrate;
mod otlp;
mod player;
mod postgres_tls;
mod private_postgres;
mod proxy;
mod receiver;
mod replay;
mod reports;
mod run_compare;
mod scale_out;
mod sdk;
mod stats;
mod support;
mod trust;
mod witnesses;
