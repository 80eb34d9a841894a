//! `flightrec verify`: a store (`--data-dir` or `--database-url`) or an
//! export (`--export`).

use crate::cli::VerifyArgs;
use crate::progress::ProgressBar;
use crate::trust::Trust;
use anyhow::{Context, bail};
use flightrec_core::export::verify_export;
use flightrec_core::log::{Leaf, ProofFile, open_checkpoint, verify_proof_file};
use flightrec_core::record::{Header, body_hash};
use flightrec_store::verify::{Progress, SearchIndex, verify_store};
use flightrec_store::{PgStore, SqliteStore, Store};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trust = Trust::load_with_witnesses(args.trust.as_deref(), &args.key, &args.witnesses)?;
    if let (Some(proof), Some(record)) = (&args.proof, &args.record) {
        return verify_proof_file_offline(proof, record, &trust);
    }
    // Verification is CPU and disk work from start to end.
    let database_url = args
        .database_url
        .as_ref()
        .map(|u| u.expose().trim().to_owned());
    tokio::task::spawn_blocking(move || {
        match (&args.export, database_url.filter(|u| !u.is_empty()), &args.data_dir) {
            (Some(export), _, _) => {
                verify_export_file(export, args.checkpoint.as_deref(), &trust)
            }
            (None, Some(url), _) => {
                // The URL may hold a password: the error never repeats it.
                let store = PgStore::open_snapshot(&url)
                    .context("could not open the PostgreSQL store")?;
                give_master_key(&store, &args.master_key)?;
                verify_snapshot(&store, &trust, args.search_index)
            }
            (None, None, Some(dir)) => {
                let store = SqliteStore::open_snapshot(dir)
                    .with_context(|| format!("could not open the store in {}", dir.display()))?;
                give_master_key(&store, &args.master_key)?;
                verify_snapshot(&store, &trust, args.search_index)
            }
            (None, None, None) => bail!(
                "say what to verify: --data-dir DIR, --database-url URL, --export FILE [--checkpoint FILE], or --proof FILE --record FILE (each with --trust FILE or --key VKEY)"
            ),
        }
    })
    .await?
}

/// Gives the store the master key if one is configured: verify reads the
/// bodies of tenants that encrypt at rest with it, and without it checks
/// their headers and proofs and counts the bodies it could not read.
fn give_master_key(store: &dyn Store, args: &crate::cli::MasterKeyArgs) -> anyhow::Result<()> {
    if let Some(master) = crate::server_keys::master_key(args)? {
        store.keyring().use_master(master)?;
    }
    Ok(())
}

/// Verifies every tenant's log in a store opened as a snapshot.
fn verify_snapshot(
    store: &dyn Store,
    trust: &Trust,
    search_index: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut bar = ProgressBar::new();
    // A blind index is made with the data keys: without the master key it
    // cannot be recomputed, so it is not compared.
    let locked = store.keyring().master().is_none() && store.keyring().holds_live_keys()?;
    if search_index && locked {
        println!(
            "the free-text index is not checked: the store holds bodies encrypted at rest, and no master key was given"
        );
    }
    let search_index = if search_index && !locked {
        SearchIndex::Check
    } else {
        SearchIndex::Skip
    };
    let report = verify_store(
        store,
        &|tenant| trust.for_tenant(tenant),
        search_index,
        &mut |p: Progress| bar.update("verifying records", p.records_done, p.records_total),
    )?;
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
        if t.shredded > 0 {
            println!(
                "  {} bodies crypto-shredded (their data key destroyed): headers and proofs checked",
                t.shredded
            );
        }
        if t.sealed_unchecked > 0 {
            println!(
                "  {} bodies encrypted at rest not checked against their hashes: give the master key (FLIGHTREC_MASTER_KEY or --master-key-file) to check them too; headers and proofs checked",
                t.sealed_unchecked
            );
        }
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

fn verify_export_file(
    export: &Path,
    checkpoint: Option<&Path>,
    trust: &Trust,
) -> anyhow::Result<ExitCode> {
    let note = match checkpoint {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("could not read the checkpoint {}", file.display()))?,
        // The one the export was made against: it is checked with the
        // trusted keys like any other.
        None => checkpoint_in(export)?,
    };
    let origin = note.lines().next().unwrap_or_default();
    if !trust.witnesses.is_empty()
        && let Err(e) = trust.open_checkpoint(&note)
    {
        println!("MISMATCH: {e:#}");
        return Ok(ExitCode::from(1));
    }
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

/// The signed checkpoint an export carries in its `{"checkpoint": …}` line.
fn checkpoint_in(export: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(export)
        .with_context(|| format!("could not open the export {}", export.display()))?;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("could not read {}", export.display()))?;
        if !line.starts_with("{\"checkpoint\"") {
            continue;
        }
        if let Some(note) = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["checkpoint"].as_str().map(str::to_owned))
        {
            return Ok(note);
        }
    }
    bail!(
        "{} carries no checkpoint line; give the checkpoint it was made against with --checkpoint",
        export.display()
    )
}

/// `verify --proof FILE --record FILE`: a C2SP tlog-proof file and the
/// record it is for, offline.
fn verify_proof_file_offline(
    proof: &Path,
    record: &Path,
    trust: &Trust,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(proof)
        .with_context(|| format!("could not read the proof file {}", proof.display()))?;
    let file = ProofFile::parse(&text).context("the proof file is malformed")?;
    let record_text = std::fs::read_to_string(record)
        .with_context(|| format!("could not read the record {}", record.display()))?;
    let value: Value = serde_json::from_str(&record_text).context(
        "the record is not JSON (a line of a JSONL export, or what `log proof -o` saved)",
    )?;
    let header = Header::from_json(value.get("header").unwrap_or(&value))
        .map_err(|e| anyhow::anyhow!("the record's header: {e}"))?;
    let mismatch = |why: String| {
        println!("MISMATCH: {why}");
        Ok(ExitCode::from(1))
    };
    if file.index != header.seq {
        return mismatch(format!(
            "the proof is for seq {}, the record is seq {}",
            file.index, header.seq
        ));
    }
    // The body, when the record carries it, must be the one the header covers.
    if let (Some(body), Some(salt)) = (value.get("body"), value["salt"].as_str()) {
        let canonical = match body {
            Value::String(jcs_text) => jcs_text.clone(),
            Value::Null => String::new(),
            other => flightrec_core::jcs::to_string(other),
        };
        let salt = hex::decode(salt).context("the record's salt is not hex")?;
        if !body.is_null() && body_hash(&salt, canonical.as_bytes()) != header.body_hash {
            return mismatch("the record's body does not hash to its body_hash".into());
        }
    }
    let origin = file
        .checkpoint_note
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let keys = trust.for_origin(&origin);
    if keys.is_empty() {
        bail!(
            "no trusted key is for the log {origin:?}, which the proof names; add it with --key or --trust"
        );
    }
    let leaf_input = header.leaf_input();
    let mut last_error = None;
    for key in &keys {
        match verify_proof_file(
            &file,
            Leaf::Input(&leaf_input),
            key,
            &origin,
            &trust.witnesses,
            trust.threshold,
        ) {
            Ok(checkpoint) => {
                println!(
                    "OK: record {} ({}) is in {} at size {}{}",
                    header.seq,
                    header.id,
                    origin,
                    checkpoint.size(),
                    if trust.threshold > 0 {
                        format!(", cosigned by at least {} witness(es)", trust.threshold)
                    } else {
                        String::new()
                    }
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => last_error = Some(e),
        }
    }
    mismatch(format!(
        "the proof does not hold: {}",
        last_error.expect("one key was tried")
    ))
}
