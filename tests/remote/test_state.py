"""The state interface, on SQLite and on a real Redis: values, expiry, claim, and per-person keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from outlook_calendar_mcp.calendar.sync_state import SyncState
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.ids import Handles, UnknownHandle
from outlook_calendar_mcp.state import Claim, StateStore, Turn, acting_as
from outlook_calendar_mcp.state.redis import PREFIX, RedisState
from outlook_calendar_mcp.state.sqlite import SqliteState
from outlook_calendar_mcp.state.tokens import TokenCacheStore
from outlook_calendar_mcp.tools.rate import RateLimit, RateLimited

GRAPH_ID = "AAMkAGI2TG93AAA=" + "x" * 120
ALICE, BOB = "tenant-1:alice-oid", "tenant-1:bob-oid"


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        s = SqliteState(tmp_path / "state.db")
        yield s
        s.close()
    else:
        url = request.getfixturevalue("redis_url")
        r = RedisState(url)
        yield r
        r.close()


def at_once(store: StateStore, tmp_path: Path, work: Callable[[StateStore], Awaitable[None]]) -> None:
    """``work`` in eight threads at once, each on a connection of its own to ``store``'s data (as workers are)."""

    def worker() -> None:
        own = SqliteState(tmp_path / "state.db") if isinstance(store, SqliteState) else RedisState(store._url)

        async def run() -> None:
            try:
                await work(own)
            finally:
                await own.aclose()

        asyncio.run(run())
        own.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_values_round_trip_and_delete(store: StateStore) -> None:
    assert store.get("a") is None
    store.put("a", "1")
    store.put("a", "two")
    assert store.get("a") == "two"
    store.delete("a")
    assert store.get("a") is None


def test_claim_is_single_use_even_under_contention(store: StateStore) -> None:
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(store.claim("confirm:x", 60))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    assert store.claim("confirm:x", 60) is False
    assert store.claim("confirm:y", 60) is True


def test_sqlite_expiry_follows_the_clock(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC), frozen=True)
    s = SqliteState(tmp_path / "s.db", clock=clock)
    s.put("k", "v", ttl_s=60)
    assert s.claim("c", ttl_s=60)
    assert s.get("k") == "v" and not s.claim("c", ttl_s=60)
    clock.set(dt.datetime(2027, 3, 10, 12, 2, tzinfo=dt.UTC))
    assert s.get("k") is None
    assert s.claim("c", ttl_s=60)  # expired claims can be taken again


def test_handles_are_per_person(store: StateStore) -> None:
    handles = Handles(store)
    with acting_as(ALICE):
        handle = handles.handle("event", GRAPH_ID)
        assert handles.resolve("event", handle, argument="event") == GRAPH_ID
    with acting_as(BOB), pytest.raises(UnknownHandle, match="unknown handle"):
        handles.resolve("event", handle, argument="event")
    # a second process (another Handles on the same store) resolves Alice's handle for Alice
    with acting_as(ALICE):
        assert Handles(store).resolve("event", handle, argument="event") == GRAPH_ID


def test_sync_state_is_per_person(store: StateStore) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC), frozen=True)
    state = SyncState(store, clock)

    async def rounds() -> None:
        with acting_as(ALICE):
            await state.put("me:w", "me", ("2027-03-08", "2027-03-15"), "https://graph/delta?x", {"id1": "Standup"})
            assert await state.get("me:w") == (
                "https://graph/delta?x", {"id1": "Standup"}, clock.now().isoformat(timespec="microseconds"))
            assert await state.last_window("me") == ("2027-03-08", "2027-03-15")
        with acting_as(BOB):
            assert await state.get("me:w") is None and await state.last_window("me") is None
        with acting_as(ALICE):
            await state.drop("me:w")
            assert await state.get("me:w") is None
        await store.aclose()

    asyncio.run(rounds())


def test_token_cache_is_encrypted_in_redis(redis_url: str) -> None:
    import msal
    import redis

    store = RedisState(redis_url)
    caches = TokenCacheStore(store, "a state key of the deployment, 32+ chars")
    cache = msal.SerializableTokenCache()
    cache.add({"client_id": "cid", "scope": ["Calendars.Read"], "token_endpoint": "https://login.example/t/oauth2/v2.0/token",
               "response": {"access_token": "eyJ.SECRET-ACCESS.sig", "refresh_token": "SECRET-REFRESH", "expires_in": 3600,
                            "token_type": "Bearer"}})
    caches.save(ALICE, cache)
    raw = redis.Redis.from_url(redis_url)
    dump = b"".join(raw.get(k) or b"" for k in raw.keys(PREFIX + "*"))
    assert dump and b"SECRET" not in dump and b"eyJ" not in dump
    loaded = caches.load(ALICE)
    assert [t["secret"] for t in loaded.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)] == ["SECRET-REFRESH"]
    # another key reads nothing (not an error): the person exchanges a fresh token
    other = TokenCacheStore(store, "a different key of 32 characters!!")
    assert not list(other.load(ALICE).search(msal.TokenCache.CredentialType.REFRESH_TOKEN))
    assert not list(caches.load(BOB).search(msal.TokenCache.CredentialType.REFRESH_TOKEN))


def test_throttle_is_atomic_across_connections_under_contention(store: StateStore, tmp_path: Path) -> None:
    """Eight threads, each its own connection (as workers are), 5 calls each at one instant: exactly the
    burst gets through, and the refusals count nothing."""
    now, interval = 1_900_000_000_000_000, 3_000_000  # 20 a minute
    turns: list[Turn] = []
    lock = threading.Lock()

    async def five(own: StateStore) -> None:
        for _ in range(5):
            turn = await own.throttle("rate:x", now, interval, 20)
            with lock:
                turns.append(turn)

    at_once(store, tmp_path, five)
    assert sum(t.allowed for t in turns) == 20  # none lost, none let through twice
    assert sum(t.first_refusal for t in turns) == 1  # one log line, whichever worker refused first
    assert {t.wait_us for t in turns if not t.allowed} == {interval}
    assert store.get("rate:x") == f"{now + 20 * interval} {now}"  # when the next is due; the latest now
    # a different key is not this one's
    assert asyncio.run(store.throttle("rate:y", now, interval, 20)).allowed


def test_throttle_slides(store: StateStore) -> None:
    """3 a minute: 3 at once, then one every 20 s; the refused ones say when, and move nothing."""
    t0, interval = 1_900_000_000_000_000, 20_000_000

    async def at(seconds: float) -> Turn:
        return await store.throttle("rate:s", t0 + int(seconds * 1_000_000), interval, 3)

    async def walk() -> list[tuple[float, bool, int]]:
        return [(s, (turn := await at(s)).allowed, turn.wait_us) for s in (0, 0, 0, 0, 5, 19.5, 20, 20, 39, 40, 40, 100)]

    assert asyncio.run(walk()) == [
        (0, True, 0), (0, True, 0), (0, True, 0),
        (0, False, 20_000_000), (5, False, 15_000_000), (19.5, False, 500_000),
        (20, True, 0), (20, False, 20_000_000), (39, False, 1_000_000), (40, True, 0), (40, False, 20_000_000),
        (100, True, 0),
    ]


def test_sqlite_sweeps_expired_rows_once_a_minute_not_on_every_call(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC), frozen=True)
    s = SqliteState(tmp_path / "s.db", clock=clock)
    now = int(clock.now().timestamp() * 1_000_000)
    statements: list[str] = []
    s.put("k", "v", ttl_s=30)
    s._db.set_trace_callback(statements.append)
    for _ in range(3):
        assert asyncio.run(s.throttle("rate:p", now, 1_000_000, 60)).allowed
    assert len(statements) == 3 and all(q.startswith("INSERT INTO kv") for q in statements), statements  # one each
    clock.set(dt.datetime(2027, 3, 10, 12, 0, 59, tzinfo=dt.UTC))
    s.put("other", "w")
    assert s._db.execute("SELECT count(*) FROM kv WHERE key = 'k'").fetchone() == (1,)  # expired, not yet swept
    assert asyncio.run(s.throttle("rate:live", now + 59_500_000, 1_000_000, 60)).allowed  # due at +60.5 s
    clock.set(dt.datetime(2027, 3, 10, 12, 1, tzinfo=dt.UTC))
    statements.clear()
    assert asyncio.run(s.throttle("rate:p", now + 60_000_000, 1_000_000, 60)).allowed
    # a minute on, one sweep: rows past their expiry (store's clock), limits past their due time (caller's)
    assert [q.split()[0] for q in statements] == ["DELETE", "DELETE", "INSERT"], statements
    assert s._db.execute("SELECT key FROM kv ORDER BY key").fetchall() == [("other",), ("rate:live",), ("rate:p",)]


def test_redis_throttle_keeps_one_key_that_expires_when_it_says_nothing(redis_url: str) -> None:
    import redis

    store = RedisState(redis_url)
    raw = redis.Redis.from_url(redis_url)

    async def calls() -> list[Turn]:
        out = [await store.throttle("rate:z", 1_900_000_000_000_000, 1_000_000, 60) for _ in range(3)]
        await store.aclose()
        return out

    assert all(t.allowed for t in asyncio.run(calls()))
    assert raw.get(PREFIX + "rate:z") == b"1900000003000000 1900000000000000"
    assert 0 < raw.pttl(PREFIX + "rate:z") <= 3000  # gone once the due time has passed
    assert raw.keys(PREFIX + "*") == [(PREFIX + "rate:z").encode()]


def test_rate_limit_is_per_person_and_slides(store: StateStore) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, 0, 15, tzinfo=dt.UTC), frozen=True)
    limit = RateLimit(3, store, clock)

    async def calls() -> None:
        with acting_as(ALICE):
            for _ in range(3):
                await limit.take("calendar_view")
            with pytest.raises(RateLimited, match=r"at most 3 tool calls per minute per person.*try again in 20 s"):
                await limit.take("get_event")
        with acting_as(BOB):
            for _ in range(3):
                await limit.take("calendar_view")  # Alice's calls are not Bob's
        # another process on the same store (a worker sharing Redis) sees Alice's calls
        with acting_as(ALICE), pytest.raises(RateLimited):
            await RateLimit(3, store, clock).take("calendar_view")
        clock.set(dt.datetime(2027, 3, 10, 12, 0, 35, tzinfo=dt.UTC))  # 20 s on: one call, not three
        with acting_as(ALICE):
            await limit.take("calendar_view")
            with pytest.raises(RateLimited, match=r"try again in 20 s"):
                await limit.take("calendar_view")
            for _ in range(10):
                await RateLimit(0, store, clock).take("calendar_view")  # 0: no limit

    asyncio.run(calls())
    if isinstance(store, RedisState):
        asyncio.run(store.aclose())


def test_workers_whose_clocks_differ_hold_the_limit_without_refusing_what_it_allows(store: StateStore) -> None:
    """Workers started seconds apart with the same --now (or a clock stepped back): a call's time is the latest
    any of them brought, so a burst within the limit is let through on the one behind, and no more."""
    ahead = Clock(dt.datetime(2027, 3, 10, 12, 0, 5, tzinfo=dt.UTC), frozen=True)
    behind = Clock(dt.datetime(2027, 3, 10, 12, 0, 0, tzinfo=dt.UTC), frozen=True)
    workers = [RateLimit(3, store, ahead), RateLimit(3, store, behind)]

    async def calls() -> None:
        with acting_as(ALICE):
            for n in range(3):
                await workers[n % 2].take("calendar_view")  # ahead, behind, ahead: the third at the limit
            for worker in workers:
                with pytest.raises(RateLimited, match=r"try again in 20 s"):
                    await worker.take("calendar_view")
            behind.set(dt.datetime(2027, 3, 10, 12, 0, 24, tzinfo=dt.UTC))
            with pytest.raises(RateLimited, match=r"try again in 1 s"):  # one frees 20 s after 12:00:05
                await workers[1].take("calendar_view")
            behind.set(dt.datetime(2027, 3, 10, 12, 0, 25, tzinfo=dt.UTC))
            await workers[1].take("calendar_view")
            with pytest.raises(RateLimited):  # and that one only
                await workers[0].take("calendar_view")

    asyncio.run(calls())
    if isinstance(store, RedisState):
        asyncio.run(store.aclose())


def test_an_unreachable_redis_is_said_as_such(tmp_path: Path) -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from tests.servers import free_port

    store = RedisState(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    limit = RateLimit(3, store, Clock(dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC), frozen=True))
    with pytest.raises(ToolError, match=r"could not be checked: Redis 127\.0\.0\.1:\d+/0 did not answer.*"
                                        r"calendar_view was not run and nothing was changed"):
        asyncio.run(limit.take("calendar_view"))


def test_claim_first_takes_the_first_free_or_own_candidate(store: StateStore) -> None:
    async def claims() -> None:
        store.put("h:abc", "another id")
        store.put("h:xyz", "mine too")
        got = await store.claim_first(
            [Claim("h:abc", "mine", "de"), Claim("h:new", "v", "q"), Claim("h:xyz", "mine too", "q")], 60
        )
        assert got == [1, 0, 0]  # a longer key where the first holds another value; its own value kept
        assert [store.get(k) for k in ("h:abcd", "h:new", "h:xyz")] == ["mine", "v", "mine too"]
        assert await store.claim_first([Claim("h:abc", "mine", "de")], 60) == [1]  # the same answer again
        store.put("h:abcde", "a third")
        assert await store.claim_first([Claim("h:abc", "a fourth", "de")], 60) == [-1]  # every candidate taken
        assert await store.claim_first([], 60) == []
        assert await store.aget_many(["h:abcd", "h:none", "h:new"]) == ["mine", None, "v"]
        await store.aclose()

    asyncio.run(claims())


def test_a_result_mints_once_keeps_the_collision_rule_and_stays_per_person(store: StateStore) -> None:
    ids = [f"AAMkAGI2TG93{n:04d}" + "x" * 120 for n in range(30)]
    first = Handles._hashed("event", ids[0])[0]

    async def views() -> None:
        handles = Handles(store)
        with acting_as(ALICE):
            store.put(f"handle:{ALICE}:{first}", "another id of Alice's")  # the first id's prefix is taken
            await handles.mint([("event", i) for i in ids] + [("event", ids[3])])
            minted = [handles.handle("event", i) for i in ids]
            assert minted[0] == first + Handles._hashed("event", ids[0])[1][:1]  # one character longer
            assert all(len(h) == len(first) for h in minted[1:]) and len(set(minted)) == 30
            assert [handles.resolve("event", h, argument="event") for h in minted] == ids
            # another worker (a fresh Handles: nothing cached) mints the same handles, and resolves them
            other = Handles(store)
            await other.mint([("event", i) for i in ids])
            assert [other.handle("event", i) for i in ids] == minted
            await other.prefetch(["not a handle", minted[5], "ev_zzzzzz"])
            assert other.resolve("event", minted[5], argument="event") == ids[5]
        with acting_as(BOB):
            await handles.prefetch(minted)  # Alice's handles, looked up as Bob: none is his
            for h in minted:
                with pytest.raises(UnknownHandle):
                    handles.resolve("event", h, argument="event")
            await handles.mint([("event", ids[0])])  # Bob's own: the prefix Alice's other id holds is free for him
            assert handles.handle("event", ids[0]) == first
        with acting_as(ALICE):
            assert handles.handle("event", ids[0]) == minted[0]  # the process's cache keeps them apart
        await store.aclose()

    asyncio.run(views())


def test_the_handle_cache_is_bounded(store: StateStore) -> None:
    ids = [f"AAMkAGI2TG93{n:05d}" + "y" * 120 for n in range(300)]

    async def many() -> None:
        handles = Handles(store, cache_size=50)
        with acting_as(ALICE):
            for start in range(0, 300, 30):  # ten results of 30 new events each
                await handles.mint([("event", i) for i in ids[start : start + 30]])
            assert len(handles._handles) == 50 and len(handles._ids) == 50
            # what fell out is still in the store: the same handle, resolved again
            early = Handles(store).handle("event", ids[0])
            assert handles.handle("event", ids[0]) == early
            assert handles.resolve("event", early, argument="event") == ids[0]
        await store.aclose()

    asyncio.run(many())


def test_workers_minting_the_same_ids_at_once_agree(store: StateStore, tmp_path: Path) -> None:
    """Eight workers (each its own connection) mint one result's 40 ids at once, half of them also a handle taken by
    another id: every worker shows the same handles, and each stored handle names one id."""
    ids = [f"AAMkAGI2TG93{n:04d}" + "z" * 120 for n in range(40)]
    for graph_id in ids[::2]:
        store.put(f"handle:{ALICE}:{Handles._hashed('event', graph_id)[0]}", "taken by another id")
    shown: list[list[str]] = []
    lock = threading.Lock()

    async def view(own: StateStore) -> None:
        handles = Handles(own)
        with acting_as(ALICE):
            await handles.mint([("event", i) for i in ids])
            with lock:
                shown.append([handles.handle("event", i) for i in ids])

    at_once(store, tmp_path, view)
    assert len(shown) == 8 and all(s == shown[0] for s in shown)
    assert [len(h) for h in shown[0]] == [10, 9] * 20  # ev_ + 7 characters where the 6 were taken
    assert [store.get(f"handle:{ALICE}:{h}") for h in shown[0]] == ids
