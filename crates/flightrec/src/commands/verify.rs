//! `flightrec verify`: a store (`--data-dir`) or an export (`--export`).

use crate::cli::VerifyArgs;
use crate::trust::Trust;
use anyhow::{Context, bail};
use flightrec_core::export::verify_export;
use flightrec_core::log::open_checkpoint;
use flightrec_store::SqliteStore;
use flightrec_store::verify::{Progress, verify_store};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trust = Trust::load(args.trust.as_deref(), &args.key)?;
    // Verification is CPU and disk work from start to end.
    tokio::task::spawn_blocking(move || match (&args.export, &args.data_dir) {
        (Some(export), _) => verify_export_file(
            export,
            args.checkpoint.as_deref().expect("clap requires it"),
            &trust,
        ),
        (None, Some(dir)) => verify_data_dir(dir, &trust),
        (None, None) => bail!(
            "say what to verify: --data-dir DIR, or --export FILE --checkpoint FILE (with --trust FILE or --key VKEY)"
        ),
    })
    .await?
}

fn verify_data_dir(dir: &Path, trust: &Trust) -> anyhow::Result<ExitCode> {
    let store = SqliteStore::open_snapshot(dir)
        .with_context(|| format!("could not open the store in {}", dir.display()))?;
    let started = Instant::now();
    let mut bar = ProgressBar::new();
    let report = verify_store(&store, &|tenant| trust.for_tenant(tenant), &mut |p| {
        bar.update(p)
    })?;
    bar.finish();
    let elapsed = started.elapsed().as_secs_f64();
    for t in &report.tenants {
        println!(
            "tenant {:<20} {:>10} records  {:>6} checkpoints  {:>6} runs  {:>4} erased  root {}",
            t.tenant,
            t.records,
            t.checkpoints,
            t.runs,
            t.erased,
            t.root.map(|r| r.to_hex()).unwrap_or_else(|| "-".into())
        );
    }
    match &report.mismatch {
        None => {
            println!(
                "OK: {} records in {} tenant(s) verified in {elapsed:.1} s ({:.0} records/s)",
                report.records(),
                report.tenants.len(),
                report.records() as f64 / elapsed.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(m) => {
            println!("MISMATCH: {m}");
            Ok(ExitCode::from(1))
        }
    }
}

fn verify_export_file(export: &Path, checkpoint: &Path, trust: &Trust) -> anyhow::Result<ExitCode> {
    let note = std::fs::read_to_string(checkpoint)
        .with_context(|| format!("could not read the checkpoint {}", checkpoint.display()))?;
    let origin = note.lines().next().unwrap_or_default();
    let candidates = trust.for_origin(origin);
    // The key that signed it, if one of ours did; else the first, whose
    // refusal then says why.
    let Some(verifier) = candidates
        .iter()
        .find(|k| open_checkpoint(&note, origin, std::slice::from_ref(k)).is_ok())
        .or(candidates.first())
    else {
        bail!(
            "no trusted key is for the log {origin:?}, which the checkpoint names; add its key with --key or --trust"
        );
    };
    let file = std::fs::File::open(export)
        .with_context(|| format!("could not open the export {}", export.display()))?;
    match verify_export(std::io::BufReader::new(file).lines(), &note, verifier) {
        Ok(s) => {
            println!(
                "OK: {} records ({} erased) of {} verified against its checkpoint of size {}",
                s.records, s.erased, s.origin, s.checkpoint_size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(m) => {
            println!("MISMATCH: {m}");
            Ok(ExitCode::from(1))
        }
    }
}

/// A progress line on a terminal; nothing otherwise.
struct ProgressBar {
    enabled: bool,
    last: Option<Instant>,
}

impl ProgressBar {
    fn new() -> Self {
        ProgressBar {
            enabled: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn update(&mut self, p: Progress) {
        if !self.enabled
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let total = p.records_total.max(1);
        let filled = (p.records_done * 30 / total) as usize;
        eprint!(
            "\rverifying [{}{}] {}/{} records",
            "#".repeat(filled.min(30)),
            " ".repeat(30 - filled.min(30)),
            p.records_done,
            p.records_total
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.enabled && self.last.is_some() {
            eprintln!();
        }
    }
}
