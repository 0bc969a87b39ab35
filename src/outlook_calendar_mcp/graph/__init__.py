"""Microsoft Graph access: the one HTTP client and its error tree.

Import from here, not from the modules::

    from outlook_calendar_mcp.graph import GraphClient, Prefer, NotFound
"""

from .batch import BatchRequest
from .client import GraphClient, GraphResponse, Page, Prefer, RequestHook, encode_query
from .errors import (
    AuthenticationFailed,
    AuthenticationRequired,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    GatewayTimeout,
    GraphError,
    GraphTransportError,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    ServiceError,
    ServiceUnavailable,
    Throttled,
    Unauthorized,
    error_from_response,
)

__all__ = [
    "AuthenticationFailed",
    "AuthenticationRequired",
    "BadRequest",
    "BatchRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "GatewayTimeout",
    "GraphClient",
    "GraphError",
    "GraphResponse",
    "GraphTransportError",
    "MethodNotAllowed",
    "NotFound",
    "Page",
    "PreconditionFailed",
    "Prefer",
    "RequestHook",
    "ServiceError",
    "ServiceUnavailable",
    "Throttled",
    "Unauthorized",
    "encode_query",
    "error_from_response",
]
