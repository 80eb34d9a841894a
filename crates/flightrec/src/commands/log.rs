//! `flightrec log …`: the client side of the tamper-evident log.

use crate::cli::LogCommand;
use crate::client;
use anyhow::Context;
use flightrec_core::log::tile::decode_entry_bundle;
use flightrec_core::log::{
    EntryBundleId, InclusionProof, Verifier, leaf_hash, open_checkpoint, verify_inclusion,
};
use std::process::ExitCode;

pub async fn run(cmd: LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::Checkpoint { client } => {
            let api = client::connect(&client)?;
            print!("{}", api.get_text("/v1/log/checkpoint").await?);
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::Proof { seq, client } => {
            let api = client::connect(&client)?;
            // Fetch the key, checkpoint and proof, and check them here:
            // trusting the server's word would prove nothing.
            let key = Verifier::parse(api.get_text("/v1/log/public-key").await?.trim())
                .context("the server's public key does not parse")?;
            let note = api.get_text("/v1/log/checkpoint").await?;
            let checkpoint = open_checkpoint(&note, key.name(), std::slice::from_ref(&key))
                .context("the checkpoint is not validly signed by the log's key")?;
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
            if client.json {
                crate::output::print_json(&serde_json::json!({
                    "seq": seq, "id": id, "leaf_hash": leaf, "checkpoint": note, "proof": proof_json,
                }));
            }
            match verify_inclusion(leaf, &proof, checkpoint.root()) {
                Ok(()) => {
                    if !client.json {
                        println!(
                            "record {seq} ({id}) is included in {} at size {}",
                            key.name(),
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
    }
}
