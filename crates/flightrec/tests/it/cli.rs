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

/// A recorded `\x1b]0;pwned\x07\x1b[2J` (retitle the window, clear the
/// screen) reached the operator's terminal through `events search`, `runs
/// log` and the asciicast export (regression): text is printed safely.
#[tokio::test]
async fn terminal_escapes_in_records_print_harmlessly() {
    let dir = tempfile::tempdir().unwrap();
    let s = crate::support::Server::start(&dir.path().join("data"), &[]);
    let hostile = "before \u{1b}]0;pwned\u{7}\u{1b}[2J after";
    let (status, body) = s
        .post(
            "/v1/events",
            &serde_json::json!({"type": "thinking", "run_id": "esc",
                                "message": hostile, "content": hostile}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let harmless = |out: &str, what: &str| {
        assert!(!out.contains('\u{1b}'), "{what} printed an escape: {out:?}");
        assert!(!out.contains('\u{7}'), "{what} printed a bell: {out:?}");
    };
    let (ok, out, err) = crate::support::cli(&s, &["events", "search", "--run-id", "esc"]);
    assert!(ok, "{err}");
    harmless(&out, "events search");
    assert!(out.contains("before"), "{out}");
    let (ok, out, err) = crate::support::cli(&s, &["runs", "log", "esc"]);
    assert!(ok, "{err}");
    harmless(&out, "runs log");
    let (ok, out, err) =
        crate::support::cli(&s, &["runs", "export", "esc", "--format", "asciicast"]);
    assert!(ok, "{err}");
    for line in out.lines().skip(1) {
        let frame: serde_json::Value = serde_json::from_str(line).unwrap();
        let screen = frame[2].as_str().unwrap();
        // The cast's own colours stay; what the agent recorded does not steer.
        assert!(!screen.contains("\u{1b}]0;pwned"), "{screen:?}");
        assert!(!screen.contains("\u{1b}[2J"), "{screen:?}");
        assert!(!screen.contains('\u{7}'), "{screen:?}");
    }
}
