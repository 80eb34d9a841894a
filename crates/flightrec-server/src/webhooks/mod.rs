//! Webhooks: deliveries sent in the background, signed per Standard
//! Webhooks, retried with exponential backoff.
//!
//! Deliveries are queued in the store in the same transaction as the alert
//! they tell of (see `flightrec_store::guardrails`), so none is lost to a
//! crash or restart; the sender here claims due ones, sends each, and
//! notes how it went. Ingest never waits for it: a slow receiver slows
//! only its own deliveries.

pub mod signature;
pub mod target;

use crate::error::ApiResult;
use crate::guardrails::alert_view;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use flightrec_core::event::format_time;
use flightrec_store::{Delivery, DeliveryAttempt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// One attempt may take this long before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// After this many failed attempts a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 12;
/// The wait after the first failure; it doubles after each one.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(30 * 60);
/// A claimed delivery comes due again after this if its sender vanished.
const LEASE: Duration = Duration::from_secs(60);
/// Deliveries sent at once.
const CONCURRENCY: usize = 8;
/// How often the queue is looked at when nothing wakes the sender.
const POLL: Duration = Duration::from_millis(500);

/// What the operator decides about webhooks.
#[derive(Clone)]
pub struct WebhookSettings {
    /// Derives each webhook's signing secret (see [`signature`]).
    pub key: [u8; 32],
    /// Lets webhooks reach loopback, private and link-local addresses.
    pub allow_private_targets: bool,
}

/// The running sender's handle: wakes it when something was queued.
#[derive(Clone, Default)]
pub struct Sender {
    wake: Arc<Notify>,
}

impl Sender {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Makes `ring` the process's TLS crypto: every HTTPS client (webhooks,
/// the CLI's) needs one chosen before it is built. Calling it again is
/// harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Sends due deliveries until the process ends.
pub async fn run(state: AppState) {
    install_tls_provider();
    let settings = state.webhook_settings().clone();
    let mut client = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("flightrec/", env!("CARGO_PKG_VERSION")));
    if !settings.allow_private_targets {
        client = client.dns_resolver(Arc::new(target::PublicOnly));
    }
    let client = match client.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: could not build an HTTP client");
            return;
        }
    };
    let wake = state.webhook_sender().wake.clone();
    let mut sending = JoinSet::new();
    loop {
        let now = state.clock().now();
        let room = CONCURRENCY - sending.len();
        let lease_until = format_time(&(now + chrono::Duration::from_std(LEASE).expect("small")));
        let now_text = format_time(&now);
        let claimed = if room == 0 {
            Ok(Vec::new())
        } else {
            state
                .blocking(move |s| s.claim_deliveries(&now_text, &lease_until, room))
                .await
        };
        match claimed {
            Ok(due) => {
                for delivery in due {
                    let (state, client) = (state.clone(), client.clone());
                    sending.spawn(async move { deliver(&state, &client, delivery).await });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "could not read the webhook queue; will retry")
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
        }
    }
}

/// Sends one delivery and notes the outcome.
async fn deliver(state: &AppState, client: &reqwest::Client, d: Delivery) {
    let (tenant, webhook_id) = (d.tenant.clone(), d.webhook_id.clone());
    let webhook = match state
        .blocking(move |s| s.webhook(&tenant, &webhook_id))
        .await
    {
        Ok(Some(w)) => w,
        Ok(None) => {
            return note(
                state,
                &d,
                String::new(),
                None,
                Some("the webhook was deleted".into()),
                "cancelled",
                None,
            )
            .await;
        }
        Err(e) => {
            tracing::warn!(error = %e.message, "could not read a webhook; the delivery will be retried");
            return;
        }
    };
    let payload = match &d.payload {
        Some(p) => p.clone(),
        None => match payload(state, &d).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e.message, "could not build a webhook payload; will retry");
                return;
            }
        },
    };
    let secret =
        signature::webhook_secret(&state.webhook_settings().key, &webhook.tenant, &webhook.id);
    let now = state.clock().now();
    let timestamp = now.timestamp();
    let sent = client
        .post(&webhook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(&secret, &d.id, timestamp, payload.as_bytes()),
        )
        .body(payload.clone())
        .send()
        .await;
    let (code, error) = match sent {
        Ok(r) if r.status().is_success() => {
            let code = r.status().as_u16();
            return note(state, &d, payload, Some(code), None, "delivered", None).await;
        }
        Ok(r) => (
            Some(r.status().as_u16()),
            format!("the receiver answered {}", r.status()),
        ),
        Err(e) if e.is_timeout() => (
            None,
            format!("no answer within {}s", ATTEMPT_TIMEOUT.as_secs()),
        ),
        Err(e) => (None, describe(&e)),
    };
    let attempts = d.attempts + 1;
    if attempts >= MAX_ATTEMPTS {
        tracing::warn!(webhook = %webhook.id, delivery = %d.id, %error, "webhook delivery failed for good");
        note(state, &d, payload, code, Some(error), "failed", None).await
    } else {
        let next = now + chrono::Duration::from_std(backoff(attempts)).expect("small");
        tracing::info!(webhook = %webhook.id, delivery = %d.id, attempts, %error, "webhook delivery failed; will retry");
        note(state, &d, payload, code, Some(error), "pending", Some(next)).await
    }
}

/// The wait before attempt `attempts + 1`.
pub fn backoff(attempts: u32) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    doubled.min(LONGEST_RETRY)
}

/// The cause of a failed request, without the URL (which may carry a
/// token in its path).
fn describe(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let what = if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    format!("{what}: {cause}")
}

#[allow(clippy::too_many_arguments)]
async fn note(
    state: &AppState,
    d: &Delivery,
    payload: String,
    status_code: Option<u16>,
    error: Option<String>,
    status: &str,
    next: Option<DateTime<Utc>>,
) {
    let attempt = DeliveryAttempt {
        tenant: d.tenant.clone(),
        id: d.id.clone(),
        at: format_time(&state.clock().now()),
        payload,
        status_code,
        error,
        status: status.to_owned(),
        next_attempt_at: next.map(|t| format_time(&t)),
    };
    if let Err(e) = state.blocking(move |s| s.record_attempt(&attempt)).await {
        // The lease runs out and the delivery is tried again.
        tracing::warn!(error = %e.message, "could not note a webhook attempt");
    }
}

/// The body of a delivery: `{type, timestamp, data}`, as Standard Webhooks
/// suggests, with the alert as it is now.
async fn payload(state: &AppState, d: &Delivery) -> ApiResult<String> {
    let (tenant, id) = (d.tenant.clone(), d.subject_id.clone());
    let alert = state.blocking(move |s| s.alert(&tenant, &id)).await?;
    let data = match alert {
        Some(a) => alert_view(&a),
        None => json!({"id": d.subject_id}),
    };
    Ok(json!({"type": d.event_type, "timestamp": d.created_at, "data": data}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(11), LONGEST_RETRY.min(Duration::from_secs(1024)));
        assert_eq!(backoff(40), LONGEST_RETRY);
    }
}
