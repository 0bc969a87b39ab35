"""The per-person rate limit through HAProxy in front of three workers sharing Redis (OUTLOOK_MCP_RATE_LIMIT=3).

Round robin: consecutive calls of one person land on different workers, so the limit holds only if the
workers count in Redis (``rate:<tenant id>:<user object id>``: when the person's next call is due), not each
in its own memory. The limit slides (one call frees every 60 / 3 = 20 s): the workers' clocks start seconds
apart (each as it starts), and the test's calls take a few seconds, well within those 20.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator

import pytest
import redis

from tests.instants import suite_instant
from tests.remote.oauth_client import Person
from tests.remote.services import Cluster, RemoteSandbox, cluster, events_of, redis_server, remote_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

DANA, ALEX = "dana@contoso.com", "alex@contoso.com"
LIMIT = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RemoteSandbox, Cluster]]:
    tmp = tmp_path_factory.mktemp("rate")
    # the workers' clocks start at the top of a minute (each as it starts, seconds apart)
    minute = math.ceil(suite_instant().timestamp() / 60) * 60
    start = dt.datetime.fromtimestamp(minute, suite_instant().tzinfo).isoformat()
    with redis_server(tmp) as url, remote_sandbox(tmp) as sandbox, \
            cluster(tmp, sandbox, url, 3, OUTLOOK_MCP_RATE_LIMIT=str(LIMIT), OUTLOOK_MCP_NOW=start) as lb:
        yield sandbox, lb


def text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def slot(hour: int) -> dict[str, str]:
    day = (suite_instant() + dt.timedelta(days=3)).date().isoformat()
    return {"start": f"{day}T{hour:02d}:00", "end": f"{day}T{hour:02d}:30"}


async def test_one_person_exhausts_their_limit_on_every_worker_the_other_is_unaffected(
    stack: tuple[RemoteSandbox, Cluster],
) -> None:
    sandbox, lb = stack
    dana, alex = Person(DANA, lb.url, sandbox.ssl()), Person(ALEX, lb.url, sandbox.ssl())
    async with dana.client() as d, alex.client() as a:
        assert not (await a.call_tool("calendar_view", {})).is_error  # Alex's first call of the minute
        # Dana's calls cross all three workers; together they allow her LIMIT, not LIMIT per worker
        for _ in range(LIMIT - 1):
            got = await d.call_tool("calendar_view", {})
            assert not got.is_error, text(got)
        made = await d.call_tool("create_event", {"subject": "Dana within her limit", **slot(9)})
        assert not made.is_error, text(made)
        for _ in range(6):  # two rounds of the three workers: refused on each
            refused = await d.call_tool("create_event", {"subject": "Dana over her limit", **slot(10)})
            assert refused.is_error, text(refused)
            assert re.search(rf"at most {LIMIT} tool calls per minute per person.*try again in \d+ s", text(refused))
        assert events_of(sandbox.db, "Dana within her limit", DANA) and not events_of(
            sandbox.db, "Dana over her limit", DANA)
        # Alex has the rest of his own: three more calls, all through, then his limit too
        for _ in range(LIMIT - 1):
            got = await a.call_tool("calendar_view", {})
            assert not got.is_error, text(got)
        assert (await a.call_tool("calendar_view", {})).is_error

    # one value per person (and a mark of their refusals), in Redis, under tenant id:user object id; no one
    # else's; each gone once it says nothing (the person's next call is due within a minute)
    raw = redis.Redis.from_url(lb.redis_url, decode_responses=True)
    keys = sorted(raw.keys("outlook-mcp:rate:*"))
    assert len(keys) == 4 and all(re.fullmatch(r"outlook-mcp:rate:[\w-]+:[\w-]+(:refused)?", k) for k in keys), keys
    assert all(0 < raw.pttl(k) <= 60_000 for k in keys)
    # one log line per person who reached the limit, naming the person's key, never a token
    logs = lb.logs()
    assert logs.count(f"reached {LIMIT} tool calls a minute") == 2, logs
    assert "eyJ" not in logs
