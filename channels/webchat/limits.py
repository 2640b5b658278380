"""Limits on the public chat endpoints (REST and socket.io): message length and rate.

Why: these endpoints face the internet, and every message costs Rasa a turn (one core
does about 15 turns/s). Without limits one client can flood the bot or feed it
megabytes. Request bodies are capped by Sanic itself (``SANIC_REQUEST_MAX_SIZE``, set by
``yiwen up``: 413); here a message is refused when it is longer than a citizen would
type, and a sender id or a client address that sends too fast gets a polite Chinese
answer (HTTP 429 on REST) instead of a turn. A sender id outside the web format
(``channels.webchat.senders``) is refused first (400), before any counter is touched.

Counters live in Redis when ``YIWEN_REDIS_URL`` is set (shared by every Rasa process),
else in this process. Settings (``get_settings().chat``, see :mod:`core.settings`):

- ``YIWEN_CHAT_MAX_CHARS`` (default 2000): longest message accepted.
- ``YIWEN_CHAT_RATE_LIMIT`` (default ``20/60``): messages per sender id per window (s).
- ``YIWEN_CHAT_IP_RATE_LIMIT`` (default ``60/60``): messages per client address.

Behind a reverse proxy, set ``SANIC_PROXIES_COUNT=1`` so the client address is the
one the proxy saw, not the proxy's. A loopback address is never limited as a client
address: without that setting it is the proxy itself, and one bucket for every citizen
would throttle them all together (the per-sender limit still applies).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from dataclasses import dataclass

from channels.webchat.senders import BAD_SENDER, is_web_sender
from channels.wechat_state import StateStore, make_store
from core.settings import Settings, get_settings

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")

TOO_FAST = "您发送得太快了，请稍等一分钟再发。如需人工服务，请拨打 12315 热线。"
TOO_LONG = "您的消息太长了（超过 {limit} 字），请精简后再发，或分几次发送。"


def _rate(value: str | None, default: tuple[int, float]) -> tuple[int, float]:
    match = _RATE.match(value or "")
    if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
        if value:
            logger.warning("聊天限流设置 %r 无效，使用默认值 %d/%g", value, *default)
        return default
    return int(match.group(1)), float(match.group(2))


@dataclass(frozen=True)
class ChatLimits:
    max_chars: int = 2000
    sender_limit: int = 20
    sender_window: float = 60.0
    ip_limit: int = 60
    ip_window: float = 60.0
    redis_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ChatLimits:
        s = settings or get_settings()
        sender = _rate(s.chat.rate_limit, (20, 60.0))
        ip = _rate(s.chat.ip_rate_limit, (60, 60.0))
        return cls(s.chat.max_chars, *sender, *ip, redis_url=s.redis_url)


def client_group(ip: str | None) -> str:
    """The address a limit counts: IPv4 as is, IPv6 per /64."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "unknown")[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def is_loopback(ip: str | None) -> bool:
    try:
        return ipaddress.ip_address((ip or "").strip()).is_loopback
    except ValueError:
        return False


class ChatGuard:
    """Decides whether a chat message may start a turn; says why not, in Chinese."""

    def __init__(self, limits: ChatLimits | None = None, store: StateStore | None = None) -> None:
        self.limits = limits or ChatLimits.from_settings()
        self.store = store or make_store(self.limits.redis_url, "yiwen:chat:")

    async def _over(self, key: str, limit: int, window: float) -> bool:
        bucket = int(time.time() // window)
        count = await self.store.incr(f"{key}:{bucket}", window)
        return count > limit

    async def refusal(self, sender: str, ip: str | None, text: str) -> tuple[int, str] | None:
        """``(HTTP status, message)`` when the message must not reach the bot, else None."""
        if not is_web_sender(sender):
            logger.warning("拒绝无效的会话编号（%d 个字符）", len(sender))
            return 400, BAD_SENDER
        if len(text) > self.limits.max_chars:
            return 413, TOO_LONG.format(limit=self.limits.max_chars)
        limits = self.limits
        if not is_loopback(ip) and await self._over(
            f"ip:{client_group(ip)}", limits.ip_limit, limits.ip_window
        ):
            logger.warning("聊天请求过快（地址 %s）", client_group(ip))
            return 429, TOO_FAST
        if await self._over(f"sender:{sender[:128]}", limits.sender_limit, limits.sender_window):
            logger.warning("聊天请求过快（会话 %s…）", sender[:8])
            return 429, TOO_FAST
        return None
