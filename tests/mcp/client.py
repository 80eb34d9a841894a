"""Drives an MCP server over stdio with the official Python SDK, the way an
agent's MCP client would: initialise, list the tools, then make the calls
it is given, in order.

    python client.py CALLS_JSON -- COMMAND [ARGS...]

CALLS_JSON is a JSON array of {"tool": name, "arguments": {...}}. Prints
one JSON line for the server ({"server": name, "tools": [...]}) and one for
each call ({"tool", "isError", "text"}); exits non-zero on any protocol
failure, so a test sees the session break.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(calls, command):
    # The SDK passes a server only a few variables unless told; clients'
    # configs name theirs (FLIGHTREC_SERVER, FLIGHTREC_API_KEY) in `env`.
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            print(json.dumps({"server": init.serverInfo.name,
                              "tools": [t.name for t in tools.tools]}), flush=True)
            for call in calls:
                result = await session.call_tool(call["tool"], call.get("arguments", {}))
                text = "\n".join(c.text for c in result.content if c.type == "text")
                print(json.dumps({"tool": call["tool"], "isError": bool(result.isError),
                                  "text": text}), flush=True)


if __name__ == "__main__":
    split = sys.argv.index("--")
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[split + 1:]))
