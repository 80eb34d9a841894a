//! A minimal pool of blocking connections: idle clients on a stack, a new
//! one opened when none is idle, a broken one dropped instead of returned.
//!
//! Why not r2d2: the store needs nothing but "give me a healthy connection
//! for this call", and every call is short. r2d2 would add a reaper thread,
//! timeouts and three crates for features no caller uses; the number of
//! connections is bounded by the callers' threads, which the server bounds.

use super::tls::Tls;
use crate::StoreError;
use postgres::{Client, Config, NoTls};
use std::sync::Mutex;

pub struct Pool {
    config: Config,
    tls: Tls,
    idle: Mutex<Vec<Client>>,
}

/// Idle connections kept beyond this are closed.
const MAX_IDLE: usize = 16;

impl Pool {
    pub fn new(config: Config, tls: Tls) -> Pool {
        Pool {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A new pool of connections to the same database.
    pub fn sibling(&self) -> Pool {
        Pool::new(self.config.clone(), self.tls.clone())
    }

    /// Runs `f` with a connection of the pool.
    pub fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.take()?;
        let result = f(&mut client);
        // A transaction left open by a panic or an early return was rolled
        // back when it was dropped; a closed connection is not kept.
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if !client.is_closed() {
            if idle.len() < MAX_IDLE {
                idle.push(client);
            }
        } else {
            // Lost: most often because PostgreSQL restarted, which ended
            // the idle ones too, though they cannot tell until used. Each
            // would fail one more call with `Unavailable`; close them now
            // (outside the lock: closing writes to their sockets).
            let stale = std::mem::take(&mut *idle);
            drop(idle);
            drop(stale);
        }
        result
    }

    fn take(&self) -> Result<Client, StoreError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(client) if !client.is_closed() => Ok(client),
            _ => self.connect(),
        }
    }

    /// A new connection, over TLS as the URL's `sslmode` asks (`tls.rs`).
    pub fn connect(&self) -> Result<Client, StoreError> {
        let connected = match &self.tls {
            Tls::Off => self.config.connect(NoTls),
            Tls::On(tls) => self.config.connect(tls.clone()),
        };
        connected.map_err(|e| {
            // `postgres_message`: a refusal by the server ("the database
            // system is starting up") says more than "db error".
            let message = crate::error::postgres_message(&e);
            let hint = if message.contains("TLS") || message.contains("certificate") {
                " (the server's certificate must be signed by a CA of the system's, or of the \
                 file `sslrootcert=FILE` in the URL names, for the host name the URL gives)"
            } else {
                ""
            };
            StoreError::Unavailable(format!("cannot connect to PostgreSQL: {message}{hint}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_store::conformance::postgres::TestDatabase;

    /// When PostgreSQL ends every connection (as a restart does), the idle
    /// ones cannot tell until used. The first call to find its connection
    /// lost closes them all, so one call fails and the next reconnect;
    /// before, each idle connection failed a call of its own (regression).
    #[test]
    fn after_the_server_ends_every_connection_one_call_fails_then_the_pool_reconnects() {
        let db = TestDatabase::create();
        let (config, tls) = super::super::tls::parse(db.url()).unwrap();
        let pool = Pool::new(config, tls);
        let clients: Vec<Client> = (0..4).map(|_| pool.take().unwrap()).collect();
        pool.idle.lock().unwrap().extend(clients);

        let mut admin = db.connect();
        let others: Vec<i32> = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(others.len(), 4);
        for pid in others {
            // Waits up to 5 s for the backend to be gone.
            let ended: bool = admin
                .query_one("SELECT pg_terminate_backend($1, 5000)", &[&pid])
                .unwrap()
                .get(0);
            assert!(ended);
        }

        let calls: Vec<Result<(), StoreError>> = (0..4)
            .map(|_| pool.with_client(|c| Ok(c.batch_execute("SELECT 1")?)))
            .collect();
        assert!(
            matches!(calls[0], Err(StoreError::Unavailable(_))),
            "{:?}",
            calls[0]
        );
        assert!(calls[1..].iter().all(Result::is_ok), "{calls:?}");
    }
}
