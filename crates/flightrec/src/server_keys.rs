//! The server's own secrets, each given by the environment or kept in the
//! data dir (mode 0600) and created on first start:
//! - the log's Ed25519 signing key (`FLIGHTREC_LOG_KEY`, `--log-key-file`,
//!   `log-key`);
//! - the key that signs session tokens (`FLIGHTREC_SESSION_KEY`,
//!   `session-key`), which every node of one deployment must share;
//! - the key webhook secrets derive from (`FLIGHTREC_WEBHOOK_KEY`,
//!   `webhook-key`), likewise.
//!
//! On PostgreSQL there is no data dir to keep them in, and a key a node
//! made up for itself would differ from its peers' (checkpoints under
//! several keys, sessions valid on one node only): each must be given
//! ([`shared_secrets`]). Private keys never go into the database.

use anyhow::Context;
use flightrec_core::log::Signer;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOG_KEY_FILE: &str = "log-key";
pub const SESSION_KEY_FILE: &str = "session-key";
pub const WEBHOOK_KEY_FILE: &str = "webhook-key";

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_KEY_FILE)
}

/// The configured key (`FLIGHTREC_LOG_KEY` or `key_file`), else the data
/// dir's, else a new one named `origin` saved in the data dir.
pub fn log_key(data_dir: &Path, key_file: Option<&Path>, origin: &str) -> anyhow::Result<Signer> {
    if let Some(key) = configured(key_file)? {
        return Ok(key);
    }
    let path = key_path(data_dir);
    if path.exists() {
        let key = read(&path)?;
        if key.name() != origin {
            tracing::warn!(
                key = key.name(),
                configured = origin,
                "the log key was created under another origin; keeping the key's, so old checkpoints stay valid"
            );
        }
        return Ok(key);
    }
    let key = Signer::generate(origin, &mut rand::rngs::OsRng)
        .with_context(|| format!("{origin:?} cannot name a log key (no spaces or '+')"))?;
    let mut file = private_file(&path)?;
    writeln!(file, "{}", key.to_private_key_string())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), origin, "created the log signing key");
    Ok(key)
}

/// The session signing key: `FLIGHTREC_SESSION_KEY` (64 hex digits), else
/// the data dir's, else 32 new random bytes saved there.
pub fn session_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    random_key(
        data_dir,
        "FLIGHTREC_SESSION_KEY",
        SESSION_KEY_FILE,
        "session signing key",
    )
}

/// The key webhook signing secrets are derived from:
/// `FLIGHTREC_WEBHOOK_KEY`, else the data dir's, else a new one saved
/// there. Nodes sharing a database must share it.
pub fn webhook_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    random_key(
        data_dir,
        "FLIGHTREC_WEBHOOK_KEY",
        WEBHOOK_KEY_FILE,
        "webhook key",
    )
}

fn random_key(data_dir: &Path, var: &str, file: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(key) = env_key(var)? {
        return Ok(key);
    }
    let path = data_dir.join(file);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read the {what} {}", path.display()))?;
        return parse_hex_key(&text, &path.display().to_string());
    }
    let key: [u8; 32] = rand::random();
    let mut file = private_file(&path)?;
    writeln!(file, "{}", hex::encode(key))?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created the {what}");
    Ok(key)
}

/// The master key for encryption at rest: `FLIGHTREC_MASTER_KEY`, else
/// the file `args` names; `None` when neither is given. It is never made
/// up nor kept in the data dir: beside the data it would protect nothing.
pub fn master_key(
    args: &crate::cli::MasterKeyArgs,
) -> anyhow::Result<Option<std::sync::Arc<dyn flightrec_store::encryption::MasterKey>>> {
    use flightrec_store::encryption::LocalMasterKey;
    let env = std::env::var("FLIGHTREC_MASTER_KEY")
        .ok()
        .filter(|text| !text.trim().is_empty());
    let key = match (env, &args.master_key_file) {
        (Some(_), Some(_)) => anyhow::bail!(
            "the master key is given twice (FLIGHTREC_MASTER_KEY and --master-key-file): give one"
        ),
        (Some(text), None) => LocalMasterKey::parse(&text)
            .map_err(|why| anyhow::anyhow!("FLIGHTREC_MASTER_KEY: {why}"))?,
        (None, Some(path)) => LocalMasterKey::from_file(path).map_err(anyhow::Error::msg)?,
        (None, None) => return Ok(None),
    };
    Ok(Some(std::sync::Arc::new(key)))
}

/// Gives `store` the master key, or refuses to go on without one when it
/// holds bodies encrypted at rest.
pub fn unlock(
    store: &dyn flightrec_store::Store,
    args: &crate::cli::MasterKeyArgs,
) -> anyhow::Result<()> {
    match master_key(args)? {
        Some(master) => {
            store.keyring().use_master(master)?;
            Ok(())
        }
        None if store.keyring().holds_live_keys()? => anyhow::bail!(
            "this store holds bodies encrypted at rest: give the master key with FLIGHTREC_MASTER_KEY or --master-key-file"
        ),
        None => Ok(()),
    }
}

/// Writes a new master key to `path` (mode 0600, never over a file).
pub fn write_master_key(path: &Path) -> anyhow::Result<()> {
    let mut file = private_file(path).with_context(|| {
        format!(
            "could not create {} (it must not exist yet)",
            path.display()
        )
    })?;
    writeln!(
        file,
        "{}",
        flightrec_store::encryption::LocalMasterKey::generate()
    )?;
    file.sync_all()?;
    Ok(())
}

/// The secrets every node on one PostgreSQL database must share, all
/// given by configuration; none is made up, none is read from or written
/// to a data dir.
pub struct SharedSecrets {
    pub log_key: Signer,
    pub session_key: [u8; 32],
    pub webhook_key: [u8; 32],
}

/// [`SharedSecrets`] from the environment and `key_file`, or an error that
/// names every one missing and how to make it.
pub fn shared_secrets(key_file: Option<&Path>) -> anyhow::Result<SharedSecrets> {
    let log_key = configured(key_file)?;
    let session_key = env_key("FLIGHTREC_SESSION_KEY")?;
    let webhook_key = env_key("FLIGHTREC_WEBHOOK_KEY")?;
    let mut missing = Vec::new();
    if log_key.is_none() {
        missing.push(
            "the log signing key: FLIGHTREC_LOG_KEY, or a file named by --log-key-file \
             (FLIGHTREC_LOG_KEY_FILE); create one with `flightrec log new-key --origin \
             <your origin> -o log-key`",
        );
    }
    if session_key.is_none() {
        missing
            .push("the session key: FLIGHTREC_SESSION_KEY, 64 hex digits (`openssl rand -hex 32`)");
    }
    if webhook_key.is_none() {
        missing
            .push("the webhook key: FLIGHTREC_WEBHOOK_KEY, 64 hex digits (`openssl rand -hex 32`)");
    }
    match (log_key, session_key, webhook_key) {
        (Some(log_key), Some(session_key), Some(webhook_key)) => Ok(SharedSecrets {
            log_key,
            session_key,
            webhook_key,
        }),
        _ => anyhow::bail!(
            "on PostgreSQL every node must be given the same keys, and this one lacks:\n  - {}\n\
             Give every node the same values (private keys never go into the database; \
             see docs/scale-out.md).",
            missing.join("\n  - ")
        ),
    }
}

/// A new log key named `origin`, written to `path` (mode 0600, never over
/// an existing file); for `flightrec log new-key`.
pub fn new_log_key(origin: &str, path: &Path) -> anyhow::Result<Signer> {
    let key = Signer::generate(origin, &mut rand::rngs::OsRng)
        .with_context(|| format!("{origin:?} cannot name a log key (no spaces or '+')"))?;
    let mut file = private_file(path).with_context(|| {
        format!(
            "could not create {} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    writeln!(file, "{}", key.to_private_key_string())?;
    file.sync_all()?;
    Ok(key)
}

/// `FLIGHTREC_LOG_KEY`, else the key in `key_file`; both at once is a
/// mistake worth stopping for (which one would the other nodes have?).
fn configured(key_file: Option<&Path>) -> anyhow::Result<Option<Signer>> {
    let from_env = match std::env::var("FLIGHTREC_LOG_KEY") {
        Ok(text) if !text.trim().is_empty() => Some(
            Signer::parse_private_key(text.trim())
                .context("FLIGHTREC_LOG_KEY is not a signer key (PRIVATE+KEY+<name>+<id>+<key>)")?,
        ),
        _ => None,
    };
    match (from_env, key_file) {
        (Some(_), Some(path)) => anyhow::bail!(
            "both FLIGHTREC_LOG_KEY and --log-key-file ({}) give a log key; give one",
            path.display()
        ),
        (Some(key), None) => Ok(Some(key)),
        (None, Some(path)) => read(path).map(Some),
        (None, None) => Ok(None),
    }
}

/// A 32-byte key from `var` (64 hex digits), if set.
fn env_key(var: &str) -> anyhow::Result<Option<[u8; 32]>> {
    match std::env::var(var) {
        Ok(text) if !text.trim().is_empty() => parse_hex_key(&text, var).map(Some),
        _ => Ok(None),
    }
}

fn parse_hex_key(text: &str, from: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
    bytes
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{from} must hold 64 hex digits (32 random bytes)"))
}

fn read(path: &Path) -> anyhow::Result<Signer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the log key {}", path.display()))?;
    Signer::parse_private_key(text.trim())
        .with_context(|| format!("{} is not a log signing key", path.display()))
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
