//! flightrec and MCP (DESIGN §2, issue #8).
//!
//! - [`events`]: the `tool_call` and `tool_result` events a call becomes.
//! - [`policy`]: the proxy's governance file — rules by tool-name pattern,
//!   first match wins: allow, deny, or dry run.
//! - [`risk`]: a tool's risk level from its MCP annotations.
//! - [`spool`]: events that could not reach flightrec, kept on disk, in
//!   order and bounded, until they can be delivered.
//! - [`session`]: what the proxy learns from the messages it relays —
//!   tool calls, their answers and how long they took.
//!
//! The recording proxy and the `audit` tool build on these.

pub mod events;
pub mod policy;
pub mod risk;
pub mod session;
pub mod spool;
