"""outlook-calendar-mcp: the Outlook calendar as MCP tools, over Microsoft Graph or the built-in sandbox."""

__version__ = "0.1.0"
