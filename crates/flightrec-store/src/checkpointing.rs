//! How the store signs checkpoints: with which key, under which names, and
//! how often.

use crate::StoreError;
use flightrec_core::clock::Clock;
use flightrec_core::log::{Signer, Verifier};
use std::sync::Arc;
use std::time::Duration;

/// The log's Ed25519 key and checkpoint schedule.
///
/// One key signs every tenant's log; each tenant's checkpoints carry their
/// own origin, `<origin_prefix>/<tenant>`, which is also the key name in the
/// signature, so a verifier for one tenant's log never accepts another's.
#[derive(Clone)]
pub struct Checkpointing {
    key: Arc<Signer>,
    pub origin_prefix: String,
    /// A checkpoint is signed after a commit at most this often; one that
    /// falls in between is signed by [`crate::LogStore::sign_checkpoints`].
    pub interval: Duration,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Checkpointing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointing")
            .field("origin_prefix", &self.origin_prefix)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Checkpointing {
    /// `key`'s own name is the origin prefix.
    pub fn new(key: Signer, interval: Duration, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let c = Checkpointing {
            origin_prefix: key.name().trim_end_matches('/').to_owned(),
            key: Arc::new(key),
            interval,
            clock,
        };
        // Fail now, not at the first commit, if the names are unusable.
        c.signer("default")?;
        Ok(c)
    }

    /// The origin line of a tenant's checkpoints.
    pub fn origin(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.origin_prefix)
    }

    pub fn signer(&self, tenant: &str) -> Result<Signer, StoreError> {
        self.key.renamed(&self.origin(tenant)).map_err(|e| {
            StoreError::Unavailable(format!(
                "the log origin {:?} cannot name a key: {e}",
                self.origin(tenant)
            ))
        })
    }

    /// The verifier key of a tenant's log.
    pub fn verifier(&self, tenant: &str) -> Result<Verifier, StoreError> {
        Ok(self.signer(tenant)?.verifier())
    }
}
