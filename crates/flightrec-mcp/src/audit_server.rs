//! `flightrec mcp`: a stdio MCP server (on rmcp) through which an agent
//! inspects its own record.
//!
//! - `audit` — a proxied session: `show` it (one line, or every call with
//!   the replayable ones marked), or `replay` its calls against the
//!   upstream server this server was started with.
//! - `search_audit_log` — the filters of `GET /v1/events`.
//!
//! Mistakes (a bad argument, an unknown session, flightrec unreachable)
//! come back as error results the agent can read, never as protocol
//! errors.

use crate::audit::SessionLog;
use crate::events::SESSION_RESOURCE;
use crate::policy::Policy;
use crate::upstream::Upstream;
use flightrec_client::{Client, ReexecuteOptions, path_segment, reexecute_actions};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};

/// The audit server's state: where the record is, and the upstream server
/// replays run against.
pub struct AuditServer {
    client: Client,
    upstream: Option<Vec<String>>,
    policy: Policy,
}

/// `GET /v1/events` filters `search_audit_log` passes on.
const SEARCH_FILTERS: &[(&str, &str)] = &[
    ("type", "event type, e.g. tool_call, write_file, error"),
    ("run_id", "one run"),
    ("session_id", "one session"),
    ("agent_id", "one agent"),
    ("actor", "the actor's id"),
    ("actor_type", "human, agent or system"),
    ("resource_type", "e.g. file, mcp_session"),
    ("resource_id", "one resource"),
    ("verb", "the action's verb"),
    ("provider", "e.g. the MCP server's name"),
    ("status", "ok, fail or warn"),
    (
        "governance_status",
        "approved, blocked, pending, dry_run or auto",
    ),
    (
        "since",
        "RFC 3339 time or a duration back from now, e.g. 24h",
    ),
    ("until", "RFC 3339 time or a duration back from now"),
    ("q", "free text"),
    ("cursor", "next_cursor of an earlier search"),
];

impl AuditServer {
    /// `upstream`: the MCP server replays run against, as a command.
    pub fn new(client: Client, upstream: Option<Vec<String>>, policy: Policy) -> AuditServer {
        AuditServer {
            client,
            upstream,
            policy,
        }
    }

    /// Serves MCP on this process's stdin and stdout until the client goes.
    pub async fn serve_stdio(self) -> Result<(), String> {
        use rmcp::ServiceExt;
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("the MCP session could not start: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| format!("the MCP session failed: {e}"))?;
        Ok(())
    }

    fn tools() -> Vec<Tool> {
        let mut filters = Map::new();
        for (name, what) in SEARCH_FILTERS {
            filters.insert(
                (*name).into(),
                json!({"type": "string", "description": what}),
            );
        }
        filters.insert(
            "limit".into(),
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20,
                   "description": "how many events, newest first"}),
        );
        let tools = json!([
            {
                "name": "audit",
                "title": "Audit an MCP session",
                "description": "Shows what an MCP session recorded by `flightrec proxy` did, or replays its \
                    tool calls against the upstream server. `show` with `summary` answers in one line; \
                    `full` lists every call, numbered and timestamped, [✓] on the ones a replay would run. \
                    `replay` re-runs those calls (never read-only, blocked or dry-run ones; failed ones only \
                    when skip_errors is false) and prints OK/FAIL per call and a total.",
                "inputSchema": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string", "enum": ["show", "replay"], "default": "show"},
                        "format": {"type": "string", "enum": ["summary", "full"], "default": "full",
                                   "description": "for show"},
                        "session_id": {"type": "string",
                                       "description": "default: the latest session recorded through the proxy with this server's upstream, else the latest"},
                        "run_id": {"type": "string", "description": "the session's run, instead of session_id"},
                        "skip_errors": {"type": "boolean", "default": true,
                                        "description": "leave out the calls that failed when recorded"}
                    },
                    "additionalProperties": false
                },
                // Replay changes things: the tool as a whole is not read-only.
                "annotations": {"readOnlyHint": false, "destructiveHint": true,
                                "idempotentHint": false, "openWorldHint": false}
            },
            {
                "name": "search_audit_log",
                "title": "Search the audit log",
                "description": "Finds recorded events (newest first) by the filters of flightrec's \
                    GET /v1/events: type, run, session, agent, actor, resource, tool verb, provider, \
                    status, governance status, time range and free text.",
                "inputSchema": {"type": "object", "properties": filters, "additionalProperties": false},
                "annotations": {"readOnlyHint": true, "openWorldHint": false}
            }
        ]);
        serde_json::from_value(tools).expect("the tool definitions are valid")
    }

    async fn audit(&self, args: &Map<String, Value>) -> Result<String, String> {
        let known = ["action", "format", "session_id", "run_id", "skip_errors"];
        if let Some(k) = args.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown argument {k:?}; audit takes {}",
                known.join(", ")
            ));
        }
        let text = |key: &str| -> Result<Option<&str>, String> {
            match args.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(format!("{key} must be a string, not {other}")),
            }
        };
        let skip_errors = match args.get("skip_errors") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("skip_errors must be true or false, not {other}")),
        };
        let options = ReexecuteOptions {
            include_failed: !skip_errors,
        };
        let action = text("action")?.unwrap_or("show");
        let format = text("format")?.unwrap_or("full");
        if !["summary", "full"].contains(&format) {
            return Err(format!("format must be summary or full, not {format:?}"));
        }
        let log = self.session(text("session_id")?, text("run_id")?).await?;
        match action {
            "show" if format == "summary" => Ok(log.summary()),
            "show" => Ok(log.full(&options)),
            "replay" => self.replay(&log, &options).await,
            other => Err(format!("action must be show or replay, not {other:?}")),
        }
    }

    /// Re-runs a session's replayable calls against the upstream server.
    async fn replay(&self, log: &SessionLog, options: &ReexecuteOptions) -> Result<String, String> {
        let Some(command) = &self.upstream else {
            return Err(format!(
                "replay needs the MCP server to run the calls against: start this server as \
                 `flightrec mcp -- <server command>` (session {} was recorded with {})",
                log.session_id,
                log.server().unwrap_or("an unknown server")
            ));
        };
        let mut upstream = Upstream::start(command, self.policy.clone()).await?;
        if let (Some(recorded), Some(here)) = (log.server(), upstream.name())
            && recorded != here
        {
            upstream.close().await;
            return Err(format!(
                "session {} was recorded with {recorded}, but the upstream server here is {here}: \
                     not replaying it elsewhere",
                log.session_id
            ));
        }
        let actions = log
            .calls()
            .iter()
            .filter_map(|c| c.action())
            .collect::<Vec<_>>();
        let mut out = String::new();
        let done = reexecute_actions(actions, &mut upstream, options, &mut |r| {
            out += &r.to_string();
            out.push('\n');
        })
        .await;
        upstream.close().await;
        out += &done.summary();
        Ok(out)
    }

    /// The session asked for, or the latest one.
    async fn session(
        &self,
        session_id: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<SessionLog, String> {
        let run_id = match (run_id, session_id) {
            (Some(run), _) => run.to_owned(),
            (None, Some(session)) => {
                let found = self
                    .search(&[("session_id", session.into()), ("limit", "1".into())])
                    .await?;
                run_of(&found).ok_or_else(|| format!("no session {session:?} is recorded"))?
            }
            (None, None) => self.latest_session().await?,
        };
        let events = self.run_events(&run_id).await?;
        let session_id = events
            .iter()
            .find_map(|e| e["session_id"].as_str())
            .unwrap_or(&run_id)
            .to_owned();
        Ok(SessionLog {
            run_id,
            session_id,
            events,
        })
    }

    /// The run of the latest session recorded with this server's upstream
    /// (the same command), else of the latest session at all: with several
    /// servers proxied, "the current session" is the one with this server.
    async fn latest_session(&self) -> Result<String, String> {
        let found = self
            .search(&[
                ("resource_type", SESSION_RESOURCE.into()),
                ("type", "start".into()),
                ("limit", "100".into()),
            ])
            .await?;
        let starts = found["events"].as_array().cloned().unwrap_or_default();
        let same_server = self.upstream.as_ref().and_then(|command| {
            starts
                .iter()
                .find(|e| e["metadata"]["command"] == serde_json::json!(command))
        });
        same_server
            .or(starts.first())
            .and_then(|e| e["run_id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                "no MCP session has been recorded yet: run the MCP server behind `flightrec proxy`"
                    .to_owned()
            })
    }

    /// Every event of a run, in run order.
    async fn run_events(&self, run_id: &str) -> Result<Vec<Value>, String> {
        let path = format!("/v1/runs/{}", path_segment(run_id));
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![
                ("include", "audit_log".to_owned()),
                ("limit", "10000".into()),
            ];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page = self.client.get(&path, &query).await.map_err(|e| match e {
                flightrec_client::Error::Api { status: 404, .. } => {
                    format!("no run {run_id:?} is recorded")
                }
                e => e.to_string(),
            })?;
            events.extend(page["audit_log"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Ok(events),
            }
        }
    }

    async fn search(&self, query: &[(&str, String)]) -> Result<Value, String> {
        self.client
            .get("/v1/events", query)
            .await
            .map_err(|e| e.to_string())
    }

    async fn search_audit_log(&self, args: &Map<String, Value>) -> Result<String, String> {
        let mut query: Vec<(&str, String)> = Vec::new();
        for (key, value) in args {
            let Some((name, _)) = SEARCH_FILTERS
                .iter()
                .chain(&[("limit", "")])
                .find(|(n, _)| n == key)
            else {
                return Err(format!("unknown filter {key:?}"));
            };
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) if *name == "limit" => n.to_string(),
                Value::Null => continue,
                other => return Err(format!("{key} must be a string, not {other}")),
            };
            query.push((name, value));
        }
        if !query.iter().any(|(k, _)| *k == "limit") {
            query.push(("limit", "20".into()));
        }
        let found = self.search(&query).await?;
        let events = found["events"].as_array().cloned().unwrap_or_default();
        let mut out = format!("{} events, newest first\n", events.len());
        for e in &events {
            out += &event_line(e);
            out.push('\n');
        }
        if let Some(c) = found["next_cursor"].as_str() {
            out += &format!("more: search again with cursor={c}");
        }
        Ok(out.trim_end().to_owned())
    }
}

/// The run of the first event found.
fn run_of(found: &Value) -> Option<String> {
    found["events"][0]["run_id"].as_str().map(str::to_owned)
}

/// `#41 2026-11-23T01:01:39Z tool_call ok write_file run=mcp-… /p/b.txt`
fn event_line(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("");
    let mut line = format!(
        "#{} {} {} {}",
        e["seq"],
        s("time").get(..19).unwrap_or(s("time")),
        s("type"),
        s("status")
    );
    let what = e["tool"].as_str().or(e["verb"].as_str());
    if let Some(w) = what {
        line += &format!(" {w}");
    }
    if let Some(r) = e["run_id"].as_str() {
        line += &format!(" run={r}");
    }
    if let Some(p) = e["input"]["path"].as_str() {
        line += &format!(" {p}");
    }
    if let Some(m) = e["error"]["message"].as_str().or(e["message"].as_str()) {
        let m: String = m.lines().next().unwrap_or("").chars().take(80).collect();
        line += &format!(" — {m}");
    }
    line
}

fn answer(result: Result<String, String>) -> CallToolResult {
    match result {
        Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
        Err(why) => CallToolResult::error(vec![ContentBlock::text(why)]),
    }
}

impl ServerHandler for AuditServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(
                "flightrec keeps a tamper-evident record of this agent's actions. `audit` shows \
                 (or replays) an MCP session recorded through `flightrec proxy`; \
                 `search_audit_log` finds recorded events.",
            );
        info.server_info = serde_json::from_value(
            json!({"name": "flightrec", "version": env!("CARGO_PKG_VERSION")}),
        )
        .expect("a valid implementation");
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(Self::tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        Self::tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let result = match request.name.as_ref() {
            "audit" => self.audit(&args).await,
            "search_audit_log" => self.search_audit_log(&args).await,
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool {other:?}: this server has audit and search_audit_log"),
                    None,
                ));
            }
        };
        Ok(answer(result).into())
    }
}
