//! The terminal player of `flightrec runs replay` in a real pseudo-terminal
//! (util-linux `script`): it takes the screen, plays, answers keys and
//! gives the terminal back as it found it.

use crate::replay::{coding_run, record};
use crate::support::{API_KEY, Server};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `flightrec args…` on a 100×30 terminal, typing `keys` one group at
/// a time with a pause before each; answers (exit success, what the
/// terminal showed).
fn in_terminal(server: &Server, args: &str, keys: &[&str]) -> (bool, String) {
    let command = format!(
        "stty cols 100 rows 30; exec {} {args}",
        env!("CARGO_BIN_EXE_flightrec")
    );
    let mut child = Command::new("script")
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            &command,
            "/dev/null",
        ])
        .env("FLIGHTREC_SERVER", &server.base)
        .env("FLIGHTREC_API_KEY", API_KEY)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("util-linux `script` runs the player in a pseudo-terminal");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    });
    let mut stdin = child.stdin.take().unwrap();
    for k in keys {
        std::thread::sleep(Duration::from_millis(700));
        stdin.write_all(k.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the player did not quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    (status.success(), reader.join().unwrap())
}

#[test]
fn the_player_plays_steps_and_quits_leaving_the_terminal_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(record(&server, &coding_run("tty-run")));

    // Played fast to its end, then back one event with ←, then quit.
    let (ok, screen) = in_terminal(
        &server,
        "runs replay tty-run --speed 1000",
        &["", "\u{1b}[D", "q"],
    );
    assert!(ok, "{screen}");
    assert!(
        screen.contains("\u{1b}[?1049h"),
        "the alternate screen was taken"
    );
    assert!(screen.contains("flightrec · tty-run"), "{screen}");
    assert!(
        screen.contains("ended (completed)"),
        "played to the end: {screen}"
    );
    assert!(
        screen.contains("event 8/9"),
        "← stepped back to event 8: {screen}"
    );
    assert!(
        screen.contains("write_file · NOTES.md"),
        "its detail shows: {screen}"
    );
    let left = screen
        .rfind("\u{1b}[?1049l")
        .expect("the screen was given back");
    assert!(left > screen.rfind("flightrec · tty-run").unwrap());

    // A missing run is said plainly, before the screen is taken.
    let (ok, screen) = in_terminal(&server, "runs replay no-such-run", &[]);
    assert!(!ok);
    assert!(screen.contains("no run with id"), "{screen}");
    assert!(!screen.contains("\u{1b}[?1049h"));
}
