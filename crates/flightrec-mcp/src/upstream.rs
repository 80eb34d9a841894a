//! An MCP server to re-run recorded tool calls against: started as a
//! child over stdio with rmcp's client, and driven through the SDK's
//! [`Executor`] interface like any other executor. The proxy's policy
//! applies here too: a call it denies is not re-run.

use crate::policy::{Action as Verdict, Policy};
use flightrec_client::{Action, Executor, Outcome};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::process::Stdio;

/// A running upstream server.
pub struct Upstream {
    service: RunningService<RoleClient, ()>,
    policy: Policy,
}

impl Upstream {
    /// Starts `command` and completes the MCP handshake with it.
    pub async fn start(command: &[String], policy: Policy) -> Result<Upstream, String> {
        let (program, args) = command.split_first().ok_or("no upstream server command")?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args);
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", command.join(" ")))?;
        let service = ().serve(transport).await.map_err(|e| {
            format!(
                "{} did not complete the MCP handshake: {e}",
                command.join(" ")
            )
        })?;
        Ok(Upstream { service, policy })
    }

    /// The server's name, from its `initialize` answer.
    pub fn name(&self) -> Option<String> {
        self.service
            .peer_info()
            .and_then(|i| i.server_info.as_ref().map(|s| s.name.clone()))
    }

    /// Ends the session and the server.
    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }

    async fn call(&self, action: &Action) -> Outcome {
        let Some(tool) = action.tool.clone() else {
            return Outcome::Fail("the recorded call names no tool".into());
        };
        let decision = self.policy.decide(&tool);
        let reason = decision.reason_clause();
        match decision.action {
            Verdict::Deny => return Outcome::Fail(format!("denied by the policy{reason}")),
            Verdict::DryRun => return Outcome::Skip(format!("a dry run by the policy{reason}")),
            Verdict::Allow => {}
        }
        let mut params = CallToolRequestParams::new(tool);
        match &action.input {
            Value::Object(arguments) => params.arguments = Some(arguments.clone()),
            Value::Null => {}
            other => {
                return Outcome::Fail(format!("the recorded arguments are not an object: {other}"));
            }
        }
        match self.service.call_tool(params).await {
            Ok(result) => {
                let text = text_of(&result);
                let value = serde_json::to_value(&result).unwrap_or(json!(null));
                if result.is_error == Some(true) {
                    Outcome::Fail(text.unwrap_or_else(|| "the tool reported an error".into()))
                } else {
                    Outcome::Ok(value)
                }
            }
            Err(e) => Outcome::Fail(format!("the call failed: {e}")),
        }
    }
}

impl Executor for Upstream {
    async fn execute(&mut self, action: &Action) -> Outcome {
        if action.event_type != "tool_call" {
            return Outcome::Skip("not a tool call".into());
        }
        self.call(action).await
    }
}

/// A result's text, its first line, for a FAIL line.
fn text_of(result: &CallToolResult) -> Option<String> {
    let text = result
        .content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.clone()))?;
    Some(text.lines().next().unwrap_or_default().to_owned())
}
