//! `/v1/admin/…`: the server operators' tenant creation, and the admin
//! audit console's query.

use crate::admin_actions::{self, AdminAction};
use crate::auth::api_key::generate_api_key;
use crate::auth::password::{random_password, weak_password};
use crate::auth::{Permission, Principal};
use crate::body::read_object;
use crate::bootstrap::{DEFAULT_TENANT, TenantPlan, new_tenant};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::routes::events::{event_filter, event_json};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use flightrec_core::secret::Secret;
use flightrec_store::{AppendBatch, EventQuery};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/tenants", post(create_tenant))
        .route("/v1/admin/audit", get(audit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTenant {
    name: String,
    /// The new tenant's owner; defaults to `owner@<tenant id>`.
    #[serde(default)]
    owner_email: Option<String>,
    /// Else one is generated and shown once.
    #[serde(default)]
    owner_password: Option<Secret>,
}

/// A tenant's id from its name: lower-case letters, digits and dashes, so
/// it reads well in log origins and URLs.
pub fn tenant_id(name: &str) -> ApiResult<String> {
    let mut id = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id
        .trim_end_matches('-')
        .chars()
        .take(48)
        .collect::<String>();
    let id = id.trim_end_matches('-').to_owned();
    if id.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!(
                "`name` {name:?} must be 1 to 100 characters with at least one letter or digit"
            ),
        ));
    }
    Ok(id)
}

async fn create_tenant(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_operator()?;
    let request: CreateTenant = read_object(body).await?;
    let name = request.name.trim().to_owned();
    let id = tenant_id(&name)?;
    let owner_email = request
        .owner_email
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_else(|| format!("owner@{id}"));
    if !owner_email.contains('@') || owner_email.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`owner_email` {owner_email:?} is not an email address"),
        ));
    }
    if let Some(why) = request.owner_password.as_ref().and_then(weak_password) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`owner_password`: {why}"),
        ));
    }
    let (password, generated_password) = match request.owner_password {
        Some(p) => (p, None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let key = generate_api_key();
    let plan = TenantPlan {
        id: id.clone(),
        name: name.clone(),
        owner_email,
        owner_password: password,
        api_key: key.clone(),
    };
    let clock = state.clock_handle();
    let planned = tokio::task::spawn_blocking(move || new_tenant(plan, clock.as_ref()))
        .await
        .map_err(|e| ApiError::internal("tenant planning panicked", &e))??;

    // The new tenant's log opens with its own creation, by the operator.
    let actor = principal.actor();
    let now = state.clock().now();
    let events = planned
        .actions
        .iter()
        .map(|a| a.seal(&actor, now))
        .collect::<ApiResult<Vec<_>>>()?;
    state
        .sequencer()
        .append(AppendBatch {
            tenant: id.clone(),
            events,
            access: planned.changes,
            ..AppendBatch::default()
        })
        .await?;
    // And the operator's own log says who created it.
    let noted = AdminAction::new(
        "tenant.created",
        "tenant",
        &id,
        format!("tenant {name:?} created"),
    )
    .after(json!({"id": id, "name": name, "owner": planned.owner.email}));
    if principal.tenant == DEFAULT_TENANT {
        admin_actions::record(&state, DEFAULT_TENANT, &actor, &[noted], vec![]).await?;
    }

    let mut owner = json!({"id": planned.owner.id, "email": planned.owner.email});
    if let Some(p) = generated_password {
        owner["password"] = Value::String(p.expose().to_owned());
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "tenant": {
                "id": planned.tenant.id,
                "name": planned.tenant.name,
                "created_at": planned.tenant.created_at,
            },
            "owner": owner,
            "api_key": {
                "id": planned.key.id,
                "key": key.expose(),
                "scopes": planned.key.scopes,
            },
        })),
    ))
}

/// `GET /v1/admin/audit`: the console's view of the trail, in numbered
/// pages, with the window's totals for its summary cards.
pub(crate) async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let mut params = Params::parse(query.as_deref())?;
    let action = params.take("action");
    let mut filter = event_filter(&mut params, &state)?;
    let limit = params.take_limit(50, 1000)?;
    let offset = params
        .take_parsed("offset", |v| match v.parse::<usize>() {
            Ok(n) if n <= 1_000_000 => Ok(n),
            _ => Err(format!(
                "must be a whole number from 0 to 1000000, not {v:?}"
            )),
        })?
        .unwrap_or(0);
    params.finish()?;
    // `action` is a type (`key.created`), or every type under a prefix
    // (`key.*` or `key.`).
    if let Some(action) = action {
        if filter.event_type.is_some() {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "give `action` or `type`, not both",
            ));
        }
        match action.strip_suffix('*') {
            Some(prefix) => filter.type_prefix = Some(prefix.to_owned()),
            None if action.ends_with('.') => filter.type_prefix = Some(action),
            None => filter.event_type = Some(action),
        }
    }
    let tenant = principal.tenant.clone();
    let query = EventQuery {
        filter: filter.clone(),
        limit,
        offset,
        ..Default::default()
    };
    let (page, counts) = state
        .blocking(move |store| {
            Ok((
                store.records(&tenant, &query)?,
                store.count_records(&tenant, &filter)?,
            ))
        })
        .await?;
    let events = page
        .items
        .iter()
        .map(event_json)
        .collect::<ApiResult<Vec<Value>>>()?;
    let next_offset = page.more.then_some(offset + limit);
    Ok(Json(json!({
        "events": events,
        "total": counts.total,
        "fail": counts.fail,
        "warn": counts.warn,
        "limit": limit,
        "offset": offset,
        "next_offset": next_offset,
    })))
}
