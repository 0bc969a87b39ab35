"""The state interface, on SQLite and on a real Redis: values, expiry, claim, and per-person keys."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from outlook_calendar_mcp.calendar.sync_state import SyncState
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.ids import Handles, UnknownHandle
from outlook_calendar_mcp.state import StateStore, acting_as
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
    with acting_as(ALICE):
        state.put("me:w", "me", ("2027-03-08", "2027-03-15"), "https://graph/delta?x", {"id1": "Standup"})
        assert state.get("me:w") == ("https://graph/delta?x", {"id1": "Standup"}, clock.now().isoformat(timespec="microseconds"))
        assert state.last_window("me") == ("2027-03-08", "2027-03-15")
    with acting_as(BOB):
        assert state.get("me:w") is None and state.last_window("me") is None


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


def test_incr_counts_atomically_under_contention(store: StateStore) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def bump() -> None:
        for _ in range(5):
            n = store.incr("rate:x", ttl_s=120)
            with lock:
                seen.append(n)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 41))  # every call got its own number: none lost, none repeated
    assert store.incr("rate:y", ttl_s=120) == 1 and store.incr("rate:x", ttl_s=120) == 41


def test_sqlite_counter_expires_on_the_clock(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC), frozen=True)
    s = SqliteState(tmp_path / "s.db", clock=clock)
    assert [s.incr("n", ttl_s=60) for _ in range(3)] == [1, 2, 3]
    clock.set(dt.datetime(2027, 3, 10, 12, 0, 59, tzinfo=dt.UTC))
    assert s.incr("n", ttl_s=60) == 4  # a later increment does not extend the counter's life
    clock.set(dt.datetime(2027, 3, 10, 12, 1, tzinfo=dt.UTC))
    assert s.incr("n", ttl_s=60) == 1
    assert s._db.execute("SELECT count(*) FROM kv").fetchone() == (1,)  # the expired counter is gone


def test_redis_counter_gets_one_expiry(redis_url: str) -> None:
    import redis

    store = RedisState(redis_url)
    raw = redis.Redis.from_url(redis_url)
    assert store.incr("rate:z", ttl_s=120) == 1
    raw.expire(PREFIX + "rate:z", 30)  # as if 90 s had passed
    assert store.incr("rate:z", ttl_s=120) == 2
    assert 0 < raw.ttl(PREFIX + "rate:z") <= 30  # INCR kept it, EXPIRE NX did not push it back


def test_rate_limit_is_per_person_and_per_minute(store: StateStore) -> None:
    clock = Clock(dt.datetime(2027, 3, 10, 12, 0, 15, tzinfo=dt.UTC), frozen=True)
    limit = RateLimit(3, store, clock)
    with acting_as(ALICE):
        for _ in range(3):
            limit.take("calendar_view")
        with pytest.raises(RateLimited, match=r"at most 3 tool calls per minute per person.*try again in 45 s"):
            limit.take("get_event")
    with acting_as(BOB):
        for _ in range(3):
            limit.take("calendar_view")  # Alice's calls are not Bob's
    # another process on the same store (a worker sharing Redis) sees Alice's count
    with acting_as(ALICE), pytest.raises(RateLimited):
        RateLimit(3, store, clock).take("calendar_view")
    clock.set(dt.datetime(2027, 3, 10, 12, 1, tzinfo=dt.UTC))  # the next minute
    with acting_as(ALICE):
        limit.take("calendar_view")
    with acting_as(ALICE):
        for _ in range(10):
            RateLimit(0, store, clock).take("calendar_view")  # 0: no limit
