//! flightrec and MCP (DESIGN §2, issue #8).
//!
//! - [`policy`]: the proxy's governance file — rules by tool-name pattern,
//!   first match wins: allow, deny, or dry run.
//! - [`risk`]: a tool's risk level from its MCP annotations.
//!
//! The recording proxy and the `audit` tool build on these.

pub mod policy;
pub mod risk;
