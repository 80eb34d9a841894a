//! `flightrec runs …`.

use crate::cli::RunsCommand;
use crate::client::{self, path_segment};
use crate::output;
use serde_json::Value;
use std::process::ExitCode;

pub async fn run(cmd: RunsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RunsCommand::List {
            status,
            agent_id,
            limit,
            client,
        } => {
            let api = client::connect(&client)?;
            let mut pairs = vec![("limit", limit.min(1000).to_string())];
            if let Some(s) = status {
                pairs.push(("status", s));
            }
            if let Some(a) = agent_id {
                pairs.push(("agent_id", a));
            }
            let page = api.get("/v1/runs", &pairs).await?;
            if client.json {
                output::print_json(&page["runs"]);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = page["runs"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    vec![
                        output::text(&r["run_id"]),
                        output::text(&r["status"]),
                        output::text(&r["event_count"]),
                        output::text(&r["fail_count"]),
                        output::text(&r["first_time"]),
                        output::text(&r["last_time"]),
                        output::text(&r["agent_id"]),
                    ]
                })
                .collect();
            output::table(
                &[
                    "RUN", "STATUS", "EVENTS", "FAILED", "FIRST", "LAST", "AGENT",
                ],
                &rows,
            );
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Log {
            run,
            types,
            from,
            to,
            client,
        } => {
            let api = client::connect(&client)?;
            let path = format!("/v1/runs/{}", path_segment(&run));
            let mut events: Vec<Value> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut pairs = vec![
                    ("include", "audit_log".to_owned()),
                    ("limit", "10000".into()),
                ];
                for (k, v) in [
                    ("types", &types),
                    ("from", &from),
                    ("to", &to),
                    ("cursor", &cursor),
                ] {
                    if let Some(v) = v {
                        pairs.push((k, v.clone()));
                    }
                }
                let page = api.get(&path, &pairs).await?;
                events.extend(page["audit_log"].as_array().cloned().unwrap_or_default());
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            if client.json {
                output::print_json(&Value::Array(events));
            } else {
                for (i, e) in events.iter().enumerate() {
                    println!(
                        "{i:>4}  {}  {:<16} {:<4}  {}",
                        output::text(&e["time"]),
                        output::text(&e["type"]),
                        output::text(&e["status"]),
                        output::summary(e)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::State {
            run,
            event,
            at,
            client,
        } => {
            super::run_replay::state(&client::connect(&client)?, &run, event, at, client.json).await
        }
        RunsCommand::Export {
            run,
            format,
            output,
            client,
        } => super::run_replay::export(&client::connect(&client)?, &run, &format, output).await,
        RunsCommand::Replay {
            run,
            speed,
            from_event,
            no_tui,
            client,
        } => {
            let api = client::connect(&client)?;
            super::run_replay::replay(&api, &run, speed, from_event, no_tui, client.json).await
        }
    }
}
