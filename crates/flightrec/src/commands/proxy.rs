//! `flightrec proxy -- <server command…>`: the recording MCP proxy.
//!
//! Its stdout belongs to the MCP session, so everything it has to say goes
//! to stderr, and a mistake in its own setup (no key, a bad policy) stops
//! it before the server starts, where the client's log shows it.

use crate::cli::ProxyArgs;
use crate::client::connect;
use anyhow::Context;
use flightrec_client::RetryPolicy;
use flightrec_mcp::events::Scope;
use flightrec_mcp::policy::Policy;
use flightrec_mcp::proxy;
use flightrec_mcp::sink::{Sink, SinkConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn run(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    let policy = read_policy(args.policy.as_deref())?;
    // The spool is the retry: a delivery that fails is not retried here.
    let client = connect(&args.client)?.with_retry(RetryPolicy::none());
    let session_id = uuid::Uuid::now_v7().to_string();
    let spool_root = args.spool_dir.clone().unwrap_or_else(default_spool_root);
    let sink = Sink::start(client, SinkConfig::new(spool_root.clone(), &session_id))
        .with_context(|| format!("could not open the spool under {}", spool_root.display()))?;
    let scope = Scope {
        run_id: format!("mcp-{session_id}"),
        session_id,
        provider: program_name(&args.command[0]),
    };
    let ended = proxy::run(&args.command, policy, scope, sink).await?;
    if ended.report.dropped > 0 {
        eprintln!(
            "flightrec proxy: {} events of this session could not be recorded (see above)",
            ended.report.dropped
        );
    }
    Ok(ExitCode::from(u8::try_from(ended.exit_code).unwrap_or(1)))
}

/// The policy file's rules; none (allow all) without one.
pub fn read_policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the policy {}", path.display()))?;
    Policy::parse(&text).with_context(|| format!("in {}", path.display()))
}

/// `$XDG_STATE_HOME/flightrec/spool`, else `~/.local/state/flightrec/spool`.
fn default_spool_root() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("flightrec").join("spool")
}

/// A command's program name, e.g. `mcp-server-filesystem`.
fn program_name(program: &str) -> String {
    std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_owned())
}
