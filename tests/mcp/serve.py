"""Real MCP servers (and deliberately broken HTTP servers) on loopback for the prober's tests.

    serve.py KIND [--port 0] [--latency-ms N]

Binds 127.0.0.1, then prints exactly one line, ``LISTENING <url to probe>``, once it accepts
connections. MCP is spoken by the official ``mcp`` SDK (mcp 2.x: ``MCPServer``); the broken kinds
are plain asyncio/ASGI servers.

Kinds: streamable-sse, streamable-json, stateless, sse, auth, not-mcp, hang, garbage, dies,
slow-stream, redirect; by protocol era: modern-only (answers only 2026-07-28 requests and refuses
the handshake era as that revision specifies), legacy-only (answers only the ``initialize``
handshake, refusing 2026-07-28 requests as a 2025 server does), modern-error (modern-only whose
tools/list answers HTTP 200 with a JSON-RPC error); auth-discovery (401 without
``resource_metadata``: the RFC 9728 document is only at the path-specific well-known URI, the
authorization server's metadata only at its OpenID Connect location); and servers whose answers are oversized (all MCP, via the SDK):
minimal (a bare pre-2026 server without the SDK: ``initialize`` and ``tools/list``, and
``200 {"result": {}}`` for every other method, ``server/discover`` included, as small servers
answer what they do not know); legacy-auth (a 2025-03-26 server: 401 without
``resource_metadata``, no RFC 9728 document anywhere, its authorization server's RFC 8414
metadata at its own origin); huge-name (a 500 KB serverInfo.name and a 10 KB version), many-tools (3000 tools with
150-char names and 400-char descriptions, in pages of 500), huge-error (tools/list answers a
JSON-RPC error whose message is 500 KB).
"""

import argparse
import asyncio
import json
import os
import socket
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import ListToolsResult, Tool


AUTH_TOKEN = "test-token"


class SwitchableTools(MCPServer):
    """Lists the tools in ``tools_file`` when it exists, else the registered ones."""

    tools_file: str | None = None

    async def list_tools(self):
        if self.tools_file and os.path.exists(self.tools_file):
            with open(self.tools_file) as f:
                return [Tool(name=t["name"], description=t.get("description"),
                             input_schema=t.get("inputSchema", {"type": "object"}))
                        for t in json.load(f)]
        return await super().list_tools()


def build_mcp(name: str, tools_file: str | None = None) -> MCPServer:
    server = SwitchableTools(name=name, version="1.2.3")
    server.tools_file = tools_file

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


class ManyTools(MCPServer):
    """3000 tools with long names and descriptions, listed 500 to a page."""

    TOOLS = [
        Tool(
            name=f"tool_{i:04d}_" + "n" * 140,
            description=f"Tool {i}: " + "d" * 400,
            input_schema={"type": "object", "properties": {}},
        )
        for i in range(3000)
    ]
    PAGE = 500

    async def _handle_list_tools(self, ctx, params):
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + self.PAGE
        more = end < len(self.TOOLS)
        return ListToolsResult(tools=self.TOOLS[start:end], next_cursor=str(end) if more else None)


class HugeError(MCPServer):
    """Initializes normally; tools/list fails with a 500 KB error message."""

    async def list_tools(self):
        raise MCPError(-32603, "the tool list is broken: " + "E" * 500_000)


# The probe connects to 127.0.0.1 with whatever Host header it sends; the SDK's DNS-rebinding
# guard would refuse hosts it does not list, so list the loopback forms explicitly.
SECURITY = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)


def with_latency(app, latency_ms: int):
    if latency_ms <= 0:
        return app

    async def delayed(scope, receive, send):
        if scope["type"] == "http":
            await asyncio.sleep(latency_ms / 1000)
        await app(scope, receive, send)

    return delayed


def with_bearer_auth(app, port: int):
    """401 with an RFC 9728 resource_metadata pointer unless the request carries the token."""
    metadata_url = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource"

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] == "/.well-known/oauth-protected-resource":
            body = json.dumps(
                {
                    "resource": f"http://127.0.0.1:{port}/mcp",
                    "authorization_servers": [f"http://127.0.0.1:{port}/oauth"],
                    "bearer_methods_supported": ["header"],
                }
            ).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            return await send({"type": "http.response.body", "body": body})
        headers = dict(scope.get("headers") or [])
        if headers.get(b"authorization", b"") != f"Bearer {AUTH_TOKEN}".encode():
            challenge = f'Bearer error="invalid_token", resource_metadata="{metadata_url}"'.encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", challenge), (b"content-type", b"application/json")]})
            return await send({"type": "http.response.body", "body": b'{"error":"invalid_token"}'})
        return await app(scope, receive, send)

    return guarded


HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ["2026-07-28"]


async def read_body(receive) -> bytes:
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return body


async def respond_json(send, status: int, obj, extra=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": json.dumps(obj).encode()})


def request_id(body: bytes):
    try:
        msg = json.loads(body)
        return msg.get("id") if isinstance(msg, dict) else None
    except ValueError:
        return None


def protocol_header(scope):
    value = dict(scope.get("headers") or []).get(b"mcp-protocol-version")
    return None if value is None else value.decode("latin-1")


def modern_only(app):
    """Serves 2026-07-28 only. GET/DELETE are 405; a POST without MCP-Protocol-Version is a
    HeaderMismatch (-32020), one naming a handshake revision an UnsupportedProtocolVersion
    (-32022) listing the supported revisions, both with 400."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"POST")]})
            return await send({"type": "http.response.body", "body": b""})
        version = protocol_header(scope)
        if version is None or version in HANDSHAKE_VERSIONS:
            rid = request_id(await read_body(receive))
            if version is None:
                error = {"code": -32020, "message": "MCP-Protocol-Version header is required "
                         "(this server supports 2026-07-28 only)"}
            else:
                error = {"code": -32022, "message": "Unsupported protocol version",
                         "data": {"supported": MODERN_VERSIONS, "requested": version}}
            return await respond_json(send, 400, {"jsonrpc": "2.0", "id": rid, "error": error})
        return await app(scope, receive, send)

    return guarded


def legacy_only(app):
    """Serves the initialize handshake only: a request naming any other revision in
    MCP-Protocol-Version is a 400 without a modern error, as 2025 servers answer it."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        version = protocol_header(scope)
        if version is not None and version not in HANDSHAKE_VERSIONS:
            await read_body(receive)
            return await respond_json(send, 400, {"jsonrpc": "2.0", "id": None, "error": {
                "code": -32000,
                "message": f"Bad Request: Unsupported protocol version: {version} "
                           f"(supported versions: {', '.join(HANDSHAKE_VERSIONS)})"}})
        return await app(scope, receive, send)

    return guarded


def broken_tool_list(app):
    """tools/list answers HTTP 200 carrying a JSON-RPC error."""

    async def guarded(scope, receive, send):
        if scope["type"] == "http" and dict(scope.get("headers") or []).get(b"mcp-method") == b"tools/list":
            rid = request_id(await read_body(receive))
            return await respond_json(send, 200, {"jsonrpc": "2.0", "id": rid, "error": {
                "code": -32603, "message": "the tool list is broken"}})
        return await app(scope, receive, send)

    return guarded


def with_discovered_auth(app, port: int):
    """401 without resource_metadata; RFC 9728 metadata at the path-specific well-known URI only;
    the authorization server's metadata only where OpenID Connect discovery appends it."""
    base = f"http://127.0.0.1:{port}"
    documents = {
        "/.well-known/oauth-protected-resource/mcp": {
            "resource": f"{base}/mcp",
            "authorization_servers": [f"{base}/oauth"],
            "bearer_methods_supported": ["header"],
        },
        "/oauth/.well-known/openid-configuration": {
            "issuer": f"{base}/oauth",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "registration_endpoint": f"{base}/oauth/register",
            "code_challenge_methods_supported": ["S256"],
            "client_id_metadata_document_supported": True,
            "response_types_supported": ["code"],
        },
    }

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] in documents:
            return await respond_json(send, 200, documents[scope["path"]])
        if scope["path"].startswith("/.well-known/") or scope["path"].startswith("/oauth"):
            return await respond_json(send, 404, {"error": "not_found"})
        headers = dict(scope.get("headers") or [])
        if headers.get(b"authorization", b"") != f"Bearer {AUTH_TOKEN}".encode():
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", b'Bearer realm="mcp"'),
                                    (b"content-type", b"application/json")]})
            return await send({"type": "http.response.body", "body": b'{"error":"unauthorized"}'})
        return await app(scope, receive, send)

    return guarded


def minimal_server():
    """A bare handshake-era server written against the 2025-11-25 text alone: it knows
    ``initialize`` and ``tools/list``; any other request gets an empty result, any notification
    a 202."""

    tools = [{"name": "ping_back", "description": "Answers what it is sent.",
              "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return await plain(200, b"", b"")(scope, receive, send)
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"POST")]})
            return await send({"type": "http.response.body", "body": b""})
        try:
            msg = json.loads(await read_body(receive))
        except ValueError:
            return await respond_json(send, 400, {"jsonrpc": "2.0", "id": None,
                                                  "error": {"code": -32700, "message": "Parse error"}})
        if "id" not in msg:
            await send({"type": "http.response.start", "status": 202, "headers": []})
            return await send({"type": "http.response.body", "body": b""})
        method = msg.get("method")
        if method == "initialize":
            asked = (msg.get("params") or {}).get("protocolVersion")
            result = {"protocolVersion": asked if asked in HANDSHAKE_VERSIONS else "2025-11-25",
                      "serverInfo": {"name": "toolreg-test-minimal", "version": "0.1.0"},
                      "capabilities": {"tools": {}}}
        elif method == "tools/list":
            result = {"tools": tools}
        else:
            result = {}
        return await respond_json(send, 200, {"jsonrpc": "2.0", "id": msg["id"], "result": result})

    return app


def with_legacy_auth(app, port: int):
    """A 2025-03-26 server: 401 without resource_metadata, no RFC 9728 document at any
    well-known URI, and RFC 8414 metadata at the origin naming the origin as issuer."""
    base = f"http://127.0.0.1:{port}"
    metadata = {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "registration_endpoint": f"{base}/register",
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
    }

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] == "/.well-known/oauth-authorization-server":
            return await respond_json(send, 200, metadata)
        if scope["path"].startswith("/.well-known/"):
            return await respond_json(send, 404, {"error": "not_found"})
        headers = dict(scope.get("headers") or [])
        if headers.get(b"authorization", b"") != f"Bearer {AUTH_TOKEN}".encode():
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", b'Bearer realm="mcp"'),
                                    (b"content-type", b"application/json")]})
            return await send({"type": "http.response.body", "body": b'{"error":"unauthorized"}'})
        return await app(scope, receive, send)

    return guarded


def plain(status: int, content_type: bytes, body: bytes, extra=()):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    return await send({"type": "lifespan.shutdown.complete"})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), *extra]})
        await send({"type": "http.response.body", "body": body})

    return app


async def slow_stream(scope, receive, send):
    """Answers every request with an SSE stream of comments that never carries a result."""
    if scope["type"] == "lifespan":
        return await plain(200, b"", b"")(scope, receive, send)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    while True:
        await send({"type": "http.response.body", "body": b": still thinking\n\n", "more_body": True})
        await asyncio.sleep(0.2)


async def raw_server(sock: socket.socket, handler):
    server = await asyncio.start_server(handler, sock=sock)
    async with server:
        await server.serve_forever()


async def hang_handler(reader, writer):
    await asyncio.sleep(3600)


async def dies_handler(reader, writer):
    await reader.read(1024)
    writer.close()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--tools-file", default=None,
                   help="JSON list of tools ({name, description, inputSchema}) read on every "
                        "tools/list, so a test can change the tool list of a running server")
    args = p.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    if args.kind in ("hang", "dies"):
        print(f"LISTENING {base}/mcp", flush=True)
        return await raw_server(sock, hang_handler if args.kind == "hang" else dies_handler)

    path = "/mcp"
    if args.kind == "streamable-sse":
        app = build_mcp("toolreg-test-streamable").streamable_http_app(transport_security=SECURITY)
    elif args.kind == "streamable-json":
        app = build_mcp("toolreg-test-json").streamable_http_app(json_response=True, transport_security=SECURITY)
    elif args.kind == "stateless":
        app = build_mcp("toolreg-test-stateless", args.tools_file).streamable_http_app(
            stateless_http=True, json_response=True, transport_security=SECURITY)
    elif args.kind == "modern-only":
        app = modern_only(build_mcp("toolreg-test-modern", args.tools_file).streamable_http_app(
            stateless_http=True, json_response=True, transport_security=SECURITY))
    elif args.kind == "legacy-only":
        app = legacy_only(build_mcp("toolreg-test-legacy", args.tools_file).streamable_http_app(
            transport_security=SECURITY))
    elif args.kind == "modern-error":
        app = modern_only(broken_tool_list(build_mcp("toolreg-test-modern-error").streamable_http_app(
            stateless_http=True, json_response=True, transport_security=SECURITY)))
    elif args.kind == "auth-discovery":
        inner = build_mcp("toolreg-test-auth-discovery").streamable_http_app(transport_security=SECURITY)
        app = with_discovered_auth(inner, port)
    elif args.kind == "minimal":
        app = minimal_server()
    elif args.kind == "legacy-auth":
        app = with_legacy_auth(minimal_server(), port)
    elif args.kind == "sse":
        app = build_mcp("toolreg-test-sse").sse_app(transport_security=SECURITY)
        path = "/sse"
    elif args.kind == "auth":
        inner = build_mcp("toolreg-test-auth").streamable_http_app(transport_security=SECURITY)
        app = with_bearer_auth(inner, port)
    elif args.kind == "huge-name":
        server = MCPServer(name="N" * 500_000, version="V" * 10_000)
        app = server.streamable_http_app(stateless_http=True, json_response=True, transport_security=SECURITY)
    elif args.kind == "many-tools":
        app = ManyTools(name="toolreg-test-many-tools", version="1").streamable_http_app(
            stateless_http=True, json_response=True, transport_security=SECURITY)
    elif args.kind == "huge-error":
        server = HugeError(name="toolreg-test-huge-error", version="1")

        @server.tool()
        def echo(text: str) -> str:
            """Echo the text back."""
            return text

        app = server.streamable_http_app(stateless_http=True, json_response=True, transport_security=SECURITY)
    elif args.kind == "not-mcp":
        app = plain(200, b"text/html; charset=utf-8", b"<html><body>Hello, not MCP</body></html>")
        path = "/"
    elif args.kind == "garbage":
        app = plain(200, b"application/json", b'{"jsonrpc": "2.0", "result": {oops')
    elif args.kind == "slow-stream":
        app = slow_stream
    elif args.kind == "redirect":
        app = plain(302, b"text/plain", b"", [(b"location", b"http://169.254.169.254/latest/meta-data/")])
    else:
        sys.exit(f"unknown kind {args.kind!r}")

    app = with_latency(app, args.latency_ms)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            return
        await asyncio.sleep(0.02)
    print(f"LISTENING {base}{path}", flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(main())
