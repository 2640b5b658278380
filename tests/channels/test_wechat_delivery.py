"""The five-second rule, dedup and rate limit, with a scripted dialogue turn.

The Rasa turn is replaced by a coroutine here so each timing case is exact; the
customer-service side is real HTTP against the fake WeChat API. The end-to-end tests
repeat the important cases against the real Rasa server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from channels.wechat_api import AccessTokenProvider, CustomerService, FileTokenCache, ServiceWindow
from channels.wechat_delivery import Dispatcher
from channels.wechat_inbound import Inbound, classify
from channels.wechat_settings import WeChatSettings, load_texts
from channels.wechat_state import MemoryStore
from tests.channels.fake_wechat_api import FakeWeChatAPI

TEXTS = load_texts()
APP_ID, SECRET = "wx_delivery", "secret"
SETTINGS = WeChatSettings(token="t", app_id=APP_ID, app_secret=SECRET, passive_timeout=2.0)
SLOW = {"passive_timeout": 0.2}  # turns below take 0.5–0.6 s: clearly past it


class ScriptedTurn:
    """Stands in for Rasa: answers after ``delay`` s, or raises, and counts turns."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.calls: list[tuple[str, str]] = []
        self.answer: list[dict[str, Any]] | None = None

    async def __call__(self, inbound: Inbound, text: str) -> list[dict[str, Any]]:
        self.calls.append((inbound.openid, text))
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("action server down")
        return self.answer or [{"recipient_id": inbound.openid, "text": f"答：{text}"}]


def text_message(openid: str, content: str, msg_id: str) -> Inbound:
    fields = {
        "ToUserName": "gh_x",
        "FromUserName": openid,
        "CreateTime": "1",
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
    }
    return classify(fields, TEXTS)


def dispatcher(
    api: FakeWeChatAPI, tmp_path: Path, turn: ScriptedTurn, **overrides: Any
) -> Dispatcher:
    settings = replace(SETTINGS, api_base=api.base, data_dir=tmp_path, **overrides)
    store = MemoryStore()
    tokens = AccessTokenProvider(
        api.base, APP_ID, SECRET, FileTokenCache(tmp_path / "t.json", APP_ID)
    )
    service = CustomerService(api.base, tokens, ServiceWindow(store), backoff=0.01)
    return Dispatcher(settings, TEXTS, store, turn, service)


@pytest.fixture
def api() -> Iterator[FakeWeChatAPI]:
    with FakeWeChatAPI(APP_ID, SECRET) as fake:
        yield fake


def test_fast_turn_is_answered_passively(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn()

    async def scenario() -> str | None:
        d = dispatcher(api, tmp_path, turn)
        reply = await d.handle(text_message("oA", "你好", "1"))
        await d.drain()
        return reply

    assert asyncio.run(scenario()) == "答：你好"
    assert api.sent == []


def test_slow_turn_is_pushed_through_customer_service(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn(delay=0.6)

    async def scenario() -> str | None:
        d = dispatcher(api, tmp_path, turn, **SLOW)
        reply = await d.handle(text_message("oB", "个转企政策", "2"))
        await d.drain()
        return reply

    assert asyncio.run(scenario()) is None
    assert api.messages_to("oB") == ["答：个转企政策"]


def test_defer_notice_can_be_switched_on(api: FakeWeChatAPI, tmp_path: Path) -> None:
    async def scenario() -> str | None:
        d = dispatcher(api, tmp_path, ScriptedTurn(delay=0.6), defer_notice=True, **SLOW)
        reply = await d.handle(text_message("oC", "问题", "3"))
        await d.drain()
        return reply

    assert asyncio.run(scenario()) == TEXTS.answer_coming
    assert api.messages_to("oC") == ["答：问题"]


def test_retries_while_processing_start_no_second_turn(api: FakeWeChatAPI, tmp_path: Path) -> None:
    """WeChat retries while the first attempt still waits: one turn, one answer."""
    turn = ScriptedTurn(delay=0.15)

    async def scenario() -> list[str | None]:
        d = dispatcher(api, tmp_path, turn)
        msg = text_message("oD", "重复", "4")
        first = asyncio.ensure_future(d.handle(msg))
        await asyncio.sleep(0.05)
        retries = await asyncio.gather(d.handle(msg), d.handle(msg))
        replies = [await first, *retries]
        replies.append(await d.handle(msg))  # a late retry after the answer
        await d.drain()
        return replies

    assert asyncio.run(scenario()) == ["答：重复"] * 4  # WeChat shows the one it accepts
    assert len(turn.calls) == 1
    assert api.sent == []


def test_retry_of_a_deferred_message_gets_an_empty_reply(
    api: FakeWeChatAPI, tmp_path: Path
) -> None:
    turn = ScriptedTurn(delay=0.6)

    async def scenario() -> list[str | None]:
        d = dispatcher(api, tmp_path, turn, **SLOW)
        msg = text_message("oE", "慢", "5")
        replies = [await d.handle(msg), await d.handle(msg)]
        await d.drain()
        return replies

    assert asyncio.run(scenario()) == [None, None]
    assert len(turn.calls) == 1
    assert api.messages_to("oE") == ["答：慢"]


def test_failure_after_the_passive_timeout_still_reaches_the_user(
    api: FakeWeChatAPI, tmp_path: Path
) -> None:
    async def scenario() -> str | None:
        d = dispatcher(api, tmp_path, ScriptedTurn(delay=0.5, fail=True), **SLOW)
        reply = await d.handle(text_message("oF", "会失败", "6"))
        await d.drain()
        return reply

    assert asyncio.run(scenario()) is None
    assert api.messages_to("oF") == [TEXTS.error_fallback]


def test_fast_failure_is_apologised_for_passively(api: FakeWeChatAPI, tmp_path: Path) -> None:
    async def scenario() -> str | None:
        return await dispatcher(api, tmp_path, ScriptedTurn(fail=True)).handle(
            text_message("oG", "x", "7")
        )

    assert asyncio.run(scenario()) == TEXTS.error_fallback


def test_long_answer_first_piece_passive_rest_pushed(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn()
    long_text = "根据《促进个体工商户发展条例》第十三条，可以申请。" * 120

    async def scenario() -> str | None:
        d = dispatcher(api, tmp_path, turn)
        turn.answer = [{"recipient_id": "oH", "text": long_text}]
        reply = await d.handle(text_message("oH", "长", "8"))
        await d.drain()
        return reply

    first = asyncio.run(scenario())
    rest = api.messages_to("oH")
    assert first is not None and rest
    assert all(len(p.encode()) <= SETTINGS.max_reply_bytes for p in [first, *rest])
    assert first + "".join(rest) == long_text


def test_rate_limit_notice_once_then_silence(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn()

    async def scenario() -> list[str | None]:
        d = dispatcher(api, tmp_path, turn, rate_limit=2, rate_window=60.0)
        return [await d.handle(text_message("oI", f"第{i}条", f"9{i}")) for i in range(4)]

    replies = asyncio.run(scenario())
    assert replies == ["答：第0条", "答：第1条", TEXTS.rate_limited, None]
    assert len(turn.calls) == 2


def test_numbered_reply_selects_a_button(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn()

    async def scenario() -> list[str | None]:
        d = dispatcher(api, tmp_path, turn)
        turn.answer = [
            {"text": "要办哪一种？", "buttons": [{"title": "投诉", "payload": "/file_complaint"}]}
        ]
        first = await d.handle(text_message("oJ", "你好", "10"))
        turn.answer = None
        second = await d.handle(text_message("oJ", "1", "11"))
        third = await d.handle(text_message("oJ", "1", "12"))  # no choices offered any more
        return [first, second, third]

    first, second, third = asyncio.run(scenario())
    assert first is not None and first.endswith("1. 投诉")
    assert [text for _, text in turn.calls] == ["你好", "/file_complaint", "1"]
    assert second == "答：/file_complaint" and third == "答：1"


def test_channel_replies_need_no_turn(api: FakeWeChatAPI, tmp_path: Path) -> None:
    turn = ScriptedTurn()
    subscribe = classify(
        {
            "ToUserName": "gh_x",
            "FromUserName": "oK",
            "CreateTime": "5",
            "MsgType": "event",
            "Event": "subscribe",
        },
        TEXTS,
    )

    async def scenario() -> list[str | None]:
        d = dispatcher(api, tmp_path, turn)
        return [await d.handle(subscribe), await d.handle(subscribe)]

    assert asyncio.run(scenario()) == [TEXTS.welcome, TEXTS.welcome]
    assert turn.calls == []


def test_dropped_connection_does_not_lose_the_answer(api: FakeWeChatAPI, tmp_path: Path) -> None:
    """WeChat hangs up early (Sanic cancels the handler): the answer is still pushed."""
    turn = ScriptedTurn(delay=0.6)

    async def scenario() -> None:
        d = dispatcher(api, tmp_path, turn, **SLOW)
        msg = text_message("oL", "挂断", "13")
        request = asyncio.ensure_future(d.handle(msg))
        await asyncio.sleep(0.05)
        request.cancel()  # what Sanic does when the client disconnects
        retry = asyncio.ensure_future(d.handle(msg))
        await asyncio.sleep(0.05)
        retry.cancel()
        await d.drain()

    asyncio.run(scenario())
    assert len(turn.calls) == 1
    assert api.messages_to("oL") == ["答：挂断"]
