"""The five-second rule: answer passively when fast, otherwise through 客服消息.

WeChat waits 5 s for the HTTP reply, then retries the same message (three times).
So each new message starts exactly one Rasa turn and races it against
``passive_timeout`` (4 s by default):

* the turn finishes in time → its answer is the passive reply (pieces that do not
  fit one message follow as customer-service messages);
* it does not → the reply is empty (``success``) and the answer, or a fallback
  apology if the turn fails, is pushed through the customer-service API later.

A retry of a message that is still being processed waits for the same turn and gets
its answer if it arrives in time, else an empty reply; it never starts a second turn.
The dedup marks live in the shared state store so a retry that lands on another Rasa
process behaves the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.wechat_api import CustomerService, mask
from channels.wechat_inbound import Inbound
from channels.wechat_settings import Texts, WeChatSettings
from channels.wechat_state import StateStore
from channels.wechat_text import render_messages, resolve_choice, split_message

logger = logging.getLogger(__name__)

# Runs one Rasa turn: (inbound, text for Rasa) → the bot's messages (Rasa's dicts).
TurnRunner = Callable[[Inbound, str], Awaitable[list[dict[str, Any]]]]

PROCESSING = "processing"
DONE = "done"
DEFERRED = "deferred"
CHOICES_TTL_S = 3600.0
REST_DELAY_S = 0.3  # let the passive reply land before the pieces that follow it


class Dispatcher:
    """Turns inbound WeChat messages into at most one Rasa turn each, and delivers."""

    def __init__(
        self,
        settings: WeChatSettings,
        texts: Texts,
        store: StateStore,
        run_turn: TurnRunner,
        service: CustomerService | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.texts = texts
        self.store = store
        self.run_turn = run_turn
        self.service = service
        self._clock = clock
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ entry point
    async def handle(self, inbound: Inbound) -> str | None:
        """The passive reply text for this request, or None for an empty reply.

        The work runs in its own task: when WeChat drops the connection (it gives up
        after 5 s) Sanic cancels the request handler, but the message must still be
        recorded and, if it was deferred, pushed.
        """
        task = asyncio.ensure_future(self._handle(inbound))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return await asyncio.shield(task)

    async def _handle(self, inbound: Inbound) -> str | None:
        key = "seen:" + inbound.dedup_key
        claimed = await self.store.add(key, json.dumps({"s": PROCESSING}), self.settings.dedup_ttl)
        if not claimed:
            return await self._answer_retry(key)
        try:
            reply = await self._handle_new(inbound, key)
        except Exception:
            # Never leave a message acknowledged without an answer, nor a retry waiting.
            logger.exception("微信消息处理出错（用户 %s）", mask(inbound.openid))
            reply = self.texts.error_fallback
            await self._record(key, DONE, reply)
        return reply

    async def drain(self) -> None:
        """Wait for background deliveries (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # ------------------------------------------------------------------ internals
    async def _record(self, key: str, state: str, reply: str | None = None) -> None:
        await self.store.set(key, json.dumps({"s": state, "r": reply}), self.settings.dedup_ttl)

    async def _answer_retry(self, key: str) -> str | None:
        deadline = time.monotonic() + self.settings.passive_timeout
        delay = 0.05
        while True:
            raw = await self.store.get(key)
            state = json.loads(raw) if raw else {"s": DEFERRED}
            if state["s"] == DONE:
                return state.get("r")
            if state["s"] == DEFERRED or time.monotonic() >= deadline:
                return None
            await asyncio.sleep(delay)
            delay = min(0.2, delay * 1.5)

    async def _handle_new(self, inbound: Inbound, key: str) -> str | None:
        if inbound.opens_window and self.service is not None:
            await self.service.window.opened(inbound.openid)
        if inbound.text is None:
            await self._record(key, DONE, inbound.reply)
            return inbound.reply
        allowed, notice = await self._within_rate(inbound.openid)
        if not allowed:
            await self._record(key, DONE, notice)
            return notice

        text = await self._resolve_choice(inbound.openid, inbound.text)
        turn = asyncio.ensure_future(self._turn(inbound, text))
        done, _ = await asyncio.wait({turn}, timeout=self.settings.passive_timeout)
        if turn in done:
            try:
                pieces = turn.result()
            except Exception:
                logger.exception("对话处理失败（用户 %s）", mask(inbound.openid))
                pieces = [self.texts.error_fallback]
            first = pieces[0] if pieces else None
            await self._record(key, DONE, first)
            if len(pieces) > 1:
                self._spawn(self._push(inbound.openid, pieces[1:], delay=REST_DELAY_S))
            return first
        await self._record(key, DEFERRED)
        self._spawn(self._deliver_later(inbound.openid, turn))
        return self.texts.answer_coming if self.settings.defer_notice else None

    async def _within_rate(self, openid: str) -> tuple[bool, str | None]:
        """(allowed, notice): the notice is said once per window, then silence."""
        window = self.settings.rate_window
        bucket = int(self._clock() // window)
        count = await self.store.incr(f"rate:{openid}:{bucket}", window)
        limit = self.settings.rate_limit
        if count <= limit:
            return True, None
        logger.warning("用户 %s 发送过快（本窗口第 %d 条）", mask(openid), count)
        return False, self.texts.rate_limited if count == limit + 1 else None

    async def _resolve_choice(self, openid: str, text: str) -> str:
        raw = await self.store.get(f"choices:{openid}")
        if not raw:
            return text
        return resolve_choice(text, json.loads(raw))

    async def _turn(self, inbound: Inbound, text: str) -> list[str]:
        messages = await self.run_turn(inbound, text)
        rendered, choices = render_messages(messages, self.texts.buttons_hint)
        if choices:
            await self.store.set(f"choices:{inbound.openid}", json.dumps(choices), CHOICES_TTL_S)
        else:
            await self.store.delete(f"choices:{inbound.openid}")
        return split_message(rendered, self.settings.max_reply_bytes)

    async def _deliver_later(self, openid: str, turn: asyncio.Future[list[str]]) -> None:
        try:
            pieces = await asyncio.wait_for(asyncio.shield(turn), self.settings.turn_timeout)
        except asyncio.TimeoutError:
            logger.error(
                "对话超过 %.0f 秒仍未完成（用户 %s）", self.settings.turn_timeout, mask(openid)
            )
            await self._push(openid, [self.texts.error_fallback])
            try:
                pieces = await turn  # still deliver a late answer if it comes
            except Exception:
                return
        except Exception:
            logger.exception("对话处理失败（用户 %s），改发致歉消息", mask(openid))
            pieces = [self.texts.error_fallback]
        if pieces:
            await self._push(openid, pieces)

    async def _push(self, openid: str, pieces: list[str], delay: float = 0.0) -> None:
        if self.service is None:
            logger.error(
                "答复无法送达用户 %s：客服消息需要 YIWEN_WECHAT_APP_ID 和 YIWEN_WECHAT_APP_SECRET",
                mask(openid),
            )
            return
        if delay:
            await asyncio.sleep(delay)
        try:
            await self.service.send_texts(openid, pieces, self.texts.truncated)
        except Exception:
            logger.exception("客服消息发送出错（用户 %s）", mask(openid))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
