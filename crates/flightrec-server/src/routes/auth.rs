//! `/v1/auth/…`: signing in and out, and API keys.

use crate::admin_actions::{self, AdminAction, key_view, system_actor};
use crate::auth::api_key::{Scope, generate_api_key, hash_api_key, key_prefix};
use crate::auth::login_failures::{self, Failure};
use crate::auth::password::verify_password;
use crate::auth::session::{CSRF_COOKIE, Claims, SESSION_COOKIE};
use crate::auth::sign_in_guard::Refusal;
use crate::auth::{Credential, Permission, Principal};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::routes::settings::TenantSettings;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use flightrec_core::event::format_time;
use flightrec_core::secret::Secret;
use flightrec_store::{AccessChange, ApiKey, Login};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/auth/me", get(me))
        .route("/v1/auth/api-keys", post(create_key).get(list_keys))
        .route("/v1/auth/api-keys/{id}", delete(revoke_key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: Secret,
}

/// Refuses a browser's sign-in sent from another site's page: it would
/// sign the visitor in as someone else (login CSRF). Browsers say where a
/// request comes from in `Sec-Fetch-Site`; clients other than browsers
/// send no such header and are not affected.
fn refuse_other_sites(headers: &HeaderMap) -> ApiResult<()> {
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        None | Some(b"same-origin") | Some(b"none") => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "sign-in is only accepted from flightrec's own pages",
        )),
    }
}

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> ApiResult<Response> {
    refuse_other_sites(&headers)?;
    let request: LoginRequest = read_object(body).await?;
    let email = request.email.trim().to_lowercase();
    let auth = state.auth();
    // Before any password is checked: a bound per client address and on
    // the whole server, so a flood costs neither memory nor CPU.
    let address = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let _checking = auth.sign_in.admit(address).map_err(|refusal| {
        let (retry_after, why) = match refusal {
            Refusal::Address { retry_after } => {
                (retry_after, "too many sign-in attempts from this address")
            }
            Refusal::Busy { retry_after } => (
                retry_after,
                "the server is checking too many sign-ins at once",
            ),
        };
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("{why}; retry in {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    })?;
    if let Err(wait) = auth.login_failures.check(&email) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed sign-ins for this account; retry in {wait} s"),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let lookup = email.clone();
    let (login, ok) = state
        .blocking(move |store| {
            let login = store.login(&lookup)?;
            let ok = verify_password(
                &request.password,
                login.as_ref().and_then(|l| l.password_hash.as_ref()),
            );
            Ok((login, ok))
        })
        .await?;
    // `ok` is false without an account, so the two cases answer alike.
    let Some(Login { user, .. }) = login else {
        auth.login_failures.fail(&email);
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    if !ok {
        if let Failure::Burst { failures } = auth.login_failures.fail(&email) {
            record_failure_burst(&state, &user, failures).await;
        }
        return Err(ApiError::unauthorized("wrong email or password"));
    }
    auth.login_failures.succeed(&email);

    let (tenant_id, settings_tenant) = (user.tenant.clone(), user.tenant.clone());
    let (tenant, settings) = state
        .blocking(move |store| Ok((store.tenant(&tenant_id)?, store.settings(&settings_tenant)?)))
        .await?;
    let tenant =
        tenant.ok_or_else(|| ApiError::internal("a user's tenant is missing", &user.tenant))?;
    let settings = TenantSettings::from_stored(&settings);
    let ttl = settings
        .session_minutes
        .map(|m| std::time::Duration::from_secs(m * 60))
        .unwrap_or(auth.session_ttl);
    let now = state.clock().now();
    let claims = Claims {
        sub: user.id.clone(),
        tenant: user.tenant.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + ttl.as_secs() as i64,
    };
    let token = auth.sessions.issue(&claims);
    let csrf = auth.sessions.csrf_token(token.expose());
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    let body = json!({
        "accessToken": token.expose(),
        "tokenType": "Bearer",
        "expiresAt": format_time(&expires_at),
        "csrfToken": csrf,
        "organization": {
            "id": tenant.id,
            "name": tenant.name,
            "displayName": settings.display_name.unwrap_or_else(|| tenant.name.clone()),
        },
        "user": admin_actions::user_view(&user),
    });
    let secure = is_https(&headers);
    let mut response = (StatusCode::OK, Json(body)).into_response();
    for cookie in [
        session_cookie(SESSION_COOKIE, token.expose(), ttl.as_secs(), true, secure),
        session_cookie(CSRF_COOKIE, &csrf, ttl.as_secs(), false, secure),
    ] {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn record_failure_burst(state: &AppState, user: &flightrec_store::User, failures: u32) {
    let window = login_failures::WINDOW.as_secs() / 60;
    let action = AdminAction::new(
        "user.login_failures",
        "user",
        &user.id,
        format!(
            "{failures} failed sign-ins for {} within {window} minutes",
            user.email
        ),
    )
    .after(json!({"email": user.email, "failures": failures, "window_minutes": window}))
    .warn();
    if let Err(e) =
        admin_actions::record(state, &user.tenant, &system_actor(), &[action], vec![]).await
    {
        tracing::warn!(error = %e.message, "could not record a burst of failed sign-ins");
    }
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn session_cookie(
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie values are base64url")
}

/// Ends the dashboard's session in this browser. Tokens are not stored, so
/// a copied token lasts until it expires; removing the person ends it.
async fn logout(headers: HeaderMap) -> Response {
    let secure = is_https(&headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        response.headers_mut().append(
            SET_COOKIE,
            session_cookie(name, "", 0, name == SESSION_COOKIE, secure),
        );
    }
    response
}

async fn me(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    let tenant_id = principal.tenant.clone();
    let tenant = state
        .blocking(move |store| store.tenant(&tenant_id))
        .await?
        .ok_or_else(|| ApiError::internal("a caller's tenant is missing", &principal.tenant))?;
    let permissions: Vec<&str> = [
        (Permission::Ingest, "ingest"),
        (Permission::Read, "read"),
        (Permission::Export, "export"),
        (Permission::Manage, "manage"),
    ]
    .into_iter()
    .filter(|(p, _)| principal.may(*p))
    .map(|(_, name)| name)
    .collect();
    let who = match &principal.credential {
        Credential::Person { id, email, role } => {
            json!({"kind": "user", "id": id, "email": email, "role": role.as_str()})
        }
        Credential::ApiKey {
            id,
            name,
            scopes,
            agent_id,
        } => json!({
            "kind": "api_key",
            "id": id,
            "name": name,
            "scopes": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "agent_id": agent_id,
        }),
    };
    Ok(Json(json!({
        "organization": {"id": tenant.id, "name": tenant.name},
        "credential": who,
        "permissions": permissions,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    agent_id: Option<String>,
}

pub(crate) async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: CreateKey = read_object(body).await?;
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`name` must be 1 to 100 characters",
        ));
    }
    let mut scopes = Vec::new();
    for s in &request.scopes {
        let scope = Scope::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_body",
                format!("`scopes` holds {s:?}; the scopes are ingest, read and admin"),
            )
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`scopes` must name at least one of ingest, read and admin",
        ));
    }
    let agent_id = request
        .agent_id
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    if agent_id
        .as_ref()
        .is_some_and(|a| a.chars().count() > 128 || a.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`agent_id` may have at most 128 characters, none a control character",
        ));
    }
    let secret = generate_api_key();
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: principal.tenant.clone(),
        name,
        prefix: key_prefix(&secret),
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        agent_id,
        created_at: format_time(&state.clock().now()),
        last_used_at: None,
        revoked_at: None,
    };
    let action = AdminAction::new(
        "key.created",
        "api_key",
        &key.id,
        format!(
            "API key {:?} created with scopes {}",
            key.name,
            key.scopes.join(", ")
        ),
    )
    .after(key_view(&key));
    let change = AccessChange::CreateApiKey {
        key: key.clone(),
        secret_hash: hash_api_key(&secret),
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    let mut shown = key_view(&key);
    shown["key"] = Value::String(secret.expose().to_owned());
    Ok((StatusCode::CREATED, Json(shown)))
}

async fn list_keys(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let tenant = principal.tenant.clone();
    let keys = state.blocking(move |store| store.api_keys(&tenant)).await?;
    let keys: Vec<Value> = keys.iter().map(key_view).collect();
    Ok(Json(json!({"api_keys": keys})))
}

async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let (tenant, key_id) = (principal.tenant.clone(), id.clone());
    let key = state
        .blocking(move |store| store.api_key(&tenant, &key_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no API key {id:?}")))?;
    if key.revoked_at.is_some() {
        return Ok(Json(key_view(&key)));
    }
    let at = format_time(&state.clock().now());
    let mut revoked = key.clone();
    revoked.revoked_at = Some(at.clone());
    let action = AdminAction::new(
        "key.revoked",
        "api_key",
        &key.id,
        format!("API key {:?} revoked", key.name),
    )
    .before(key_view(&key))
    .after(key_view(&revoked));
    let change = AccessChange::RevokeApiKey {
        tenant: principal.tenant.clone(),
        id: key.id.clone(),
        at,
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    Ok(Json(key_view(&revoked)))
}
