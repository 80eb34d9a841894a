//! [`Witness`]: checks a submitted checkpoint against what it last cosigned
//! for that log, records the new tree durably, then cosigns.
//!
//! The order of checks follows c2sp.org/tlog-witness, "add-checkpoint":
//! a malformed body (400); an origin the witness does not follow (404); no
//! valid signature by the log's key (403); an old size above the
//! checkpoint's size (400); an old size that is not the size last cosigned,
//! 0 if none (409, with that size as the body); a consistency proof that
//! does not verify (422); the same size as last cosigned with another root
//! (409). Then the witness updates its record and answers 200 with its
//! cosignature.
//!
//! Check and update are one step: each log has a lock, held from reading the
//! latest tree to storing the new one, so two requests at the same old size
//! cannot both pass (the spec's rollback race). Storing is durable before
//! the cosignature is made: acknowledged means durable.
//!
//! Not here: HTTP (see [`crate::http`]) or the file format (see
//! [`crate::state`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flightrec_core::clock::{Clock, SystemClock};
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, CosignatureSigner, CosignatureVerifier, Hash, LogError, Verifier,
    cosign, open_checkpoint, verify_consistency,
};

use crate::Error;
use crate::add_checkpoint::{AddCheckpointError, AddCheckpointRequest};
use crate::key;
use crate::state::{DataDir, TreeHead};

pub use crate::key::{DEFAULT_NAME, KEY_ENV, key_from_env};

/// What a witness needs to start.
#[derive(Debug)]
pub struct WitnessConfig {
    /// The data directory (see [`crate::state`]). Created if missing.
    pub data_dir: PathBuf,
    /// The logs to follow, by their note verifier keys. A key's name is the
    /// log's origin.
    pub logs: Vec<Verifier>,
    /// The witness key name: given to a new key, and checked against an
    /// existing one. `None`: a new key is named [`DEFAULT_NAME`], and an
    /// existing key's name is taken as it is.
    pub name: Option<String>,
    /// The key to use instead of the data directory's key file, usually
    /// from [`key_from_env`]. If the directory also has a key file, the two
    /// must be the same key. `Debug` does not print it.
    pub key: Option<CosignatureSigner>,
}

impl WitnessConfig {
    /// A configuration with no name and no given key.
    pub fn new(data_dir: impl Into<PathBuf>, logs: Vec<Verifier>) -> WitnessConfig {
        WitnessConfig {
            data_dir: data_dir.into(),
            logs,
            name: None,
            key: None,
        }
    }
}

/// One followed log: its key and the latest tree cosigned, behind the lock
/// that makes check-and-update atomic.
struct FollowedLog {
    verifier: Verifier,
    latest: Mutex<Option<TreeHead>>,
}

/// A running witness: its key, its logs and its data directory.
pub struct Witness {
    signer: CosignatureSigner,
    logs: BTreeMap<String, FollowedLog>,
    dir: DataDir,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("vkey", &self.signer.verifier().to_key_string())
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .field("data_dir", &self.dir.path())
            .finish()
    }
}

impl Witness {
    /// Opens the data directory (see [`DataDir::open`] for what it refuses),
    /// settles the key, and loads the latest tree of every configured log.
    pub fn open(config: WitnessConfig) -> Result<Witness, Error> {
        Witness::open_with_clock(config, Arc::new(SystemClock))
    }

    /// [`Witness::open`] with the clock cosignature timestamps come from.
    pub fn open_with_clock(config: WitnessConfig, clock: Arc<dyn Clock>) -> Result<Witness, Error> {
        let dir = DataDir::open(&config.data_dir)?;
        let signer = key::resolve(&dir, config.key, config.name.as_deref())?;
        let mut logs = BTreeMap::new();
        for verifier in config.logs {
            let origin = verifier.name().to_owned();
            if logs.contains_key(&origin) {
                return Err(Error::DuplicateLog { origin });
            }
            let latest = dir.load(&origin)?;
            logs.insert(
                origin,
                FollowedLog {
                    verifier,
                    latest: Mutex::new(latest),
                },
            );
        }
        tracing::info!(
            vkey = %signer.verifier(),
            logs = logs.len(),
            data_dir = %dir.path().display(),
            "witness open"
        );
        Ok(Witness {
            signer,
            logs,
            dir,
            clock,
        })
    }

    /// The witness's public key, for logs and verifiers to trust.
    pub fn verifier(&self) -> CosignatureVerifier {
        self.signer.verifier()
    }

    /// Every followed log's key and the latest tree cosigned for it.
    pub fn logs(&self) -> Vec<(Verifier, Option<TreeHead>)> {
        self.logs
            .values()
            .map(|log| (log.verifier.clone(), *lock(&log.latest)))
            .collect()
    }

    /// The latest tree cosigned for `origin`; `None` if the log is unknown
    /// or was never cosigned.
    pub fn latest(&self, origin: &str) -> Option<TreeHead> {
        self.logs.get(origin).and_then(|log| *lock(&log.latest))
    }

    /// Handles one add-checkpoint request body: checks it, records the new
    /// tree durably, and returns the cosignature line to send back.
    ///
    /// Blocking (it fsyncs); call it from a blocking thread in async code.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<String, AddCheckpointError> {
        let request = AddCheckpointRequest::parse(body)?;
        let origin = request.checkpoint.origin();
        let log = self
            .logs
            .get(origin)
            .ok_or_else(|| AddCheckpointError::UnknownLog {
                origin: origin.to_owned(),
            })?;
        let checkpoint = open_checkpoint(
            request.signed_checkpoint,
            origin,
            std::slice::from_ref(&log.verifier),
        )
        .map_err(|e| match e {
            LogError::MalformedNote { .. } | LogError::MalformedCheckpoint { .. } => {
                AddCheckpointError::Malformed(e.to_string())
            }
            other => AddCheckpointError::NotSignedByLog(other),
        })?;
        let (old_size, size) = (request.old_size, checkpoint.size());
        if old_size > size {
            return Err(AddCheckpointError::OldSizeAboveCheckpoint { old_size, size });
        }

        {
            let mut latest = lock(&log.latest);
            let new = check_extends(*latest, old_size, &request.proof, &checkpoint)
                .inspect_err(|e| report_refusal(e, &request))?;
            if *latest != Some(new) {
                self.dir.store(origin, new)?;
                *latest = Some(new);
            }
        }

        let seconds = self.clock.now().timestamp();
        let time = u64::try_from(seconds).map_err(|_| Error::ClockOutOfRange { seconds })?;
        let line = cosign(&checkpoint.to_text(), &self.signer, time).map_err(Error::from)?;
        tracing::debug!(origin, old_size, size, "cosigned");
        Ok(line)
    }
}

/// Checks that `checkpoint` (already authenticated) extends `latest`, the
/// tree last cosigned, given the client's old size and proof. Returns the
/// tree to record.
fn check_extends(
    latest: Option<TreeHead>,
    old_size: u64,
    proof: &[Hash],
    checkpoint: &Checkpoint,
) -> Result<TreeHead, AddCheckpointError> {
    let witness_size = latest.map_or(0, |head| head.size);
    if old_size != witness_size {
        return Err(AddCheckpointError::StaleOldSize {
            old_size,
            witness_size,
        });
    }
    let new = TreeHead {
        size: checkpoint.size(),
        root: checkpoint.root(),
    };
    let inconsistent = |reason| AddCheckpointError::InconsistentProof {
        old_size,
        size: new.size,
        reason,
    };
    // A log never cosigned is trusted on first use; its old tree is empty.
    let old_root = latest.map_or(Hash::EMPTY_TREE, |head| head.root);
    if new.size == 0 && new.root != Hash::EMPTY_TREE {
        // Our addition: no proof is involved, but no empty tree has this root.
        return Err(inconsistent(LogError::ConsistencyMismatch { which: "new" }));
    }
    if old_size == new.size && old_size != 0 {
        if !proof.is_empty() {
            return Err(inconsistent(LogError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            }));
        }
        if new.root != old_root {
            return Err(AddCheckpointError::RootMismatch { size: new.size });
        }
        return Ok(new);
    }
    let proof = ConsistencyProof {
        old_size,
        new_size: new.size,
        hashes: proof.to_vec(),
    };
    verify_consistency(old_root, new.root, &proof).map_err(inconsistent)?;
    Ok(new)
}

/// Refusals that may show a log misbehaving are logged with the signed
/// checkpoint, as the spec suggests: it is evidence.
fn report_refusal(error: &AddCheckpointError, request: &AddCheckpointRequest<'_>) {
    if matches!(
        error,
        AddCheckpointError::RootMismatch { .. } | AddCheckpointError::InconsistentProof { .. }
    ) {
        let proof: Vec<String> = request.proof.iter().map(Hash::to_base64).collect();
        tracing::warn!(
            origin = request.checkpoint.origin(),
            old_size = request.old_size,
            proof = ?proof,
            signed_checkpoint = request.signed_checkpoint,
            "refused a validly signed checkpoint that is inconsistent with the one last cosigned: {error}"
        );
    }
}

/// Locks a log's state. A panic while it was held cannot have left it torn:
/// it is only ever replaced whole, after the store succeeded.
fn lock(latest: &Mutex<Option<TreeHead>>) -> std::sync::MutexGuard<'_, Option<TreeHead>> {
    latest
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
