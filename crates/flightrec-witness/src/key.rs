//! Which key the witness cosigns with: the one given (from the environment),
//! the one in its data directory, or a new one made at the first start.
//!
//! Not here: how cosignatures are made (`flightrec_core::log::cosignature`).

use std::fs;

use flightrec_core::log::CosignatureSigner;

use crate::Error;
use crate::state::DataDir;

/// The environment variable that may hold the witness's private key, in the
/// `PRIVATE+KEY+<name>+<id>+<base64>` form.
pub const KEY_ENV: &str = "FLIGHTREC_WITNESS_KEY";

/// The key name a new witness key gets when none is configured.
pub const DEFAULT_NAME: &str = "flightrec-witness";

/// Reads [`KEY_ENV`], if set. Errors never quote the variable's value.
pub fn key_from_env() -> Result<Option<CosignatureSigner>, Error> {
    match std::env::var(KEY_ENV) {
        Ok(text) => CosignatureSigner::parse_private_key(&text)
            .map(Some)
            .map_err(|e| Error::Key {
                source_name: KEY_ENV.to_owned(),
                reason: e.to_string(),
            }),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::Key {
            source_name: KEY_ENV.to_owned(),
            reason: "not valid UTF-8".to_owned(),
        }),
    }
}

/// The witness key: `given` if any (which must then match a key file, if the
/// directory has one), else the key file, else a new random key named
/// `name` (or [`DEFAULT_NAME`]) written to the key file with mode 0600.
/// If `name` is given, the key must bear it.
pub(crate) fn resolve(
    dir: &DataDir,
    given: Option<CosignatureSigner>,
    name: Option<&str>,
) -> Result<CosignatureSigner, Error> {
    let path = dir.key_path();
    let from_file = match fs::read_to_string(&path) {
        Ok(text) => {
            check_private(&path)?;
            let key = CosignatureSigner::parse_private_key(&text).map_err(|e| Error::Key {
                source_name: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Some(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::Io {
                action: "read",
                path,
                source,
            });
        }
    };
    let key = match (given, from_file) {
        (Some(given), Some(file)) => {
            if given.verifier() != file.verifier() {
                return Err(Error::KeyMismatch {
                    source_name: KEY_ENV.to_owned(),
                    path,
                });
            }
            given
        }
        (Some(given), None) => given,
        (None, Some(file)) => file,
        (None, None) => {
            let key =
                CosignatureSigner::generate(name.unwrap_or(DEFAULT_NAME), &mut rand::rngs::OsRng)?;
            let mut text = key.to_private_key_string();
            text.push('\n');
            dir.write_key_file(&text)?;
            tracing::info!(vkey = %key.verifier(), "created a new witness key");
            key
        }
    };
    if let Some(configured) = name
        && configured != key.name()
    {
        return Err(Error::KeyNameMismatch {
            key: key.name().to_owned(),
            configured: configured.to_owned(),
        });
    }
    Ok(key)
}

/// Refuses a key file that users other than its owner may read or write.
fn check_private(path: &std::path::Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path)
            .map_err(|source| Error::Io {
                action: "inspect",
                path: path.to_owned(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::KeyFileMode {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
