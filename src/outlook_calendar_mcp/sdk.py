"""The one place this server reaches past the MCP SDK's public surface, each use with its reason.

Everything else goes through public API: tools are built with ``mcp.server.mcpserver.tools.Tool``
and handed to ``MCPServer(tools=...)`` (tools/common.py), middleware through ``MCPServer.middleware``,
completion through ``MCPServer.completion()``. Delete a function here once the SDK offers it.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

__all__ = ["add_request_handler", "run_on_streams"]


def add_request_handler(server: MCPServer, method: str, params_type: type[BaseModel], handler: Any) -> None:
    """Serve ``method`` (a JSON-RPC request the SDK has no handler for) with ``handler(ctx, params)``.

    Why private: MCPServer has no public hook for ``logging/setLevel`` (handshake-era protocol); the SDK
    serves and advertises ``logging`` only once a handler is registered on its low-level server, and its
    public way to add request methods (``Extension.methods``) also advertises an extension capability,
    which would change what ``initialize`` says. The low-level ``Server.add_request_handler`` is public;
    reaching it from MCPServer is not."""
    server._lowlevel_server.add_request_handler(method, params_type, handler)  # noqa: SLF001 - see above


async def run_on_streams(server: MCPServer, read_stream: Any, write_stream: Any) -> None:
    """Serve one session on ``stdio_server``'s streams, as ``MCPServer.run_stdio_async`` does.

    Why private: ``run_stdio_async`` always opens ``stdio_server()`` with the SDK's threaded file streams and
    runs on the read stream it yields, which drops unreadable lines unanswered; ``stdio_server(stdin, stdout)``
    takes other files publicly, but running the MCPServer on other streams (the event loop's pipes, and a read
    stream that answers what it cannot read: stdio.py) needs its low-level server."""
    low = server._lowlevel_server  # noqa: SLF001 - see above
    await low.run(read_stream, write_stream, low.create_initialization_options())
