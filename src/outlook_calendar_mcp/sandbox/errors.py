"""Graph-shaped errors raised by the sandbox.

Every failure the sandbox reports leaves as Microsoft Graph does::

    HTTP/1.1 404 Not Found
    {"error": {"code": "ErrorItemNotFound",
               "message": "The specified object was not found in the store.",
               "innerError": {"request-id": "...", "date": "...", "client-request-id": "..."}}}

Handlers raise :class:`GraphHTTPError` (or one of the helpers below); the app
turns it into that body (:func:`.ctx.error_response`), and the transaction of the request is rolled back.
"""

from __future__ import annotations


class GraphHTTPError(Exception):
    """An error the sandbox answers with, in Graph's shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphHTTPError:
    return GraphHTTPError(400, code, message)


def not_found(message: str = "The specified object was not found in the store.") -> GraphHTTPError:
    return GraphHTTPError(404, "ErrorItemNotFound", message)


def forbidden(message: str = "Access is denied. Check credentials and try again.") -> GraphHTTPError:
    return GraphHTTPError(403, "ErrorAccessDenied", message)


def unknown_property(name: str, type_name: str) -> GraphHTTPError:
    # Graph's exact wording for a body property the type does not define.
    return GraphHTTPError(
        400,
        "RequestBodyRead",
        f"The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use "
        "property names that are defined by the type or mark the type as open type.",
    )


def unknown_segment(segment: str) -> GraphHTTPError:
    return GraphHTTPError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
