//! `flightrec keys …`.

use crate::cli::KeysCommand;
use crate::client::{self, path_segment};
use crate::output;
use flightrec_store::encryption::LocalMasterKey;
use serde_json::json;
use std::process::ExitCode;

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::NewMaster { out } => match out {
            Some(path) => {
                crate::server_keys::write_master_key(&path)?;
                println!(
                    "Wrote a new master key to {} (mode 0600). Keep a copy somewhere safe: without it, encrypted bodies cannot be read.",
                    path.display()
                );
            }
            None => println!("{}", LocalMasterKey::generate()),
        },
        KeysCommand::RotateMaster {
            new_key_file,
            store,
            master,
        } => {
            let to = LocalMasterKey::from_file(&new_key_file).map_err(anyhow::Error::msg)?;
            let done = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
                let store = open_store(&store)?;
                let Some(current) = crate::server_keys::master_key(&master)? else {
                    anyhow::bail!(
                        "give the current master key (FLIGHTREC_MASTER_KEY or --master-key-file) as well as --new-key-file"
                    );
                };
                store.keyring().use_master(current)?;
                Ok(store.rewrap_data_keys(&to)?)
            })
            .await??;
            println!(
                "Wrapped {done} data key(s) with the new master key. Restart every node with it (FLIGHTREC_MASTER_KEY or --master-key-file); the old one no longer opens them."
            );
        }
        KeysCommand::Create {
            name,
            scopes,
            agent_id,
            client,
        } => {
            let api = client::connect(&client)?;
            let key = api
                .post(
                    "/v1/auth/api-keys",
                    &json!({"name": name, "scopes": scopes, "agent_id": agent_id}),
                )
                .await?;
            if client.json {
                output::print_json(&key);
            } else {
                println!(
                    "Created API key {} ({})",
                    output::text(&key["name"]),
                    output::text(&key["id"])
                );
                println!("  scopes: {}", output::text(&key["scopes"]));
                if !key["agent_id"].is_null() {
                    println!("  agent:  {}", output::text(&key["agent_id"]));
                }
                println!("  key:    {}", output::text(&key["key"]));
                println!("This is the only time the key is shown; store it now.");
            }
        }
        KeysCommand::List { client } => {
            let api = client::connect(&client)?;
            let page = api.get("/v1/auth/api-keys", &[]).await?;
            if client.json {
                output::print_json(&page["api_keys"]);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = page["api_keys"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|k| {
                    let state = if k["revoked_at"].is_null() {
                        "active"
                    } else {
                        "revoked"
                    };
                    vec![
                        output::text(&k["id"]),
                        output::text(&k["name"]),
                        output::text(&k["prefix"]),
                        output::text(&k["scopes"]),
                        output::text(&k["agent_id"]),
                        state.to_owned(),
                        output::text(&k["created_at"]),
                        output::text(&k["last_used_at"]),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID",
                    "NAME",
                    "PREFIX",
                    "SCOPES",
                    "AGENT",
                    "STATE",
                    "CREATED",
                    "LAST USED",
                ],
                &rows,
            );
        }
        KeysCommand::Revoke { id, client } => {
            let api = client::connect(&client)?;
            let key = api
                .delete(&format!("/v1/auth/api-keys/{}", path_segment(&id)))
                .await?;
            if client.json {
                output::print_json(&key);
            } else {
                println!(
                    "Revoked API key {} ({}) at {}",
                    output::text(&key["name"]),
                    output::text(&key["id"]),
                    output::text(&key["revoked_at"])
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The store `args` names, opened (never created) to change its key table.
fn open_store(args: &crate::cli::StoreArgs) -> anyhow::Result<Box<dyn flightrec_store::Store>> {
    use anyhow::Context;
    let url = args
        .database_url
        .as_ref()
        .map(|u| u.expose().trim().to_owned());
    Ok(match url.filter(|u| !u.is_empty()) {
        Some(url) => Box::new(
            flightrec_store::PgStore::open(&url).context("could not open the PostgreSQL store")?,
        ),
        None => Box::new(
            flightrec_store::SqliteStore::open(&args.data_dir, Default::default()).with_context(
                || format!("could not open the store in {}", args.data_dir.display()),
            )?,
        ),
    })
}
