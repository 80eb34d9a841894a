//! One chunk of erasure: the bodies and the `log.erased` record that tells
//! of them, appended as one batch.

use crate::admin_actions::system_actor;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use flightrec_core::erasure::{ERASED_SEQS, ERASED_TYPE, SeqRanges, erased_seqs_metadata};
use flightrec_core::event::{Limits, parse_event};
use flightrec_core::record::{SealedEvent, SubmittedBy};
use flightrec_store::{AccessChange, AppendBatch, Erase};
use serde_json::{Value, json};

/// Why a chunk is erased, as its `log.erased` record tells it.
pub struct Why {
    /// `retention` or `erasure_request`.
    pub reason: &'static str,
    /// What caused it: the erasure's id, or the setting.
    pub resource: (&'static str, String),
    pub message: String,
    /// More `metadata` beside `erased_seqs` (never the subject itself,
    /// which may be the very data erased).
    pub metadata: Value,
    /// See [`flightrec_store::Erase::scrub_index`].
    pub scrub_index: bool,
}

/// Erases the bodies of `seqs` (ascending) in `tenant`'s log with the
/// `log.erased` record that names them, applying `access` in the same
/// batch; resolves once durable.
pub async fn erase_chunk(
    state: &AppState,
    tenant: &str,
    seqs: Vec<u64>,
    why: &Why,
    access: Vec<AccessChange>,
) -> ApiResult<()> {
    let mut ranges = SeqRanges::default();
    for &seq in &seqs {
        ranges.push(seq);
    }
    let mut metadata = erased_seqs_metadata(ranges.ranges());
    if let (Some(into), Some(more)) = (metadata.as_object_mut(), why.metadata.as_object()) {
        for (k, v) in more {
            if k != ERASED_SEQS {
                into.insert(k.clone(), v.clone());
            }
        }
    }
    metadata["reason"] = json!(why.reason);
    metadata["erased"] = json!(seqs.len());
    let record = json!({
        "type": ERASED_TYPE,
        "actor": system_actor(),
        "resource": {"type": why.resource.0, "id": why.resource.1},
        "message": why.message,
        "metadata": metadata,
    });
    let batch = AppendBatch {
        events: vec![flightrecs_own(state, record)?],
        access,
        erase: Erase {
            seqs,
            scrub_index: why.scrub_index,
        },
        ..AppendBatch::events(tenant, Vec::new())
    };
    state.sequencer().append(batch).await?;
    // This node's folded runs may hold the erased text.
    state.timelines().forget_tenant(tenant);
    Ok(())
}

/// A record flightrec writes itself, sealed.
pub fn flightrecs_own(state: &AppState, record: Value) -> ApiResult<SealedEvent> {
    let event = parse_event(record, state.clock().now(), &Limits::default(), || {
        uuid::Uuid::now_v7().to_string()
    })
    .map_err(|e| {
        ApiError::internal(
            "a lifecycle record was not valid",
            &format!("{:?}", e.errors),
        )
    })?;
    Ok(SealedEvent::seal(&event, SubmittedBy::Flightrec))
}
