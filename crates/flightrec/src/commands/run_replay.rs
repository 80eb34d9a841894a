//! `flightrec runs state | export | replay`: a run's state at a point,
//! written out, or played back.

use crate::client::{Client, path_segment};
use crate::output;
use anyhow::Context;
use flightrec_client::{ReplayOptions, RunEvent};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub async fn state(
    api: &Client,
    run: &str,
    event: Option<u64>,
    at: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut pairs = Vec::new();
    if let Some(n) = event {
        pairs.push(("event", n.to_string()));
    }
    if let Some(t) = at {
        pairs.push(("at", t));
    }
    let s = api
        .get(&format!("/v1/runs/{}/state", path_segment(run)), &pairs)
        .await?;
    if json {
        output::print_json(&s);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "run {}  ·  {} events  ·  {}  ·  through event {} at {}",
        run,
        output::text(&s["events"]),
        output::text(&s["status"]),
        output::text(&s["last_index"]),
        output::text(&s["last_time"]),
    );
    let files = s["files"].as_object().cloned().unwrap_or_default();
    println!("\nfiles ({}):", files.len());
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|(path, f)| {
            let size = f["content"].as_str().map_or("unknown".to_owned(), |c| {
                format!("{} lines", c.lines().count())
            });
            vec![
                flightrec_core::export::printable(path),
                size,
                output::text(&f["edits"]),
                output::text(&f["last_event"]),
            ]
        })
        .collect();
    output::table(&["PATH", "CONTENT", "EDITS", "LAST EVENT"], &rows);
    let context = s["context"].as_array().cloned().unwrap_or_default();
    println!("\ncontext ({} entries, last 10):", context.len());
    for c in context.iter().rev().take(10).rev() {
        let what = c["text"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| c["tool"].as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "{:>5}  {:<9} {:<12} {}",
            output::text(&c["index"]),
            output::text(&c["role"]),
            output::text(&c["type"]),
            output::shorten(&flightrec_core::export::printable(&what), 80)
        );
    }
    if let Some(problems) = s["problems"].as_array().filter(|p| !p.is_empty()) {
        println!("\nproblems:");
        for p in problems {
            println!(
                "{:>5}  {}",
                output::text(&p["index"]),
                output::text(&p["message"])
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    api: &Client,
    run: &str,
    format: &str,
    to: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let mut response = api
        .get_stream(
            &format!("/v1/runs/{}/export", path_segment(run)),
            &[("format", format.to_owned())],
        )
        .await?;
    let mut sink: Box<dyn Write> = match &to {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("could not create {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let progress = std::io::stderr().is_terminal() && to.is_some();
    let mut written = 0usize;
    while let Some(chunk) = response.chunk().await.context("the export was cut off")? {
        sink.write_all(&chunk)?;
        written += chunk.len();
        if progress {
            eprint!("\r{:.1} MB written", written as f64 / 1e6);
        }
    }
    sink.flush()?;
    if let Some(path) = to {
        if progress {
            eprintln!();
        }
        eprintln!("wrote {} ({written} bytes, {format})", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Plays a run: in the terminal player when stdout is a terminal (and
/// `--no-tui` was not given), else as lines printed at the run's pace.
pub async fn replay(
    api: &Client,
    run: &str,
    speed: f64,
    from_event: u64,
    no_tui: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let options = ReplayOptions {
        speed,
        from_event,
        ..ReplayOptions::default()
    };
    let mut replay = api.replay(run, options)?;
    if !no_tui && !json && std::io::stdout().is_terminal() {
        // Fail here, with the server's words, if the run is not there.
        api.get(&format!("/v1/runs/{}", path_segment(run)), &[])
            .await?;
        crate::player::play(api.clone(), run, replay, speed).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut stdout = std::io::stdout().lock();
    while let Some(next) = replay.next().await {
        let RunEvent { index, event: e } = next?;
        if json {
            writeln!(stdout, "{e}")?;
        } else {
            let line = format!(
                "{index:>4}  {}  {:<16} {:<4}  {}",
                output::text(&e["time"]),
                output::text(&e["type"]),
                output::text(&e["status"]),
                output::summary(&e)
            );
            writeln!(stdout, "{}", line.trim_end())?;
        }
        stdout.flush()?;
    }
    if let Some(end) = replay.end()
        && !json
    {
        writeln!(
            stdout,
            "— end of replay: {} events, {}",
            end.events, end.reason
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
