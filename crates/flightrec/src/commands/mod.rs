//! One module per command group.

mod db;
mod events;
mod keys;
mod log;
mod mcp;
mod migrate;
mod proxy;
mod run_replay;
mod runs;
mod serve;
mod tenants;
mod verify;
mod witness;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Events(cmd) => events::run(*cmd).await,
        Command::Runs(cmd) => runs::run(cmd).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Log(cmd) => log::run(cmd).await,
        Command::Keys(cmd) => keys::run(cmd).await,
        Command::Tenants(cmd) => tenants::run(cmd).await,
        Command::Proxy(args) => proxy::run(args).await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::Witness(cmd) => witness::run(cmd).await,
        Command::Db(cmd) => db::run(cmd),
        Command::Migrate(args) => migrate::run(args).await,
    }
}

/// Resolves on Ctrl-C or SIGTERM: servers stop taking requests and finish
/// the ones in flight.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
