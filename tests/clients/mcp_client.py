"""An agent using toolreg's catalog over MCP with the official MCP Python SDK client: what
tests/api/mcp_server.rs runs against toolreg.

    mcp_client.py URL TOKEN MODE CALLS_JSON

MODE is the SDK client's `mode`: "legacy" (the 2025-11-25 initialize handshake), "auto"
(server/discover, so 2026-07-28 against toolreg) or a modern revision ("2026-07-28", no probe).
CALLS_JSON is a JSON list of [tool name, arguments]. Connects over streamable HTTP with
`Authorization: Bearer TOKEN`, lists the tools, calls each, and prints one JSON line:
{"protocol_version", "server_name", "tools": [{"name", "has_input_schema", "has_output_schema"}],
 "calls": [{"name", "is_error", "structured", "text"}]}.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main() -> None:
    url, token, mode, calls = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            listed = await client.list_tools()
            out = {
                "protocol_version": client.protocol_version,
                "server_name": client.server_info.name if client.server_info else None,
                "tools": [
                    {
                        "name": t.name,
                        "has_input_schema": bool(t.input_schema),
                        "has_output_schema": bool(t.output_schema),
                    }
                    for t in listed.tools
                ],
                "calls": [],
            }
            for name, arguments in calls:
                r = await client.call_tool(name, arguments)
                out["calls"].append(
                    {
                        "name": name,
                        "is_error": bool(r.is_error),
                        "structured": r.structured_content,
                        "text": r.content[0].text if r.content else None,
                    }
                )
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
