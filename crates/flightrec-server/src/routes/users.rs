//! `/v1/users`: the people of a tenant.
//!
//! Owners and admins invite, change and remove people; only an owner may
//! make, change or remove an owner, and the last owner stays.

use crate::admin_actions::{self, AdminAction, user_view};
use crate::auth::password::{hash_password, random_password, weak_password};
use crate::auth::{Permission, Principal, Role};
use crate::body::read_object;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use flightrec_core::event::format_time;
use flightrec_core::secret::Secret;
use flightrec_store::{AccessChange, User};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(list).post(invite))
        .route("/v1/users/{id}", patch(change_role).delete(remove))
}

async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let tenant = principal.tenant.clone();
    let users = state.blocking(move |store| store.users(&tenant)).await?;
    let users: Vec<Value> = users.iter().map(user_view).collect();
    Ok(Json(json!({"users": users})))
}

fn parse_role(role: &str) -> ApiResult<Role> {
    Role::parse(role).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_body",
            format!("`role` must be one of owner, admin, auditor, member, not {role:?}"),
        )
    })
}

/// Only an owner may give, change or take away the owner role.
fn may_touch_owners(principal: &Principal, roles: &[Role]) -> ApiResult<()> {
    if roles.contains(&Role::Owner) && principal.role() != Some(Role::Owner) {
        return Err(ApiError::forbidden(
            "only an owner can make, change or remove an owner",
        ));
    }
    Ok(())
}

/// A plausible email: one `@`, something either side, no spaces.
fn check_email(email: &str) -> ApiResult<()> {
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && !host.is_empty() && !host.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_body",
            format!("`email` {email:?} is not an email address"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    email: String,
    role: String,
    #[serde(default)]
    name: Option<String>,
    /// Chosen by the inviter; else one is generated and shown once.
    #[serde(default)]
    password: Option<Secret>,
}

async fn invite(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Permission::Manage)?;
    let request: Invite = read_object(body).await?;
    let email = request.email.trim().to_lowercase();
    check_email(&email)?;
    let role = parse_role(&request.role)?;
    may_touch_owners(&principal, &[role])?;
    if let Some(why) = request.password.as_ref().and_then(weak_password) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`password`: {why}"),
        ));
    }
    let (password, generated) = match request.password {
        Some(p) => (p, None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: principal.tenant.clone(),
        email,
        name: request
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        role: role.as_str().into(),
        created_at: format_time(&state.clock().now()),
    };
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal("password hashing panicked", &e))?
        .map_err(|e| ApiError::internal("could not hash a password", &e))?;
    let action = AdminAction::new(
        "user.invited",
        "user",
        &user.id,
        format!("{} invited as {}", user.email, user.role),
    )
    .after(user_view(&user));
    let change = AccessChange::CreateUser {
        user: user.clone(),
        password_hash: Some(password_hash),
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    let mut shown = user_view(&user);
    if let Some(p) = generated {
        shown["password"] = Value::String(p.expose().to_owned());
    }
    Ok((StatusCode::CREATED, Json(shown)))
}

async fn find(state: &AppState, principal: &Principal, id: &str) -> ApiResult<User> {
    let (tenant, user_id) = (principal.tenant.clone(), id.to_owned());
    state
        .blocking(move |store| store.user(&tenant, &user_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id:?}")))
}

/// Refuses to leave the tenant without an owner.
async fn keep_an_owner(state: &AppState, principal: &Principal, leaving: &User) -> ApiResult<()> {
    if leaving.role != Role::Owner.as_str() {
        return Ok(());
    }
    let tenant = principal.tenant.clone();
    let users = state.blocking(move |store| store.users(&tenant)).await?;
    let owners = users
        .iter()
        .filter(|u| u.role == Role::Owner.as_str())
        .count();
    if owners <= 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_owner",
            "this is the tenant's last owner; make someone else an owner first",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::Manage)?;
    let request: RoleChange = read_object(body).await?;
    let to = parse_role(&request.role)?;
    let user = find(&state, &principal, &id).await?;
    let from = parse_role(&user.role)?;
    may_touch_owners(&principal, &[from, to])?;
    if from == to {
        return Ok(Json(user_view(&user)));
    }
    keep_an_owner(&state, &principal, &user).await?;
    let mut changed = user.clone();
    changed.role = to.as_str().into();
    let action = AdminAction::new(
        "user.role_changed",
        "user",
        &user.id,
        format!(
            "{} changed from {} to {}",
            user.email,
            from.as_str(),
            to.as_str()
        ),
    )
    .before(user_view(&user))
    .after(user_view(&changed));
    let change = AccessChange::SetUserRole {
        tenant: principal.tenant.clone(),
        id: user.id.clone(),
        from: user.role.clone(),
        to: changed.role.clone(),
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    Ok(Json(user_view(&changed)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::Manage)?;
    let user = find(&state, &principal, &id).await?;
    may_touch_owners(&principal, &[parse_role(&user.role)?])?;
    keep_an_owner(&state, &principal, &user).await?;
    let action = AdminAction::new(
        "user.removed",
        "user",
        &user.id,
        format!("{} removed", user.email),
    )
    .before(user_view(&user));
    let change = AccessChange::RemoveUser {
        tenant: principal.tenant.clone(),
        id: user.id.clone(),
    };
    admin_actions::record(
        &state,
        &principal.tenant,
        &principal.actor(),
        &[action],
        vec![change],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
