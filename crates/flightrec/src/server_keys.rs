//! The server's own secrets, each given by the environment or kept in the
//! data dir (mode 0600) and created on first start:
//! - the log's Ed25519 signing key (`FLIGHTREC_LOG_KEY`, `log-key`);
//! - the key that signs session tokens (`FLIGHTREC_SESSION_KEY`,
//!   `session-key`), which every node of one deployment must share.

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

/// The configured key, else the data dir's, else a new one named `origin`
/// saved in the data dir.
pub fn log_key(data_dir: &Path, origin: &str) -> anyhow::Result<Signer> {
    if let Some(key) = configured()? {
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
    let parse = |text: &str, from: &str| -> anyhow::Result<[u8; 32]> {
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
        bytes
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{from} must hold 64 hex digits (32 random bytes)"))
    };
    if let Ok(text) = std::env::var(var)
        && !text.trim().is_empty()
    {
        return parse(&text, var);
    }
    let path = data_dir.join(file);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read the {what} {}", path.display()))?;
        return parse(&text, &path.display().to_string());
    }
    let key: [u8; 32] = rand::random();
    let mut file = private_file(&path)?;
    writeln!(file, "{}", hex::encode(key))?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created the {what}");
    Ok(key)
}

fn configured() -> anyhow::Result<Option<Signer>> {
    match std::env::var("FLIGHTREC_LOG_KEY") {
        Ok(text) if !text.trim().is_empty() => Signer::parse_private_key(text.trim())
            .map(Some)
            .context("FLIGHTREC_LOG_KEY is not a signer key (PRIVATE+KEY+<name>+<id>+<key>)"),
        _ => Ok(None),
    }
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
