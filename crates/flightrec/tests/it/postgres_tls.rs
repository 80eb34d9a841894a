//! Nodes reach PostgreSQL over TLS as the URL asks (`sslmode`,
//! `sslrootcert`), and verify who answers: a PostgreSQL server of the
//! test's own that rejects plain TCP, its certificate signed by a CA the
//! test makes.

use crate::private_postgres::PrivateCluster;
use crate::scale_out::{public_key, wait_for_checkpoint};
use crate::support::{PgDeployment, Server, flightrec};
use serde_json::json;
use std::process::Command;

/// `flightrec serve` on `url` with `db`'s keys, expected to refuse to
/// start; what it printed.
fn refused_start(db: &PgDeployment, url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
        .envs(db.env())
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve started on {url}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn nodes_connect_over_verified_tls_as_the_url_asks() {
    let cluster = PrivateCluster::start_with_tls();
    let base = cluster.url();
    let ca = cluster.ca_file();
    let tls_url = format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display());
    let db = PgDeployment::at(&tls_url);

    // With the CA: a node works (the server takes no plain TCP at all).
    let env = db.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let node = Server::start_on_database(&tls_url, &env);
    let (status, body) = node
        .post("/v1/events", &json!({"id": "over-tls", "type": "thinking"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = node.get("/v1/events/over-tls").await;
    assert_eq!(status, 200);
    let key = public_key(&node).await;
    wait_for_checkpoint(&node, &key, 1).await;
    drop(node);

    // Verify reads the store over TLS too.
    let key = key.to_key_string();
    let (ok, out) = flightrec(&["verify", "--database-url", &tls_url, "--key", &key]);
    assert!(ok, "{out}");

    // Without the CA (the system's do not know it), the certificate is not
    // trusted and nothing starts.
    let err = refused_start(&db, &format!("{base}?sslmode=require"));
    assert!(err.contains("certificate"), "{err}");
    // Plain TCP (asked for, or the default) is what this server rejects.
    let err = refused_start(&db, &format!("{base}?sslmode=disable"));
    assert!(
        err.contains("no encryption") || err.contains("pg_hba"),
        "{err}"
    );
    let err = refused_start(&db, &base);
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(
        err.contains("no encryption") || err.contains("pg_hba"),
        "{err}"
    );
    // A CA file that is not one is named, before any connection.
    let err = refused_start(
        &db,
        &format!("{base}?sslmode=require&sslrootcert=/nonexistent/ca.pem"),
    );
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}
