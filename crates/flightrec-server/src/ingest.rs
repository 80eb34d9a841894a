//! The ingest pipeline: request body → validated events (credentials
//! masked) → screened by the compliance rules → sealed records and alerts.
//!
//! Nothing is queued for the log until every event of a request is valid,
//! so a batch is all or nothing from the first byte.

use crate::error::{ApiError, ApiResult, Detail};
use crate::state::AppState;
use flightrec_core::event::{Event, FieldError, ValidationError, parse_event};
use flightrec_core::record::{Receipt, SealedEvent, SubmittedBy};
use flightrec_store::AppendBatch;
use serde_json::Value;

/// Holds events sent with a key bound to an agent to that agent: an event
/// without an agent gets it, and one that names another agent is refused
/// (with its index, in a batch), so a key cannot speak for anyone else.
pub fn bind_agent(values: &mut [Value], agent: &str, batch: bool) -> ApiResult<()> {
    for (i, value) in values.iter_mut().enumerate() {
        if !bind_one(value, agent) {
            let at = if batch {
                format!("event {i}: ")
            } else {
                String::new()
            };
            return Err(ApiError::forbidden(format!(
                "{at}`agent_id` {NAMES_ANOTHER_AGENT} {agent:?}; nothing was recorded"
            )));
        }
    }
    Ok(())
}

/// Why [`bind_one`] refused an event, for messages; the value sent is never
/// echoed: it is unmasked input, and may hold a secret.
pub const NAMES_ANOTHER_AGENT: &str =
    "names another agent, but this API key may only record events of agent";

/// [`bind_agent`] for one event: false when it names another agent.
pub fn bind_one(value: &mut Value, agent: &str) -> bool {
    let Value::Object(event) = value else {
        return true; // validation names it
    };
    let named = ["agent_id", "agentId"]
        .iter()
        .find_map(|k| event.get(*k).filter(|v| !v.is_null()));
    match named {
        None => {
            event.remove("agentId");
            event.insert("agent_id".into(), Value::String(agent.to_owned()));
            true
        }
        Some(Value::String(a)) => a == agent,
        Some(_) => false,
    }
}

/// Validates, screens and seals a request's events, sent by
/// `submitted_by`, into a batch for `tenant`'s log, with the alerts the
/// tenant's rules raised. Errors name the event (by index, in a batch) and
/// field.
pub async fn prepare(
    state: &AppState,
    tenant: &str,
    submitted_by: &SubmittedBy,
    values: Vec<Value>,
    batch: bool,
) -> ApiResult<AppendBatch> {
    let events = parse_events(state, values, batch)?;
    seal(state, tenant, submitted_by, events).await
}

/// Screens events that passed validation with the tenant's rules, and
/// seals them into a batch with the alerts the rules raised: the second
/// half of [`prepare`], for callers that validate each event on its own
/// ([`parse_each`]) and leave out the ones that failed.
pub async fn seal(
    state: &AppState,
    tenant: &str,
    submitted_by: &SubmittedBy,
    mut events: Vec<Event>,
) -> ApiResult<AppendBatch> {
    let alerts = crate::guardrails::screen(state, tenant, &mut events).await?;
    Ok(AppendBatch {
        alerts,
        ..AppendBatch::events(
            tenant,
            events
                .iter()
                .map(|e| SealedEvent::seal(e, submitted_by.clone()))
                .collect(),
        )
    })
}

/// Validates (and masks) each event on its own, exactly as [`prepare`]
/// does: one result per value, in order.
pub fn parse_each(state: &AppState, values: Vec<Value>) -> Vec<Result<Event, ValidationError>> {
    let received_at = state.clock().now();
    let limits = state.limits();
    values
        .into_iter()
        .map(|value| parse_event(value, received_at, limits, new_event_id))
        .collect()
}

/// Appends a prepared batch; wakes the webhook sender if it raised alerts.
pub async fn append(state: &AppState, batch: AppendBatch) -> ApiResult<Vec<Receipt>> {
    let alerted = !batch.alerts.is_empty();
    let receipts = state.sequencer().append(batch).await?;
    state.witnessing().wake();
    if alerted {
        state.webhook_sender().wake();
    }
    Ok(receipts)
}

fn parse_events(state: &AppState, values: Vec<Value>, batch: bool) -> ApiResult<Vec<Event>> {
    let mut parsed = Vec::with_capacity(values.len());
    let mut details = Vec::new();
    let mut oversize = false;
    for (i, result) in parse_each(state, values).into_iter().enumerate() {
        match result {
            Ok(event) => parsed.push(event),
            Err(invalid) => {
                for FieldError { field, message } in invalid.errors {
                    oversize |= field == "(event)" && message.contains("the limit is");
                    details.push(Detail {
                        index: batch.then_some(i),
                        field,
                        message,
                    });
                }
            }
        }
    }
    if details.is_empty() {
        return Ok(parsed);
    }
    let summary: Vec<String> = details
        .iter()
        .take(5)
        .map(|d| match d.index {
            Some(i) => format!("event {i}: `{}` {}", d.field, d.message),
            None => format!("`{}` {}", d.field, d.message),
        })
        .collect();
    let more = details.len().saturating_sub(5);
    let mut message = summary.join("; ");
    if more > 0 {
        message.push_str(&format!("; and {more} more (see details)"));
    }
    if batch {
        message.push_str("; nothing in the batch was recorded");
    }
    let error = if oversize {
        ApiError::too_large(message)
    } else {
        ApiError::bad_request("invalid_event", message)
    };
    Err(error.with_details(details))
}

fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
