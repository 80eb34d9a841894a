//! `/v1/log`: the tamper-evident log, for anyone who wants to check it:
//! checkpoints, the public key, proofs and C2SP tlog-tiles.

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::log::tile::{TILE_WIDTH, encode_entry_bundle};
use flightrec_core::log::{ConsistencyProof, InclusionProof, TileResource};
use flightrec_store::StoredCheckpoint;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/log/checkpoint", get(checkpoint))
        .route("/v1/log/public-key", get(public_key))
        .route("/v1/log/trust", get(trust))
        .route("/v1/log/proof/inclusion", get(inclusion))
        .route("/v1/log/proof/consistency", get(consistency))
        .route("/v1/log/{*path}", get(tile))
        .route("/logs/{tenant}/checkpoint", get(public_checkpoint))
        .route("/logs/{tenant}/{*path}", get(public_tile))
}

/// Whether `tenant` opted in to a public log; a tenant that does not exist
/// answers as one that did not, so the public paths reveal nothing.
async fn public_log(state: &AppState, tenant: &str) -> ApiResult<()> {
    let t = tenant.to_owned();
    let settings = state.blocking(move |store| store.settings(&t)).await?;
    if crate::routes::settings::TenantSettings::from_stored(&settings).public_log == Some(true) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no public log at /logs/{tenant}/ (a tenant serves one only when its `public_log` setting is on)"
        )))
    }
}

/// `GET /logs/{tenant}/checkpoint`: the newest checkpoint, to anyone, when
/// the tenant opted in (C2SP tlog-tiles' checkpoint path).
async fn public_checkpoint(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> ApiResult<Response> {
    public_log(&state, &tenant).await?;
    let t = tenant.clone();
    let cp = state
        .blocking(move |store| store.checkpoint(&t, None))
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet: the log is empty"))?;
    let note = with_cosignatures(&state, &tenant, cp).await?;
    Ok(([(CACHE_CONTROL, "no-cache")], text(note)).into_response())
}

/// `GET /logs/{tenant}/tile/…`: tiles and entry bundles, to anyone, when
/// the tenant opted in.
async fn public_tile(
    State(state): State<AppState>,
    Path((tenant, path)): Path<(String, String)>,
) -> ApiResult<Response> {
    public_log(&state, &tenant).await?;
    let rest = path
        .strip_prefix("tile/")
        .ok_or_else(|| ApiError::not_found(format!("no log resource at /logs/{tenant}/{path}")))?;
    tile_response(&state, &tenant, &format!("tile/{rest}"), Visibility::Public).await
}

fn text(body: String) -> Response {
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// The newest signed checkpoint of the caller's tenant, as a signed note.
async fn checkpoint(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let cp = latest(&state, &principal).await?;
    Ok(text(
        with_cosignatures(&state, &principal.tenant, cp).await?,
    ))
}

/// A checkpoint's signed note with the witnesses' cosignatures it has
/// gathered (C2SP tlog-cosignature lines after the log's own signature).
pub async fn with_cosignatures(
    state: &AppState,
    tenant: &str,
    cp: StoredCheckpoint,
) -> ApiResult<String> {
    let t = tenant.to_owned();
    let lines = state
        .blocking(move |store| store.cosignatures(&t, cp.size))
        .await?;
    let mut note = cp.note;
    for line in lines {
        note.push_str(&line);
        note.push('\n');
    }
    Ok(note)
}

pub async fn latest(state: &AppState, principal: &Principal) -> ApiResult<StoredCheckpoint> {
    let tenant = principal.tenant.clone();
    state
        .blocking(move |store| store.checkpoint(&tenant, None))
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet: the log is empty"))
}

/// The verifier key of the caller's tenant's log (C2SP signed-note form).
async fn public_key(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let key = state
        .checkpointing()
        .verifier(&principal.tenant)
        .map_err(|e| ApiError::internal("no verifier key", &e))?;
    Ok(text(format!("{}\n", key.to_key_string())))
}

/// A trust file: the verifier keys `flightrec verify` needs, one per line.
/// The server's operators get every tenant's; anyone else their own.
async fn trust(State(state): State<AppState>, principal: Principal) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    let tenants = if principal.require_operator().is_ok() {
        state
            .blocking(|store| store.tenants())
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect()
    } else {
        vec![principal.tenant.clone()]
    };
    let mut out = String::from(
        "# flightrec trust file: the verifier keys of these logs, one per line.\n\
         # Check it once against a source you trust, keep it, and pass it to\n\
         # `flightrec verify --trust FILE`; lines starting with # are comments.\n",
    );
    for tenant in tenants {
        let key = state
            .checkpointing()
            .verifier(&tenant)
            .map_err(|e| ApiError::internal("no verifier key", &e))?;
        out.push_str(&key.to_key_string());
        out.push('\n');
    }
    Ok(text(out))
}

/// The newest checkpoint, after signing one for every record committed so
/// far: what an export or a proof hands out must cover everything that was
/// acknowledged before it was asked for.
pub async fn covering_checkpoint(
    state: &AppState,
    principal: &Principal,
) -> ApiResult<StoredCheckpoint> {
    state.blocking(|store| store.sign_checkpoints()).await?;
    latest(state, principal).await
}

fn size_param(params: &mut Params, name: &str) -> ApiResult<Option<u64>> {
    params.take_parsed(name, |v| {
        v.parse::<u64>()
            .map_err(|_| format!("must be a whole number, not {v:?}"))
    })
}

async fn inclusion(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<InclusionProof>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let seq = size_param(&mut params, "seq")?
        .ok_or_else(|| ApiError::bad_request("invalid_parameter", "`seq` is required"))?;
    let tree_size = size_param(&mut params, "tree_size")?;
    params.finish()?;
    let tree_size = match tree_size {
        Some(s) => s,
        None => latest(&state, &principal).await?.size,
    };
    check_sizes(&state, &principal, &[tree_size]).await?;
    if seq >= tree_size {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("`seq` {seq} is not in a tree of {tree_size} records"),
        ));
    }
    let tenant = principal.tenant.clone();
    let proof = state
        .blocking(move |store| store.inclusion_proof(&tenant, seq, tree_size))
        .await?;
    Ok(Json(proof))
}

async fn consistency(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ConsistencyProof>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let from = size_param(&mut params, "from")?
        .ok_or_else(|| ApiError::bad_request("invalid_parameter", "`from` is required"))?;
    let to = size_param(&mut params, "to")?;
    params.finish()?;
    let to = match to {
        Some(s) => s,
        None => latest(&state, &principal).await?.size,
    };
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("`from` ({from}) must not be larger than `to` ({to})"),
        ));
    }
    check_sizes(&state, &principal, &[from, to]).await?;
    let tenant = principal.tenant.clone();
    let proof = state
        .blocking(move |store| store.consistency_proof(&tenant, from, to))
        .await?;
    Ok(Json(proof))
}

/// Refuses tree sizes larger than the log.
async fn check_sizes(state: &AppState, principal: &Principal, sizes: &[u64]) -> ApiResult<()> {
    let tenant = principal.tenant.clone();
    let size = state.blocking(move |store| store.log_size(&tenant)).await?;
    if let Some(s) = sizes.iter().find(|s| **s > size) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("tree size {s} is larger than the log ({size} records)"),
        ));
    }
    Ok(())
}

/// Who may see a tile, which decides how caches may keep it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Visibility {
    /// The tenant's own, read with its credentials.
    Private,
    /// A public log's.
    Public,
}

/// C2SP tlog-tiles: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
async fn tile(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    principal.require(Permission::Read)?;
    tile_response(&state, &principal.tenant, &path, Visibility::Private).await
}

async fn tile_response(
    state: &AppState,
    tenant: &str,
    path: &str,
    visibility: Visibility,
) -> ApiResult<Response> {
    let resource = TileResource::parse(path)
        .map_err(|e| ApiError::not_found(format!("no log resource at {path}: {e}")))?;
    let tenant = tenant.to_owned();
    let missing = || ApiError::not_found(format!("{path} does not exist (yet)"));
    let (bytes, full) = match resource {
        TileResource::Hashes(id) => {
            let stored = state
                .blocking(move |store| store.tile(&tenant, id.level, id.index))
                .await?
                .ok_or_else(missing)?;
            let want = usize::from(id.width) * 32;
            if stored.len() < want {
                return Err(missing());
            }
            (stored[..want].to_vec(), id.width == TILE_WIDTH)
        }
        TileResource::Entries(id) => {
            // An index past any possible log is simply not there (a huge
            // one once overflowed here).
            let first = id
                .index
                .checked_mul(u64::from(TILE_WIDTH))
                .ok_or_else(missing)?;
            let count = u64::from(id.width);
            let inputs = state
                .blocking(move |store| store.leaf_inputs(&tenant, first, count))
                .await?;
            if (inputs.len() as u64) < count {
                return Err(missing());
            }
            let bundle = encode_entry_bundle(inputs.iter().map(Vec::as_slice))
                .map_err(|e| ApiError::internal("could not encode an entry bundle", &e))?;
            (bundle, id.width == TILE_WIDTH)
        }
    };
    // Full tiles never change; partial ones are replaced by wider ones. A
    // private log's are one tenant's, read with its credentials: no shared
    // cache may keep them for someone else.
    let cache = match (visibility, full) {
        (Visibility::Public, true) => "public, max-age=31536000, immutable",
        (Visibility::Public, false) => "public, no-cache",
        (Visibility::Private, true) => "private, max-age=31536000, immutable",
        (Visibility::Private, false) => "private, no-cache",
    };
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream"),
            (CACHE_CONTROL, cache),
            (VARY, "authorization, x-api-key, cookie"),
        ],
        bytes,
    )
        .into_response())
}

/// The proof bundle of `GET /v1/events/{id}?proof=true`: what a client
/// needs to recompute the leaf and check it against a signed checkpoint.
pub async fn proof_bundle(
    state: &AppState,
    principal: &Principal,
    record: &flightrec_core::record::StoredRecord,
) -> ApiResult<Value> {
    let (proof, note) = record_proof(state, principal, record).await?;
    Ok(json!({
        "header": record.header.to_json(),
        "body": record.body,
        "salt": record.salt.map(hex::encode),
        "leaf_hash": record.header.leaf_hash(),
        "proof": proof,
        "checkpoint": note,
    }))
}

/// A record's inclusion proof against the newest checkpoint (signed now if
/// none covers the record yet), and that checkpoint's note with the
/// cosignatures it has.
pub async fn record_proof(
    state: &AppState,
    principal: &Principal,
    record: &flightrec_core::record::StoredRecord,
) -> ApiResult<(InclusionProof, String)> {
    let seq = record.header.seq;
    let mut checkpoint = latest(state, principal).await?;
    if checkpoint.size <= seq {
        // Appended since the last checkpoint: sign one that covers it.
        checkpoint = covering_checkpoint(state, principal).await?;
    }
    let tenant = principal.tenant.clone();
    let size = checkpoint.size;
    let proof = state
        .blocking(move |store| store.inclusion_proof(&tenant, seq, size))
        .await?;
    let note = with_cosignatures(state, &principal.tenant, checkpoint).await?;
    Ok((proof, note))
}
