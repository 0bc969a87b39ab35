"""JSON batching: ``POST /v1.0/$batch`` (and ``/beta/$batch``), as Microsoft Graph documents it.

The body is ``{"requests": [{"id", "method", "url", "headers"?, "body"?, "dependsOn"?}, ...]}``:

* at most :data:`MAX_REQUESTS` (20) requests; ``id``, ``method`` and ``url`` are required, ids are
  unique (case-insensitively); ``url`` is relative to the version root (``/me/events``), never
  absolute and never another ``$batch``; a request with a ``body`` names its ``Content-Type`` in
  ``headers`` (a JSON object body is sent as JSON, a string body is base64). A batch that breaks
  these rules is a 400 as a whole, nothing run.
* Each request runs on its own through the whole sandbox app — authentication with the batch's
  ``Authorization``, its own transaction, its own Prefer headers, errors, throttling and faults —
  so one failing request does not undo or stop the others.
* ``dependsOn`` names earlier requests; a request runs only after them, and only if each succeeded
  (2xx); otherwise its answer is ``424 Failed Dependency``.
* The answer is ``200`` with ``{"responses": [{"id", "status", "headers", "body"?}, ...]}``, one per
  request (JSON bodies inline, other bodies base64, none for 204).

Requests run in the order given (the sandbox serialises requests anyway); a client must correlate
answers by ``id``, as Graph allows any order.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...clock import Clock
from ..ctx import answer
from ..errors import GraphHTTPError, bad_request

MAX_REQUESTS = 20
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
# Response headers a sub-request's answer carries over (Graph returns the meaningful ones).
KEPT_HEADERS = ("content-type", "location", "retry-after", "preference-applied", "etag")


async def batch_endpoint(request: Request) -> Response:
    clock: Clock = request.app.state.clock
    version = request.path_params["version"]
    steps: list[dict[str, Any]] = []

    def check(body: bytes) -> Response:
        if version not in ("v1.0", "beta"):
            raise GraphHTTPError(400, "BadRequest", f"Invalid version '{version}': use /v1.0 (or /beta).")
        steps.extend(_parse(body))
        return Response(status_code=204)

    checked = await answer(request, clock, check)
    if checked.status_code != 204:
        return checked
    transport = httpx.ASGITransport(app=request.scope["app"])
    async with httpx.AsyncClient(transport=transport, base_url=f"{request.base_url}".rstrip("/")) as inner:
        done: dict[str, int] = {}
        out = []
        for step in steps:
            failed = [d for d in step["dependsOn"] if not 200 <= done[d.lower()] < 300]
            if failed:
                result = _failed_dependency(step["id"], failed)
            else:
                result = await _run(inner, request, version, step)
            done[step["id"].lower()] = result["status"]
            out.append(result)
    return JSONResponse({"responses": out})


def _parse(body: bytes) -> list[dict[str, Any]]:
    try:
        doc = json.loads(body or b"null")
    except ValueError as e:
        raise bad_request(f"The batch body is not valid JSON: {e}.", "BadRequest") from None
    requests = doc.get("requests") if isinstance(doc, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request('A batch body is {"requests": [...]} with at least one request.', "BadRequest")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(
            f"A batch holds at most {MAX_REQUESTS} requests; this one has {len(requests)}: split it.", "BadRequest"
        )
    seen: set[str] = set()
    steps = []
    for position, item in enumerate(requests, 1):
        if not isinstance(item, dict):
            raise bad_request(f"Batch request {position} is not a JSON object.", "BadRequest")
        rid, method, url = item.get("id"), item.get("method"), item.get("url")
        if not isinstance(rid, str) or not rid:
            raise bad_request(f"Batch request {position} needs an 'id' (a string).", "BadRequest")
        if rid.lower() in seen:
            raise bad_request(f"Batch request id '{rid}' is used twice: ids must be unique.", "BadRequest")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise bad_request(f"Batch request '{rid}': 'method' must be one of {', '.join(METHODS)}.", "BadRequest")
        if not isinstance(url, str) or not url or "://" in url:
            raise bad_request(
                f"Batch request '{rid}': 'url' must be relative to the version root, e.g. /me/events.", "BadRequest"
            )
        if url.lstrip("/").split("?")[0].lower() == "$batch":
            raise bad_request(f"Batch request '{rid}': a batch cannot contain another $batch.", "BadRequest")
        headers = item.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise bad_request(f"Batch request '{rid}': 'headers' must be an object of strings.", "BadRequest")
        depends = item.get("dependsOn") or []
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise bad_request(f"Batch request '{rid}': 'dependsOn' must be a list of ids.", "BadRequest")
        unknown = [d for d in depends if d.lower() not in seen]
        if unknown:
            raise bad_request(
                f"Batch request '{rid}' depends on {', '.join(repr(d) for d in unknown)}: dependsOn names only "
                "requests listed before it.",
                "BadRequest",
            )
        if "body" in item and not any(k.lower() == "content-type" for k in headers):
            raise bad_request(
                f"Batch request '{rid}' has a body but no Content-Type header: add headers.Content-Type.", "BadRequest"
            )
        seen.add(rid.lower())
        steps.append({**item, "id": rid, "method": method.upper(), "headers": headers, "dependsOn": depends})
    return steps


async def _run(inner: httpx.AsyncClient, outer: Request, version: str, step: dict[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in step["headers"].items()}
    if auth := outer.headers.get("authorization"):
        headers["Authorization"] = auth
    content: bytes | None = None
    if "body" in step:
        body = step["body"]
        if isinstance(body, str):
            try:
                content = base64.b64decode(body, validate=True)
            except ValueError:
                content = body.encode()
        else:
            content = json.dumps(body).encode()
    url = f"/{version}/{step['url'].lstrip('/')}"
    r = await inner.request(step["method"], url, headers=headers, content=content)
    result: dict[str, Any] = {
        "id": step["id"],
        "status": r.status_code,
        "headers": {k.title(): v for k, v in r.headers.items() if k.lower() in KEPT_HEADERS},
    }
    if r.content:
        if "json" in r.headers.get("content-type", ""):
            result["body"] = r.json()
        else:
            result["body"] = base64.b64encode(r.content).decode()
    return result


def _failed_dependency(rid: str, failed: list[str]) -> dict[str, Any]:
    return {
        "id": rid,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": f"Not run: it depends on request {', '.join(repr(f) for f in failed)}, which failed.",
            }
        },
    }
