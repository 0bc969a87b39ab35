"""What every tool shares: annotation constants, the one error boundary, registration, input types.

A tool is a short async function: validate its input, call an operation of
:mod:`..calendar` (or, for a plain read, the one
:class:`~outlook_calendar_mcp.graph.GraphClient`), shape the answer through
:mod:`..views`. :func:`tool` builds it as the SDK's public ``Tool`` with all
four annotation hints, wrapped in the error boundary (anticipated failures:
Graph errors, bad times, unknown handles, bad input, become ``ToolError``
with a message that says what to fix; anything else is a crash the SDK
reports without taking the server down), and collects it in a
:data:`Toolbox` that ``server.create_server`` hands to ``MCPServer(tools=)``.
"""

from __future__ import annotations

import functools
import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .. import timezones as tz
from ..calendar import InputError
from ..graph import GraphError
from ..ids import UnknownHandle
from .policy import Policy
from .schema import lean, shallow_output

log = logging.getLogger("outlook_calendar_mcp.tools")


ANTICIPATED_ERRORS = (GraphError, tz.TimeZoneError, tz.DateTimeFormatError, UnknownHandle, InputError)

# -- annotations ---------------------------------------------------------------------

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def writes(*, destructive: bool, idempotent: bool, reaches_others: bool = False) -> ToolAnnotations:
    """Annotations of a tool that changes the calendar; ``reaches_others``: it may notify other people."""
    return ToolAnnotations(
        read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent, open_world_hint=reaches_others
    )


# -- registration ----------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def result(model: BaseModel) -> CallToolResult:
    """structuredContent without nulls, and the same JSON (compact) as the text block."""
    data = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


Toolbox = list[Tool]
"""The tools a server will have, collected by each module's ``register`` before the server is built
(``MCPServer(tools=...)``): the public way to hand the SDK a tool whose schema was adjusted first."""


def tool(box: Toolbox, annotations: ToolAnnotations, *, enabled: Policy | None = None, name: str | None = None):
    """Register an async tool function (its name, docstring, typed signature) behind the error boundary.

    ``enabled`` (a :class:`~.policy.Policy`) decides whether the tool exists at all (read-only mode, --tools)
    and whether it must be confirmed before it reaches other people."""

    def decorate(fn: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[BaseModel]]:
        # The tool's name is a contract (OPERATIONS.md): written out at each tool, and it must be the function's.
        assert name is None or name == fn.__name__, (name, fn.__name__)
        if enabled is not None and not enabled(fn.__name__, annotations):
            return fn
        confirm = enabled if enabled is not None and enabled.needs_confirmation(annotations) else None

        @functools.wraps(fn)
        async def boundary(*args: Any, **kwargs: Any) -> Any:
            try:
                if confirm is not None:
                    token = kwargs.pop("confirm", None)
                    preview = await _preview(confirm, fn.__name__, kwargs, token)
                    if preview is not None:
                        return preview
                return result(await fn(*args, **kwargs))
            except ANTICIPATED_ERRORS as e:
                raise ToolError(str(e)) from e

        if confirm is not None:
            _add_confirm_parameter(fn, boundary)
        description = " ".join((fn.__doc__ or "").split())
        returns = inspect.signature(fn, eval_str=True).return_annotation
        if isinstance(returns, type) and issubclass(returns, BaseModel):
            # The advertised output schema is the result model's top level (tools/schema.py): read off its
            # fields, not generated whole by pydantic and cut down (tests/unit/test_output_schemas.py).
            registered = Tool.from_function(
                boundary, name=fn.__name__, description=description, annotations=annotations, structured_output=False
            )
            registered.fn_metadata = FuncMetadata(
                arg_model=registered.fn_metadata.arg_model, output_model=returns, output_schema=shallow_output(returns)
            )
        else:
            registered = Tool.from_function(
                boundary, name=fn.__name__, description=description, annotations=annotations
            )
        _forbid_unknown_arguments(registered)
        box.append(registered)
        return fn

    return decorate


def _add_confirm_parameter(fn: Callable[..., Any], boundary: Callable[..., Any]) -> None:
    """Advertise an extra ``confirm`` argument on a tool that needs confirmation before it sends."""
    signature = inspect.signature(fn, eval_str=True)
    extra = inspect.Parameter(
        "confirm",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, Field(description="Token from this tool's preview: pass it to really do it")],
    )
    params = [p for p in signature.parameters.values()] + [extra]
    boundary.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]


async def _preview(policy: Policy, name: str, arguments: dict[str, Any], token: str | None) -> CallToolResult | None:
    """None when ``token`` confirms exactly these arguments; else the preview to show the user."""
    expected = policy.token(name, arguments)
    if token is not None and hmac.compare_digest(token, expected):
        return None
    who = await policy.recipients(name, arguments) if policy.recipients else []
    if not who:  # nobody else would be told (an event without attendees): nothing to confirm
        return None
    shown = json.loads(json.dumps({k: v for k, v in arguments.items() if v is not None}, default=_plain))
    lines = [
        ("The confirmation token does not match these arguments. " if token else "")
        + f"Confirmation needed: {name} would notify {', '.join(who) if who else 'the people on the event'}.",
        "What: " + json.dumps(shown, ensure_ascii=False),
        f"Show this to the user. Only if they agree, call {name} again with the same arguments and "
        f'confirm="{expected}".',
    ]
    return CallToolResult(
        is_error=True,
        content=[TextContent(type="text", text="\n".join(lines))],
        structured_content={
            "confirmation_required": True,
            "tool": name,
            "notify": who,
            "arguments": shown,
            "confirm": expected,
        },
    )


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else str(value)


def _forbid_unknown_arguments(registered: Tool) -> None:
    """Reject arguments the tool does not define (the SDK drops them silently: a typo such as
    'timezone' for 'time_zone' would book the event at another instant). Advertised too, as
    additionalProperties: false."""
    model = registered.fn_metadata.arg_model
    model.model_config["extra"] = "forbid"
    model.model_rebuild(force=True)
    registered.parameters["additionalProperties"] = False
    # The advertised schemas, made lean (same arguments and results accepted; see tools/schema.py).
    registered.parameters = lean(registered.parameters)
    if registered.fn_metadata.output_schema is not None:
        registered.fn_metadata.output_schema = lean(registered.fn_metadata.output_schema, output=True)


# -- shared argument types -------------------------------------------------------------------

Mailbox = Annotated[str | None, Field()]  # another user's or a shared mailbox (address); default: yours
CalendarId = Annotated[str | None, Field(description="Calendar handle; default main")]
GroupId = Annotated[str | None, Field(description="M365 group id or address")]  # use that group's calendar
TimeZoneArg = Annotated[str | None, Field(description="IANA or Windows zone")]
EventRef = Annotated[str, Field()]  # an ev_ handle or a Graph id
DetailArg = Annotated[Literal["compact", "full"], Field()]  # full: body, attendee list, recurrence, ids
MaxResults = Annotated[int, Field(ge=1, le=1000, strict=True)]
Time = Annotated[str, Field(description="ISO 8601; no offset = mailbox zone")]
