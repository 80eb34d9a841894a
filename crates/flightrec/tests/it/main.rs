//! Integration tests: the real `flightrec` binary on port 0.

mod api;
mod cli;
mod crash;
mod log;
mod support;
