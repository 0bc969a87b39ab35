"""The sandbox: a Microsoft Graph v1.0-compatible calendar service (Starlette over SQLite).

``Sandbox(db, clock=...)`` assembles a store, its clock and the ASGI app; ``create_app(store, clock=...)``
is the app alone. See :mod:`.app` for the request pipeline and :mod:`.urls` for the route table.
"""

from .app import Sandbox, create_app

__all__ = ["Sandbox", "create_app"]
