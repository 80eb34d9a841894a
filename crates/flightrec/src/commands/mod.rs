//! One module per command group.

mod events;
mod log;
mod runs;
mod serve;
mod verify;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Events(cmd) => events::run(*cmd).await,
        Command::Runs(cmd) => runs::run(cmd).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Log(cmd) => log::run(cmd).await,
    }
}
