"""The chat limits' decisions (``channels.webchat.limits``), which the Rasa channels apply;
the stack probes in test_limits.py check them over HTTP."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from channels.webchat.limits import ChatGuard, ChatLimits
from channels.webchat.senders import BAD_SENDER, is_web_sender
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
        assert _run(guard, f"sender-{n}", f"2001:db8:1:2::{n + 1}", 1) == [None]
    assert _run(guard, "sender-9", "2001:db8:1:2:ffff::1", 1) == [429]  # same /64, new sender
    assert _run(guard, "sender-9", "2001:db8:1:3::1", 1) == [None]  # another /64
    assert _run(guard, "local-proxy", "127.0.0.1", 10) == [None] * 10  # a proxy, not a client


def test_per_sender_limit_and_length() -> None:
    guard = ChatGuard(ChatLimits(sender_limit=2, ip_limit=1000, max_chars=5), MemoryStore())
    assert _run(guard, "sender-a", "198.51.100.7", 3) == [None, None, 429]
    assert _run(guard, "sender-b", "198.51.100.7", 1) == [None]

    async def long() -> tuple[int, str] | None:
        return await guard.refusal("sender-c", "198.51.100.8", "太长的一句话")

    refusal = asyncio.run(long())
    assert refusal is not None and refusal[0] == 413 and "太长" in refusal[1]


@pytest.mark.parametrize(
    "sender",
    [
        "wx:oAlice0123456789",
        "../x",
        "a" * 200,
        "",
        "default",
        "abc def12",
        "abcdefgh\n",
        "会话编号一二三四",
    ],
    ids=["wechat", "path", "200-chars", "empty", "rasa-default", "blank", "newline", "cjk"],
)
def test_a_sender_outside_the_web_format_is_refused_before_any_counter(sender: str) -> None:
    store = MemoryStore()
    guard = ChatGuard(ChatLimits(), store)
    refusal = asyncio.run(guard.refusal(sender, "198.51.100.9", "你好"))
    assert refusal == (400, BAD_SENDER)
    assert len(store) == 0  # no rate bucket for an id that is refused anyway


def test_web_sender_format() -> None:
    assert is_web_sender(secrets.token_hex(16))  # what the widget makes
    assert is_web_sender("shell-1a2b3c4d") and is_web_sender("e2e-citizen-1")
    assert not is_web_sender("x" * 65) and not is_web_sender("short") and not is_web_sender(None)
    assert "会话" in BAD_SENDER and "12315" in BAD_SENDER
