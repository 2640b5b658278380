"""The chat limits' decisions (``channels.webchat.limits``), which the Rasa channels apply;
the stack probes in test_limits.py check them over HTTP."""

from __future__ import annotations

import asyncio

from channels.webchat.limits import ChatGuard, ChatLimits
from channels.wechat_state import MemoryStore


def _run(guard: ChatGuard, sender: str, ip: str, n: int) -> list[int | None]:
    async def go() -> list[int | None]:
        out = []
        for _ in range(n):
            refusal = await guard.refusal(sender, ip, "你好")
            out.append(refusal[0] if refusal else None)
        return out

    return asyncio.run(go())


def test_per_address_limit_groups_ipv6_by_64_and_spares_the_proxy() -> None:
    guard = ChatGuard(ChatLimits(sender_limit=1000, ip_limit=3), MemoryStore())
    for n in range(3):
        assert _run(guard, f"s{n}", f"2001:db8:1:2::{n + 1}", 1) == [None]
    assert _run(guard, "s9", "2001:db8:1:2:ffff::1", 1) == [429]  # same /64, new sender
    assert _run(guard, "s9", "2001:db8:1:3::1", 1) == [None]  # another /64
    assert _run(guard, "local", "127.0.0.1", 10) == [None] * 10  # a proxy, not a client


def test_per_sender_limit_and_length() -> None:
    guard = ChatGuard(ChatLimits(sender_limit=2, ip_limit=1000, max_chars=5), MemoryStore())
    assert _run(guard, "a", "198.51.100.7", 3) == [None, None, 429]
    assert _run(guard, "b", "198.51.100.7", 1) == [None]

    async def long() -> tuple[int, str] | None:
        return await guard.refusal("c", "198.51.100.8", "太长的一句话")

    refusal = asyncio.run(long())
    assert refusal is not None and refusal[0] == 413 and "太长" in refusal[1]
