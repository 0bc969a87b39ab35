"""Several people, each with their own MCP server, on one sandbox (for sharing, groups and sync tests).

``colleagues(tmp, "adele", "dana", ...)`` builds one sandbox app (seeded), and for each person a
GraphClient signed in as them and a server with its own data_dir (so each has its own handles and sync
state); :class:`People` calls tools as someone, takes snapshots of the sandbox and records the Graph
requests a person's server sends. :meth:`People.restore` puts the sandbox back as seeded, so one module
fixture serves many tests.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client

from outlook_calendar_mcp.graph import GraphClient
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.models.store import Store
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_clock

from .conftest import dump, failure, sandbox_settings, structured

ISSUE5_TOOLS = ("sync_events", "list_calendar_groups", "get_calendar_group", "create_calendar_group",
                "update_calendar_group", "delete_calendar_group", "list_calendar_permissions", "share_calendar",
                "update_calendar_permission", "remove_calendar_permission")


def address(who: str) -> str:
    return f"{who}@contoso.com"


@dataclass
class People:
    store: Store
    clients: dict[str, Client]
    graphs: dict[str, GraphClient]
    handles: dict[str, Handles]
    template: sqlite3.Connection
    sent: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def restore(self) -> None:
        self.store.restore_from(self.template)
        self.sent.clear()

    async def call(self, who: str, tool: str, args: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return structured(await self.clients[who].call_tool(tool, args or {}, **kw))

    async def fail(self, who: str, tool: str, args: dict[str, Any] | None = None) -> str:
        return failure(await self.clients[who].call_tool(tool, args or {}))

    def snapshot(self) -> dict[str, list[tuple]]:
        return dump(self.store.db)

    def graph_id(self, who: str, handle: str, kind: str = "event") -> str:
        return self.handles[who].resolve(kind, handle, argument="test")

    def rows(self, sql: str, *args: Any) -> list[Any]:
        return self.store.db.execute(sql, args).fetchall()


@contextlib.asynccontextmanager
async def colleagues(tmp: Path, *who: str) -> AsyncIterator[People]:
    sandbox = Sandbox(":memory:", clock=suite_clock())               # seeds the demo organization
    store = sandbox.store
    template = sqlite3.connect(":memory:")
    store.db.backup(template)
    sent: list[tuple[str, str, dict[str, str]]] = []
    async with AsyncExitStack() as stack:
        clients, graphs, handles = {}, {}, {}
        for name in who:
            settings = sandbox_settings(tmp / name, sandbox_user=address(name))
            graph = build_graph(settings, clock=sandbox.clock, sandbox=sandbox)
            graph.on_request.append(lambda m, u, h, b, name=name: sent.append((name, f"{m} {u}", h)))
            stack.push_async_callback(graph.aclose)
            graphs[name] = graph
            handles[name] = Handles()
            clients[name] = await stack.enter_async_context(
                Client(create_server(settings, graph, handles=handles[name])))
        yield People(store=store, clients=clients, graphs=graphs, handles=handles, template=template, sent=sent)
    template.close()
    store.close()
