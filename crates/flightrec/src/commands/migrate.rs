//! `flightrec migrate --from-data-dir DIR --to postgres://…`: the embedded
//! store copied into PostgreSQL, checked, and the way to start nodes on it.

use crate::cli::MigrateArgs;
use crate::progress::ProgressBar;
use crate::server_keys::{LOG_KEY_FILE, SESSION_KEY_FILE, WEBHOOK_KEY_FILE};
use crate::trust::Trust;
use anyhow::{Context, bail};
use flightrec_core::clock::SystemClock;
use flightrec_core::log::Signer;
use flightrec_store::verify::{Progress, SearchIndex, verify_store};
use flightrec_store::{
    AccessStore, Checkpointing, ImportProgress, LogStore, PgStore, RecordStore, SqliteStore,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    // Copying and verifying are blocking work from start to end.
    tokio::task::spawn_blocking(move || migrate(args)).await?
}

fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.from_data_dir;
    let url = args.to.expose().trim();
    if url.is_empty() {
        bail!("--to needs the PostgreSQL database to copy into (postgres://USER@HOST/DATABASE)");
    }
    let started = Instant::now();
    let source = SqliteStore::open_snapshot(dir)
        .with_context(|| format!("could not open the store in {}", dir.display()))?;
    crate::server_keys::unlock(&source, &args.master_key)?;
    let tenants = source.log_tenants()?;
    // Known before anything is written: a copy that cannot be checked
    // is not worth making.
    let trust = trust_for(dir, args.trust.as_deref(), &tenants)?;
    let source_records = total_records(&source, &tenants)?;

    // The URL may hold a password: no message repeats it.
    let target = PgStore::open_or_create(url).context("could not open the PostgreSQL database")?;
    let master = crate::server_keys::master_key(&args.master_key)?;
    if let Some(master) = &master {
        target.keyring().use_master(master.clone())?;
    }
    eprintln!(
        "copying {source_records} records of {} tenant(s) from {} into {}",
        tenants.len(),
        dir.display(),
        target.database()
    );
    let mut bar = ProgressBar::new();
    let report = target.import_sqlite(&source, &mut |p: ImportProgress| {
        let subject = match p.table {
            "record_search" => "indexing for search".to_owned(),
            table => format!("copying {table}"),
        };
        bar.update(&subject, p.rows_done, p.rows_total);
    })?;
    bar.finish();
    println!("copied into {}:", target.database());
    for (table, rows) in &report.tables {
        println!("  {table:<20} {rows:>10}");
    }

    // Checked as any auditor would: a snapshot of the new store, every
    // record against its leaf, every checkpoint against the tree and keys.
    let copy = PgStore::open_snapshot(url).context("could not reopen the copy to verify it")?;
    if let Some(master) = master {
        copy.keyring().use_master(master)?;
    }
    let verified = verify_store(
        &copy,
        &|tenant| trust.for_tenant(tenant),
        SearchIndex::Skip,
        &mut |p: Progress| bar.update("verifying the copy", p.records_done, p.records_total),
    )?;
    bar.finish();
    if let Some(mismatch) = &verified.mismatch {
        println!("MISMATCH: {mismatch}");
        println!(
            "The copy is in {}, but does not verify: do not start nodes on it.",
            copy.database()
        );
        return Ok(ExitCode::from(1));
    }
    for t in &verified.tenants {
        println!(
            "tenant {:<20} {:>10} records  {:>6} checkpoints  root {}",
            t.tenant,
            t.records,
            t.checkpoints,
            t.root.map(|r| r.to_hex()).unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "OK: {} records copied and verified in {:.1} s",
        verified.records(),
        started.elapsed().as_secs_f64()
    );

    warn_if_source_grew(dir, source_records);
    print_next_steps(dir);
    Ok(ExitCode::SUCCESS)
}

/// The keys the copy is verified against: the trust file given, else the
/// verifier of each tenant's log derived from the data dir's log key (the
/// operator migrating holds it; nothing is read from the target).
fn trust_for(dir: &Path, trust_file: Option<&Path>, tenants: &[String]) -> anyhow::Result<Trust> {
    if let Some(file) = trust_file {
        return Trust::load(Some(file), &[]);
    }
    let key_path = dir.join(LOG_KEY_FILE);
    if !key_path.exists() {
        bail!(
            "{} has no log key (the server was given FLIGHTREC_LOG_KEY?): pass --trust FILE \
             with the logs' verifier keys (`flightrec log trust` against the server), so the \
             copy can be verified",
            dir.display()
        );
    }
    let text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("could not read {}", key_path.display()))?;
    let key = Signer::parse_private_key(text.trim())
        .with_context(|| format!("{} is not a log signing key", key_path.display()))?;
    let checkpointing = Checkpointing::new(key, Duration::ZERO, Arc::new(SystemClock))?;
    let keys = tenants
        .iter()
        .map(|t| checkpointing.verifier(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Trust::of_keys(keys))
}

fn total_records(store: &SqliteStore, tenants: &[String]) -> anyhow::Result<u64> {
    let mut total = 0;
    for tenant in tenants {
        total += store.log_size(tenant)?;
    }
    Ok(total)
}

/// A server left running on the source goes on recording into it; what it
/// recorded after the snapshot was taken is not in the copy.
fn warn_if_source_grew(dir: &Path, copied: u64) {
    let now = SqliteStore::open_snapshot(dir)
        .map_err(anyhow::Error::from)
        .and_then(|s| {
            let tenants = s.log_tenants()?;
            total_records(&s, &tenants)
        });
    if let Ok(now) = now
        && now > copied
    {
        eprintln!(
            "warning: {} records were written to {} after the copy began and are not in it; \
             stop its server and migrate again into a new, empty database",
            now - copied,
            dir.display()
        );
    }
}

/// The nodes must sign with the log's own key (its checkpoints go on under
/// the same origin and key) and share the session and webhook keys (so
/// sign-ins and webhook secrets stay valid). Paths only: keys are never
/// printed.
fn print_next_steps(dir: &Path) {
    // Absolute, so the lines work from wherever the nodes are started.
    let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    println!("\nStart every node on the new database with this store's keys:");
    let key_file = dir.join(LOG_KEY_FILE);
    if key_file.exists() {
        println!("  export FLIGHTREC_LOG_KEY_FILE={}", key_file.display());
    } else {
        println!("  export FLIGHTREC_LOG_KEY=...   # the log key the old server was given");
    }
    for (var, file) in [
        ("FLIGHTREC_SESSION_KEY", SESSION_KEY_FILE),
        ("FLIGHTREC_WEBHOOK_KEY", WEBHOOK_KEY_FILE),
    ] {
        let path = dir.join(file);
        if path.exists() {
            println!("  export {var}=$(cat {})", path.display());
        } else {
            println!("  export {var}=...   # the value the old server was given");
        }
    }
    println!("  flightrec serve --database-url postgres://...   # see docs/scale-out.md");
}
