//! First start: an empty store gets tenant `default`, an owner and an API key
//! with every scope (DESIGN §9).

use crate::auth::{Scope, generate_api_key, hash_api_key, key_prefix};
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use flightrec_core::clock::Clock;
use flightrec_core::event::format_time;
use flightrec_core::secret::Secret;
use flightrec_store::{ApiKey, Store, StoreError, Tenant, User};
use rand::Rng;

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
/// returns `None` when it already had one.
pub fn bootstrap(
    store: &dyn Store,
    clock: &dyn Clock,
    choices: BootstrapChoices,
) -> Result<Option<Bootstrapped>, StoreError> {
    if !store.tenants()?.is_empty() {
        return Ok(None);
    }
    let now = format_time(&clock.now());
    store.create_tenant(&Tenant {
        id: DEFAULT_TENANT.into(),
        name: DEFAULT_TENANT.into(),
        created_at: now.clone(),
    })?;

    let admin_email = choices
        .admin_email
        .unwrap_or_else(|| "admin@localhost".into());
    let (password, generated_password) = match choices.admin_password {
        Some(p) => (p, None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let phc = argon2::Argon2::default()
        .hash_password(
            password.expose().as_bytes(),
            &SaltString::generate(&mut OsRng),
        )
        .map_err(|e| StoreError::Unavailable(format!("could not hash the password: {e}")))?
        .to_string();
    store.create_user(
        &User {
            id: uuid::Uuid::now_v7().to_string(),
            tenant: DEFAULT_TENANT.into(),
            email: admin_email.clone(),
            name: Some("Owner".into()),
            role: "owner".into(),
            created_at: now.clone(),
        },
        Some(&phc),
    )?;

    let (key, generated_api_key) = match choices.api_key {
        Some(k) => (k, None),
        None => {
            let k = generate_api_key();
            (k.clone(), Some(k))
        }
    };
    store.create_api_key(
        &ApiKey {
            id: uuid::Uuid::now_v7().to_string(),
            tenant: DEFAULT_TENANT.into(),
            name: "bootstrap".into(),
            prefix: key_prefix(&key),
            scopes: [Scope::Ingest, Scope::Read, Scope::Admin]
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        },
        &hash_api_key(&key),
    )?;
    Ok(Some(Bootstrapped {
        tenant: DEFAULT_TENANT.into(),
        admin_email,
        generated_password,
        generated_api_key,
    }))
}

fn random_password() -> Secret {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    Secret::new(
        (0..20)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect::<String>(),
    )
}
