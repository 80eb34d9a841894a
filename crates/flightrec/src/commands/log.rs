//! `flightrec log …`: the client side of the tamper-evident log. Every
//! answer of the server is checked here, against keys the user trusts.

use crate::cli::{LogCommand, TrustArgs};
use crate::client::{self, Client};
use crate::trust::Trust;
use anyhow::{Context, bail};
use flightrec_core::log::tile::decode_entry_bundle;
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, EntryBundleId, InclusionProof, ProofFile, leaf_hash,
    verify_consistency, verify_inclusion,
};
use flightrec_core::record::Header;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(cmd: LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::NewKey { origin, output } => {
            let key = crate::server_keys::new_log_key(&origin, &output)?;
            eprintln!(
                "wrote the log signing key {:?} to {} (keep it secret; give every node the same file)",
                key.name(),
                output.display()
            );
            println!("{}", key.verifier());
            Ok(ExitCode::SUCCESS)
        }
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
        LogCommand::Proof {
            record,
            output,
            keys,
            client,
        } => {
            let trust = load(&keys)?;
            let api = client::connect(&client)?;
            match (record.parse::<u64>(), output) {
                (Ok(seq), None) => proof(&api, &trust, seq, client.json).await,
                (_, output) => proof_of_event(&api, &trust, &record, output.as_deref()).await,
            }
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
            let old = trust
                .open_checkpoint(&saved)
                .context("the saved checkpoint")?;
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
    Trust::load_with_witnesses(keys.trust.as_deref(), &keys.key, &keys.witnesses)
}

/// The server's newest checkpoint, checked.
async fn current(api: &Client, trust: &Trust) -> anyhow::Result<(Checkpoint, String)> {
    let note = api.get_text("/v1/log/checkpoint").await?;
    let checkpoint = trust
        .open_checkpoint(&note)
        .context("the server's checkpoint")?;
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
        let old = trust
            .open_checkpoint(&saved)
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

/// `log proof ID [-o FILE]`: the record's proof from the server, checked
/// here, and saved as a C2SP tlog-proof file with the record beside it.
async fn proof_of_event(
    api: &Client,
    trust: &Trust,
    id: &str,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let path = format!("/v1/events/{}/proof", client::path_segment(id));
    let bundle = api.get(&path, &[]).await?;
    let header = Header::from_json(&bundle["header"])
        .map_err(|e| anyhow::anyhow!("the server's record header is malformed: {e}"))?;
    let note = bundle["checkpoint"].as_str().unwrap_or_default();
    let checkpoint = trust
        .open_checkpoint(note)
        .context("the proof's checkpoint")?;
    let proof: InclusionProof = serde_json::from_value(bundle["proof"].clone())
        .context("the inclusion proof is malformed")?;
    if proof.leaf_index != header.seq || proof.tree_size != checkpoint.size() {
        bail!("the server answered a proof for another record or tree size");
    }
    let leaf = header.leaf_hash();
    if let Err(e) = verify_inclusion(leaf, &proof, checkpoint.root()) {
        eprintln!("the inclusion proof FAILS: {e}");
        return Ok(ExitCode::from(1));
    }
    println!(
        "record {} ({id}) is included in {} at size {}",
        header.seq,
        checkpoint.origin(),
        checkpoint.size()
    );
    if let Some(file) = output {
        let proof_file = ProofFile {
            index: header.seq,
            extra: None,
            proof: proof.hashes,
            checkpoint_note: note.to_owned(),
        };
        std::fs::write(file, proof_file.to_text())
            .with_context(|| format!("could not write {}", file.display()))?;
        let record_file = file.with_extension("json");
        let record = serde_json::json!({
            "header": bundle["header"], "body": bundle["body"], "salt": bundle["salt"],
        });
        std::fs::write(&record_file, format!("{record}\n"))
            .with_context(|| format!("could not write {}", record_file.display()))?;
        println!(
            "saved the proof to {} and the record to {}",
            file.display(),
            record_file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
