//! `flightrec tenants …`.

use crate::cli::TenantsCommand;
use crate::client;
use crate::output;
use serde_json::json;
use std::process::ExitCode;

pub async fn run(cmd: TenantsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TenantsCommand::Create {
            name,
            owner_email,
            client,
        } => {
            let api = client::connect(&client)?;
            let created = api
                .post(
                    "/v1/admin/tenants",
                    &json!({"name": name, "owner_email": owner_email}),
                )
                .await?;
            if client.json {
                output::print_json(&created);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "Created tenant {} (id {}).",
                output::text(&created["tenant"]["name"]),
                output::text(&created["tenant"]["id"])
            );
            println!(
                "  Owner login:  {}",
                output::text(&created["owner"]["email"])
            );
            println!(
                "  Password:     {}",
                output::text(&created["owner"]["password"])
            );
            println!(
                "  API key:      {}",
                output::text(&created["api_key"]["key"])
            );
            println!("These are shown only this once; hand them to the tenant's owner now.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
