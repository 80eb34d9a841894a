//! The client commands talk to the server through the Rust SDK.

use crate::cli::ClientArgs;
use anyhow::anyhow;
use flightrec_client::RetryPolicy;
use std::time::Duration;

pub use flightrec_client::{Client, path_segment};

/// A client from the command's flags. Someone waits at the terminal, so a
/// server that is down is reported after a short retry, not a long one.
pub fn connect(args: &ClientArgs) -> anyhow::Result<Client> {
    let api_key = args.api_key.as_deref().ok_or_else(|| {
        anyhow!("no API key: set FLIGHTREC_API_KEY (printed by the server's first start) or pass --api-key")
    })?;
    Ok(Client::new(&args.server, api_key)?.with_retry(RetryPolicy {
        max_attempts: 3,
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
    }))
}
