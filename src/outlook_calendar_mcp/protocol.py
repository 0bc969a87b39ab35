"""Protocol behaviour the SDK leaves to the server: unknown names, logging/setLevel, completion.

:func:`install` adds three small pieces to a built :class:`MCPServer`:

* **Unknown names are protocol errors.** The spec (server/tools, "Error
  Handling", 2025-06-18 onwards) makes a call to an unknown tool a JSON-RPC
  error ``-32602`` (invalid params); ``MCPServer`` answers it with an
  ``isError`` result instead (python-sdk#3659), which a model reads as a tool
  that ran and failed. A middleware rejects the name before ``MCPServer``
  looks it up, as the reference ``mcp-server-time`` does. ``prompts/get`` of
  an unknown prompt or without a required argument is ``-32602`` too
  (server/prompts, "Error Handling"); the SDK answers a ValueError there as
  code 0 (handshake era) or -32603 (2026-07-28). Remove both checks once the
  SDK does them itself.
* **logging/setLevel** (handshake-era protocol; the 2026-07-28 revision moved
  log levels into each request's ``_meta``). The SDK serves it only if the
  server registers a handler, and advertises ``logging`` only then. The level
  is remembered per session (:func:`log_level`); the server sends no log
  notifications of its own today, so nothing is filtered yet.
* **completion/complete** for prompt arguments: a few canonical values for
  arguments that take one (``duration``, ``window``, ``day``, ...), filtered by
  the prefix typed so far. Any other argument, including arguments of prompts
  this server does not have, completes to no values (the conformance suite
  asks for exactly that); resource templates: none exist.
"""

from __future__ import annotations

import weakref
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    EmptyResult,
    LoggingLevel,
    PromptReference,
    ResourceTemplateReference,
    SetLevelRequestParams,
)

from . import sdk

# Canonical values for prompt arguments, by argument name (prompts/scheduling.py names them).
ARGUMENT_VALUES: dict[str, tuple[str, ...]] = {
    "duration": ("15m", "30m", "45m", "1h", "90m", "2h"),
    "window": ("today", "tomorrow", "this week", "next week", "next two weeks"),
    "week": ("this week", "next week", "last week"),
    "day": ("today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday"),
    "days": ("1", "3", "7", "14"),
    "hours": ("1", "2", "4", "8"),
    "room_for": ("2", "4", "6", "8", "12"),
}

_levels: weakref.WeakKeyDictionary[Any, LoggingLevel] = weakref.WeakKeyDictionary()


def install(server: MCPServer, tool_names: frozenset[str]) -> None:
    """Add the unknown-name checks, logging/setLevel and completion to ``server``.

    ``tool_names``: the tools the server was built with (it adds none later). A set, looked up per call:
    listing the tools on every ``tools/call`` rebuilt all 42 schemas' models each time."""

    async def reject_unknown_names(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        name = params.get("name")
        if ctx.method == "tools/call" and isinstance(name, str):
            if name not in tool_names:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}")
        elif ctx.method == "prompts/get" and isinstance(name, str):
            prompt = next((p for p in await server.list_prompts() if p.name == name), None)
            if prompt is None:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}")
            given = params.get("arguments") or {}
            missing = [a.name for a in prompt.arguments or () if a.required and a.name not in given]
            if missing:
                raise MCPError(code=INVALID_PARAMS, message=f"Missing required arguments: {', '.join(missing)}")
        return await call_next(ctx)

    server.middleware.append(reject_unknown_names)

    async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        _levels[ctx.session] = params.level
        return EmptyResult()

    sdk.add_request_handler(server, "logging/setLevel", SetLevelRequestParams, set_level)

    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        values = ARGUMENT_VALUES.get(argument.name, ()) if isinstance(ref, PromptReference) else ()
        typed = argument.value.strip().lower()
        found = [v for v in values if v.startswith(typed)]
        return Completion(values=found, total=len(found), has_more=False)


def log_level(session: Any) -> LoggingLevel | None:
    """The level a client set with logging/setLevel on this session, if any."""
    return _levels.get(session)
