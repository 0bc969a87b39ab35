"""A stdio MCP server for test_inspector.py's control: one tool, ``when``, whose outputSchema says
``start`` is a ``date-time``, returning the value named by argv[1] as structuredContent.

It shows that the Inspector's outputSchema check has teeth: a naive date-time or a number fails it,
a date-time with an offset passes.
"""

import sys

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

VALUES = {"offset": "2027-03-10T10:00:00-08:00", "naive": "2027-03-10T10:00:00", "number": 5}
OUTPUT_SCHEMA = {"type": "object", "properties": {"start": {"type": "string", "format": "date-time"}},
                 "required": ["start"]}


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[types.Tool(name="when", description="When it starts",
                                                   input_schema={"type": "object", "properties": {}},
                                                   output_schema=OUTPUT_SCHEMA)])


async def call_tool(ctx, params):
    value = VALUES[sys.argv[1]]
    return types.CallToolResult(content=[types.TextContent(type="text", text=str(value))],
                                structured_content={"start": value})


async def main() -> None:
    server = Server("schema-probe", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
