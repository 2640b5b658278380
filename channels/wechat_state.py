"""Small shared key-value state for the WeChat channel: dedup marks, counters, choices.

Why two stores: one Rasa process can keep this in memory, but several Rasa processes
behind one official account must share it (a WeChat retry may reach another process),
so ``YIWEN_REDIS_URL`` switches to Redis. Both stores expose the same four atomic
operations, and every value expires, so nothing grows without bound.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)

# INCR that sets the expiry on creation, atomically (plain INCR + EXPIRE could leave a
# counter without expiry if the process died between the two commands).
_INCR_WITH_TTL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class StateStore(Protocol):
    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; True when this call stored it."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def incr(self, key: str, ttl: float) -> int:
        """Increment a counter; the first increment starts its ``ttl``."""

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """In-process LRU with per-entry expiry; the default when Redis is not configured."""

    def __init__(
        self, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, key: str) -> tuple[float, str] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    def _store(self, key: str, value: str, ttl: float) -> None:
        self._data[key] = (self._clock() + ttl, value)
        self._data.move_to_end(key)
        now = self._clock()
        while self._data:
            oldest_key, (expires, _) = next(iter(self._data.items()))
            if len(self._data) > self._max or expires <= now:
                del self._data[oldest_key]
            else:
                break

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._store(key, value, ttl)
        return True

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[1] if entry else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._store(key, value, ttl)

    async def incr(self, key: str, ttl: float) -> int:
        entry = self._live(key)
        if entry is None:
            self._store(key, "1", ttl)
            return 1
        value = int(entry[1]) + 1
        self._data[key] = (entry[0], str(value))
        return value

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def close(self) -> None:
        self._data.clear()


class RedisStore:
    """Redis-backed store shared by every Rasa process of one deployment.

    When Redis is unreachable the channel keeps working on a local ``MemoryStore``
    (dedup then only holds within one process) and logs the failure, because losing a
    citizen's message is worse than a rare duplicate answer.
    """

    def __init__(self, url: str, prefix: str = "yiwen:wechat:") -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self._prefix = prefix
        self._fallback = MemoryStore()
        self._last_warning = 0.0

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            logger.warning("Redis 不可用，微信渠道暂用进程内状态：%s", exc)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        try:
            return bool(await self._redis.set(self._prefix + key, value, nx=True, px=_ms(ttl)))
        except Exception as exc:  # redis errors and OSError alike
            self._warn(exc)
            return await self._fallback.add(key, value, ttl)

    async def get(self, key: str) -> str | None:
        try:
            value = await self._redis.get(self._prefix + key)
            return None if value is None else str(value)
        except Exception as exc:
            self._warn(exc)
            return await self._fallback.get(key)

    async def set(self, key: str, value: str, ttl: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=_ms(ttl))
        except Exception as exc:
            self._warn(exc)
            await self._fallback.set(key, value, ttl)

    async def incr(self, key: str, ttl: float) -> int:
        try:
            return int(await self._redis.eval(_INCR_WITH_TTL, 1, self._prefix + key, _ms(ttl)))
        except Exception as exc:
            self._warn(exc)
            return await self._fallback.incr(key, ttl)

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except Exception as exc:
            self._warn(exc)
            await self._fallback.delete(key)

    async def close(self) -> None:
        try:
            await self._redis.close()
        except Exception as exc:
            self._warn(exc)


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


def make_store(redis_url: str, prefix: str = "yiwen:wechat:") -> StateStore:
    """Redis when a URL is configured, otherwise the in-process LRU."""
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
