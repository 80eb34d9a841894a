//! One module per command group.

mod events;
mod runs;
mod serve;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Events(cmd) => events::run(cmd).await,
        Command::Runs(cmd) => runs::run(cmd).await,
    }
}
