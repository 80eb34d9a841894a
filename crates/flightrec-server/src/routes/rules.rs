//! `/v1/compliance-rules`: the tenant's own rules, applied to every record,
//! and the packs they can be installed from.

use crate::admin_actions::{self, AdminAction};
use crate::auth::{Permission, Principal};
use crate::body::{ADMIN_BODY_LIMIT, read_json};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use flightrec_core::compliance::{BUILTINS, Rule, packs, validators};
use flightrec_core::event::format_time;
use flightrec_store::{GuardrailChange, StoredRule};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/compliance-rules", get(list).post(create))
        .route(
            "/v1/compliance-rules/packs",
            get(list_packs).post(install_pack),
        )
        .route("/v1/compliance-rules/detectors", get(list_detectors))
        .route(
            "/v1/compliance-rules/{id}",
            get(show).put(replace).delete(remove),
        )
}

pub fn rule_view(r: &StoredRule) -> Value {
    let mut v = serde_json::to_value(&r.rule).expect("rules serialise");
    v["pack"] = json!(r.pack);
    v["created_at"] = json!(r.created_at);
    v["updated_at"] = json!(r.updated_at);
    v
}

/// Reads a rule from a request body; every problem with it is one 400.
/// `id` may be left out: a new rule then gets one.
pub async fn read_rule(body: Body, id: Option<&str>) -> ApiResult<Rule> {
    let mut value = read_json(body, ADMIN_BODY_LIMIT).await?;
    let Value::Object(map) = &mut value else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "a rule is a JSON object",
        ));
    };
    match (id, map.get("id")) {
        (Some(path_id), Some(Value::String(body_id))) if body_id != path_id => {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!("`id` {body_id:?} differs from the rule's id in the path, {path_id:?}"),
            ));
        }
        (Some(path_id), _) => {
            map.insert("id".into(), json!(path_id));
        }
        (None, None) => {
            map.insert("id".into(), json!(uuid::Uuid::now_v7().to_string()));
        }
        (None, Some(_)) => {}
    }
    let rule: Rule = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("invalid_rule", format!("the rule: {e}")))?;
    check_rule(&rule)?;
    Ok(rule)
}

pub fn check_rule(rule: &Rule) -> ApiResult<()> {
    let problems = rule.problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_rule",
            format!("rule {:?}: {}", rule.id, problems.join("; ")),
        ))
    }
}

async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let rules = state.in_tenant(&principal, |s, t| s.rules(t)).await?;
    Ok(Json(
        json!({"rules": rules.iter().map(rule_view).collect::<Vec<_>>()}),
    ))
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> ApiResult<StoredRule> {
    let rule_id = id.to_owned();
    state
        .in_tenant(principal, move |s, t| s.rule(t, &rule_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no compliance rule {id:?}")))
}

async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    Ok(Json(rule_view(&find(&state, &principal, &id).await?)))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let rule = read_rule(body, None).await?;
    let now = format_time(&state.clock().now());
    let stored = StoredRule {
        rule,
        pack: None,
        created_at: now.clone(),
        updated_at: now,
    };
    let action = AdminAction::new(
        "rule.created",
        "compliance_rule",
        &stored.rule.id,
        format!("compliance rule {:?} created", stored.rule.name),
    )
    .after(rule_view(&stored));
    let change = GuardrailChange::CreateRule {
        tenant: principal.tenant.clone(),
        rule: stored.clone(),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok((StatusCode::CREATED, Json(rule_view(&stored))))
}

async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let rule = read_rule(body, Some(&id)).await?;
    let current = find(&state, &principal, &id).await?;
    let updated = StoredRule {
        rule,
        updated_at: format_time(&state.clock().now()),
        ..current.clone()
    };
    if updated.rule == current.rule {
        return Ok(Json(rule_view(&current)));
    }
    let action = AdminAction::new(
        "rule.updated",
        "compliance_rule",
        &id,
        format!("compliance rule {:?} changed", updated.rule.name),
    )
    .before(rule_view(&current))
    .after(rule_view(&updated));
    let change = GuardrailChange::UpdateRule {
        tenant: principal.tenant.clone(),
        from: current.rule,
        to: updated.rule.clone(),
        at: updated.updated_at.clone(),
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(Json(rule_view(&updated)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::Manage)?;
    let current = find(&state, &principal, &id).await?;
    let action = AdminAction::new(
        "rule.deleted",
        "compliance_rule",
        &id,
        format!("compliance rule {:?} deleted", current.rule.name),
    )
    .before(rule_view(&current));
    let change = GuardrailChange::DeleteRule {
        tenant: principal.tenant.clone(),
        id,
    };
    admin_actions::record_by(&state, &principal, action, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn pack_view(p: &packs::Pack) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "rules": p.rules(),
    })
}

pub(crate) async fn list_packs(principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    Ok(Json(
        json!({"packs": packs::PACKS.iter().map(pack_view).collect::<Vec<_>>()}),
    ))
}

async fn list_detectors(principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let detectors: Vec<Value> = BUILTINS
        .iter()
        .map(|b| json!({"name": b.name, "description": b.description, "validator": b.validator}))
        .collect();
    Ok(Json(
        json!({"detectors": detectors, "validators": validators::NAMES}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackRequest {
    #[serde(alias = "pack_id")]
    pub pack_id: String,
    /// For cloning a pack into a policy.
    #[serde(default)]
    pub name: Option<String>,
}

/// The pack a request names, or a 400 that lists the packs.
pub fn named_pack(id: &str) -> ApiResult<&'static packs::Pack> {
    packs::pack(id).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_body",
            format!(
                "`packId` {id:?} is not a pack; the packs are {}",
                packs::pack_ids()
            ),
        )
    })
}

/// Installs a pack's rules as the tenant's own; rules already installed are
/// left as they are (edits included), so installing again is harmless.
pub(crate) async fn install_pack(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: PackRequest = crate::body::read_object(body).await?;
    let pack = named_pack(&request.pack_id)?;
    let existing = state.in_tenant(&principal, |s, t| s.rules(t)).await?;
    let now = format_time(&state.clock().now());
    let new: Vec<StoredRule> = pack
        .rules()
        .into_iter()
        .filter(|r| !existing.iter().any(|e| e.rule.id == r.id))
        .map(|rule| StoredRule {
            rule,
            pack: Some(pack.id.to_owned()),
            created_at: now.clone(),
            updated_at: now.clone(),
        })
        .collect();
    let installed: Vec<Value> = new.iter().map(rule_view).collect();
    if !new.is_empty() {
        let action = AdminAction::new(
            "rule.pack_installed",
            "compliance_pack",
            pack.id,
            format!("{} rules of the {} pack installed", new.len(), pack.name),
        )
        .after(json!({"pack": pack.id, "rules": installed}));
        let changes = new
            .into_iter()
            .map(|rule| GuardrailChange::CreateRule {
                tenant: principal.tenant.clone(),
                rule,
            })
            .collect();
        admin_actions::record_guardrails(
            &state,
            &principal.tenant,
            &principal.actor(),
            &[action],
            changes,
        )
        .await?;
    }
    let status = if installed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({"pack": pack.id, "installed": installed})),
    ))
}
