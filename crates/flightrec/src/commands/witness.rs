//! `flightrec witness serve`: a witness for flightrec's logs, or any log
//! whose checkpoints are C2SP signed notes with Ed25519 keys.

use crate::cli::WitnessCommand;
use anyhow::{Context, bail};
use flightrec_core::log::Verifier;
use flightrec_witness::{Witness, WitnessConfig, key_from_env};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

pub async fn run(cmd: WitnessCommand) -> anyhow::Result<ExitCode> {
    let WitnessCommand::Serve {
        listen,
        data_dir,
        name,
        logs,
        trust,
    } = cmd;
    let mut followed = Vec::new();
    let trust_text = match &trust {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("could not read the trust file {}", path.display()))?,
        None => String::new(),
    };
    for line in trust_text.lines().chain(logs.iter().map(String::as_str)) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        followed.push(
            Verifier::parse(line)
                .with_context(|| format!("{line:?} is not a log's verifier key"))?,
        );
    }
    if followed.is_empty() {
        bail!(
            "a witness follows at least one log: give its verifier key with --log, or a trust file with --trust (`flightrec log trust` prints one)"
        );
    }
    let config = WitnessConfig {
        name,
        key: key_from_env()?,
        ..WitnessConfig::new(&data_dir, followed)
    };
    let witness = tokio::task::spawn_blocking(move || Witness::open(config))
        .await?
        .with_context(|| format!("could not start the witness in {}", data_dir.display()))?;
    let witness = Arc::new(witness);
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("witness key:  {}", witness.verifier().to_key_string());
    for (log, _) in witness.logs() {
        println!("following:    {}", log.name());
    }
    println!("flightrec witness listening on http://{addr}");
    flightrec_witness::serve(listener, witness, crate::commands::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
