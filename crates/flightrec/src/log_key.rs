//! The log's Ed25519 signing key: given by `FLIGHTREC_LOG_KEY`, or kept in
//! `<data-dir>/log-key` (mode 0600), created on first start.

use anyhow::{Context, bail};
use flightrec_core::log::Signer;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "log-key";

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// The configured key, else the data dir's, else a new one named `origin`
/// saved in the data dir.
pub fn load_or_create(data_dir: &Path, origin: &str) -> anyhow::Result<Signer> {
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

/// The key of an existing store, for verification.
pub fn load(data_dir: &Path) -> anyhow::Result<Signer> {
    if let Some(key) = configured()? {
        return Ok(key);
    }
    let path = key_path(data_dir);
    if !path.exists() {
        bail!(
            "no log key at {}: pass the log's public key with --key, or set FLIGHTREC_LOG_KEY",
            path.display()
        );
    }
    read(&path)
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
