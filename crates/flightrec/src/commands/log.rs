//! `flightrec log …`: the client side of the tamper-evident log. Every
//! answer of the server is checked here, against keys the user trusts.

use crate::cli::{LogCommand, TrustArgs};
use crate::client::{self, Client};
use crate::trust::Trust;
use anyhow::{Context, bail};
use flightrec_core::log::tile::decode_entry_bundle;
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, EntryBundleId, InclusionProof, Verifier, leaf_hash,
    open_checkpoint, verify_consistency, verify_inclusion,
};
use std::path::Path;
use std::process::ExitCode;

pub async fn run(cmd: LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::Checkpoint { client } => {
            let api = client::connect(&client)?;
            print!("{}", api.get_text("/v1/log/checkpoint").await?);
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::Trust { client } => {
            let api = client::connect(&client)?;
            print!("{}", api.get_text("/v1/log/trust").await?);
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::Proof { seq, keys, client } => {
            let trust = load(&keys)?;
            let api = client::connect(&client)?;
            proof(&api, &trust, seq, client.json).await
        }
        LogCommand::Consistency {
            saved_checkpoint,
            keys,
            client,
        } => {
            let trust = load(&keys)?;
            let api = client::connect(&client)?;
            let saved = std::fs::read_to_string(&saved_checkpoint).with_context(|| {
                format!(
                    "could not read the checkpoint {}",
                    saved_checkpoint.display()
                )
            })?;
            let (old, _) = open_trusted(&saved, &trust).context("the saved checkpoint")?;
            let (new, note) = current(&api, &trust).await?;
            match extends(&api, &old, &new).await? {
                Ok(()) => {
                    println!(
                        "OK: the log {} at size {} extends the saved checkpoint of size {}",
                        new.origin(),
                        new.size(),
                        old.size()
                    );
                    if client.json {
                        crate::output::print_json(&serde_json::json!({
                            "origin": new.origin(), "old_size": old.size(),
                            "new_size": new.size(), "checkpoint": note,
                        }));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    eprintln!("INCONSISTENT: {why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        LogCommand::Watch {
            state,
            interval,
            keys,
            client,
        } => {
            let trust = load(&keys)?;
            let api = client::connect(&client)?;
            loop {
                if let Err(why) = watch_once(&api, &trust, &state).await? {
                    eprintln!("ALERT: {why}");
                    return Ok(ExitCode::from(2));
                }
                if interval == 0 {
                    return Ok(ExitCode::SUCCESS);
                }
                tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
            }
        }
    }
}

fn load(keys: &TrustArgs) -> anyhow::Result<Trust> {
    Trust::load(keys.trust.as_deref(), &keys.key)
}

/// Opens a signed checkpoint with the trusted keys of the log it names.
fn open_trusted(note: &str, trust: &Trust) -> anyhow::Result<(Checkpoint, Verifier)> {
    let origin = note.lines().next().unwrap_or_default();
    let keys = trust.for_origin(origin);
    if keys.is_empty() {
        bail!("no trusted key is for the log {origin:?}; add it with --trust or --key");
    }
    let checkpoint = open_checkpoint(note, origin, &keys)
        .context("the checkpoint is not validly signed by a trusted key")?;
    let key = keys[0].clone();
    Ok((checkpoint, key))
}

/// The server's newest checkpoint, checked.
async fn current(api: &Client, trust: &Trust) -> anyhow::Result<(Checkpoint, String)> {
    let note = api.get_text("/v1/log/checkpoint").await?;
    let (checkpoint, _) = open_trusted(&note, trust).context("the server's checkpoint")?;
    Ok((checkpoint, note))
}

/// Whether `new` extends `old`, by a consistency proof fetched from the
/// server and checked here; `Err(why)` names a fork or a rollback.
async fn extends(
    api: &Client,
    old: &Checkpoint,
    new: &Checkpoint,
) -> anyhow::Result<Result<(), String>> {
    if old.origin() != new.origin() {
        return Ok(Err(format!(
            "the checkpoints are of different logs ({} and {})",
            old.origin(),
            new.origin()
        )));
    }
    if new.size() < old.size() {
        return Ok(Err(format!(
            "ROLLBACK: the log is now {} records, fewer than the {} of the earlier checkpoint",
            new.size(),
            old.size()
        )));
    }
    let proof_json = api
        .get(
            "/v1/log/proof/consistency",
            &[
                ("from", old.size().to_string()),
                ("to", new.size().to_string()),
            ],
        )
        .await?;
    let proof: ConsistencyProof =
        serde_json::from_value(proof_json).context("the consistency proof is malformed")?;
    if proof.old_size != old.size() || proof.new_size != new.size() {
        return Ok(Err("the server answered a proof for other sizes".into()));
    }
    Ok(
        verify_consistency(old.root(), new.root(), &proof).map_err(|e| {
            format!(
                "FORK: the log at size {} does not extend the earlier checkpoint of size {} ({e})",
                new.size(),
                old.size()
            )
        }),
    )
}

/// One round of `log watch`: the newest checkpoint must extend the last one
/// kept in `state`, which it then replaces.
async fn watch_once(
    api: &Client,
    trust: &Trust,
    state: &Path,
) -> anyhow::Result<Result<(), String>> {
    let (new, note) = current(api, trust).await?;
    std::fs::create_dir_all(state)
        .with_context(|| format!("could not create the state dir {}", state.display()))?;
    let file = state.join(format!("{}.checkpoint", new.origin().replace('/', "_")));
    if file.exists() {
        let saved = std::fs::read_to_string(&file)
            .with_context(|| format!("could not read {}", file.display()))?;
        let (old, _) = open_trusted(&saved, trust)
            .with_context(|| format!("the checkpoint kept in {}", file.display()))?;
        if let Err(why) = extends(api, &old, &new).await? {
            return Ok(Err(format!(
                "{why}; the last consistent checkpoint is kept in {}",
                file.display()
            )));
        }
        println!(
            "{}: size {} extends size {} (consistent)",
            new.origin(),
            new.size(),
            old.size()
        );
    } else {
        println!(
            "{}: first checkpoint seen, size {}",
            new.origin(),
            new.size()
        );
    }
    // Replace atomically, so a crash never leaves half a checkpoint.
    let temporary = file.with_extension("checkpoint.new");
    std::fs::write(&temporary, &note)
        .with_context(|| format!("could not write {}", temporary.display()))?;
    std::fs::rename(&temporary, &file)
        .with_context(|| format!("could not replace {}", file.display()))?;
    Ok(Ok(()))
}

/// `log proof SEQ`: the record's inclusion in the newest checkpoint.
async fn proof(api: &Client, trust: &Trust, seq: u64, json: bool) -> anyhow::Result<ExitCode> {
    let (checkpoint, note) = current(api, trust).await?;
    if seq >= checkpoint.size() {
        bail!(
            "record {seq} is not in the log's newest checkpoint (size {}) yet; retry shortly",
            checkpoint.size()
        );
    }
    let proof_json = api
        .get(
            "/v1/log/proof/inclusion",
            &[
                ("seq", seq.to_string()),
                ("tree_size", checkpoint.size().to_string()),
            ],
        )
        .await?;
    let proof: InclusionProof = serde_json::from_value(proof_json.clone())?;
    // The record's leaf, from its C2SP entry bundle.
    let bundle_index = seq / 256;
    let width = (checkpoint.size() - bundle_index * 256).min(256) as u16;
    let bundle = EntryBundleId {
        index: bundle_index,
        width,
    };
    let bytes = api.get_bytes(&format!("/v1/log/{}", bundle.path())).await?;
    let entries = decode_entry_bundle(&bytes).context("the entry bundle is malformed")?;
    let input = entries
        .get((seq % 256) as usize)
        .context("the entry bundle lacks the record")?;
    let header: serde_json::Value = serde_json::from_slice(input)?;
    let id = header["id"].as_str().unwrap_or_default().to_owned();
    let leaf = leaf_hash(input);
    if json {
        crate::output::print_json(&serde_json::json!({
            "seq": seq, "id": id, "leaf_hash": leaf, "checkpoint": note, "proof": proof_json,
        }));
    }
    match verify_inclusion(leaf, &proof, checkpoint.root()) {
        Ok(()) => {
            if !json {
                println!(
                    "record {seq} ({id}) is included in {} at size {}",
                    checkpoint.origin(),
                    checkpoint.size()
                );
                println!("leaf hash  {leaf}");
                println!("root       {}", checkpoint.root());
                for (i, h) in proof.hashes.iter().enumerate() {
                    println!("proof[{i:>2}]  {h}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("the inclusion proof FAILS: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
