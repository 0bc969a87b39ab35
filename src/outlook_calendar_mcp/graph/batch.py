"""JSON batching: several independent Graph requests in one round trip (``POST /$batch``).

Graph runs up to :data:`MAX_REQUESTS` (20) requests of one batch and answers each with its own status,
headers and body, correlated by ``id``; one failing request does not fail the others. A
:class:`BatchRequest` is one such request, relative to the version root (``users``, ``me/events/{id}``);
:meth:`GraphClient.batch <outlook_calendar_mcp.graph.GraphClient.batch>` sends a list of them (in
batches of 20) and gives back, in order, a :class:`~.client.GraphResponse` or the
:class:`~.errors.GraphError` each one ended with. Requests answered 429/503/504 are sent again in a
later batch, as the retry rules of a single request say (only those a repeat cannot double).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..lazy import lazy_module
from .client import IDEMPOTENT_METHODS, MAX_BATCH, GraphResponse, Prefer, encode_query
from .errors import GraphError, error_from_response

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_REQUESTS = MAX_BATCH


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch: ``path`` is relative to the version root, as a batch's ``url`` is."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    prefer: Prefer | None = None
    retry: bool = False  # may be sent again when throttled even though it is not idempotent (a read-only POST)

    @property
    def retryable(self) -> bool:
        return self.method.upper() in IDEMPOTENT_METHODS or self.retry

    def url(self) -> str:
        query = encode_query(self.params) if self.params else ""
        return "/" + self.path.lstrip("/") + (f"?{query}" if query else "")

    def outcome(self, answer: Mapping[str, Any], root: str, now: float) -> GraphResponse | GraphError:
        """This request's answer (an element of the batch answer's ``responses``) as a response or an error."""
        status = int(answer.get("status") or 0)
        headers = httpx.Headers({str(k): str(v) for k, v in (answer.get("headers") or {}).items()})
        body = answer.get("body")
        if body is None:
            content = b""
        elif isinstance(body, str) and "json" not in headers.get("content-type", ""):
            content = base64.b64decode(body)  # Graph base64-encodes bodies that are not JSON
        else:
            content = json.dumps(body).encode()
        if not 200 <= status < 400:
            return error_from_response(status, headers, content, now=now)
        return GraphResponse(self.method.upper(), root + self.url(), status, headers, content)

    def entry(self, request_id: str) -> dict[str, Any]:
        """This request as an element of the batch body's ``requests``."""
        out: dict[str, Any] = {"id": request_id, "method": self.method.upper(), "url": self.url()}
        headers = {"Prefer": ", ".join(self.prefer.values())} if self.prefer and self.prefer.values() else {}
        if self.json is not None:
            headers["Content-Type"] = "application/json"
            out["body"] = self.json
        if headers:
            out["headers"] = headers
        return out
