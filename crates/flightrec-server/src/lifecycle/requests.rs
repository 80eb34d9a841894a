//! Erasure on request (`POST /v1/erasures`): each pending job erases its
//! subject's bodies chunk by chunk, then records how it ended.

use super::Lease;
use super::erase::{Why, erase_chunk, flightrecs_own};
use crate::admin_actions::system_actor;
use crate::error::ApiResult;
use crate::state::AppState;
use flightrec_core::event::format_time;
use flightrec_store::{AccessChange, AppendBatch, ErasureJob, ErasureStatus, ErasureTarget};
use serde_json::json;

/// Bodies erased per batch: small enough that ingest goes on between them
/// (and see retention's `CHUNK`).
const CHUNK: usize = 500;

/// Runs every pending job to its end.
pub async fn run_pending(state: &AppState, lease: &Lease) -> ApiResult<()> {
    let jobs = state.blocking(|store| store.pending_erasures()).await?;
    let ran = !jobs.is_empty();
    for job in jobs {
        run(state, lease, job).await?;
    }
    if ran {
        super::purge(state).await?;
    }
    Ok(())
}

async fn run(state: &AppState, lease: &Lease, job: ErasureJob) -> ApiResult<()> {
    let why = Why {
        reason: "erasure_request",
        resource: ("erasure", job.id.clone()),
        message: format!("bodies erased on request {}: {}", job.id, job.reason),
        metadata: json!({
            "erasure_id": job.id,
            "subject_kind": job.subject_kind,
            "request_reason": job.reason,
        }),
        // A person's data asked to be gone: from the index's files too.
        scrub_index: true,
    };
    let mut after = None;
    if let Some(subject) = job.subject.clone() {
        loop {
            lease.keep(state).await?;
            if super::immutable(state, &job.tenant).await? {
                // Turned on meanwhile: the store refuses to erase now.
                return end(state, &job, ErasureStatus::Stopped).await;
            }
            let (tenant, subject_now) = (job.tenant.clone(), subject.clone());
            let seqs = state
                .blocking(move |store| {
                    let target = ErasureTarget::Subject {
                        subject: &subject_now,
                        after,
                    };
                    store.erasable(&tenant, target, CHUNK)
                })
                .await?;
            let Some(&last) = seqs.last() else { break };
            after = Some(last);
            let progress = AccessChange::ErasureProgress {
                tenant: job.tenant.clone(),
                id: job.id.clone(),
                erased: seqs.len() as u64,
                end: None,
            };
            erase_chunk(state, &job.tenant, seqs, &why, vec![progress]).await?;
        }
    }
    end(state, &job, ErasureStatus::Done).await
}

/// Ends the job: it forgets its subject, and the log says how it ended.
async fn end(state: &AppState, job: &ErasureJob, status: ErasureStatus) -> ApiResult<()> {
    let erased = state
        .blocking({
            let (tenant, id) = (job.tenant.clone(), job.id.clone());
            move |store| store.erasure(&tenant, &id)
        })
        .await?
        .map_or(job.erased, |j| j.erased);
    let (record_type, message) = match status {
        ErasureStatus::Stopped => (
            "erasure.stopped",
            format!(
                "erasure {} stopped after {erased} bodies: `immutableAuditLogs` was turned on",
                job.id
            ),
        ),
        _ => (
            "erasure.completed",
            format!("erasure {} done: {erased} bodies erased", job.id),
        ),
    };
    let record = json!({
        "type": record_type,
        "status": if status == ErasureStatus::Stopped { "warn" } else { "ok" },
        "actor": system_actor(),
        "resource": {"type": "erasure", "id": job.id},
        "message": message,
        "metadata": {"after": {"id": job.id, "status": status.as_str(), "erased": erased}},
    });
    let at = format_time(&state.clock().now());
    let batch = AppendBatch {
        access: vec![AccessChange::ErasureProgress {
            tenant: job.tenant.clone(),
            id: job.id.clone(),
            erased: 0,
            end: Some((status, at)),
        }],
        ..AppendBatch::events(&job.tenant, vec![flightrecs_own(state, record)?])
    };
    state.sequencer().append(batch).await?;
    tracing::info!(tenant = %job.tenant, erasure = %job.id, erased, status = status.as_str(), "erasure request ended");
    Ok(())
}
