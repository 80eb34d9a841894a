//! `flightrec keys …`.

use crate::cli::KeysCommand;
use crate::client::{self, path_segment};
use crate::output;
use serde_json::json;
use std::process::ExitCode;

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
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
