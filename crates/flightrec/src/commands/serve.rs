//! `flightrec serve`.

use crate::cli::{DEFAULT_LOG_ORIGIN, DurabilityArg, ServeArgs};
use anyhow::Context;
use flightrec_core::clock::SystemClock;
use flightrec_core::event::Limits;
use flightrec_core::log::Signer;
use flightrec_core::secret::Secret;
use flightrec_server::auth::Auth;
use flightrec_server::auth::rate_limit::RateLimits;
use flightrec_server::bootstrap::{BootstrapChoices, DEFAULT_TENANT, bootstrap};
use flightrec_server::webhooks::WebhookSettings;
use flightrec_server::{AppState, CorsOrigins};
use flightrec_store::{
    Checkpointing, Durability, PgStore, SqliteOptions, SqliteStore, Store, body_codec,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    if args.max_event_bytes > body_codec::MAX_BODY {
        anyhow::bail!(
            "--max-event-bytes is {}: the store reads back bodies of at most {} bytes",
            args.max_event_bytes,
            body_codec::MAX_BODY
        );
    }
    let clock = Arc::new(SystemClock);
    let opened = match args.database_url.as_ref().map(|url| url.expose().trim()) {
        Some(url) if !url.is_empty() => open_postgres(url, &args, clock.clone()).await?,
        _ => open_sqlite(&args, clock.clone()).await?,
    };
    let (store, checkpointing) = (opened.store, opened.checkpointing);

    let choices = BootstrapChoices {
        admin_email: env("FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL"),
        admin_password: env("FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD").map(Secret::new),
        api_key: env("FLIGHTREC_BOOTSTRAP_API_KEY").map(Secret::new),
    };
    let created = {
        let store = store.clone();
        let clock = clock.clone();
        tokio::task::spawn_blocking(move || bootstrap(store.as_ref(), clock.as_ref(), choices))
            .await??
    };
    if let Some(b) = &created {
        print_bootstrap(b);
    }

    let limits = Limits {
        max_event_bytes: args.max_event_bytes,
        max_batch_events: args.max_batch_events,
        max_batch_bytes: args.max_batch_bytes,
    };
    let rate = |rps: u32| (rps > 0).then_some(rps);
    let auth = Auth::new(
        opened.session_key,
        args.session_ttl,
        RateLimits {
            per_key: rate(args.rate_limit_per_key_rps),
            per_tenant: rate(args.rate_limit_per_tenant_rps),
        },
    );
    let webhooks = WebhookSettings {
        key: opened.webhook_key,
        allow_private_targets: args.webhooks_allow_private_targets,
    };
    let witnesses = match args.witnesses.as_deref().map(str::trim) {
        Some(config) if !config.is_empty() => flightrec_witness::parse_witnesses(config)
            .context("--witnesses (FLIGHTREC_WITNESSES) must be `<url> <witness key>` pairs, comma-separated")?,
        _ => Vec::new(),
    };
    let state = AppState::new(store, checkpointing, clock, limits, auth, webhooks);
    for w in &witnesses {
        tracing::info!(witness = %w.verifier().name(), url = %w.url(), "checkpoints will be sent to a witness");
    }
    state.witnessing().configure(witnesses);
    state.metrics().set_public(args.metrics_public);
    if args.metrics_public {
        tracing::info!(
            "GET /metrics is public (FLIGHTREC_METRICS_PUBLIC): anyone who reaches the server can read its figures"
        );
    }
    let cors = CorsOrigins::parse(args.cors_origins.as_deref().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("--cors-origins (FLIGHTREC_CORS_ORIGINS): {e}"))?;
    if !cors.is_empty() {
        tracing::info!(origins = ?args.cors_origins, "pages of these origins may call the API with an API key");
    }
    if args.demo {
        let receipts = flightrec_server::load_demo(&state, DEFAULT_TENANT)
            .await
            .map_err(|e| anyhow::anyhow!("could not load the demo: {}", e.message))?;
        println!(
            "demo: {} events recorded in tenant `{DEFAULT_TENANT}`",
            receipts.len()
        );
    }

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "flightrec listening on http://{addr} (data in {})",
        opened.place
    );
    tracing::info!(%addr, "listening");
    flightrec_server::serve(listener, state, &cors, super::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The store this node serves, signing checkpoints, and the secrets it
/// derives with.
struct Opened {
    store: Arc<dyn Store>,
    checkpointing: Checkpointing,
    session_key: [u8; 32],
    webhook_key: [u8; 32],
    /// Where the data is, for the banner: never a password.
    place: String,
}

fn checkpointing(
    key: Signer,
    args: &ServeArgs,
    clock: Arc<SystemClock>,
) -> anyhow::Result<Checkpointing> {
    Ok(Checkpointing::new(
        key,
        Duration::from_millis(args.checkpoint_interval_ms),
        clock,
    )?)
}

/// The embedded store in the data dir, with the keys kept beside it unless
/// configured.
async fn open_sqlite(args: &ServeArgs, clock: Arc<SystemClock>) -> anyhow::Result<Opened> {
    let options = SqliteOptions {
        durability: match args.durability {
            DurabilityArg::Fsync => Durability::Fsync,
            DurabilityArg::Os => Durability::Os,
        },
        ..Default::default()
    };
    let data_dir = args.data_dir.clone();
    let store =
        tokio::task::spawn_blocking(move || SqliteStore::open_or_create(&data_dir, options))
            .await?
            .with_context(|| format!("could not open the store in {}", args.data_dir.display()))?;
    let store = unlock(store, &args.master_key).await?;
    let key = crate::server_keys::log_key(
        &args.data_dir,
        args.log_key_file.as_deref(),
        &args.log_origin,
    )?;
    let checkpointing = checkpointing(key, args, clock)?;
    store.set_checkpointing(checkpointing.clone());
    Ok(Opened {
        store: Arc::new(store),
        checkpointing,
        session_key: crate::server_keys::session_key(&args.data_dir)?,
        webhook_key: crate::server_keys::webhook_key(&args.data_dir)?,
        place: args.data_dir.display().to_string(),
    })
}

/// [`crate::server_keys::unlock`], off the runtime: it reads the store.
async fn unlock<S: Store>(store: S, master: &crate::cli::MasterKeyArgs) -> anyhow::Result<S> {
    let master = master.clone();
    tokio::task::spawn_blocking(move || {
        crate::server_keys::unlock(&store, &master)?;
        Ok(store)
    })
    .await?
}

/// The store in PostgreSQL, shared with any other node given the same URL.
/// The keys are checked first: a node that would sign under a key of its
/// own must not start.
async fn open_postgres(
    url: &str,
    args: &ServeArgs,
    clock: Arc<SystemClock>,
) -> anyhow::Result<Opened> {
    let secrets = crate::server_keys::shared_secrets(args.log_key_file.as_deref())?;
    let url = url.to_owned();
    let store = tokio::task::spawn_blocking(move || PgStore::open_or_create(&url))
        .await?
        .context("could not open the store in PostgreSQL (--database-url)")?;
    let store = unlock(store, &args.master_key).await?;
    let place = store.database().to_owned();
    if let Some(why) = store.inconsistency() {
        tracing::error!(%why, "the log is inconsistent: serving reads only; run `flightrec verify`");
    }
    if secrets.log_key.name() != args.log_origin && args.log_origin != DEFAULT_LOG_ORIGIN {
        tracing::warn!(
            key = secrets.log_key.name(),
            configured = %args.log_origin,
            "--log-origin is not used on PostgreSQL: the log key's name is the origin"
        );
    }
    let checkpointing = checkpointing(secrets.log_key, args, clock)?;
    store.set_checkpointing(checkpointing.clone());
    Ok(Opened {
        store: Arc::new(store),
        checkpointing,
        session_key: secrets.session_key,
        webhook_key: secrets.webhook_key,
        place,
    })
}

fn print_bootstrap(b: &flightrec_server::bootstrap::Bootstrapped) {
    println!("First start: created tenant `{}`.", b.tenant);
    println!("  Owner login:  {}", b.admin_email);
    match &b.generated_password {
        Some(p) => println!("  Password:     {}", p.expose()),
        None => println!("  Password:     (from FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD)"),
    }
    match &b.generated_api_key {
        Some(k) => println!("  API key:      {}", k.expose()),
        None => println!("  API key:      (from FLIGHTREC_BOOTSTRAP_API_KEY)"),
    }
    if b.generated_password.is_some() || b.generated_api_key.is_some() {
        println!("  These are shown only this once; store them now.");
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLIGHTREC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
