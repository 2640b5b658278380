"""The shared state store: the same contract in memory and in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from channels.wechat_state import MemoryStore, RedisStore, StateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], StateStore]:
    if request.param == "memory":
        return MemoryStore
    prefix = request.getfixturevalue("redis_prefix")
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStore(url, prefix=prefix)


def test_add_is_set_if_absent(make_store: Callable[[], StateStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        assert await store.add("k", "first", 60) is True
        assert await store.add("k", "second", 60) is False
        assert await store.get("k") == "first"
        await store.set("k", "third", 60)
        assert await store.get("k") == "third"
        await store.delete("k")
        assert await store.get("k") is None
        assert await store.add("k", "again", 60) is True
        await store.close()

    run(scenario())


def test_concurrent_claims_have_one_winner(make_store: Callable[[], StateStore]) -> None:
    async def scenario() -> list[bool]:
        store = make_store()
        results = await asyncio.gather(*(store.add("msg:1", "p", 60) for _ in range(20)))
        await store.close()
        return list(results)

    assert sorted(run(scenario())) == [False] * 19 + [True]


def test_incr_counts_and_expires(make_store: Callable[[], StateStore]) -> None:
    async def scenario() -> None:
        store = make_store()
        assert [await store.incr("c", 0.3) for _ in range(3)] == [1, 2, 3]
        await asyncio.sleep(0.4)
        assert await store.incr("c", 0.3) == 1
        assert await store.add("short", "x", 0.1) is True
        await asyncio.sleep(0.2)
        assert await store.get("short") is None
        await store.close()

    run(scenario())


def test_memory_store_ttl_and_lru_bound() -> None:
    async def scenario() -> None:
        clock = Clock()
        store = MemoryStore(max_entries=3, clock=clock)
        await store.set("a", "1", 10)
        await store.set("b", "2", 10)
        await store.set("c", "3", 10)
        assert await store.get("a") == "1"  # a is now most recently used
        await store.set("d", "4", 10)  # evicts b, the least recently used
        assert await store.get("b") is None
        assert await store.get("a") == "1"
        assert len(store) == 3
        clock.now += 11
        assert await store.get("a") is None
        assert await store.add("c", "new", 10) is True

    run(scenario())


def test_redis_store_falls_back_to_memory_when_redis_is_down() -> None:
    async def scenario() -> None:
        store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
        assert await store.add("k", "v", 60) is True
        assert await store.add("k", "v", 60) is False
        assert await store.incr("n", 60) == 1
        assert await store.get("k") == "v"
        await store.close()

    run(scenario())
