//! MCP software we did not write, as the tests' peers: the reference
//! servers from npm and the official Python SDK as a client, installed
//! pinned into `tests/mcp` by its `install` script (run here once per test
//! process, under a lock, when `.ci/run` has not already).

use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// `tests/mcp`, with its peers installed.
pub fn peers() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp");
        let dir = dir.canonicalize().expect("tests/mcp exists");
        let lock = File::create(dir.join(".install.lock")).unwrap();
        lock.lock().unwrap();
        let status = Command::new(dir.join("install"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/mcp/install");
        assert!(status.success(), "tests/mcp/install failed");
        dir
    })
}

/// `@modelcontextprotocol/server-filesystem` serving `root`.
pub fn filesystem_server(root: &Path) -> Vec<String> {
    vec![
        peers()
            .join("node_modules/.bin/mcp-server-filesystem")
            .display()
            .to_string(),
        root.display().to_string(),
    ]
}

/// `@modelcontextprotocol/server-everything` on stdio.
pub fn everything_server() -> Vec<String> {
    vec![
        peers()
            .join("node_modules/.bin/mcp-server-everything")
            .display()
            .to_string(),
        "stdio".into(),
    ]
}

/// What the Python client saw of a session.
#[derive(Debug)]
pub struct ClientRun {
    pub ok: bool,
    /// `{"server", "tools"}`, then one `{"tool", "isError", "text"}` a call.
    pub lines: Vec<Value>,
    pub stderr: String,
}

impl ClientRun {
    /// The answer to the `n`th call, from 0.
    pub fn answer(&self, n: usize) -> &Value {
        &self.lines[n + 1]
    }
}

/// Runs the official Python MCP client against `command` (over stdio),
/// making `calls` (`[{"tool", "arguments"}]`) with `env` added.
pub fn python_client(calls: &Value, command: &[String], env: &[(&str, &str)]) -> ClientRun {
    let dir = peers();
    let out = Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join("client.py"))
        .arg(calls.to_string())
        .arg("--")
        .args(command)
        .envs(env.iter().copied())
        .output()
        .expect("run the Python MCP client");
    ClientRun {
        ok: out.status.success(),
        lines: String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
