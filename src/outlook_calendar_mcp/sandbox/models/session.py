"""What the domain needs of one request (:class:`Session`): the store, who calls, on which mailbox, when.

The HTTP handlers' :class:`..ctx.Session` is a Session with the request around it; the models take a
Session, so they run as well from the seed (no request) as from a handler.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .events import Render
from .rows import MailboxRow
from .store import Store


@dataclass
class Principal:
    """Who is calling: a mailbox (delegated) or the app itself."""

    signed_in: MailboxRow | None  # the signed-in user's mailbox; None when app-only

    @property
    def app_only(self) -> bool:
        return self.signed_in is None

    @property
    def mailbox(self) -> MailboxRow:
        """The signed-in user's mailbox (only asked of a delegated principal)."""
        if self.signed_in is None:
            raise RuntimeError("an app-only principal has no mailbox")
        return self.signed_in


@dataclass(kw_only=True)
class Session:
    """The store, the caller, the target mailbox and the time of one request (or of the seed)."""

    store: Store
    principal: Principal
    now: dt.datetime
    view: Render = field(default_factory=Render)
    target: MailboxRow | None = None  # the mailbox the request is about, once the route names it
    path_prefix: str = ""  # "me", "users/{id}" or "groups/{id}", as the caller wrote it
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mailbox(self) -> MailboxRow:
        """The mailbox the request is about (the route sets it before any handler runs)."""
        if self.target is None:
            raise RuntimeError("no target mailbox: the route did not name one")
        return self.target

    @mailbox.setter
    def mailbox(self, row: MailboxRow) -> None:
        self.target = row
