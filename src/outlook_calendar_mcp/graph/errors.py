"""Errors raised by the Graph client, one class per thing a caller can act on.

Our exception hierarchy:

* GraphError                  - anything that kept a Graph request from succeeding.
  + GraphTransportError       - no HTTP answer: connect errors, timeouts, resets (status None).
    + OutcomeUnknown          - a write was sent, its reply was lost, and reading back could not tell
                                whether it took effect (the message says what to check).
  + AuthenticationRequired    - no usable credentials; the message says how to sign in.
  + AuthenticationFailed      - a sign-in or token request was made and refused or unreachable.
  + ConfigurationError        - settings that cannot work (app-only without a mailbox, ...).
  + BadRequest                - 400.
  + Unauthorized              - 401 (after one token refresh).
  + Forbidden                 - 403.
  + NotFound                  - 404.
  + MethodNotAllowed          - 405.
  + Conflict                  - 409.
  + PreconditionFailed        - 412 (an If-Match etag no longer matches).
  + Throttled                 - 429, once retries or the retry budget ran out.
  + ServiceError              - 5xx.
    + ServiceUnavailable      - 503.
    + GatewayTimeout          - 504.

Every error carries ``status``, ``code``, ``message``, ``request_id``, ``date``
and ``retry_after`` (seconds, when the service said when to come back).
``str(error)`` is short and meant to be read by a model or a person::

    The specified object was not found in the store. (Graph 404 ErrorItemNotFound; request-id 9f1c...)

Graph reports failures as::

    {"error": {"code": "...", "message": "...",
               "innerError": {"request-id": "...", "date": "...", "client-request-id": "..."}}}

:func:`error_from_response` turns such a response (or any other failing
response, JSON or not) into the matching class.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = [
    "AuthenticationFailed",
    "AuthenticationRequired",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "GatewayTimeout",
    "GraphError",
    "GraphTransportError",
    "MethodNotAllowed",
    "NotFound",
    "OutcomeUnknown",
    "PreconditionFailed",
    "ServiceError",
    "ServiceUnavailable",
    "Throttled",
    "Unauthorized",
    "error_from_response",
    "parse_retry_after",
]

SIGN_IN_HELP = (
    "Not signed in to Microsoft 365. Run `outlook-calendar-mcp auth login` (device code) "
    "or set OUTLOOK_MCP_ACCESS_TOKEN (a bearer token) or OUTLOOK_MCP_CLIENT_SECRET with "
    "OUTLOOK_MCP_CLIENT_ID, OUTLOOK_MCP_TENANT_ID and OUTLOOK_MCP_MAILBOX (app-only); "
    "or use the sandbox with --backend sandbox."
)


class GraphError(Exception):
    """A Graph request did not succeed; base of every error in this module."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        date: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.date = date
        self.retry_after = retry_after

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(" ".join(str(p) for p in ("Graph", self.status, self.code) if p))
        elif self.code:
            details.append(self.code)
        if self.request_id:
            details.append(f"request-id {self.request_id}")
        if self.retry_after is not None and self.retry_after > 0:
            details.append(f"retry after {self.retry_after:g}s")
        return f"{self.message} ({'; '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class GraphTransportError(GraphError):
    """No HTTP answer at all: the connection failed, timed out or was reset."""


class OutcomeUnknown(GraphTransportError):
    """A write reached Graph (or may have), its reply was lost (504, timeout, reset), and reading back could not
    tell whether it took effect. The message says so, and what to look at before trying again."""

    def __init__(self, message: str, **kwargs) -> None:
        kwargs.setdefault("code", "outcomeUnknown")
        super().__init__(message, **kwargs)


class AuthenticationRequired(GraphError):
    """No usable credentials; the message tells exactly how to sign in."""

    def __init__(self, message: str = SIGN_IN_HELP, **kwargs) -> None:
        kwargs.setdefault("code", "authenticationRequired")
        super().__init__(message, **kwargs)


class AuthenticationFailed(GraphError):
    """A sign-in or token request was attempted and refused, or the sign-in service was unreachable."""

    def __init__(self, message: str, **kwargs) -> None:
        kwargs.setdefault("code", "authenticationFailed")
        super().__init__(message, **kwargs)


class ConfigurationError(GraphError):
    """The settings cannot work as given; the message names the setting to change."""

    def __init__(self, message: str, **kwargs) -> None:
        kwargs.setdefault("code", "configurationError")
        super().__init__(message, **kwargs)


class BadRequest(GraphError):
    """400: Graph rejected the request (invalid body, query or id)."""


class Unauthorized(GraphError):
    """401: the token was refused, even after one refresh."""


class Forbidden(GraphError):
    """403: signed in, but not allowed (missing permission or consent, or no access to that mailbox)."""


class NotFound(GraphError):
    """404: no such item, calendar or mailbox."""


class MethodNotAllowed(GraphError):
    """405: the operation does not apply to that resource."""


class Conflict(GraphError):
    """409: the change conflicts with the item's current state."""


class PreconditionFailed(GraphError):
    """412: the item changed since it was read (If-Match etag mismatch)."""


class Throttled(GraphError):
    """429: too many requests, and retrying within the budget did not help."""


class ServiceError(GraphError):
    """5xx: Graph or the mailbox server failed."""


class ServiceUnavailable(ServiceError):
    """503: the service is temporarily unavailable."""


class GatewayTimeout(ServiceError):
    """504: the service did not answer in time."""


_BY_STATUS: dict[int, type[GraphError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    429: Throttled,
    503: ServiceUnavailable,
    504: GatewayTimeout,
}

_DEFAULT_MESSAGES = {
    400: "Bad request.",
    401: "The access token was not accepted.",
    403: "Access denied.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict with the current state of the item.",
    412: "The item changed since it was read.",
    429: "Too many requests.",
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date); None if absent or unreadable.

    An HTTP date needs ``now`` (epoch seconds, from the caller's clock: :class:`~..clock.Clock`); without it
    only the delta-seconds form can be read."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    if now is None:
        return None
    return max(0.0, when.timestamp() - now)


def _class_for(status: int) -> type[GraphError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServiceError
    return GraphError


def error_from_response(
    status: int, headers: Mapping[str, str] | None, body: bytes | str | None, *, now: float | None = None
) -> GraphError:
    """Build the error for a failing Graph response; tolerant of non-JSON bodies and missing fields.

    ``now`` (epoch seconds) reads a ``Retry-After`` given as an HTTP date (see :func:`parse_retry_after`)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    date: str | None = None
    raw = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else (body or "")
    try:
        payload = json.loads(raw) if raw.strip() else None
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
        inner = error.get("innerError") or error.get("innererror")
        if isinstance(inner, dict):
            request_id = inner.get("request-id") or inner.get("requestId")
            date = inner.get("date")
    elif isinstance(error, str):  # OAuth-style {"error": "...", "error_description": "..."}
        code = error
        described = payload.get("error_description") if isinstance(payload, dict) else None
        message = described if isinstance(described, str) else None
    if not message:
        text = " ".join(raw.split())
        if text and payload is None and not text.startswith("<"):
            message = text[:300]
        else:
            message = _DEFAULT_MESSAGES.get(status) or f"Graph answered HTTP {status}."
    request_id = request_id or headers.get("request-id")
    date = date or headers.get("date")
    retry_after = parse_retry_after(headers.get("retry-after"), now=now)
    return _class_for(status)(
        message.strip(), status=status, code=code, request_id=request_id, date=date, retry_after=retry_after
    )
