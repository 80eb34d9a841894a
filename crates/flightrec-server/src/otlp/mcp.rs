//! The MCP semantic conventions: `mcp.method.name`, `mcp.session.id`, and
//! on `tools/call` the tool in `gen_ai.tool.name` (read by
//! [`super::genai`]).

use super::attributes::Attributes;
use super::semantics::{Kind, Semantics, fill};

pub fn read(a: &mut Attributes, s: &mut Semantics) {
    if let Some(method) = a.take_str("mcp.method.name") {
        let kind = if method == "tools/call" {
            Kind::Tool
        } else {
            Kind::Other
        };
        s.name_kind(kind, "mcp", method.clone());
        s.keep("mcp_method", Some(method.into()));
    }
    fill(&mut s.session_id, a.take_str("mcp.session.id"));
    let version = a.take("mcp.protocol.version");
    s.keep("mcp_protocol_version", version);
    let request = a.take("jsonrpc.request.id");
    s.keep("jsonrpc_request_id", request);
    let resource = a.take("mcp.resource.uri");
    s.keep("mcp_resource_uri", resource);
}
