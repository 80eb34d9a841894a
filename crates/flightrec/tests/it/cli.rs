//! The client commands, against a real server.

use crate::support::{Server, cli};
use serde_json::Value;

#[tokio::test]
async fn events_search_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--demo"]);

    let (ok, out, err) = cli(&server, &["runs", "list"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("RUN"), "{out}");
    assert!(
        lines[1].starts_with("demo-run-dependency-upgrade") && lines[1].contains("cancelled"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("demo-run-fix-pagination") && lines[2].contains("completed"),
        "{out}"
    );

    let (ok, out, err) = cli(
        &server,
        &[
            "runs",
            "log",
            "demo-run-fix-pagination",
            "--types",
            "edit_file",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("error: old_str not found"), "{out}");

    let (ok, out, err) = cli(
        &server,
        &[
            "events",
            "search",
            "--type",
            "key.created",
            "--actor",
            "admin@example.com",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("admin@example.com"), "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");

    let (ok, out, err) = cli(
        &server,
        &[
            "events",
            "search",
            "--run-id",
            "demo-run-fix-pagination",
            "--limit",
            "5",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let events: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 5);

    let (ok, _, err) = cli(&server, &["events", "search", "--status", "nonsense"]);
    assert!(!ok);
    assert!(err.contains("`status` must be one of"), "{err}");
}

#[tokio::test]
async fn client_errors_say_what_to_do() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["runs", "list"])
        .env_remove("FLIGHTREC_API_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FLIGHTREC_API_KEY"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args([
            "runs",
            "list",
            "--server",
            "http://127.0.0.1:9",
            "--api-key",
            "fr_x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not reach"));
}
