"""What the domain needs of one request (:class:`Session`): the store, who calls, on which mailbox, when.

The HTTP handlers' :class:`..ctx.Session` is a Session with the request around it; the models take a
Session, so they run as well from the seed (no request) as from a handler.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .events import Render
from .store import Store


@dataclass
class Principal:
    """Who is calling: a mailbox (delegated) or the app itself."""

    mailbox: Any | None  # sqlite3.Row of the signed-in mailbox; None when app-only

    @property
    def app_only(self) -> bool:
        return self.mailbox is None


@dataclass(kw_only=True)
class Session:
    """The store, the caller, the target mailbox and the time of one request (or of the seed)."""

    store: Store
    principal: Principal
    now: dt.datetime
    view: Render = field(default_factory=Render)
    mailbox: Any | None = None  # the target mailbox row
    path_prefix: str = ""       # "me", "users/{id}" or "groups/{id}", as the caller wrote it
    extra: dict[str, Any] = field(default_factory=dict)
