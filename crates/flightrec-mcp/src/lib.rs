//! flightrec and MCP (DESIGN §2, issue #8).
//!
//! - [`proxy`]: the recording proxy — relays a stdio MCP session, applies
//!   the policy, records the calls.
//! - [`events`]: the `tool_call` and `tool_result` events a call becomes;
//!   [`files`]: the file operations filesystem servers' answers amount to.
//! - [`policy`]: the proxy's governance file — rules by tool-name pattern,
//!   first match wins: allow, deny, or dry run.
//! - [`risk`]: a tool's risk level from its MCP annotations.
//! - [`sink`]: delivery to flightrec, falling back to the spool.
//! - [`spool`]: events that could not reach flightrec, kept on disk, in
//!   order and bounded, until they can be delivered.
//! - [`session`]: what the proxy learns from the messages it relays —
//!   tool calls, their answers and how long they took.
//!
//! - [`audit_server`]: `flightrec mcp`, the `audit` and `search_audit_log`
//!   tools; [`audit`]: a recorded session as they tell it;
//!   [`upstream`]: the MCP server replays re-run calls against.

pub mod audit;
pub mod audit_server;
pub mod events;
pub mod files;
pub mod policy;
pub mod proxy;
pub mod risk;
pub mod session;
pub mod sink;
pub mod spool;
pub mod upstream;
