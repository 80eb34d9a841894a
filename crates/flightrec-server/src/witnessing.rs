//! Asking witnesses to cosign (C2SP tlog-witness): after checkpoints are
//! signed, each configured witness is sent the newest checkpoint of every
//! tenant's log with a consistency proof from the size it last cosigned,
//! and its cosignature is kept beside the checkpoint, to be served with it.
//!
//! A witness that is down or refuses delays cosigning, never ingest: this
//! runs on its own task, and retries on the next round.

use crate::state::AppState;
use flightrec_store::StoreError;
use flightrec_witness::{SubmitError, WitnessClient};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Notify;

/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);
/// A round runs at least this often, so a checkpoint signed without an
/// append (the sequencer's catch-up) is still sent.
const ROUND_EVERY: Duration = Duration::from_secs(1);

/// The witnesses a log server asks, and what wakes the task that asks them.
#[derive(Default)]
pub struct Witnessing {
    witnesses: OnceLock<Vec<WitnessClient>>,
    wake: Notify,
}

impl Witnessing {
    /// Sets the witnesses, once, before the server starts.
    pub fn configure(&self, witnesses: Vec<WitnessClient>) {
        let _ = self.witnesses.set(witnesses);
    }

    pub fn witnesses(&self) -> &[WitnessClient] {
        self.witnesses.get().map_or(&[], Vec::as_slice)
    }

    /// Something was appended: a checkpoint may follow soon.
    pub fn wake(&self) {
        if !self.witnesses().is_empty() {
            self.wake.notify_one();
        }
    }
}

/// Asks for cosignatures until the process ends; returns at once when no
/// witness is configured.
pub async fn run(state: AppState) {
    if state.witnessing().witnesses().is_empty() {
        return;
    }
    crate::webhooks::install_tls_provider();
    let http = match reqwest::Client::builder()
        .timeout(WITNESS_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("flightrec/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for witnesses; no cosignatures will be asked for");
            return;
        }
    };
    loop {
        if let Err(e) = round(&state, &http).await {
            tracing::warn!(error = %e, "a cosigning round failed; retrying");
        }
        let _ = tokio::time::timeout(ROUND_EVERY, state.witnessing().wake.notified()).await;
        // Let the sequencer sign the checkpoint the append made due.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One pass: every witness, every tenant whose newest checkpoint it has not
/// cosigned yet.
async fn round(state: &AppState, http: &reqwest::Client) -> Result<(), StoreError> {
    let tenants = state
        .blocking(|store| store.log_tenants())
        .await
        .map_err(|e| StoreError::Unavailable(e.message))?;
    for tenant in tenants {
        let t = tenant.clone();
        let Some(checkpoint) = state
            .blocking(move |store| store.checkpoint(&t, None))
            .await
            .map_err(|e| StoreError::Unavailable(e.message))?
        else {
            continue;
        };
        for witness in state.witnessing().witnesses() {
            ask(state, http, witness, &tenant, &checkpoint).await;
        }
    }
    Ok(())
}

/// Asks one witness to cosign one checkpoint, from the size it last
/// cosigned (or the size it says it has), and keeps the cosignature.
async fn ask(
    state: &AppState,
    http: &reqwest::Client,
    witness: &WitnessClient,
    tenant: &str,
    checkpoint: &flightrec_store::StoredCheckpoint,
) {
    let name = witness.verifier().name().to_owned();
    let (t, n) = (tenant.to_owned(), name.clone());
    let Ok(known) = state
        .blocking(move |store| store.witnessed_size(&t, &n))
        .await
    else {
        return;
    };
    if known == Some(checkpoint.size) {
        return;
    }
    let mut old = known.unwrap_or(0);
    // At most one correction: the witness's own word on its size.
    for _ in 0..2 {
        if old > checkpoint.size {
            tracing::error!(witness = %name, tenant, witness_size = old, log_size = checkpoint.size,
                "the witness has cosigned a larger tree of this log than it holds: the log may have been rolled back");
            return;
        }
        let (t, new) = (tenant.to_owned(), checkpoint.size);
        let proof = if old == 0 {
            Vec::new()
        } else {
            match state
                .blocking(move |store| store.consistency_proof(&t, old, new))
                .await
            {
                Ok(p) => p.hashes,
                Err(e) => {
                    tracing::warn!(witness = %name, error = %e.message, "no consistency proof for a witness");
                    return;
                }
            }
        };
        match witness
            .add_checkpoint(http, old, &proof, &checkpoint.note)
            .await
        {
            Ok(lines) => {
                let (t, n, size) = (tenant.to_owned(), name.clone(), checkpoint.size);
                let line = lines.trim_end().to_owned();
                if let Err(e) = state
                    .blocking(move |store| store.add_cosignature(&t, size, &n, &line))
                    .await
                {
                    tracing::warn!(witness = %name, error = %e.message, "could not keep a cosignature");
                }
                return;
            }
            Err(SubmitError::Conflict { witness_size }) => old = witness_size,
            Err(e) => {
                tracing::warn!(witness = %name, tenant, error = %e, "a witness did not cosign");
                return;
            }
        }
    }
}
