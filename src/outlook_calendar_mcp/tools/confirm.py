"""A person's confirmation before a tool reaches other people (``--confirm-sends``).

Two ways, chosen per call by what the client declared:

* **Elicitation** (the client has the ``elicitation`` capability): before the tool runs, the SDK's resolver
  (:func:`asker`) asks the person through ``elicitation/create`` — who would be told, what — with one
  boolean to accept. Accept runs the tool; Decline or Cancel leaves everything as it was and says so.
  The model never sees a token it could confirm with on its own.
* **Preview and token** (no elicitation): the first call answers successfully with ``needs_confirmation``,
  who, what and a token. The token confirms exactly those arguments, in that session, for that user, for
  ten minutes on the server's clock, once (the claim store); the tool acts when called again with the
  same arguments and ``confirm=<token>``.

A call that would tell nobody else (an event without attendees) needs no confirmation.
"""

from __future__ import annotations

import datetime as dt
import hmac
import inspect
import json
import weakref
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp_types import CallToolResult, TextContent
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, ConfigDict, Field

from ..ids import strings
from . import limits
from .policy import TOKEN_TTL_S, Policy

__all__ = ["NOBODY", "NOT_ASKED", "Confirmation", "Preview", "asker", "decide", "session_key"]

NOT_ASKED = "not-asked"  # the resolver did not ask (no elicitation, a token given, or bad input)
NOBODY = "nobody"  # nobody else would be told: nothing to confirm
CONTEXT_PARAMETER = "confirm_request_context"


class Confirmation(BaseModel):
    """What the person answers through elicitation: one boolean."""

    send: bool = Field(description="Send it: the people listed will be told")


class Preview(BaseModel):
    """The successful answer of a call that needs the person's confirmation first (no elicitation)."""

    model_config = ConfigDict(extra="forbid")

    needs_confirmation: bool
    tool: str
    notify: list[str]
    arguments: dict[str, Any]
    confirm: str
    expires_at: str
    note: str | None = None


_sessions: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def session_key(context: Context | None) -> str:
    """The MCP session of a call: the transport's session id; else, on a handshake-era connection (stdio,
    in memory), one id per connection. Protocol 2026-07-28 has no sessions: each request comes on its own,
    so there the token is bound to the user (and this server process) only."""
    if context is None:
        return "no-session"
    try:
        session = context.request_context.session
        version = context.protocol_version
    except (AttributeError, RuntimeError, LookupError):
        return "no-session"
    connection = getattr(session, "_connection", None)  # the SDK keeps the connection there, not public
    sid = getattr(connection, "session_id", None)
    if sid:
        return f"sid:{sid}"
    if version is not None and is_version_at_least(version, "2026-07-28"):
        return "sessionless"
    if connection is None:
        return "no-session"
    try:
        return _sessions.setdefault(connection, f"conn:{uuid4().hex}")
    except TypeError:  # not weak-referenceable
        return f"conn:{id(connection)}"


def can_elicit(context: Context | None) -> bool:
    try:
        capabilities = context.client_capabilities if context is not None else None
    except (AttributeError, RuntimeError, LookupError):
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _shown(arguments: dict[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in arguments.items() if v is not None}
    data = json.loads(json.dumps(plain, default=_plain))
    return {k: (limits.clip(v, 300) if isinstance(v, str) else v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else str(value)


def asker(policy: Policy, name: str, parameters: list[str]) -> Callable[..., Any]:
    """The resolver that asks the person (elicitation) before ``name`` runs; the SDK runs it first, with the
    call's validated arguments by name (see ``mcp.server.mcpserver.resolve``)."""

    async def ask(**kwargs: Any) -> Any:
        context = kwargs.pop(CONTEXT_PARAMETER, None)
        token = kwargs.pop("confirm", None)
        if token or not can_elicit(context):
            return NOT_ASKED
        svc = policy.services
        try:
            limits.check(name, kwargs, svc.clock.now().date() if svc else dt.date(2000, 1, 1))
            if svc is not None:  # runs before the error boundary: the handles it reads, looked up at once
                await svc.handles.prefetch(strings(kwargs))
            who = await policy.recipients(name, kwargs) if policy.recipients else []
        except Exception:
            return NOT_ASKED
        if not who:
            return NOBODY
        what = json.dumps(_shown(kwargs), ensure_ascii=False)
        return Elicit(f"{name} would notify {', '.join(who)}.\nWhat: {what}\nSend it?", Confirmation)

    ask.__name__ = ask.__qualname__ = f"confirm_{name}"
    params = [inspect.Parameter(CONTEXT_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    params += [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=Any) for p in parameters]
    ask.__signature__ = inspect.Signature(params, return_annotation=Any)  # type: ignore[attr-defined]
    ask.__annotations__ = {CONTEXT_PARAMETER: Context, **dict.fromkeys(parameters, Any), "return": Any}
    return ask


class Declined(Exception):
    """The person said no (or closed the question): nothing was sent."""


async def decide(
    policy: Policy, name: str, arguments: dict[str, Any], token: str | None, person: Any, context: Context | None
) -> CallToolResult | None:
    """None when the tool may act now; else the preview to answer with. Raises Declined."""
    if isinstance(person, (DeclinedElicitation, CancelledElicitation)):
        raise Declined(
            f"Not done: the person {person.action}d; nothing was sent."
            if person.action == "decline"
            else "Not done: the person cancelled the question; nothing was sent."
        )
    if isinstance(person, AcceptedElicitation):
        if isinstance(person.data, Confirmation):
            if person.data.send:
                return None
            raise Declined("Not done: the person answered not to send it; nothing was sent.")
        if person.data == NOBODY:
            return None
    svc = policy.services
    now = svc.clock.timestamp() if svc else 0.0
    user = svc.user_key() if svc else "me"
    session = "sessionless" if policy.sessionless else session_key(context)
    note = None
    if token:
        problem = await _check_token(policy, name, arguments, token, session, user, now)
        if problem is None:
            return None
        note = problem
    who = await policy.recipients(name, arguments) if policy.recipients else []
    if not who:
        return None
    if token is None and can_elicit(context):  # never hand a model a token where the person can be asked
        raise Declined(f"Not done: {name} needs the person's confirmation and asking them failed; try again.")
    issued = int(now)
    fresh = policy.token(name, arguments, session=session, user=user, issued=issued)
    shown = _shown(arguments)
    expires = dt.datetime.fromtimestamp(issued + TOKEN_TTL_S, dt.UTC).isoformat(timespec="seconds")
    preview = Preview(
        needs_confirmation=True,
        tool=name,
        notify=who,
        arguments=shown,
        confirm=fresh,
        expires_at=expires,
        note=note,
    )
    scope = "" if session == "sessionless" else "in this session, "
    lines = [
        (f"{note} " if note else "") + f"Needs confirmation: {name} would notify {', '.join(who)}.",
        "What: " + json.dumps(shown, ensure_ascii=False),
        f"Show this to the user. Only if they agree, call {name} again with the same arguments and "
        f'confirm="{fresh}" (valid once, {scope}until {expires}).',
    ]
    data = preview.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text="\n".join(lines))], structured_content=data)


async def _check_token(
    policy: Policy, name: str, arguments: dict[str, Any], token: str, session: str, user: str, now: float
) -> str | None:
    """None when ``token`` confirms this call (and is now used up); else why not."""
    head, _, _ = token.partition(".")
    try:
        issued = int(head, 16)
    except ValueError:
        return "That confirmation token is not one this server issued."
    expected = policy.token(name, arguments, session=session, user=user, issued=issued)
    if not hmac.compare_digest(token, expected):
        return "That confirmation token does not match these arguments, this session or this user."
    if now - issued > TOKEN_TTL_S or issued - now > 60:
        return "That confirmation token has expired (tokens last 10 minutes)."
    claims = policy.claims
    if claims is not None and not await claims.aclaim(f"confirm:{token}", TOKEN_TTL_S + 60):
        return "That confirmation token was already used."
    return None
