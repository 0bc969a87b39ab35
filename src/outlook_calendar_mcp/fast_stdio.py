"""Fast stdio start: answer ``initialize`` from a handshake cache while the MCP SDK loads.

Importing the SDK (``import mcp``: the pydantic models of ``mcp_types``) takes
most of a stdio server's start. The ``InitializeResult`` it eventually sends is
a pure function of the server's build (package and SDK versions, the settings
that shape it) and of the client's ``initialize`` params:
``ServerRunner._handle_initialize`` (mcp/server/runner.py) builds it from the
``InitializationOptions`` that ``run_stdio_async`` computes once per process
(name, version, title, instructions, capabilities derived from the registered
handlers) and the negotiated protocol version (the requested one when it is a
handshake version, else the latest); nothing per session goes in. So a result
the SDK sent once can be sent again, byte for byte, the next time the same
server gets the same request.

How (:func:`serve_stdio`, POSIX only; elsewhere the normal path runs):

1. Before anything heavy is imported, fd 0 and fd 1 are swapped for two pipes
   and the real stdin/stdout kept on private descriptors. The SDK's own
   ``stdio_server`` then serves the pipes exactly as it would the real streams
   (it claims and diverts fd 0/1 as usual).
2. A thread reads the client's first line. If it is an ``initialize`` request
   (strict JSON, plain id) and the cache holds the SDK's earlier answer to the
   same params under the same server key, that answer goes to the real stdout
   at once, with the request's id. Either way the line, then the rest of
   stdin, is replayed into the SDK unchanged: the SDK still sees and handles
   the ``initialize`` (its session state is right) and everything after it.
3. A second thread copies the SDK's output to the real stdout. It drops the
   SDK's own response to that one request when the cache answered it (after
   comparing: on any difference the cache is rewritten and a warning goes to
   stderr; the client already had the cached answer), and otherwise forwards
   it and stores it for next time when it is cacheable.

Only the handshake case is ever answered early: a result is stored only when
the SDK accepted the client's protocolVersion (it is one of
``mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS`` and the result repeats it).
An unsupported or 2026-era version, a ``server/discover`` or any enveloped
first request, params carrying ``_meta``, a notification, a batch, malformed
or unusual JSON, an id that is not a plain integer or ASCII string, and params
the SDK rejected all pass through untouched, as without this module. The
cache files are written 0600 in a 0700 directory (what they hold is sent to
the client as the server's instructions); at most 16 server keys are kept.

Cache key (one file per server key, entries per params): our version, a
fingerprint of our sources (path, size, mtime of every ``.py``: an edited
editable install misses), the installed mcp, mcp_types, pydantic and
pydantic_core distributions, the Python version, the ``serve`` flags and every
``OUTLOOK_MCP_*`` variable (secrets only as "set"): tool selection, read-only
and whatever else could shape the server; then the request's params, canonical
JSON, which include the protocolVersion. Files live in
``<cache_dir>/stdio-handshake/`` (``OUTLOOK_MCP_CACHE_DIR``, else the
platformdirs user cache dir, as :class:`~outlook_calendar_mcp.config.Settings`
resolves ``cache_dir``). An unreadable or malformed file is a miss and is
overwritten. ``OUTLOOK_MCP_FAST_STDIO=0`` turns all of this off.

This module imports nothing from the SDK, pydantic or the server: it has to
run before they load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import select
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import __version__

log = logging.getLogger(__name__)

FORMAT = 1
SWITCH_ENV = "OUTLOOK_MCP_FAST_STDIO"
CACHE_SUBDIR = "stdio-handshake"
MAX_ENTRIES = 32  # params variants kept per server key (client versions, protocol versions)
MAX_FILES = 16  # server keys kept (configurations, installs)
MAX_FIRST_LINE = 1 << 20
CHUNK = 1 << 16
FIRST_LINE_WAIT_S = 0.03
SDK_DISTRIBUTIONS = ("mcp", "mcp_types", "pydantic", "pydantic_core")

_SECRET_ENV = frozenset({"OUTLOOK_MCP_CLIENT_SECRET", "OUTLOOK_MCP_CERTIFICATE_PASSWORD",
                         "OUTLOOK_MCP_ACCESS_TOKEN", "OUTLOOK_MCP_HTTP_TOKEN"})
_IGNORED_ENV = frozenset({SWITCH_ENV})
_IGNORED_ARGS = frozenset({"verbose", "http_token"})  # logging only; HTTP only
_MAX_SAFE_INT = 2**53

# The SDK's stdout line for a response (stdio_server: model_dump_json(by_alias=True, exclude_unset=True)).
_HEAD = b'{"jsonrpc":"2.0","id":'
_RESULT = b',"result":'


# -- the key ----------------------------------------------------------------------------------------------

def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    value = _env(environ, SWITCH_ENV)
    return os.name == "posix" and (value is None or value.strip().lower() not in {"0", "false", "off", "no"})


def _env(environ: Mapping[str, str], name: str) -> str | None:
    """An ``OUTLOOK_MCP_*`` variable, case-insensitively (as pydantic-settings reads them)."""
    if name in environ:
        return environ[name]
    return next((v for k, v in environ.items() if k.upper() == name), None)


def cache_dir(environ: Mapping[str, str] = os.environ) -> str:
    """``Settings().cache_dir`` without building Settings (pydantic is too slow to import here)."""
    value = _env(environ, "OUTLOOK_MCP_CACHE_DIR")
    if value:
        return value
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_cache_dir("outlook-calendar-mcp", appauthor=False)


def _sources_fingerprint() -> str:
    package = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                digest.update(f"{os.path.relpath(os.path.join(root, name), package)}:{st.st_size}:"
                              f"{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _distributions() -> dict[str, str]:
    """name -> 'version mtime' of each SDK distribution, from its dist-info directory (importlib.metadata is slow)."""
    import importlib.util  # noqa: PLC0415 - already loaded by runpy / the import system

    out: dict[str, str] = {}
    listings: dict[str, list[str]] = {}
    for dist in SDK_DISTRIBUTIONS:
        found = "missing"
        try:
            spec = importlib.util.find_spec(dist)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        if origin and os.path.isfile(origin):
            site = os.path.dirname(os.path.dirname(origin)) if os.path.basename(origin).startswith("__init__.") \
                else os.path.dirname(origin)
            names = listings.get(site)
            if names is None:
                names = listings[site] = sorted(os.listdir(site))
            infos = [n for n in names if n.lower().startswith(f"{dist}-") and n.endswith(".dist-info")]
            if infos:
                found = " ".join(f"{n}@{os.stat(os.path.join(site, n)).st_mtime_ns}" for n in infos)
            else:
                found = f"{origin}@{os.stat(origin).st_mtime_ns}"
        out[dist] = found
    return out


def server_key(args: Any, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Everything that could change what this server answers to ``initialize`` (besides the request itself)."""
    flags = {k: v for k, v in sorted(vars(args).items()) if k not in _IGNORED_ARGS}
    env: dict[str, str] = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper.startswith("OUTLOOK_MCP_") and upper not in _IGNORED_ENV:
            env[upper] = ("<set>" if value.strip() else "") if upper in _SECRET_ENV else value
    return {"format": FORMAT, "package": __version__, "sources": _sources_fingerprint(),
            "sdk": _distributions(), "python": sys.version, "serve": flags, "env": dict(sorted(env.items()))}


# -- requests and responses -------------------------------------------------------------------------------

class Initialize:
    """A client's first line, when it is a cacheable ``initialize`` request."""

    __slots__ = ("id", "id_json", "params_hash", "protocol_version")

    def __init__(self, id: int | str, id_json: bytes, params_hash: str, protocol_version: str) -> None:  # noqa: A002
        self.id, self.id_json, self.params_hash, self.protocol_version = id, id_json, params_hash, protocol_version


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _id_json(request_id: Any) -> bytes | None:
    """The id as the SDK writes it, for the ids whose spelling is certain (pydantic and json agree)."""
    if type(request_id) is int and -_MAX_SAFE_INT < request_id < _MAX_SAFE_INT:
        return str(request_id).encode()
    if type(request_id) is str and len(request_id) <= 256 and all(
            " " <= c <= "~" and c not in '"\\' for c in request_id):
        return f'"{request_id}"'.encode()
    return None


def parse_initialize(line: bytes) -> Initialize | None:
    """``line`` (one stdin line, newline included) as a cacheable ``initialize`` request, else None.

    Strict on purpose: anything the SDK might read differently from ``json`` (a stray CR, which its
    universal-newline reader splits on, a BOM, duplicate keys, NaN, lone surrogates) is not cacheable,
    nor are params carrying ``_meta``.
    """
    body = line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else None
    if body is None or b"\r" in body or b"\n" in body:
        return None
    try:
        message = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or set(message) != {"jsonrpc", "id", "method", "params"}:
        return None
    params = message["params"]
    if message["jsonrpc"] != "2.0" or message["method"] != "initialize" or not isinstance(params, dict):
        return None
    version = params.get("protocolVersion")
    id_json = _id_json(message["id"])
    if not isinstance(version, str) or id_json is None or "_meta" in params:
        return None  # _meta: per-request data (progress token, trace context, the 2026 envelope): never cached
    try:
        json.dumps(params, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be cached
        canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (UnicodeEncodeError, ValueError, RecursionError):
        return None
    return Initialize(message["id"], id_json, hashlib.sha256(canonical.encode()).hexdigest(), version)


def render(id_json: bytes, result: bytes) -> bytes:
    """The SDK's stdout line (newline included) for a success response ``result`` to request ``id_json``."""
    return _HEAD + id_json + _RESULT + result + b"}\n"


def is_response_to(line: bytes, request: Initialize) -> bool:
    """Whether ``line`` (no newline) is the server's response (result or error) to ``request``."""
    if not line.startswith(_HEAD + request.id_json + b","):
        return False
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return (isinstance(message, dict) and type(message.get("id")) is type(request.id)
            and message["id"] == request.id and "method" not in message and ("result" in message or "error" in message))


def cacheable_result(line: bytes, request: Initialize) -> bytes | None:
    """The raw ``result`` JSON of the SDK's response ``line`` (no newline), when it may answer this request again.

    Only a success that accepted the requested protocol version (a handshake version of the loaded SDK)
    and that :func:`render` reproduces byte for byte.
    """
    head = _HEAD + request.id_json + _RESULT
    if not (line.startswith(head) and line.endswith(b"}")):
        return None
    raw = line[len(head):-1]
    try:
        result = json.loads(raw)
    except ValueError:
        return None
    versions = sys.modules.get("mcp_types.version")  # loaded: the SDK just answered
    handshake = getattr(versions, "HANDSHAKE_PROTOCOL_VERSIONS", ())
    if not isinstance(result, dict) or result.get("protocolVersion") != request.protocol_version \
            or request.protocol_version not in handshake or render(request.id_json, raw) != line + b"\n":
        return None
    return raw


# -- the cache file ---------------------------------------------------------------------------------------------

class HandshakeCache:
    """``<dir>/stdio-handshake/<hash of the server key>.json``: {"format", "key", "entries": {params hash: ...}}."""

    def __init__(self, directory: str, key: dict[str, Any]) -> None:
        self.key = key
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
        self.path = os.path.join(directory, CACHE_SUBDIR, f"{digest}.json")
        self.entries: dict[str, dict[str, str]] = {}

    def load(self) -> None:
        self.entries = self._read()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            with open(self.path, "rb") as f:
                data = json.loads(f.read())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.info("fast stdio: ignoring the unreadable handshake cache %s (%s)", self.path, e)
            return {}
        if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("key") == self.key
                and isinstance(data.get("entries"), dict)):
            log.info("fast stdio: ignoring the handshake cache %s: not this server's", self.path)
            return {}
        return {h: e for h, e in data["entries"].items() if isinstance(e, dict)
                and isinstance(e.get("protocolVersion"), str) and isinstance(e.get("result"), str)}

    def lookup(self, request: Initialize) -> bytes | None:
        entry = self.entries.get(request.params_hash)
        if entry is None or entry["protocolVersion"] != request.protocol_version:
            return None
        try:
            raw = entry["result"].encode("utf-8")
            result = json.loads(raw)
        except ValueError:  # UnicodeEncodeError included
            return None
        if not isinstance(result, dict) or result.get("protocolVersion") != request.protocol_version \
                or b"\n" in raw or b"\r" in raw:
            return None
        return raw

    def update(self, request: Initialize, result: bytes | None) -> None:
        """Store ``result`` for ``request`` (None: forget it), merged with what other processes wrote meanwhile."""
        entries = self._read()
        entries.pop(request.params_hash, None)
        if result is not None:
            entries[request.params_hash] = {"protocolVersion": request.protocol_version,
                                            "result": result.decode("utf-8")}
        entries = dict(list(entries.items())[-MAX_ENTRIES:])
        data = json.dumps({"format": FORMAT, "key": self.key, "entries": entries}, indent=1, sort_keys=False)
        folder = os.path.dirname(self.path)
        os.makedirs(folder, mode=0o700, exist_ok=True)  # what the server tells clients: only the user writes it
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.entries = entries
        self._prune(folder)

    def _prune(self, folder: str) -> None:
        """Keep the MAX_FILES most recently written server keys (each source edit of a dev install is a new one)."""
        files = []
        for entry in os.scandir(folder):
            if entry.name.endswith(".json") and entry.path != self.path:
                files.append((entry.stat().st_mtime_ns, entry.path))
        for _, path in sorted(files)[:max(0, len(files) + 1 - MAX_FILES)]:
            try:
                os.unlink(path)
            except OSError:
                pass


# -- the pipes ---------------------------------------------------------------------------------------------------

def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Relay:
    """fd 0/1 on pipes; one thread feeds the SDK stdin, one copies its output to the real stdout."""

    def __init__(self, cache: HandshakeCache) -> None:
        self.cache = cache
        self.request: Initialize | None = None   # the first line, when a cacheable initialize
        self.answered: bytes | None = None       # the line sent from the cache, when it was
        self.decided = threading.Event()         # the first line has been looked at
        self.resolved = False                    # the SDK's response to `request` has gone by
        self.wire_lock = threading.Lock()
        sys.stdout.flush()
        self.wire_in = os.dup(0)  # private (non-inheritable) copies of the real streams
        self.wire_out = os.dup(1)
        feed_r, self.feed_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.stop_r, self.stop_w = os.pipe()
        self.feeder = threading.Thread(target=self._feed, name="fast-stdio-in", daemon=True)
        self.copier = threading.Thread(target=self._copy, name="fast-stdio-out", daemon=True)
        try:
            os.dup2(feed_r, 0)
            os.dup2(out_w, 1)
            self.copier.start()
            self.feeder.start()  # the first read from stdin: from here on the relay must run
        except BaseException:
            os.dup2(self.wire_in, 0)
            os.dup2(self.wire_out, 1)
            raise
        finally:
            os.close(feed_r)
            os.close(out_w)

    # stdin -> SDK
    def _feed(self) -> None:
        try:
            buffered = b""
            while b"\n" not in buffered and len(buffered) <= MAX_FIRST_LINE:
                chunk = os.read(self.wire_in, CHUNK)
                if not chunk:
                    break
                buffered += chunk
            end = buffered.find(b"\n")
            try:
                if end >= 0:
                    self._answer(buffered[:end + 1])
            except Exception:  # the cache is an optimisation: never let it cost the session
                log.warning("fast stdio: handshake cache lookup failed; serving normally", exc_info=True)
                if self.answered is None:  # nothing sent: the SDK's own answer must go through
                    self.request = None
            finally:
                self.decided.set()
            _write_all(self.feed_w, buffered)
            while chunk := os.read(self.wire_in, CHUNK):
                _write_all(self.feed_w, chunk)
        except OSError as e:  # the SDK stopped reading (it exited) or stdin failed: as EOF
            log.debug("fast stdio: stdin relay ended: %s", e)
        finally:
            self.decided.set()
            os.close(self.feed_w)

    def _answer(self, line: bytes) -> None:
        request = parse_initialize(line)
        if request is None:
            return
        result = self.cache.lookup(request)
        self.request = request
        if result is not None:
            response = render(request.id_json, result)
            self.answered = response[:-1]
            with self.wire_lock:
                _write_all(self.wire_out, response)
            log.info("fast stdio: answered initialize (protocol %s) from %s", request.protocol_version,
                     self.cache.path)

    # SDK -> stdout
    def _copy(self) -> None:
        pending = b""
        try:
            while True:
                ready, _, _ = select.select([self.out_r, self.stop_r], [], [])
                if self.out_r in ready:
                    chunk = os.read(self.out_r, CHUNK)
                    if not chunk:
                        break
                    pending = self._pass(pending + chunk)
                elif self.stop_r in ready:
                    os.set_blocking(self.out_r, False)
                    try:
                        while chunk := os.read(self.out_r, CHUNK):
                            pending = self._pass(pending + chunk)
                    except BlockingIOError:
                        pass
                    break
            if pending:
                self._emit(pending)
        except OSError as e:  # the client closed stdout: let the SDK's next write fail as it would have
            log.debug("fast stdio: stdout relay ended: %s", e)
            os.close(self.out_r)

    def _emit(self, data: bytes) -> None:
        if data:
            with self.wire_lock:
                _write_all(self.wire_out, data)

    def _pass(self, data: bytes) -> bytes:
        """Forward ``data``, watching whole lines for the response to ``request``; returns an unfinished line."""
        if self.resolved or (self.decided.is_set() and self.request is None):
            self._emit(data)
            return b""
        out = []
        while (end := data.find(b"\n")) >= 0:
            line, data = data[:end], data[end + 1:]
            request = self.request if self.decided.is_set() else None
            if request is not None and is_response_to(line, request):
                self.resolved = True
                if self.answered is None:
                    out.append(line + b"\n")
                self._emit(b"".join(out) + data)
                self._settle(request, line)
                return b""
            out.append(line + b"\n")
        self._emit(b"".join(out))
        if self.decided.is_set() and self.request is None:
            self._emit(data)
            return b""
        return data

    def _settle(self, request: Initialize, line: bytes) -> None:
        """Compare or store the SDK's answer (after the client has what it needs)."""
        try:
            result = cacheable_result(line, request)
            if self.answered is None:
                if result is not None:
                    self.cache.update(request, result)
                    log.info("fast stdio: stored the initialize result in %s", self.cache.path)
            elif line != self.answered:
                self.cache.update(request, result)
                log.warning("fast stdio: the cached initialize result differed from this server's (sent the cached "
                            "one this time); %s %s", "updated" if result is not None else "dropped the entry in",
                            self.cache.path)
        except Exception:
            log.warning("fast stdio: could not update the handshake cache %s", self.cache.path, exc_info=True)

    def close(self) -> None:
        """After the server returned: forward what it wrote, give fd 0/1 back."""
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.write(self.stop_w, b"x")
        self.copier.join(timeout=10)
        os.dup2(self.wire_out, 1)
        os.dup2(self.wire_in, 0)


def serve_stdio(args: Any, run_server: Callable[[], None]) -> None:
    """Run ``run_server`` (the normal stdio server) behind the handshake cache, or plainly when it cannot apply."""
    relay = None
    if enabled() and _is_fd(sys.stdin, 0) and _is_fd(sys.stdout, 1):
        try:
            cache = HandshakeCache(cache_dir(), server_key(args))
            cache.load()
            relay = _Relay(cache)
        except Exception:  # nothing read from stdin yet: the normal path is intact
            log.warning("fast stdio: not available; serving normally", exc_info=True)
    if relay is None:
        run_server()
        return
    # A client that sends initialize right after spawn (most do) gets its answer before the import of the
    # SDK takes the GIL; one that waits longer loses at most this much of the import's head start.
    relay.decided.wait(FIRST_LINE_WAIT_S)
    try:
        run_server()
    finally:
        relay.close()


def _is_fd(stream: Any, fd: int) -> bool:
    try:
        return stream.buffer.fileno() == fd
    except (AttributeError, OSError, ValueError):
        return False
