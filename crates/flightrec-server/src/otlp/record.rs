//! Recording what an OTLP request became: each item (a span's events, or
//! a log record's event) goes through `/v1/events`' pipeline — the agent
//! binding of agent-bound keys, validation and masking, the compliance
//! rules, the sequencer — and is recorded whole or refused whole; the
//! items that pass are appended in one batch.

use super::respond::OtlpError;
use crate::auth::Principal;
use crate::ingest::{NAMES_ANOTHER_AGENT, append, bind_one, parse_each, seal};
use crate::state::AppState;
use serde_json::Value;

/// An item's events, or why it cannot be recorded.
pub type Item = Result<Vec<Value>, String>;

/// How many items were refused, and why, for `partial_success`.
#[derive(Debug, Default)]
pub struct Refused {
    pub count: usize,
    pub why: String,
}

/// How many refusals a message lists before it only counts the rest.
const LISTED: usize = 5;

/// Records every item that can be; `noun` names an item in messages
/// ("span 3: …", counted from 0 in request order). A request whose items
/// were all refused is an error (403 when only the agent binding refused
/// them, else 400), so an exporter logs it.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    items: Vec<Item>,
    noun: &str,
) -> Result<Refused, OtlpError> {
    let total = items.len();
    let mut reasons: Vec<String> = Vec::new();
    let mut only_binding = true;
    let mut refuse = |i: usize, why: String, binding: bool| {
        only_binding &= binding;
        reasons.push(format!("{noun} {i}: {why}"));
    };

    // Agent binding and the items' own faults first; the owner of each
    // value is remembered so one bad event refuses its whole item.
    let mut values = Vec::new();
    let mut owners = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let mut events = match item {
            Ok(events) => events,
            Err(why) => {
                refuse(i, why, false);
                continue;
            }
        };
        if let Some(agent) = principal.bound_agent()
            && !events.iter_mut().all(|e| bind_one(e, agent))
        {
            refuse(
                i,
                format!("its `agent_id` {NAMES_ANOTHER_AGENT} {agent:?}"),
                true,
            );
            continue;
        }
        owners.extend(std::iter::repeat_n(i, events.len()));
        values.extend(events);
    }

    // The same validation and masking as `/v1/events`.
    let parsed = parse_each(state, values);
    let mut invalid = std::collections::BTreeMap::new();
    for (result, owner) in parsed.iter().zip(&owners) {
        if let Err(e) = result {
            invalid.entry(*owner).or_insert_with(|| e.to_string());
        }
    }
    for (i, why) in &invalid {
        refuse(*i, why.clone(), false);
    }
    let events: Vec<_> = parsed
        .into_iter()
        .zip(&owners)
        .filter(|(_, owner)| !invalid.contains_key(owner))
        .filter_map(|(r, _)| r.ok())
        .collect();

    reasons.sort_by_key(|r| leading_index(r));
    let refused = reasons.len();
    let mut why = reasons
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if refused > LISTED {
        why.push_str(&format!("; and {} more", refused - LISTED));
    }
    if refused > 0 && refused == total {
        let message = format!("{why}; nothing was recorded");
        return Err(if only_binding {
            OtlpError::forbidden(message)
        } else {
            OtlpError::bad_request(message)
        });
    }
    if !events.is_empty() {
        let batch = seal(state, &principal.tenant, &principal.submitted_by(), events).await?;
        append(state, batch).await?;
    }
    Ok(Refused {
        count: refused,
        why,
    })
}

/// The item index a reason starts with, to list reasons in request order.
fn leading_index(reason: &str) -> usize {
    reason
        .split(':')
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}
