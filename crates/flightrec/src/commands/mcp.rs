//! `flightrec mcp [-- <upstream server command…>]`: the audit MCP server on
//! stdio. Its stdout belongs to the MCP session; a setup mistake (no key, a
//! bad policy) stops it before the session starts, on stderr.

use super::proxy::read_policy;
use crate::cli::McpArgs;
use crate::client::connect;
use flightrec_mcp::audit_server::AuditServer;
use std::process::ExitCode;

pub async fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    let policy = read_policy(args.policy.as_deref())?;
    let client = connect(&args.client)?;
    let upstream = (!args.upstream.is_empty()).then_some(args.upstream);
    AuditServer::new(client, upstream, policy)
        .serve_stdio()
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
