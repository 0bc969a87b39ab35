"""``sandbox serve``: the sandbox on loopback, over HTTP and (for msal, which wants it) HTTPS.

HTTPS uses a certificate for 127.0.0.1/localhost signed by a local certificate authority made on first run
(``data_dir/sandbox-identity/ca.pem``, see :mod:`.identity.keys`). Clients trust that CA file explicitly: the
MCP server reads it from ``OUTLOOK_MCP_SANDBOX_CA`` (default: the same path under its data directory), never
the system's trust store, and nothing is installed system-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from .app import Sandbox
from .identity import TENANT_ID, make_tls

__all__ = ["serve"]


class _Follower(uvicorn.Server):
    """The HTTPS listener: it leaves signals to the HTTP one and stops when that one stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(sandbox: Sandbox, host: str, port: int, tls_port: int, identity_dir: Path, *, app: Any = None) -> None:
    """Serve ``app`` (default: the sandbox's own; ``sandbox serve --faults`` wraps it) until stopped."""
    app = app or sandbox.app
    lead = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    follower = None
    if tls_port:
        tls = make_tls(identity_dir, sandbox.clock.now())
        config = uvicorn.Config(
            app, host=host, port=tls_port, log_level="warning",
            ssl_certfile=str(tls.cert), ssl_keyfile=str(tls.key),
        )  # fmt: skip
        follower = _Follower(config)
        url = f"https://{host}:{tls_port}"
        print(  # noqa: T201 - the person who started the sandbox reads this on stderr
            f"Sandbox over HTTPS at {url}/v1.0 (CA: {tls.ca}); identity platform issuer {url}/{TENANT_ID}/v2.0.\n"
            f"Remote mode: OUTLOOK_MCP_SANDBOX_URL={url}/v1.0 outlook-calendar-mcp serve --transport http --auth oauth",
            file=sys.stderr,
            flush=True,
        )

    async def follow() -> None:
        assert follower is not None
        try:
            await follower.serve()
        except (SystemExit, OSError):  # uvicorn exits when it cannot bind: keep serving HTTP, say why
            print(  # noqa: T201 - the person who started the sandbox reads this on stderr
                f"Sandbox: HTTPS not served, port {tls_port} is taken (choose another with --tls-port).",
                file=sys.stderr,
                flush=True,
            )

    async def both() -> None:
        task = asyncio.create_task(follow()) if follower else None
        try:
            await lead.serve()
        finally:
            if follower and task:
                follower.should_exit = True
                await task

    asyncio.run(both())
