"""WeChat server API: the shared access token and customer-service (客服) messages.

Why a shared token: each call to ``/cgi-bin/token`` invalidates the previous token
after a short grace period, so several Rasa processes fetching their own tokens would
keep knocking each other out. One cache (Redis when configured, else a file guarded
by a file lock under the data dir) serves every process until shortly before expiry.

Why the window bookkeeping: WeChat accepts customer-service messages only within 48 h
of the user's last message and at most 20 per user message (errors 45015 and 45047);
counting locally lets us truncate gracefully instead of failing halfway.

Standard library HTTP (urllib in a worker thread) keeps this importable by both
environments and lets tests point ``api_base`` at a local fake.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from channels.wechat_state import StateStore

logger = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}  # invalid, illegal or expired access_token
WINDOW_CLOSED = 45015  # more than 48 h since the user's last message
QUOTA_EXCEEDED = 45047  # more than 20 messages for one user message
SYSTEM_BUSY = -1

SERVICE_WINDOW_S = 48 * 3600
SERVICE_QUOTA = 20


class WeChatAPIError(Exception):
    """An error answer (``errcode`` ≠ 0) or a transport failure (``errcode`` None)."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def transient(self) -> bool:
        return self.errcode is None or self.errcode == SYSTEM_BUSY


def http_json(
    url: str, payload: dict[str, Any] | None = None, timeout: float = 5.0
) -> dict[str, Any]:
    """GET (no payload) or POST JSON; WeChat wants raw UTF-8, not \\u escapes."""
    data = None
    headers = {"Accept": "application/json"}
    if payload is not None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise WeChatAPIError(None, f"HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:  # URLError, timeouts, connection resets
        raise WeChatAPIError(None, type(exc).__name__) from None
    try:
        answer = json.loads(body.decode("utf-8"))
    except ValueError:
        raise WeChatAPIError(None, "response is not JSON") from None
    if not isinstance(answer, dict):
        raise WeChatAPIError(None, "response is not a JSON object")
    errcode = answer.get("errcode", 0)
    if errcode:
        raise WeChatAPIError(int(errcode), str(answer.get("errmsg", "")))
    return answer


class TokenCache(Protocol):
    async def get(self, fetch: Callable[[], tuple[str, float]], now: float) -> str:
        """A cached token valid at ``now``, else the result of ``fetch`` (stored)."""

    async def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one (WeChat rejected it)."""


class FileTokenCache:
    """Token in a JSON file; a file lock makes the refresh single-flight across processes."""

    def __init__(self, path: Path, app_id: str) -> None:
        self.path = path
        self.app_id = app_id
        self._lock = FileLock(str(path) + ".lock", timeout=30)

    def _read(self, now: float) -> str | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("app_id") != self.app_id or float(data.get("expires_at", 0)) <= now:
            return None
        return str(data["access_token"])

    def _write(self, token: str, expires_at: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(
                {"app_id": self.app_id, "access_token": token, "expires_at": expires_at}, handle
            )
        os.replace(tmp, self.path)  # atomic: readers without the lock see old or new

    def _get_sync(self, fetch: Callable[[], tuple[str, float]], now: float) -> str:
        token = self._read(now)
        if token:
            return token
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            token = self._read(now)  # another process may have refreshed meanwhile
            if token:
                return token
            token, expires_at = fetch()
            self._write(token, expires_at)
            return token

    async def get(self, fetch: Callable[[], tuple[str, float]], now: float) -> str:
        return await asyncio.to_thread(self._get_sync, fetch, now)

    def _invalidate_sync(self, token: str) -> None:
        with self._lock:
            if self._read(0.0) == token:
                self.path.unlink(missing_ok=True)

    async def invalidate(self, token: str) -> None:
        await asyncio.to_thread(self._invalidate_sync, token)


_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTokenCache:
    """Token in Redis with its expiry; a SET NX lock makes the refresh single-flight."""

    def __init__(
        self, url: str, app_id: str, prefix: str = "yiwen:wechat:", lock_wait: float = 10.0
    ) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, decode_responses=True, socket_timeout=5.0)
        self._key = f"{prefix}access_token:{app_id}"
        self._lock_key = self._key + ":lock"
        self._lock_wait = lock_wait

    async def get(self, fetch: Callable[[], tuple[str, float]], now: float) -> str:
        token = await self._redis.get(self._key)
        if token:
            return str(token)
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + self._lock_wait
        while not await self._redis.set(self._lock_key, owner, nx=True, px=30_000):
            await asyncio.sleep(0.1)
            token = await self._redis.get(self._key)
            if token:
                return str(token)
            if time.monotonic() > deadline:
                raise WeChatAPIError(None, "timed out waiting for another process's token refresh")
        try:
            token = await self._redis.get(self._key)
            if token:
                return str(token)
            fresh, expires_at = await asyncio.to_thread(fetch)
            ttl_ms = max(1000, int((expires_at - now) * 1000))
            await self._redis.set(self._key, fresh, px=ttl_ms)
            return fresh
        finally:
            await self._redis.eval(_RELEASE_LOCK, 1, self._lock_key, owner)

    async def invalidate(self, token: str) -> None:
        await self._redis.eval(_RELEASE_LOCK, 1, self._key, token)


class AccessTokenProvider:
    """Fetches ``/cgi-bin/token`` through a shared cache, refreshing ``margin`` s early."""

    def __init__(
        self,
        api_base: str,
        app_id: str,
        app_secret: str,
        cache: TokenCache,
        margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.cache = cache
        self.margin = margin
        self._clock = clock

    def _fetch(self) -> tuple[str, float]:
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        )
        answer = http_json(f"{self.api_base}/cgi-bin/token?{query}")
        token = answer.get("access_token")
        if not token:
            raise WeChatAPIError(None, "token response without access_token")
        expires_in = float(answer.get("expires_in", 7200))
        # keep a margin, but never less than a minute of use for short-lived tokens
        life = max(60.0, expires_in - self.margin) if expires_in > 60 else expires_in
        logger.info("已获取微信 access_token（%.0f 秒有效）", expires_in)
        return str(token), self._clock() + life

    async def get(self) -> str:
        return await self.cache.get(self._fetch, self._clock())

    async def invalidate(self, token: str) -> None:
        await self.cache.invalidate(token)


def make_token_cache(
    redis_url: str, data_dir: Path, app_id: str, prefix: str = "yiwen:wechat:"
) -> TokenCache:
    if redis_url:
        return RedisTokenCache(redis_url, app_id, prefix)
    return FileTokenCache(data_dir / "wechat" / f"access_token-{app_id}.json", app_id)


class ServiceWindow:
    """Counts customer-service messages against WeChat's 48 h / 20-message allowance."""

    def __init__(
        self,
        store: StateStore,
        window_s: float = SERVICE_WINDOW_S,
        quota: int = SERVICE_QUOTA,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.window_s = window_s
        self.quota = quota
        self._clock = clock

    async def opened(self, openid: str) -> None:
        """The user just wrote: a fresh window with a fresh allowance."""
        stamp = f"{self._clock():.6f}"
        await self.store.set(f"cswin:{openid}", stamp, self.window_s)

    async def remaining(self, openid: str) -> int:
        stamp = await self.store.get(f"cswin:{openid}")
        if stamp is None:
            return 0
        used = await self.store.get(f"cssent:{openid}:{stamp}")
        return max(0, self.quota - int(used or 0))

    async def take(self, openid: str) -> bool:
        """Claim one message of the allowance; False when the window is closed or used up."""
        stamp = await self.store.get(f"cswin:{openid}")
        if stamp is None:
            return False
        used = await self.store.incr(f"cssent:{openid}:{stamp}", self.window_s)
        return used <= self.quota


class CustomerService:
    """Sends text through ``/cgi-bin/message/custom/send``, within the window rules."""

    def __init__(
        self,
        api_base: str,
        tokens: AccessTokenProvider,
        window: ServiceWindow,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.tokens = tokens
        self.window = window
        self.retries = retries
        self.backoff = backoff

    async def send_text(self, openid: str, content: str) -> None:
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        last: WeChatAPIError | None = None
        for attempt in range(self.retries):
            token = await self.tokens.get()
            url = f"{self.api_base}/cgi-bin/message/custom/send?" + urllib.parse.urlencode(
                {"access_token": token}
            )
            try:
                await asyncio.to_thread(http_json, url, payload)
                return
            except WeChatAPIError as exc:
                last = exc
                if exc.errcode in TOKEN_INVALID:
                    await self.tokens.invalidate(token)
                elif not exc.transient:
                    raise
                if attempt + 1 < self.retries and exc.errcode not in TOKEN_INVALID:
                    await asyncio.sleep(self.backoff * 2**attempt)
        assert last is not None
        raise last

    async def send_texts(self, openid: str, texts: list[str], truncated_notice: str) -> int:
        """Send in order within the allowance; returns how many messages went out.

        When the allowance cannot hold every piece, the last piece that fits is replaced
        by ``truncated_notice`` so the user knows the answer was cut.
        """
        remaining = await self.window.remaining(openid)
        if remaining <= 0:
            logger.error("客服消息窗口已关闭或条数用完，无法送达用户 %s 的答复", mask(openid))
            return 0
        if len(texts) > remaining:
            texts = [*texts[: remaining - 1], truncated_notice]
        sent = 0
        for text in texts:
            if not await self.window.take(openid):
                break
            try:
                await self.send_text(openid, text)
            except WeChatAPIError as exc:
                logger.error("客服消息发送失败（用户 %s）：%s", mask(openid), exc)
                break
            sent += 1
        return sent


def mask(openid: str) -> str:
    """Logs carry only enough of an openid to correlate lines, not to identify people."""
    return openid[:4] + "…" + openid[-2:] if len(openid) > 8 else "…"
