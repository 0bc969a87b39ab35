"""Command line: ``outlook-calendar-mcp [serve|auth|sandbox|call]``.

stdout belongs to the stdio transport when serving: every message for people
goes to stderr. ``call`` prints one tool's result (JSON) on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from . import __version__
from .logs import log_to_stderr
from .startup import imports_without_gc, keep_bytecode


def _settings(args: argparse.Namespace):
    from .config import Settings  # noqa: PLC0415

    overrides: dict[str, Any] = {}
    for flag, key in (
        ("backend", "backend"),
        ("sandbox_db", "sandbox_db"),
        ("sandbox_user", "sandbox_user"),
        ("sandbox_url", "sandbox_url"),
        ("mailbox", "mailbox"),
        ("read_only", "read_only"),
        ("tools", "tools"),
        ("confirm_sends", "confirm_sends"),
        ("now", "now"),
        ("auth", "auth"),
        ("public_url", "public_url"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = value
    from pydantic import ValidationError  # noqa: PLC0415

    try:
        return Settings(**overrides)
    except ValidationError as e:  # a bad flag or OUTLOOK_MCP_* value: say which and how to fix it, no traceback
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in e.errors())
        raise SystemExit(f"outlook-calendar-mcp: {problems}") from None


def _now_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--now",
        help="time travel: the clock starts at this instant and ticks on, e.g. 2027-03-14T01:30 "
        "(read in this machine's time zone) or 2027-03-14T01:30-08:00",
    )


def _backend_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=["auto", "sandbox", "graph"],
        help="graph (Microsoft 365) or the built-in sandbox; default: graph when signed in",
    )
    p.add_argument("--sandbox-db", help="sandbox database file (':memory:' for a throwaway one)")
    p.add_argument("--sandbox-user", help="sandbox mailbox to act as, e.g. dana@contoso.com")
    p.add_argument("--sandbox-url", help="use a sandbox already running at this URL (…/v1.0)")
    p.add_argument("--mailbox", help="mailbox to act on (required for app-only sign-in)")
    p.add_argument("--read-only", action="store_true", default=None, help="offer no tool that changes anything")
    p.add_argument("--tools", help="presets (core, scheduling, responses, all) and/or tool names, comma-separated")
    sends = p.add_mutually_exclusive_group()
    sends.add_argument(
        "--confirm-sends",
        dest="confirm_sends",
        action="store_true",
        default=None,
        help="preview and require a confirmation token before anything reaches other people "
        "(default: on for HTTP transports)",
    )
    sends.add_argument("--no-confirm-sends", dest="confirm_sends", action="store_false")
    _now_flag(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outlook-calendar-mcp",
        description="The Outlook calendar as MCP tools (Microsoft Graph or a built-in sandbox).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (default: stdio)")
    serve.add_argument("--transport", choices=["stdio", "sse", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions")
    serve.add_argument(
        "--http-token",
        default=os.environ.get("OUTLOOK_MCP_HTTP_TOKEN"),
        help="require 'Authorization: Bearer TOKEN' on HTTP (needed to bind a non-loopback address)",
    )
    # remote and multi-user (docs/deployment.md)
    serve.add_argument(
        "--auth",
        choices=["none", "oauth"],
        help="oauth: an OAuth-protected resource; each caller's token is exchanged on-behalf-of for Graph",
    )
    serve.add_argument("--public-url", help="the MCP endpoint as clients reach it (behind a load balancer)")
    serve.add_argument("--workers", type=int, default=1, help="HTTP worker processes (stateless; share Redis state)")
    _backend_flags(serve)

    auth = sub.add_parser("auth", help="sign in to Microsoft 365 / Outlook.com")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    login = auth_sub.add_parser("login", help="sign in (device code by default; the prompt goes to stderr)")
    login.add_argument("--method", choices=["device_code", "browser"], default="device_code")
    auth_sub.add_parser("status", help="who is signed in, and where the token cache is")
    auth_sub.add_parser("logout", help="forget the cached sign-in")

    sandbox = sub.add_parser("sandbox", help="the built-in Graph-compatible sandbox service")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    sb_serve = sandbox_sub.add_parser("serve", help="serve the sandbox over HTTP (Graph paths under /v1.0)")
    sb_serve.add_argument("--host", default="127.0.0.1")
    sb_serve.add_argument("--port", type=int, default=8765)
    sb_serve.add_argument("--db", help="database file (default: in the user data dir)")
    sb_serve.add_argument(
        "--tls-port",
        type=int,
        help="also serve HTTPS here (the identity platform for msal; local CA under the data dir); "
        "default: --port + 1; 0: none",
    )
    _now_flag(sb_serve)
    # issue 12: the sandbox as a misbehaving Graph (sandbox/faults.py)
    sb_serve.add_argument("--faults", help="fault rates, e.g. 429=0.1,503=0.05,504=0.02,drop=0.05,reset=0.02")
    sb_serve.add_argument("--latency", help="delay of every answer, e.g. 150ms")
    sb_serve.add_argument("--seed", type=int, help="seed of the fault draws, to repeat a run")
    sb_reset = sandbox_sub.add_parser("reset", help="wipe the sandbox database and seed the demo organization again")
    sb_reset.add_argument("--db", help="database file (default: in the user data dir)")
    _now_flag(sb_reset)
    # -- sandbox seed (issue 15: scenario files) --
    sb_seed = sandbox_sub.add_parser(
        "seed", help="wipe the sandbox database and seed it from a scenario file (YAML or JSON)"
    )
    sb_seed.add_argument(
        "--scenario", required=True, help="scenario file (schema: sandbox/scenarios/scenario.schema.json), or 'demo'"
    )
    sb_seed.add_argument("--db", help="database file (default: in the user data dir)")
    _now_flag(sb_seed)

    # issue 12: the audit trail of writes (audit.py)
    audit = sub.add_parser("audit", help="print the audit trail of writes (JSON lines)")
    audit.add_argument("--since", help="only entries this recent: 30m, 1h, 2d (default: all)")
    audit.add_argument("--user", help="only this user's trail (a user key, e.g. an address; default: every user's)")

    call = sub.add_parser("call", help="run one tool through the real server path and print its result")
    call.add_argument("tool", help="tool name, e.g. calendar_view")
    call.add_argument("arguments", nargs="*", help="key=value pairs (values parsed as JSON when they are JSON)")
    call.add_argument("--json", dest="json_args", help="all arguments as one JSON object")
    _backend_flags(call)
    return parser


def _call_arguments(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.json_args:
        try:
            out.update(json.loads(args.json_args))
        except ValueError as e:
            raise SystemExit(f'--json: not valid JSON ({e}); e.g. --json \'{{"start": "2026-11-23"}}\'') from None
    for pair in args.arguments:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"argument '{pair}': use key=value, e.g. start=2026-11-23")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


async def _call(args: argparse.Namespace) -> int:
    from mcp import Client  # noqa: PLC0415

    from .clock import Clock  # noqa: PLC0415
    from .server import build_graph, create_server, describe_backend  # noqa: PLC0415

    settings = _settings(args)
    graph = build_graph(settings, clock=Clock(settings.now))
    # like serve: say where the call goes (stderr; stdout carries only the result)
    print(f"outlook-calendar-mcp call {args.tool}: backend: {describe_backend(settings, graph)}", file=sys.stderr)
    try:
        async with Client(create_server(settings, graph)) as client:
            result = await client.call_tool(args.tool, _call_arguments(args))
    finally:
        await graph.aclose()
    if result.is_error:
        print("\n".join(getattr(c, "text", "") for c in result.content), file=sys.stderr)
        return 1
    data = (
        result.structured_content
        if result.structured_content is not None
        else [getattr(c, "text", None) for c in result.content]
    )
    try:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    except BrokenPipeError:  # `call ... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _auth(args: argparse.Namespace) -> int:
    from . import auth  # noqa: PLC0415
    from .graph import GraphError  # noqa: PLC0415

    settings = _settings(args)
    try:
        if args.auth_command == "login":
            account = auth.login(settings, args.method, out=sys.stderr)
            print(f"Signed in as {account.get('username') or account}.", file=sys.stderr)
        elif args.auth_command == "status":
            print(json.dumps(auth.status(settings), indent=2, default=str))
        else:
            removed = auth.logout(settings)
            print("Signed out." if removed else "No cached sign-in to remove.", file=sys.stderr)
    except GraphError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from .clock import Clock  # noqa: PLC0415
    from .sandbox import Sandbox  # noqa: PLC0415

    settings = _settings(args)  # OUTLOOK_MCP_* and --now
    db = args.db or settings.sandbox_db
    clock = Clock(settings.now)
    if args.sandbox_command == "seed":
        return _sandbox_seed(args.scenario, db, clock)
    if args.sandbox_command == "reset":
        Sandbox(db, clock=clock, seed=False).reset()
        print(f"Sandbox reset: {db} holds the demo organization again.", file=sys.stderr)
        return 0
    identity = settings.data_dir / "sandbox-identity"
    sandbox = Sandbox(db, clock=clock, identity_dir=identity)
    tls_port = args.port + 1 if args.tls_port is None else args.tls_port
    from .sandbox.faults import FaultMiddleware, Faults, FaultSpecError  # noqa: PLC0415

    try:
        faults = Faults.parse(args.faults, args.latency, args.seed)
    except FaultSpecError as e:
        print(str(e), file=sys.stderr)
        return 2
    app: Any = FaultMiddleware(sandbox.app, faults) if faults.rates or faults.latency_s else sandbox.app
    if faults.rates or faults.latency_s:
        print(f"Sandbox misbehaving on purpose: {faults.summary()}.", file=sys.stderr, flush=True)
    print(
        f"Sandbox (Microsoft Graph v1.0-compatible) at http://{args.host}:{args.port}/v1.0 — database {db}. "
        "Send 'Authorization: Bearer sandbox' (or sandbox:<address>, sandbox-app)."
        + (
            f" Time travel: its clock reads {clock.now().isoformat(timespec='seconds')} and ticks on."
            if clock.travelling
            else ""
        ),
        file=sys.stderr,
        flush=True,
    )
    from .sandbox.serve import serve  # noqa: PLC0415 - uvicorn and TLS only when serving

    serve(sandbox, args.host, args.port, tls_port, identity, app=app)
    return 0


def _sandbox_seed(source: str, db: str, clock: Any) -> int:
    """``sandbox seed --scenario FILE``: check the file first (errors with line and field), then replace the
    database's contents with it."""
    from .sandbox import Sandbox  # noqa: PLC0415
    from .sandbox.scenarios import ScenarioError, anchor_day, load, packaged, seed  # noqa: PLC0415

    try:
        scenario = packaged() if source == "demo" else load(source)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    sandbox = Sandbox(db, clock=clock, seed=False)
    try:
        sandbox.store.wipe()
        seed(sandbox.store, scenario, clock)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        sandbox.close()
    print(
        f"Sandbox seeded: {db} holds '{scenario.name}' ({len(scenario.people)} people, {len(scenario.rooms)} rooms, "
        f"{len(scenario.events)} events; days relative to {anchor_day(scenario, clock)}).",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    keep_bytecode()  # before the SDK is imported: see startup.py
    parser = build_parser()
    args = parser.parse_args(argv)
    log_to_stderr(args.verbose)
    command = args.command or "serve"
    if command == "serve":
        if args.command is None:  # bare `outlook-calendar-mcp`: stdio with defaults
            args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "serve"])

        with imports_without_gc():  # the SDK's ~600 modules, pydantic-settings (startup.py)
            from .server import run  # noqa: PLC0415

            settings = _settings(args)
        run(
            settings,
            args.transport,
            args.host,
            args.port,
            stateless=args.stateless,
            http_token=args.http_token,
            workers=args.workers,
        )
        return 0
    if command == "auth":
        return _auth(args)
    if command == "sandbox":
        return _sandbox(args)
    if command == "audit":
        from .audit import print_trail  # noqa: PLC0415

        return print_trail(_settings(args), since=args.since, user=args.user)
    if command == "call":
        import anyio  # noqa: PLC0415

        return anyio.run(_call, args)
    parser.error(f"unknown command {command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
