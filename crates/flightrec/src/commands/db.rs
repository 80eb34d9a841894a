//! `flightrec db`: the PostgreSQL side of a scaled-out deployment.

use crate::cli::DbCommand;
use flightrec_store::PgStore;
use std::process::ExitCode;

pub fn run(cmd: DbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Grants { role } => {
            anyhow::ensure!(
                !role.trim().is_empty(),
                "name the role the nodes sign in as"
            );
            print!("{}", PgStore::app_role_grants(&role));
            Ok(ExitCode::SUCCESS)
        }
    }
}
