//! Fresh PostgreSQL databases for tests: each test creates its own,
//! uniquely named, and drops it when done, even when the test fails.
//!
//! The server is the one at `FLIGHTREC_TEST_POSTGRES` (a connection URL
//! to a database the tests may connect to for creating others), by default
//! `postgres://postgres@127.0.0.1:5432/postgres`.

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU64, Ordering};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists until this is dropped.
pub struct TestDatabase {
    name: String,
    url: String,
}

fn server_url() -> String {
    std::env::var("FLIGHTREC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

fn admin() -> Client {
    let url = server_url();
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {url} for the PostgreSQL tests ({e}); start it \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
             or set FLIGHTREC_TEST_POSTGRES"
        )
    })
}

/// The URL of database `name` on the test server.
fn url_of(name: &str) -> String {
    let server = server_url();
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let without_db = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base.as_str(),
    };
    format!("{without_db}/{name}{query}")
}

impl TestDatabase {
    /// A new, empty database.
    pub fn create() -> TestDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "flightrec_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        TestDatabase {
            url: url_of(&name),
            name,
        }
    }

    /// A new database copied from `template` (which no one may be connected
    /// to meanwhile).
    pub fn copy_of(template: &TestDatabase) -> TestDatabase {
        let name = format!("{}_c{:08x}", template.name, rand::random::<u32>());
        admin()
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                template.name
            ))
            .unwrap_or_else(|e| panic!("copying {}: {e}", template.name));
        TestDatabase {
            url: url_of(&name),
            name,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's URL, signing in as `user` (trust auth: no password).
    pub fn url_as(&self, user: &str) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("a URL");
        let host_and_path = match rest.split_once('@') {
            Some((_, after)) if !after.contains('@') => after,
            _ => rest,
        };
        format!("{scheme}://{user}@{host_and_path}")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain connection, for tests that reach past the store.
    pub fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls).expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a failed test left open.
        if let Err(e) = admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A login role on the test server, dropped when done (after the databases
/// that grant it rights: drop those first).
pub struct TestRole {
    name: String,
}

impl TestRole {
    pub fn create() -> TestRole {
        let name = format!(
            "flightrec_role_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        admin()
            .batch_execute(&format!("CREATE ROLE {name} LOGIN"))
            .unwrap_or_else(|e| panic!("CREATE ROLE {name}: {e}"));
        TestRole { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        if let Err(e) = admin().batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name)) {
            eprintln!("could not drop test role {}: {e}", self.name);
        }
    }
}
