"""The stdio transport on the event loop's own pipes, without a thread hop per message.

The SDK's ``stdio_server()`` reads stdin and writes stdout through ``anyio.wrap_file``: every line read
and every write and flush is a trip to a worker thread and back, about half the per-call cost of a
``calendar_view`` over stdio (bench/overhead.py). When both ends are pipes or sockets (how every MCP
client starts a server), this module hands ``stdio_server`` streams on asyncio's non-blocking pipe
transports instead; anything else (a terminal, a file) keeps the SDK's own streams.

Like the SDK, it keeps stray output off the wire while serving: fd 0 reads the null device and fd 1
writes to stderr, and both are restored on exit; the protocol travels on private duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import AsyncIterator, Iterator
from typing import Any

LINE_LIMIT = 64 * 1024 * 1024  # one JSON-RPC message per line; bodies are bounded far below this (tools/limits.py)


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
                yield "\n"  # not JSON: the SDK drops it, as any unparsable line, and the session goes on
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
