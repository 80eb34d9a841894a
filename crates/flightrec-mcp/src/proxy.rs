//! The recording proxy: a stdio MCP server that an MCP client launches in
//! place of the real one. It starts the real server as its child and
//! relays every line both ways unchanged — whatever it is, in whatever
//! order — while recording the session's tool calls. Only calls the
//! policy denies or dry-runs are answered by the proxy instead of being
//! forwarded.
//!
//! Recording never waits on flightrec (see [`crate::sink`]): a line is
//! noted in memory and handed on, so the proxy adds little more than two
//! pipe hops to a call.

use crate::events::{Scope, answer_event, call_event, intercepted_answer_event};
use crate::policy::{Action, Decision, Policy};
use crate::session::{Seen, Session, Side};
use crate::sink::{Sink, SinkReport, notice};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::mpsc;

/// How long the server may take to exit once the client has gone.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How long, at the end, events may take to reach flightrec before they
/// are left in the spool.
const FLUSH_GRACE: Duration = Duration::from_secs(10);

/// How the proxy ends.
#[derive(Debug)]
pub struct Ended {
    /// The server's exit code (the proxy exits with it).
    pub exit_code: i32,
    pub report: SinkReport,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("could not start the MCP server {command:?}: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
}

/// One proxied session: what it records, and how.
struct Recording {
    scope: Scope,
    policy: Policy,
    session: Session,
    sink: Sink,
    /// The `start` event, sent before any other (once the server's name
    /// is known, when it can be).
    start: Option<Value>,
}

impl Recording {
    fn emit(&mut self, event: Value) {
        if let Some(start) = self.start.take() {
            self.sink.record(start);
        }
        self.sink.record(event);
    }

    /// Records what a relayed message showed.
    fn observe(&mut self, from: Side, message: &Value) {
        let seen = self.session.observe(from, message, Instant::now());
        // The server has said its name: the session's events carry it.
        if let Some(name) = self.session.server_name().map(str::to_owned)
            && let Some(mut start) = self.start.take()
        {
            start["provider"] = json!(name);
            start["actor"]["id"] = json!(format!("mcp:{name}"));
            if let Some(info) = message.pointer("/result/serverInfo") {
                start["metadata"]["server"] = info.clone();
            }
            self.scope.provider = name;
            self.sink.record(start);
        }
        for s in seen {
            self.record_seen(s);
        }
    }

    fn record_seen(&mut self, seen: Seen) {
        let event = match seen {
            Seen::Called(call) => call_event(&self.scope, &call, &self.policy.decide(&call.tool)),
            Seen::Answered {
                call,
                outcome,
                took,
            } => answer_event(&self.scope, &call, &outcome, took),
        };
        self.emit(event);
    }
}

/// Runs `command` behind the proxy on this process's stdin and stdout
/// until the client or the server goes, recording into `sink`.
pub async fn run(
    command: &[String],
    policy: Policy,
    scope: Scope,
    sink: Sink,
) -> Result<Ended, ProxyError> {
    let (program, args) = command.split_first().expect("a command is required");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ProxyError::Spawn {
            command: command.join(" "),
            source,
        })?;
    let server_in = child.stdin.take().expect("piped");
    let server_out = child.stdout.take().expect("piped");

    let start = start_event(&scope, command);
    let recording = Arc::new(Mutex::new(Recording {
        scope,
        policy,
        session: Session::default(),
        sink,
        start: Some(start),
    }));

    // Lines for the client come from the server and from the policy.
    let (to_client_tx, to_client_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(write_lines(to_client_rx, tokio::io::stdout()));
    let mut client_side = tokio::spawn(client_to_server(
        tokio::io::stdin(),
        server_in,
        to_client_tx.clone(),
        recording.clone(),
    ));
    let server_side = tokio::spawn(server_to_client(
        server_out,
        to_client_tx,
        recording.clone(),
    ));

    // The session ends when the client hangs up, the server exits, or the
    // proxy is told to stop.
    let ending = tokio::select! {
        _ = &mut client_side => Ending::ClientLeft,
        _ = child.wait() => Ending::ServerExited,
        _ = stop_signal() => Ending::Stopped,
    };
    // Closing the server's input (with the client's side) tells it the
    // session is over; it has a moment to exit before it is stopped.
    if ending != Ending::ClientLeft {
        client_side.abort();
        let _ = client_side.await;
    }
    let status = match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(Ok(status)) => status,
        _ => {
            let _ = child.kill().await;
            child.wait().await.unwrap_or_default()
        }
    };
    // Whatever the server said before it went still reaches the client.
    for mut task in [server_side, writer] {
        if tokio::time::timeout(Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }

    let Some(recording) = Arc::into_inner(recording) else {
        unreachable!("the relaying tasks have ended, and their handles with them")
    };
    let mut recording = recording.into_inner().unwrap_or_else(|e| e.into_inner());
    for seen in recording.session.abandon(Instant::now()) {
        recording.record_seen(seen);
    }
    let end = end_event(&recording.scope, ending, status);
    recording.emit(end);
    let report = recording.sink.finish(FLUSH_GRACE).await;
    Ok(Ended {
        exit_code: status.code().unwrap_or(1),
        report,
    })
}

/// The session's `start`: how the server was run, and by what.
fn start_event(scope: &Scope, command: &[String]) -> Value {
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut start = scope.event("start");
    start["message"] = json!(format!(
        "MCP session through the flightrec proxy: {}",
        command.join(" ")
    ));
    start["metadata"] = json!({"command": command, "cwd": cwd,
        "proxy": concat!("flightrec ", env!("CARGO_PKG_VERSION"))});
    start
}

/// The session's last event: `complete`, or `error` when the server
/// failed on its own.
fn end_event(scope: &Scope, ending: Ending, status: std::process::ExitStatus) -> Value {
    let mut end = match ending {
        Ending::ServerExited if !status.success() => {
            let mut e = scope.event("error");
            e["status"] = json!("fail");
            e["error"] = json!({"message": format!("the MCP server exited on its own ({status})")});
            e
        }
        _ => {
            let mut e = scope.event("complete");
            e["message"] = json!(ending.describe());
            e
        }
    };
    end["metadata"] = json!({"exit_code": status.code()});
    end
}

/// What ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientLeft,
    ServerExited,
    Stopped,
}

impl Ending {
    fn describe(self) -> &'static str {
        match self {
            Ending::ClientLeft => "the client ended the session",
            Ending::ServerExited => "the MCP server ended the session",
            Ending::Stopped => "the proxy was stopped (SIGTERM or SIGINT)",
        }
    }
}

/// Resolves when the proxy is told to stop; never, if it cannot listen.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

async fn write_lines(
    mut lines: mpsc::UnboundedReceiver<Vec<u8>>,
    mut out: impl AsyncWrite + Unpin,
) {
    while let Some(line) = lines.recv().await {
        if out.write_all(&line).await.is_err() || out.flush().await.is_err() {
            return;
        }
    }
}

/// Reads newline-delimited messages; `None` at the end of the stream.
async fn next_line(reader: &mut (impl AsyncBufReadExt + Unpin), line: &mut Vec<u8>) -> Option<()> {
    line.clear();
    match reader.read_until(b'\n', line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            Some(())
        }
    }
}

async fn client_to_server(
    from_client: impl AsyncRead + Unpin,
    mut server_in: ChildStdin,
    to_client: mpsc::UnboundedSender<Vec<u8>>,
    recording: Arc<Mutex<Recording>>,
) {
    let mut reader = BufReader::new(from_client);
    let mut line = Vec::new();
    while next_line(&mut reader, &mut line).await.is_some() {
        // Governed and noted before it is forwarded: the answer may be
        // back before the write returns, and must find its call waiting.
        let rest;
        let bytes: &[u8] = match serde_json::from_slice::<Value>(&line) {
            Ok(message) => {
                let mut r = recording.lock().unwrap_or_else(|e| e.into_inner());
                match govern(&mut r, &message, &to_client) {
                    Forward::Unchanged => {
                        r.observe(Side::Client, &message);
                        &line
                    }
                    Forward::Rest(remaining) => {
                        r.observe(Side::Client, &remaining);
                        let mut encoded =
                            serde_json::to_vec(&remaining).expect("messages serialise");
                        encoded.push(b'\n');
                        rest = encoded;
                        &rest
                    }
                    Forward::Nothing => continue,
                }
            }
            // Not JSON: the server's to answer, as it would without us.
            Err(_) => &line,
        };
        if server_in.write_all(bytes).await.is_err() || server_in.flush().await.is_err() {
            notice("the MCP server stopped reading its input");
            break;
        }
    }
    // Closing the server's input tells it the session is over.
    drop(server_in);
}

/// What is left of a client's message to forward once the policy has had
/// its say.
enum Forward {
    /// The line as it came.
    Unchanged,
    /// The members of a batch the policy let through.
    Rest(Value),
    /// Nothing: the proxy answered it all.
    Nothing,
}

/// Applies the policy to a client's message: the calls it denies or
/// dry-runs are answered here and recorded; says what is left to forward.
fn govern(
    r: &mut Recording,
    message: &Value,
    to_client: &mpsc::UnboundedSender<Vec<u8>>,
) -> Forward {
    let members: &[Value] = match message {
        Value::Array(batch) => batch,
        one => std::slice::from_ref(one),
    };
    let mut held = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let Some(call) = r.session.call_of(m) else {
            continue;
        };
        let decision = r.policy.decide(&call.tool);
        if decision.action == Action::Allow {
            continue;
        }
        let result = intercepted_result(&call.tool, &decision);
        let mut answer = serde_json::to_vec(&json!({
            "jsonrpc": "2.0",
            "id": m["id"],
            "result": result,
        }))
        .expect("answers serialise");
        answer.push(b'\n');
        let _ = to_client.send(answer);
        let call_recorded = call_event(&r.scope, &call, &decision);
        let answer_recorded = intercepted_answer_event(&r.scope, &call, decision.action, &result);
        r.emit(call_recorded);
        r.emit(answer_recorded);
        held.push(i);
    }
    if held.is_empty() {
        return Forward::Unchanged;
    }
    let rest: Vec<Value> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| !held.contains(i))
        .map(|(_, m)| m.clone())
        .collect();
    match message {
        Value::Array(_) if !rest.is_empty() => Forward::Rest(Value::Array(rest)),
        _ => Forward::Nothing,
    }
}

/// The result the client gets for a call the policy held back.
fn intercepted_result(tool: &str, decision: &Decision<'_>) -> Value {
    let reason = decision.reason_clause();
    match decision.action {
        Action::Deny => json!({
            "content": [{"type": "text", "text": format!(
                "The call to {tool} was denied by the flightrec policy{reason}. Nothing was done.")}],
            "isError": true,
        }),
        // An error result too: a successful one would have to match the
        // tool's output schema, which nothing here can fill.
        _ => json!({
            "content": [{"type": "text", "text": format!(
                "Dry run: the flightrec policy did not pass the call to {tool} on to the server{reason}. Nothing was done.")}],
            "isError": true,
        }),
    }
}

async fn server_to_client(
    server_out: impl AsyncRead + Unpin,
    to_client: mpsc::UnboundedSender<Vec<u8>>,
    recording: Arc<Mutex<Recording>>,
) {
    let mut reader = BufReader::new(server_out);
    let mut line = Vec::new();
    while next_line(&mut reader, &mut line).await.is_some() {
        let message: Option<Value> = serde_json::from_slice(&line).ok();
        if to_client.send(std::mem::take(&mut line)).is_err() {
            break;
        }
        if let Some(m) = message {
            let mut r = recording.lock().unwrap_or_else(|e| e.into_inner());
            r.observe(Side::Server, &m);
        }
    }
}
