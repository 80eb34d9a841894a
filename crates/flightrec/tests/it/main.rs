//! Integration tests: the real `flightrec` binary on port 0.

mod access;
mod api;
mod cli;
mod crash;
mod dashboard;
mod exports;
mod guardrails;
mod hostile;
mod log;
mod masking;
mod mcp_audit;
mod mcp_peers;
mod player;
mod proxy;
mod receiver;
mod replay;
mod scale_out;
mod sdk;
mod support;
mod trust;
mod witnesses;
