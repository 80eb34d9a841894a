//! First start: an empty store gets tenant `default`, an owner and an API key
//! with every scope (DESIGN §9).

use crate::admin_actions::{AdminAction, key_view, system_actor, user_view};
use crate::auth::Role;
use crate::auth::api_key::{Scope, generate_api_key, hash_api_key, key_prefix};
use crate::auth::password::{hash_password, random_password};
use flightrec_core::clock::Clock;
use flightrec_core::event::format_time;
use flightrec_core::secret::Secret;
use flightrec_store::{AccessChange, ApiKey, AppendBatch, Store, StoreError, Tenant, User};
use serde_json::json;

/// The tenant every new store starts with.
pub const DEFAULT_TENANT: &str = "default";

/// What the operator chose in advance (`FLIGHTREC_BOOTSTRAP_*`); anything
/// not chosen is generated.
#[derive(Debug, Default, Clone)]
pub struct BootstrapChoices {
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub api_key: Option<Secret>,
}

/// What the first start created, to be shown once.
#[derive(Debug)]
pub struct Bootstrapped {
    pub tenant: String,
    pub admin_email: String,
    /// `None` when the operator chose it.
    pub generated_password: Option<Secret>,
    pub generated_api_key: Option<Secret>,
}

/// Creates the first tenant, owner and key if the store has no tenant yet;
/// returns `None` when it already had one, or when another node sharing the
/// store created it first. Like every later change to people and keys, it
/// is recorded in the tenant's log, by `system`.
pub fn bootstrap(
    store: &dyn Store,
    clock: &dyn Clock,
    choices: BootstrapChoices,
) -> Result<Option<Bootstrapped>, StoreError> {
    if !store.tenants()?.is_empty() {
        return Ok(None);
    }
    let admin_email = choices
        .admin_email
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_else(|| "admin@localhost".into());
    let (password, generated_password) = match choices.admin_password {
        Some(p) => (p, None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let (key, generated_api_key) = match choices.api_key {
        Some(k) => (k, None),
        None => {
            let k = generate_api_key();
            (k.clone(), Some(k))
        }
    };
    let plan = new_tenant(
        TenantPlan {
            id: DEFAULT_TENANT.into(),
            name: DEFAULT_TENANT.into(),
            owner_email: admin_email.clone(),
            owner_password: password,
            api_key: key,
        },
        clock,
    )?;
    let batch = AppendBatch {
        tenant: DEFAULT_TENANT.into(),
        events: plan
            .actions
            .iter()
            .map(|a| a.seal(&system_actor(), clock.now()))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Rejected(e.message))?,
        access: plan.changes,
        ..AppendBatch::default()
    };
    match store.append(vec![batch])?.pop().expect("one outcome") {
        Ok(_) => {}
        // Nodes sharing a database may all start on an empty one at once;
        // the store's append lets one create tenant `default` and refuses
        // the others, which then start as on a store that had it.
        Err(StoreError::Conflict(what)) if !store.tenants()?.is_empty() => {
            tracing::info!(%what, "another node bootstrapped the store first");
            return Ok(None);
        }
        Err(e) => return Err(e),
    }
    Ok(Some(Bootstrapped {
        tenant: DEFAULT_TENANT.into(),
        admin_email,
        generated_password,
        generated_api_key,
    }))
}

/// What a new tenant starts with.
pub struct TenantPlan {
    pub id: String,
    pub name: String,
    pub owner_email: String,
    pub owner_password: Secret,
    pub api_key: Secret,
}

/// The changes that create a tenant with its owner and first key (every
/// scope), and the records that tell of them.
pub struct NewTenant {
    pub tenant: Tenant,
    pub owner: User,
    pub key: ApiKey,
    pub changes: Vec<AccessChange>,
    pub actions: Vec<AdminAction>,
}

/// Plans a new tenant. Hashes the password, so call it where blocking is
/// allowed.
pub fn new_tenant(plan: TenantPlan, clock: &dyn Clock) -> Result<NewTenant, StoreError> {
    let now = format_time(&clock.now());
    let tenant = Tenant {
        id: plan.id,
        name: plan.name,
        created_at: now.clone(),
    };
    let owner = User {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: tenant.id.clone(),
        email: plan.owner_email,
        name: Some("Owner".into()),
        role: Role::Owner.as_str().into(),
        created_at: now.clone(),
    };
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: tenant.id.clone(),
        name: "bootstrap".into(),
        prefix: key_prefix(&plan.api_key),
        scopes: Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        agent_id: None,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let password_hash = hash_password(&plan.owner_password).map_err(StoreError::Unavailable)?;
    let actions = vec![
        AdminAction::new(
            "tenant.created",
            "tenant",
            &tenant.id,
            format!("tenant {:?} created", tenant.name),
        )
        .after(json!({"id": tenant.id, "name": tenant.name})),
        AdminAction::new(
            "user.invited",
            "user",
            &owner.id,
            format!("{} joined as owner", owner.email),
        )
        .after(user_view(&owner)),
        AdminAction::new(
            "key.created",
            "api_key",
            &key.id,
            format!("API key {:?} created", key.name),
        )
        .after(key_view(&key)),
    ];
    let changes = vec![
        AccessChange::CreateTenant(tenant.clone()),
        AccessChange::CreateUser {
            user: owner.clone(),
            password_hash: Some(password_hash),
        },
        AccessChange::CreateApiKey {
            key: key.clone(),
            secret_hash: hash_api_key(&plan.api_key),
        },
    ];
    Ok(NewTenant {
        tenant,
        owner,
        key,
        changes,
        actions,
    })
}
