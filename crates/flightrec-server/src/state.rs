//! What every request handler shares.

use crate::auth::{Auth, Principal};
use crate::error::{ApiError, ApiResult};
use crate::guardrails::Guardrails;
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::reports::Reports;
use crate::run_timelines::Timelines;
use crate::sequencer::Sequencer;
use crate::webhooks::{self, WebhookSettings};
use crate::witnessing::Witnessing;
use flightrec_core::clock::Clock;
use flightrec_core::event::Limits;
use flightrec_store::{Checkpointing, Store, StoreError};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    sequencer: Sequencer,
    clock: Arc<dyn Clock>,
    limits: Limits,
    checkpointing: Checkpointing,
    auth: Auth,
    guardrails: Guardrails,
    webhook_settings: WebhookSettings,
    webhook_sender: webhooks::Sender,
    timelines: Timelines,
    lifecycle: Lifecycle,
    reports: Reports,
    witnessing: Witnessing,
    metrics: Arc<Metrics>,
}

impl AppState {
    /// Starts the sequencer over `store`, which signs checkpoints with
    /// `checkpointing`.
    pub fn new(
        store: Arc<dyn Store>,
        checkpointing: Checkpointing,
        clock: Arc<dyn Clock>,
        limits: Limits,
        auth: Auth,
        webhook_settings: WebhookSettings,
    ) -> Self {
        let metrics = Arc::new(Metrics::default());
        let sequencer = Sequencer::start(
            store.clone(),
            checkpointing.interval,
            metrics.ingest.clone(),
        );
        AppState {
            inner: Arc::new(Inner {
                store,
                sequencer,
                clock,
                limits,
                checkpointing,
                auth,
                guardrails: Guardrails::default(),
                webhook_settings,
                webhook_sender: webhooks::Sender::default(),
                timelines: Timelines::default(),
                lifecycle: Lifecycle::default(),
                reports: Reports::default(),
                witnessing: Witnessing::default(),
                metrics,
            }),
        }
    }

    /// The log's key and origins.
    pub fn checkpointing(&self) -> &Checkpointing {
        &self.inner.checkpointing
    }

    /// Sessions, rate limits and sign-in bookkeeping.
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The compiled compliance rules of each tenant.
    pub fn guardrails(&self) -> &Guardrails {
        &self.inner.guardrails
    }

    pub fn webhook_settings(&self) -> &WebhookSettings {
        &self.inner.webhook_settings
    }

    /// Wakes the webhook sender.
    /// The witnesses asked to cosign checkpoints.
    pub fn witnessing(&self) -> &Witnessing {
        &self.inner.witnessing
    }

    pub fn webhook_sender(&self) -> &webhooks::Sender {
        &self.inner.webhook_sender
    }

    /// The server's figures for `/metrics`.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Runs kept folded, for their state at any event.
    pub fn timelines(&self) -> &Timelines {
        &self.inner.timelines
    }

    /// The background erasure work's wake-up call.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.inner.lifecycle
    }

    /// The background report builder's wake-up call.
    pub fn reports(&self) -> &Reports {
        &self.inner.reports
    }

    pub fn sequencer(&self) -> &Sequencer {
        &self.inner.sequencer
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// The clock, to hand to blocking work.
    pub fn clock_handle(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The store, for work that streams from a blocking thread.
    pub fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// Runs a store call for the caller's tenant on a thread that may
    /// block: `f` gets the store and the tenant's id.
    pub async fn in_tenant<T: Send + 'static>(
        &self,
        principal: &Principal,
        f: impl FnOnce(&dyn Store, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let tenant = principal.tenant.clone();
        self.blocking(move |store| f(store, &tenant)).await
    }

    /// Runs a store call on a thread that may block.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::internal("a store task panicked", &e))?
            .map_err(ApiError::from)
    }
}
