"""What every tool shares: annotation constants, the one error boundary, registration, input types.

A tool is a short async function: validate its input, call an operation of
:mod:`..calendar` (or, for a plain read, the one
:class:`~outlook_calendar_mcp.graph.GraphClient`), shape the answer through
:mod:`..views`. :func:`tool` builds it as the SDK's public ``Tool`` with all
four annotation hints, wrapped in the error boundary (anticipated failures:
Graph errors, bad times, unknown handles, bad input, a person over their rate
limit (:mod:`.rate`), become ``ToolError``
with a message that says what to fix; anything else is a crash the SDK
reports without taking the server down), and collects it in a
:data:`Toolbox` that ``server.create_server`` hands to ``MCPServer(tools=)``.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import anyio
from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import InvalidSignature, ToolError
from mcp.server.mcpserver.resolve import Resolve, build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.shared.inbound import find_invalid_x_mcp_header
from mcp.shared.tool_name_validation import validate_and_warn_tool_name
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, TypeAdapter

from .. import timezones as tz
from ..calendar import InputError
from ..graph import GraphError, outcomes
from ..graph.errors import OutcomeUnknown
from ..ids import UnknownHandle, strings
from ..state import StateUnavailable
from . import limits
from .confirm import Confirmation, Declined, Preview, asker, decide
from .policy import CALL_TIMEOUT_S, Policy
from .rate import RateLimited
from .schema import (
    ArgumentsAtFirstUse,
    UnknownForm,
    arguments_model,
    input_schema,
    lean,
    nulls_as_absent,
    shallow_output,
)

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
    and whether it must be confirmed before it reaches other people (:mod:`.confirm`)."""

    def decorate(fn: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[BaseModel]]:
        # The tool's name is a contract (OPERATIONS.md): written out at each tool, and it must be the function's.
        assert name is None or name == fn.__name__, (name, fn.__name__)
        if enabled is not None and not enabled(fn.__name__, annotations):
            return fn
        policy = enabled
        confirm = policy if policy is not None and policy.needs_confirmation(annotations) else None
        signature = inspect.signature(fn, eval_str=True)  # the one evaluation of its annotations
        own_context = _context_parameter(signature)  # the tool's own Context parameter, if it has one
        context_kwarg = own_context or CONTEXT
        records = not annotations.read_only_hint

        @functools.wraps(fn)
        async def boundary(*args: Any, **kwargs: Any) -> Any:
            context = kwargs.get(own_context) if own_context else kwargs.pop(CONTEXT, None)
            person = kwargs.pop(PERSON, None)
            token = kwargs.pop("confirm", None) if confirm is not None else None
            arguments = {k: v for k, v in kwargs.items() if k != own_context}
            outcome, error = "ok", None
            with outcomes.collect() as calls:
                try:
                    if policy is not None and policy.rate is not None:
                        await policy.rate.take(fn.__name__)  # before anything reaches Graph
                    with anyio.fail_after(policy.call_timeout_s if policy else CALL_TIMEOUT_S):
                        limits.check(fn.__name__, arguments, _today(policy))
                        if policy is not None and policy.services is not None:  # one store round trip, awaited
                            await policy.services.handles.prefetch(strings(arguments))
                        if confirm is not None:
                            preview = await decide(confirm, fn.__name__, arguments, token, person, context)
                            if preview is not None:
                                outcome = "preview"
                                return preview
                        answer = result(await fn(*args, **kwargs))
                    if calls.notes:
                        outcome = "recovered"
                        answer.content.append(TextContent(type="text", text=" ".join(calls.notes)))
                    return answer
                except RateLimited:
                    outcome = "rate_limited"
                    raise
                except Declined as e:
                    outcome = "declined"
                    raise ToolError(str(e)) from None
                except StateUnavailable as e:  # Redis down or unreachable: said, never waited on
                    outcome, error = "unknown" if calls.writes else "failed", "StateUnavailable"
                    raise ToolError(
                        f"{fn.__name__} could not finish: the server's state store (handles, confirmations) did not "
                        f"answer: {e}. Try again in a moment; if it persists, ask the administrator to check it "
                        "(OUTLOOK_MCP_STATE_URL)." + (_earlier_writes(calls, e) or " Nothing was changed.")
                    ) from None
                except ANTICIPATED_ERRORS as e:
                    outcome = "unknown" if isinstance(e, OutcomeUnknown) else "failed"
                    error = type(e).__name__
                    raise ToolError(_scrub(policy, str(e)) + _earlier_writes(calls, e)) from e
                except TimeoutError:
                    outcome, error = "unknown" if calls.writes else "failed", "TimeoutError"
                    raise ToolError(
                        f"{fn.__name__} did not finish within {policy.call_timeout_s if policy else CALL_TIMEOUT_S:g}s "
                        "and was stopped"
                        + (
                            "; a write it sent may have been applied: check before retrying."
                            if calls.writes
                            else "; nothing was changed."
                        )
                    ) from None
                except ToolError:
                    outcome = "failed"
                    raise
                except Exception as e:  # a bug or an input nothing anticipated: name the tool and the argument
                    outcome, error = "failed", type(e).__name__
                    suspect = _suspect(arguments, e)
                    log.error("tool %s failed unexpectedly: %s (argument %s)", fn.__name__, type(e).__name__, suspect)
                    raise ToolError(
                        f"{fn.__name__} could not handle argument {suspect}: {type(e).__name__}"
                        f" ({_scrub(policy, limits.clip(str(e), 200))}). Check that value; nothing was changed"
                        + (" unless the audit trail shows a write." if calls.writes else ".")
                    ) from None
                finally:
                    if records and policy is not None and policy.services is not None:
                        policy.services.forget_series_rules()  # a read overlapping this write must not be kept
                    if records and policy is not None and policy.audit is not None and policy.services is not None:
                        policy.audit.record(
                            user=policy.services.user_key(),
                            tool=fn.__name__,
                            arguments=arguments,
                            calls=calls,
                            outcome=outcome,
                            error=error,
                        )

        if confirm is not None:
            signature = _add_confirm_parameters(signature, fn.__name__, boundary, confirm, own_context)
        elif own_context is None:
            signature = _add_context_parameter(signature, boundary)
        else:
            _give(boundary, signature)
        description = " ".join((fn.__doc__ or "").split())
        try:
            registered = _built(boundary, signature, fn.__name__, description, annotations, context_kwarg)
        except UnknownForm:
            registered = _built_by_sdk(boundary, signature, fn.__name__, description, annotations, context_kwarg)
            if confirm is not None:
                _allow_preview(registered)
        box.append(registered)
        return fn

    return decorate


CONTEXT = "mcp_request_context"  # the SDK's Context, for tools that do not take it themselves
PERSON = "person_confirmation"  # the person's answer to the confirmation question (elicitation), see .confirm


def _earlier_writes(calls: outcomes.Calls, error: Exception) -> str:
    """A failure after a write of the same call succeeded must not read as "nothing happened"."""
    done = [w for w in calls.writes if w.outcome in ("ok", "recovered")]
    if not done or isinstance(error, OutcomeUnknown):
        return ""
    return (
        f" Note: {len(done)} write(s) of this call succeeded before it failed ({done[-1].method}), so the change "
        "may have been applied in part or in full: read it back before retrying."
    )


def _today(policy: Policy | None) -> dt.date | None:
    return policy.services.clock.now().date() if policy is not None and policy.services is not None else None


def _scrub(policy: Policy | None, message: str) -> str:
    """A message fit to send: at most 2,000 characters, without this machine's directories."""
    if policy is not None and policy.services is not None:
        settings = policy.services.settings
        places = [
            (settings.attachments_dir, "<attachments directory>"),
            (settings.data_dir, "<data directory>"),
            (settings.cache_dir, "<cache directory>"),
            (Path.home(), "~"),
        ]
        for place, label in places:
            if place is None:
                continue
            for form in {str(place), str(Path(place).expanduser().resolve())}:
                if len(form) > 1:
                    message = message.replace(form, label)
    return limits.clip(message, 2000)


def _suspect(arguments: dict[str, Any], error: Exception) -> str:
    """The argument most likely behind an unexpected error: one whose value the error or its traceback
    mentions, else the longest; shown by name."""
    text = str(error)
    for key, value in arguments.items():
        if isinstance(value, str) and value and value[:40] in text:
            return f"'{key}'"
    given = [(len(str(v)), k) for k, v in arguments.items() if v is not None]
    return f"'{max(given)[1]}'" if given else "(none given)"


def _context_parameter(signature: inspect.Signature) -> str | None:
    """The parameter typed as the SDK's Context (or a union with it), as ``find_context_parameter`` finds it,
    from the already evaluated signature."""
    for parameter in signature.parameters.values():
        annotation = parameter.annotation
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        for candidate in (annotation, *get_args(annotation)):
            if inspect.isclass(candidate) and issubclass(candidate, Context):
                return parameter.name
    return None


def _add_context_parameter(signature: inspect.Signature, boundary: Callable[..., Any]) -> inspect.Signature:
    """The boundary also takes the SDK's Context (session, capabilities), under a name no tool uses."""
    extra = inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Context | None)
    return _give(boundary, signature.replace(parameters=[*signature.parameters.values(), extra]))


def _add_confirm_parameters(
    signature: inspect.Signature, name: str, boundary: Callable[..., Any], policy: Policy, own_context: str | None
) -> inspect.Signature:
    """Advertise ``confirm`` (the preview's token) and take the person's answer (elicitation) and the Context."""
    names = [p for p in signature.parameters if p != own_context] + ["confirm"]
    token = inspect.Parameter(
        "confirm",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, Field(description="Token from this tool's preview: pass it to really do it")],
    )
    answer_type = Annotated[ElicitationResult[Confirmation], Resolve(asker(policy, name, names))]
    person = inspect.Parameter(PERSON, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=answer_type)
    params = [*signature.parameters.values(), token, person]
    if own_context is None:
        params.append(
            inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Context | None)
        )
    return _give(boundary, signature.replace(parameters=params))


def _give(boundary: Callable[..., Any], signature: inspect.Signature) -> inspect.Signature:
    """The boundary's signature and annotations, evaluated (the SDK's resolvers read them again)."""
    boundary.__signature__ = signature  # type: ignore[attr-defined]
    boundary.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {
        "return": signature.return_annotation
    }
    return signature


def _built(
    boundary: Callable[..., Any],
    signature: inspect.Signature,
    name: str,
    description: str,
    annotations: ToolAnnotations,
    context_kwarg: str,
) -> Tool:
    """The tool as ``Tool.from_function`` + :func:`_forbid_unknown_arguments` build it, from the one evaluated
    signature: the input schema written from the annotations (tools/schema.py), the argument model built at
    the first call, the output schema read off the result model. tests/unit/test_tool_build.py holds every
    field equal to the SDK's way. Raises UnknownForm where that cannot be done (see :func:`_built_by_sdk`)."""
    returns = signature.return_annotation
    if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
        raise UnknownForm(f"{name} returns {returns!r}")
    resolved = find_resolved_parameters(boundary) if any(_resolves(p) for p in signature.parameters.values()) else {}
    arguments = [p for p in signature.parameters.values() if p.name != context_kwarg and p.name not in resolved]
    parameters = input_schema(arguments)
    validate_and_warn_tool_name(name)
    if (reason := find_invalid_x_mcp_header(parameters)) is not None:
        raise InvalidSignature(f"Tool {name!r} has an invalid x-mcp-header annotation: {reason}")
    return Tool(
        fn=boundary,
        name=name,
        description=description,
        parameters=parameters,
        # No output model: the result is already that model, dumped once (``result``); the SDK would validate
        # the dump back into it on every call. The advertised output schema is the model's top level.
        fn_metadata=ArgumentsAtFirstUse.of(
            lambda: arguments_model(f"{name}Arguments", arguments), output_schema=shallow_output(returns)
        ),
        is_async=inspect.iscoroutinefunction(boundary),
        context_kwarg=context_kwarg,
        resolved_params=resolved,
        resolver_plans=build_resolver_plans(resolved, {p.name for p in arguments}) if resolved else {},
        annotations=annotations,
    )


def _resolves(parameter: inspect.Parameter) -> bool:
    annotation = parameter.annotation
    return get_origin(annotation) is Annotated and any(isinstance(m, Resolve) for m in get_args(annotation)[1:])


def _built_by_sdk(
    boundary: Callable[..., Any],
    signature: inspect.Signature,
    name: str,
    description: str,
    annotations: ToolAnnotations,
    context_kwarg: str,
) -> Tool:
    """The SDK's way (``Tool.from_function``), for a tool whose types :func:`_built` does not know."""
    returns = signature.return_annotation
    shallow = isinstance(returns, type) and issubclass(returns, BaseModel)
    registered = Tool.from_function(
        boundary,
        name=name,
        description=description,
        annotations=annotations,
        context_kwarg=context_kwarg,
        structured_output=False if shallow else None,
    )
    if shallow:
        registered.fn_metadata = FuncMetadata(
            arg_model=registered.fn_metadata.arg_model, output_model=None, output_schema=shallow_output(returns)
        )
    _forbid_unknown_arguments(registered)
    return registered


def _allow_preview(registered: Tool) -> None:
    """A tool that may answer with a preview (needs_confirmation) says so in its output schema."""
    meta = registered.fn_metadata
    if meta.output_model is None or meta.output_schema is None:
        return
    meta.output_model = meta.output_model | Preview
    meta.output_schema = {"type": "object", "anyOf": [meta.output_schema, _preview_schema()]}


@functools.cache
def _preview_schema() -> dict[str, Any]:
    """The preview's output schema, built once for every confirmable tool (start-up cost)."""
    return lean(TypeAdapter(Preview).json_schema(), output=True)


def _forbid_unknown_arguments(registered: Tool) -> None:
    """Reject arguments the tool does not define (the SDK drops them silently: a typo such as
    'timezone' for 'time_zone' would book the event at another instant). Advertised too, as
    additionalProperties: false."""
    # forbids extra arguments; strict-mode clients send null for "not given"; built at the first call
    registered.fn_metadata.arg_model = nulls_as_absent(registered.fn_metadata.arg_model)
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
