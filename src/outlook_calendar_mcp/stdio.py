"""The stdio transport on the event loop's own pipes, without a thread hop per message.

The SDK's ``stdio_server()`` reads stdin and writes stdout through ``anyio.wrap_file``: every line read
and every write and flush is a trip to a worker thread and back, about half the per-call cost of a
``calendar_view`` over stdio (bench/overhead.py). When both ends are pipes or sockets (how every MCP
client starts a server), this module hands ``stdio_server`` streams on asyncio's non-blocking pipe
transports instead; anything else (a terminal, a file) keeps the SDK's own streams.

Like the SDK, it keeps stray output off the wire while serving: fd 0 reads the null device and fd 1
writes to stderr, and both are restored on exit; the protocol travels on private duplicates.

A line that is not a JSON-RPC message gets an answer (:class:`Answering`), as JSON-RPC 2.0 requires: the
SDK's stdio transport drops it, and a client that sent a request on it would wait for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import AsyncIterator, Iterator
from typing import Any

from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

LINE_LIMIT = 64 * 1024 * 1024  # one JSON-RPC message per line; bodies are bounded far below this (tools/limits.py)
TOO_LONG = "<a line over 64 MiB>\n"  # what LineReader reads in place of such a line


def _is_pipe(fd: int) -> bool:
    """A FIFO or a socket: safe to make non-blocking (a terminal's or a file's flags are shared with others)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def usable() -> bool:
    """Whether stdin and stdout are both pipes or sockets (else the SDK's threaded streams serve)."""
    return _is_pipe(0) and _is_pipe(1)


class LineReader:
    """Lines of a pipe, as ``async for`` reads them (the part of ``anyio.AsyncFile`` ``stdio_server`` uses)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while True:
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as e:  # the client closed stdin: the last, unterminated line
                if e.partial:
                    yield e.partial.decode("utf-8", errors="replace")
                return
            except asyncio.LimitOverrunError:  # a line past the limit cannot be a message: skip it whole
                await self._skip_line()
                yield TOO_LONG  # not JSON: answered as a parse error (Answering), and the session goes on
                continue
            yield line.decode("utf-8", errors="replace")

    async def _skip_line(self) -> None:
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as e:
                await self._reader.readexactly(e.consumed)
            except asyncio.IncompleteReadError:
                return


class Answering:
    """``stdio_server``'s read stream, answering what it could not read instead of passing it on.

    The SDK's stdio reader hands the server a validation error for a line that is not a JSON-RPC message, and
    the server drops it. Here such a line is answered on the write stream, as JSON-RPC 2.0 asks: -32700 "Parse
    error" for a line that is not JSON, -32600 "Invalid Request" for JSON that is not a message (with the
    request's id when it has a usable one, else null). Blank lines are skipped. Everything else passes through
    untouched: the server reads this as it reads the SDK's stream (``async with``, ``async for``,
    ``last_context``)."""

    def __init__(self, inner: Any, writing: Any) -> None:
        self._inner, self._writing = inner, writing

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def __aenter__(self) -> Answering:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self._inner.__aexit__(*exc_info)

    def __aiter__(self) -> Answering:
        return self

    async def __anext__(self) -> Any:
        while True:
            item = await self._inner.__anext__()
            if not isinstance(item, ValidationError):
                return item
            answer = unreadable(item)
            if answer is not None:
                await self._writing.send(SessionMessage(answer))

    async def receive(self) -> Any:
        return await self.__anext__()

    async def aclose(self) -> None:
        await self._inner.aclose()


def unreadable(error: ValidationError) -> JSONRPCError | None:
    """The JSON-RPC answer to a line that failed to read as a message; None for a blank line."""
    problems = error.errors(include_url=False)
    line = problems[0].get("input") if problems else None
    if problems and problems[0]["type"] == "json_invalid":
        if isinstance(line, str) and not line.strip():
            return None
        why = "the line is over 64 MiB" if line == TOO_LONG else f"the line is not JSON ({problems[0]['msg']})"
        return _error(None, PARSE_ERROR, f"Parse error: {why}. Send one JSON-RPC 2.0 message per line, in UTF-8.")
    message = _message_of(problems)
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)) or "method" not in message:
        request_id = None  # not a request we can tell (JSON-RPC 2.0: the id is then null)
    return _error(
        request_id,
        INVALID_REQUEST,
        'Invalid Request: expected a JSON-RPC 2.0 request {"jsonrpc": "2.0", "id": ..., "method": "...", '
        '"params": {...}}, a notification (no id) or a response.',
    )


def _message_of(problems: list[Any]) -> Any:
    """The parsed JSON object that failed validation: the input of an error about the envelope itself (a member
    missing, or the whole value of the wrong type), not about one of its members."""
    for problem in problems:
        if (problem["type"] == "missing" or len(problem["loc"]) <= 1) and isinstance(problem.get("input"), dict):
            return problem["input"]
    return None


def _error(request_id: str | int | None, code: int, message: str) -> JSONRPCError:
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))


class LineWriter:
    """Writes to a pipe (the ``write``/``flush`` of ``anyio.AsyncFile`` that ``stdio_server`` uses)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


@contextlib.contextmanager
def _claimed(fd: int, diversion: int) -> Iterator[int]:
    """A private duplicate of ``fd`` for the protocol (its transport closes it), with ``fd`` itself pointed at
    ``diversion`` meanwhile and restored afterwards."""
    saved = os.dup(fd)
    private = os.dup(fd)
    os.set_inheritable(private, False)
    os.dup2(diversion, fd)
    try:
        yield private
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.asynccontextmanager
async def pipe_streams() -> AsyncIterator[tuple[Any, Any]]:
    """``(stdin, stdout)`` for ``stdio_server(stdin, stdout)``: stdin's lines and stdout's writes on the loop."""
    loop = asyncio.get_running_loop()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        with _claimed(0, null) as wire_in, _claimed(1, 2) as wire_out:
            reader = asyncio.StreamReader(limit=LINE_LIMIT)
            read_transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
            )
            write_transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
            )
            writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
            try:
                yield LineReader(reader), LineWriter(writer)
            finally:
                read_transport.close()
                write_transport.close()
    finally:
        os.close(null)
