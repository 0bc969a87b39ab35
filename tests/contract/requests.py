"""Graph's contract for the requests a GraphClient sends (tests/conftest.py records them all).

:func:`check` takes one recorded request (method, absolute URL, body text) and
returns what is wrong with it, [] when it fits:

* a ``/v1.0/`` request must fit Graph v1.0's CSDL (:mod:`tests.contract.csdl`):
  the path is a valid navigation from the entity container, each bound action
  or function exists with those parameters, the method fits what the path
  addresses, each body property exists with the right type, each system query
  option is known and names real properties;
* a ``/beta/`` request cannot be checked against the v1.0 model: it must match
  an entry of ``beta_allowlist.toml`` (method, path pattern, and the reason the
  operation is beta-only; ``sent_by`` narrows an entry to the tests named);
* a PUT, GET or DELETE to an attachment upload session's ``uploadUrl`` (Outlook's
  ``/api/v2.0/Users('…')/Events('…')/AttachmentSessions('…')?authtoken=…``) fits;
* ``POST /$batch`` (JSON batching) fits when each request it lists fits, as if sent alone;
* any other URL fits no part of the contract.

The body of a request with JSON content is parsed; one that is not JSON is
reported (the client only sends JSON).
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.contract.csdl import load_model

BETA_ALLOWLIST = Path(__file__).with_name("beta_allowlist.toml")
_VERSIONED = re.compile(r"^/(v1\.0|beta)/(.+)$")
# The uploadUrl of an attachment upload session (Graph: "Attach large files to Outlook messages or events"): an
# Outlook REST URL carrying its own token, outside Graph's tree. The client PUTs raw byte ranges to it, and may
# GET it (where to resume) or DELETE it (cancel).
_UPLOAD_URL = re.compile(r"^/api/v2\.0/Users\('[^'/]+'\)/(Events|Messages)\('[^'/]+'\)/AttachmentSessions\('[^'/]+'\)$")


@dataclass(frozen=True)
class BetaOperation:
    method: str
    path: re.Pattern[str]
    reason: str
    sent_by: re.Pattern[str] | None = None  # only these tests may send it (None: the product may)


@functools.cache
def beta_operations(path: Path = BETA_ALLOWLIST) -> tuple[BetaOperation, ...]:
    """The allow-list of beta-only operations; each entry needs a method, a path pattern and a reason."""
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("operation", [])
    out = []
    for entry in entries:
        missing = {"method", "path", "reason"} - {k for k, v in entry.items() if str(v).strip()}
        if missing:
            raise ValueError(f"{path.name}: entry {entry!r} lacks {', '.join(sorted(missing))}")
        sent_by = re.compile(entry["sent_by"]) if entry.get("sent_by") else None
        out.append(BetaOperation(entry["method"].upper(), re.compile(entry["path"]), entry["reason"], sent_by))
    return tuple(out)


def check(method: str, url: str, body: str | bytes | None, *, test: str = "") -> list[str]:
    """What is wrong with one request against Graph's contract ([] if nothing); ``test`` sent it."""
    method = method.upper()
    parts = urlsplit(url)
    if _UPLOAD_URL.match(parts.path):
        if method in ("PUT", "GET", "DELETE") and "authtoken=" in parts.query:
            return []
        return [f"{method} {parts.path}: an upload session's uploadUrl takes PUT, GET or DELETE, with its authtoken"]
    found = _VERSIONED.match(parts.path)
    if not found:
        return [f"{method} {parts.path}: not a Graph request (no /v1.0/ or /beta/ root)"]
    version, rest = found.groups()
    if rest == "$batch":
        return _check_batch(method, version, parts.netloc, body, test)
    if version == "beta":
        if any(op.method == method and op.path.fullmatch(rest) and (op.sent_by is None or op.sent_by.search(test))
               for op in beta_operations()):
            return []
        return [f"{method} /beta/{rest}: a beta request not listed in {BETA_ALLOWLIST.name} "
                "(list it with the reason it is beta-only, or use v1.0)"]
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    payload = None
    if body not in (None, ""):
        try:
            payload = json.loads(body)
        except json.JSONDecodeError:
            return [f"{method} {rest}: the body is not JSON: {body[:80]!r}"]
    return load_model().check_request(method, rest + (f"?{parts.query}" if parts.query else ""), payload)


def _check_batch(method: str, version: str, host: str, body: str | bytes | None, test: str) -> list[str]:
    """JSON batching: a POST whose body lists requests (at most 20), each checked as if sent alone."""
    if method != "POST":
        return [f"{method} /{version}/$batch: a batch is a POST"]
    try:
        requests = json.loads(body or "")["requests"]
    except (ValueError, KeyError, TypeError):
        return [f"POST /{version}/$batch: the body is not {{\"requests\": [...]}}"]
    if not 1 <= len(requests) <= 20:
        return [f"POST /{version}/$batch: {len(requests)} requests (Graph takes 1 to 20)"]
    errors = []
    for item in requests:
        inner = json.dumps(item["body"]) if "body" in item else None
        url = f"https://{host}/{version}/{item['url'].lstrip('/')}"
        errors += [f"$batch request {item.get('id')}: {e}" for e in check(item["method"], url, inner, test=test)]
    return errors


def shape(method: str, url: str) -> str:
    """A request's operation with ids elided, for summaries: 'GET me/events/{id}/instances'."""
    path = urlsplit(url).path
    segments = []
    for seg in path.strip("/").split("/")[1:]:
        if call := re.fullmatch(r"([A-Za-z][\w.]*)\(.*\)", seg):  # a function call or a key in parentheses
            segments.append(f"{call[1]}(…)")
        else:
            segments.append("{id}" if len(seg) > 24 or "%40" in seg or "@" in seg else seg)
    return f"{method.upper()} {'/'.join(segments)}"
