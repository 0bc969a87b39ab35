"""The sandbox misbehaving like Graph does: throttling, service errors, lost replies, resets, latency.

``sandbox serve --faults 429=0.1,503=0.05,drop=0.05,reset=0.02 --latency 150ms --seed 7`` gives each
Graph request (paths under ``/v1.0`` and ``/beta``) one fault at most, drawn from a seeded generator so a
run can be repeated:

* ``429``: Too Many Requests with ``Retry-After`` (1 to 3 s); nothing applied (Graph's promise);
* ``503``: Service Unavailable, with ``Retry-After`` half the time; nothing applied;
* ``504``: Gateway Timeout; the request was applied half the time (a gateway gives up without knowing);
* ``drop``: the request is applied, then the connection closes before the reply (the reply is lost);
* ``reset``: the connection is reset before the request reaches the service; nothing applied.

``--latency`` delays every answer (Graph-like 150 ms). Two ways in: :class:`FaultMiddleware` wraps the ASGI
app for ``sandbox serve`` (a lost reply is a response cut short: the client sees the connection close),
:class:`FaultyTransport` wraps an ``httpx`` transport in process (a lost reply raises ``httpx.ReadError``).
:attr:`Faults.counts` says how many of each were injected, and :attr:`Faults.applied_lost` how many
requests were applied without their reply reaching the client.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

__all__ = ["KINDS", "FaultMiddleware", "Faults", "FaultyTransport", "parse_faults", "parse_latency"]

KINDS = ("429", "503", "504", "drop", "reset")


class FaultSpecError(ValueError):
    """A --faults or --latency value that cannot be read; the message shows the expected form."""


def parse_faults(text: str | None) -> dict[str, float]:
    """``"429=0.1,503=0.05,drop=0.05"`` -> rates by kind (each 0..1, together at most 1)."""
    rates: dict[str, float] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        kind, _, value = part.partition("=")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise FaultSpecError(f"--faults: unknown fault '{kind[:20]}'; known: {', '.join(KINDS)} (e.g. 429=0.1).")
        try:
            rate = float(value)
        except ValueError:
            raise FaultSpecError(f"--faults: '{part[:40]}' needs a rate between 0 and 1, e.g. {kind}=0.05.") from None
        if not 0 <= rate <= 1:
            raise FaultSpecError(f"--faults: the rate of {kind} must be between 0 and 1, not {value}.")
        rates[kind] = rate
    if sum(rates.values()) > 1:
        raise FaultSpecError("--faults: the rates add up to more than 1.")
    return rates


def parse_latency(text: str | None) -> float:
    """``"150ms"``, ``"0.2s"`` or ``"0.15"`` (seconds) -> seconds."""
    if not text:
        return 0.0
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", text)
    if not m:
        raise FaultSpecError(f"--latency: '{text[:20]}' is not a duration; give e.g. 150ms or 0.2s.")
    value = float(m[1])
    return value / 1000 if m[2] == "ms" else value


@dataclass
class Faults:
    """Which fault (if any) each request gets, drawn from a seeded generator; and what was injected."""

    rates: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0
    seed: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    applied_lost: int = 0  # requests applied whose reply the client never got (drop, half of 504)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @classmethod
    def parse(cls, faults: str | None, latency: str | None = None, seed: int | None = None) -> Faults:
        return cls(parse_faults(faults), parse_latency(latency), seed)

    def draw(self, path: str) -> str | None:
        """The fault for a request to ``path``: only Graph paths (/v1.0, /beta) misbehave."""
        if not self.rates or not path.startswith(("/v1.0", "/beta")):
            return None
        roll = self._random.random()
        for kind in KINDS:
            rate = self.rates.get(kind, 0.0)
            if roll < rate:
                self.counts[kind] += 1
                return kind
            roll -= rate
        return None

    def applies_504(self) -> bool:
        return self._random.random() < 0.5

    def error(self, kind: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and Graph-shaped body of an injected 429/503/504."""
        status = int(kind)
        request_id = str(uuid.uuid4())
        headers = {"content-type": "application/json", "request-id": request_id}
        code, message = {
            429: ("TooManyRequests", "Application is over its MailboxConcurrency limit."),
            503: ("ServiceUnavailable", "The service is temporarily unavailable. Try again later."),
            504: ("GatewayTimeout", "The gateway did not receive a timely response."),
        }[status]
        if status == 429 or (status == 503 and self._random.random() < 0.5):
            headers["retry-after"] = str(self._random.randint(1, 3))
        body = {"error": {"code": code, "message": message, "innerError": {"request-id": request_id}}}
        return status, headers, json.dumps(body).encode()

    async def delay(self) -> None:
        if self.latency_s > 0:
            await anyio.sleep(self.latency_s * self._random.uniform(0.5, 1.5))

    def summary(self) -> str:
        shown = ", ".join(f"{k}={self.rates[k]:g}" for k in KINDS if k in self.rates) or "none"
        return f"faults {shown}; latency {self.latency_s * 1000:.0f} ms; seed {self.seed}"


class FaultyTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport into ``inner`` (the sandbox's ASGI transport) that misbehaves per ``faults``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.faults.delay()
        kind = self.faults.draw(request.url.path)
        if kind == "reset":
            raise httpx.ReadError("Connection reset by peer", request=request)
        if kind in ("429", "503") or (kind == "504" and not self.faults.applies_504()):
            status, headers, body = self.faults.error(kind)
            return httpx.Response(status, headers=headers, content=body, request=request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if kind == "drop":
            self.faults.applied_lost += 1
            raise httpx.ReadError("Server disconnected without sending a complete response", request=request)
        if kind == "504":
            self.faults.applied_lost += 1
            status, headers, body = self.faults.error(kind)
            return httpx.Response(status, headers=headers, content=body, request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class FaultMiddleware:
    """ASGI middleware: the served sandbox misbehaving per ``faults`` (see the module's docstring)."""

    def __init__(self, app: Any, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.faults.delay()
        kind = self.faults.draw(scope.get("path", ""))
        if kind is None:
            await self.app(scope, receive, send)
            return
        if kind in ("429", "503") or (kind == "504" and not self.faults.applies_504()):
            await self._error(send, kind)
            return
        if kind == "reset":
            await self._cut(send)
            return

        async def swallow(message: dict) -> None:  # the service answers; the client never hears it
            return None

        await self.app(scope, receive, swallow)
        self.faults.applied_lost += 1
        if kind == "504":
            await self._error(send, kind)
        else:
            await self._cut(send)

    async def _error(self, send: Any, kind: str) -> None:
        status, headers, body = self.faults.error(kind)
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _cut(send: Any) -> None:
        """A reply that never completes: it announces a body and ends without it, so the server drops the
        connection (uvicorn says so in one line)."""
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
