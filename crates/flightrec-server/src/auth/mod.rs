//! Who is calling, and what they may do (DESIGN §7, §9).
//!
//! A request authenticates with an API key (`Authorization: Bearer fr_…` or
//! `X-API-Key`) or a session token from `POST /v1/auth/login` (as a Bearer
//! token, or as the dashboard's cookie, which must then be accompanied by
//! its CSRF token on state-changing requests). Either way it becomes a
//! [`Principal`] of one tenant with a set of [`Permission`]s; handlers ask
//! for the permission they need, and only ever read their principal's
//! tenant, so another tenant's objects are simply not found.

pub mod api_key;
pub mod login_failures;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod sign_in_guard;

pub use api_key::Scope;

use crate::bootstrap::DEFAULT_TENANT;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use flightrec_core::record::SubmittedBy;
use flightrec_core::secret::Secret;
use login_failures::LoginFailures;
use rate_limit::{RateLimiter, RateLimits};
use serde_json::{Value, json};
use session::{CSRF_HEADER, SESSION_COOKIE, SessionSigner, TokenError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Append events.
    Ingest,
    /// Read events, runs, the log and the admin audit trail.
    Read,
    /// Export records in bulk.
    Export,
    /// Manage keys, people and settings.
    Manage,
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::Ingest => "record events (an `ingest` key, or a member, admin or owner)",
            Permission::Read => "read records (a `read` key, or any signed-in role)",
            Permission::Export => "export records (a `read` key, or an auditor, admin or owner)",
            Permission::Manage => {
                "manage keys, people and settings (an `admin` key, or an admin or owner)"
            }
        }
    }
}

/// A person's role in their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Auditor,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Auditor, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => &[Ingest, Read, Export, Manage],
            // Read-only, and may take the trail away for review.
            Role::Auditor => &[Read, Export],
            Role::Member => &[Ingest, Read],
        }
    }
}

fn scope_permissions(scope: Scope) -> &'static [Permission] {
    use Permission::*;
    match scope {
        Scope::Ingest => &[Ingest],
        Scope::Read => &[Read, Export],
        Scope::Admin => &[Ingest, Read, Export, Manage],
    }
}

/// The credential behind a request.
#[derive(Debug, Clone)]
pub enum Credential {
    ApiKey {
        id: String,
        name: String,
        scopes: Vec<Scope>,
        /// Events sent with this key are this agent's.
        agent_id: Option<String>,
    },
    Person {
        id: String,
        email: String,
        role: Role,
    },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: String,
    pub credential: Credential,
}

impl Principal {
    fn permissions(&self) -> Vec<Permission> {
        match &self.credential {
            Credential::ApiKey { scopes, .. } => scopes
                .iter()
                .flat_map(|s| scope_permissions(*s).iter().copied())
                .collect(),
            Credential::Person { role, .. } => role.permissions().to_vec(),
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// Refuses the request unless the caller holds `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only callers who may {} can do this",
                permission.describe()
            )))
        }
    }

    /// The server's operators: owners of the first tenant, or its keys
    /// with the `admin` scope.
    pub fn require_operator(&self) -> ApiResult<()> {
        let operator = self.tenant == DEFAULT_TENANT
            && match &self.credential {
                Credential::Person { role, .. } => *role == Role::Owner,
                Credential::ApiKey { scopes, .. } => scopes.contains(&Scope::Admin),
            };
        if operator {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the server's operators (owners of the `default` tenant) can do this",
            ))
        }
    }

    /// Reads of server-wide figures (`/metrics`): the `read` permission
    /// in the operators' tenant, `default`. Reading is enough (a scraper
    /// needs no power to change anything), but only there: the figures
    /// count every tenant's traffic, which another tenant's key must not
    /// see.
    pub fn require_operator_read(&self) -> ApiResult<()> {
        if self.tenant != DEFAULT_TENANT {
            return Err(ApiError::forbidden(
                "server-wide metrics are for the server's operators: use a `read` key (or a sign-in) of the `default` tenant",
            ));
        }
        self.require(Permission::Read)
    }

    /// The caller's role, when a person is calling.
    pub fn role(&self) -> Option<Role> {
        match &self.credential {
            Credential::Person { role, .. } => Some(*role),
            Credential::ApiKey { .. } => None,
        }
    }

    /// The agent a key is bound to.
    pub fn bound_agent(&self) -> Option<&str> {
        match &self.credential {
            Credential::ApiKey { agent_id, .. } => agent_id.as_deref(),
            Credential::Person { .. } => None,
        }
    }

    /// What the records this caller sends say of who sent them.
    pub fn submitted_by(&self) -> SubmittedBy {
        match &self.credential {
            Credential::ApiKey { id, .. } => SubmittedBy::Key(id.clone()),
            Credential::Person { id, .. } => SubmittedBy::User(id.clone()),
        }
    }

    /// The `actor` of the records of what this caller does.
    pub fn actor(&self) -> Value {
        match &self.credential {
            Credential::Person { id, email, .. } => {
                json!({"type": "human", "id": id, "email": email})
            }
            Credential::ApiKey { id, name, .. } => {
                json!({"type": "system", "id": format!("api-key:{id}"), "name": name})
            }
        }
    }
}

/// Authentication settings and the state it keeps between requests.
#[derive(Debug)]
pub struct Auth {
    pub sessions: SessionSigner,
    /// How long a sign-in lasts unless the tenant's settings say otherwise.
    pub session_ttl: Duration,
    pub rate_limiter: RateLimiter,
    pub login_failures: LoginFailures,
    /// Bounds password checks per client address and across the server.
    pub sign_in: sign_in_guard::SignInGuard,
    /// When each key's `last_used_at` was last written, to write it at most
    /// once a minute.
    key_touches: Mutex<HashMap<String, Instant>>,
}

const TOUCH_EVERY: Duration = Duration::from_secs(60);

impl Auth {
    pub fn new(session_key: [u8; 32], session_ttl: Duration, rate_limits: RateLimits) -> Self {
        Auth {
            sessions: SessionSigner::new(session_key),
            session_ttl,
            rate_limiter: RateLimiter::new(rate_limits),
            login_failures: LoginFailures::default(),
            sign_in: sign_in_guard::SignInGuard::default(),
            key_touches: Mutex::new(HashMap::new()),
        }
    }

    fn due_for_touch(&self, key_id: &str) -> bool {
        let now = Instant::now();
        let mut touches = self.key_touches.lock().unwrap_or_else(|p| p.into_inner());
        match touches.get(key_id) {
            Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
            _ => {
                touches.insert(key_id.to_owned(), now);
                true
            }
        }
    }
}

/// How a request presented its credential.
enum Presented {
    Key(Secret),
    Token(Secret),
    Cookie(Secret),
}

fn presented(parts: &Parts) -> ApiResult<Presented> {
    let classify = |value: &str| {
        let value = value.trim();
        // Session tokens are JWTs, with dots; anything else is a key.
        if value.starts_with("fr_") || !value.contains('.') {
            Presented::Key(Secret::new(value))
        } else {
            Presented::Token(Secret::new(value))
        }
    };
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "use `Authorization: Bearer <api key or token>` or `X-API-Key: <api key>`",
            ));
        }
        return Ok(classify(token));
    }
    if let Some(value) = parts.headers.get("x-api-key") {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the X-API-Key header is not valid text"))?;
        return Ok(Presented::Key(Secret::new(value.trim())));
    }
    if let Some(token) = cookie(parts, SESSION_COOKIE) {
        return Ok(Presented::Cookie(token));
    }
    Err(ApiError::unauthorized(
        "sign in, or send an API key: `Authorization: Bearer <api key>` or `X-API-Key: <api key>`",
    ))
}

/// A cookie's value from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<Secret> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| Secret::new(v))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
        let principal = match presented(parts)? {
            Presented::Key(secret) => by_api_key(state, secret).await?,
            Presented::Token(token) => by_session(state, &token).await?,
            Presented::Cookie(token) => {
                if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                    check_csrf(parts, state, &token)?;
                }
                by_session(state, &token).await?
            }
        };
        let credential_id = match &principal.credential {
            Credential::ApiKey { id, .. } | Credential::Person { id, .. } => id,
        };
        if let Err(wait) = state
            .auth()
            .rate_limiter
            .admit(credential_id, &principal.tenant)
        {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; retry in {wait} s"),
            );
            e.retry_after = Some(wait);
            return Err(e);
        }
        Ok(principal)
    }
}

fn check_csrf(parts: &Parts, state: &AppState, token: &Secret) -> ApiResult<()> {
    let presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if state.auth().sessions.check_csrf(token.expose(), presented) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "a signed-in request that changes something must carry the CSRF token from sign-in in X-CSRF-Token",
        ))
    }
}

async fn by_api_key(state: &AppState, secret: Secret) -> ApiResult<Principal> {
    let hash = api_key::hash_api_key(&secret);
    let key = state
        .blocking(move |store| store.api_key_by_secret_hash(&hash))
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::unauthorized("this API key has been revoked"));
    }
    if state.auth().due_for_touch(&key.id) {
        let store = state.store();
        let (id, at) = (
            key.id.clone(),
            flightrec_core::event::format_time(&state.clock().now()),
        );
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.touch_api_key(&id, &at) {
                tracing::warn!(error = %e, "could not note when a key was last used");
            }
        });
    }
    Ok(Principal {
        tenant: key.tenant,
        credential: Credential::ApiKey {
            id: key.id,
            name: key.name,
            scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            agent_id: key.agent_id,
        },
    })
}

async fn by_session(state: &AppState, token: &Secret) -> ApiResult<Principal> {
    let now = state.clock().now().timestamp();
    let claims = state
        .auth()
        .sessions
        .verify(token.expose(), now)
        .map_err(|e| match e {
            TokenError::Expired => ApiError::unauthorized("the session has expired; sign in again"),
            TokenError::Invalid => ApiError::unauthorized("invalid session token; sign in again"),
        })?;
    let (tenant, id) = (claims.tenant.clone(), claims.sub.clone());
    let user = state
        .blocking(move |store| store.user(&tenant, &id))
        .await?
        .ok_or_else(|| ApiError::unauthorized("this session is no longer valid; sign in again"))?;
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::internal("a stored user has an unknown role", &user.role))?;
    Ok(Principal {
        tenant: user.tenant,
        credential: Credential::Person {
            id: user.id,
            email: user.email,
            role,
        },
    })
}
