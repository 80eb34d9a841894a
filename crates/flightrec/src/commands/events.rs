//! `flightrec events …`.

use crate::cli::EventsCommand;
use crate::client;
use crate::output;
use serde_json::Value;
use std::io::Write;
use std::process::ExitCode;

pub async fn run(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::Search {
            filters,
            limit,
            client,
        } => {
            let api = client::connect(&client)?;
            let mut events = Vec::new();
            let mut cursor: Option<String> = None;
            // Fetch page by page until `limit` events or the end.
            while events.len() < limit {
                let mut pairs = filters.query_pairs();
                pairs.push(("limit", (limit - events.len()).min(1000).to_string()));
                if let Some(c) = &cursor {
                    pairs.push(("cursor", c.clone()));
                }
                let page = api.get("/v1/events", &pairs).await?;
                events.extend(page["events"].as_array().cloned().unwrap_or_default());
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            if client.json {
                output::print_json(&Value::Array(events));
            } else {
                print_events(&events);
            }
            Ok(ExitCode::SUCCESS)
        }
        EventsCommand::Tail {
            filters,
            after_seq,
            client,
        } => {
            let api = client::connect(&client)?;
            let mut tail = api.tail(filters.query_pairs(), after_seq);
            if !client.json {
                eprintln!("following the log; Ctrl-C stops");
            }
            let mut out = std::io::stdout().lock();
            loop {
                let record = tail.next().await?;
                let line = if client.json {
                    record.event.to_string()
                } else {
                    event_row(&record.event).join("  ")
                };
                // A reader that went away (`| head`) ends the tail quietly.
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }
}

/// An event's cells, as `search` and `tail` print them.
fn event_row(e: &Value) -> Vec<String> {
    vec![
        output::text(&e["time"]),
        output::text(&e["seq"]),
        output::text(&e["type"]),
        output::text(&e["status"]),
        output::text(&e["run_id"]),
        output::actor(e),
        output::summary(e),
    ]
}

pub fn print_events(events: &[Value]) {
    let rows: Vec<Vec<String>> = events.iter().map(event_row).collect();
    output::table(
        &["TIME", "SEQ", "TYPE", "STATUS", "RUN", "ACTOR", "SUMMARY"],
        &rows,
    );
}
