"""Access-token sharing and customer-service messages, against a local fake WeChat API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from channels.wechat_api import (
    AccessTokenProvider,
    CustomerService,
    FileTokenCache,
    RedisTokenCache,
    ServiceWindow,
    WeChatAPIError,
)
from channels.wechat_settings import SettingsError, WeChatSettings
from channels.wechat_state import MemoryStore
from core.settings import load_settings
from tests.channels.fake_wechat_api import FakeWeChatAPI

REPO = Path(__file__).resolve().parents[2]
APP_ID, SECRET = "wx_test_app", "s3cret"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def provider(api: FakeWeChatAPI, tmp_path: Path, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    cache = FileTokenCache(tmp_path / "token.json", APP_ID)
    return AccessTokenProvider(api.base, APP_ID, SECRET, cache, clock=clock or Clock())


def test_token_is_fetched_once_and_refreshed_before_expiry(tmp_path: Path) -> None:
    clock = Clock()
    with FakeWeChatAPI(APP_ID, SECRET) as api:
        tokens = provider(api, tmp_path, clock)
        first = asyncio.run(tokens.get())
        assert asyncio.run(tokens.get()) == first
        # a second process reading the same cache file reuses the token
        assert asyncio.run(provider(api, tmp_path, clock).get()) == first
        assert api.token_requests == 1
        clock.now += 7200 - 300 - 1  # still inside 7,200 s minus the margin
        assert asyncio.run(tokens.get()) == first
        clock.now += 2
        assert asyncio.run(tokens.get()) != first
        assert api.token_requests == 2


def test_wrong_secret_is_an_api_error(tmp_path: Path) -> None:
    with FakeWeChatAPI(APP_ID, "other") as api:
        with pytest.raises(WeChatAPIError) as err:
            asyncio.run(provider(api, tmp_path).get())
        assert err.value.errcode == 40001


def test_processes_share_one_token_through_the_file_lock(tmp_path: Path) -> None:
    """Four processes start at once with an empty cache: WeChat sees one token request."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from channels.wechat_api import AccessTokenProvider, FileTokenCache
        cache = FileTokenCache(Path(sys.argv[2]), {APP_ID!r})
        print(asyncio.run(AccessTokenProvider(sys.argv[1], {APP_ID!r}, {SECRET!r}, cache).get()))
        """
    )
    with FakeWeChatAPI(APP_ID, SECRET) as api:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, api.base, str(tmp_path / "shared.json")],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
        assert all(p.returncode == 0 for p in procs)
        assert len(outputs) == 1
        assert api.token_requests == 1
    saved = json.loads((tmp_path / "shared.json").read_text())
    assert saved["access_token"] == outputs.pop()


def test_redis_cache_shares_token_between_providers(redis_url: str, redis_prefix: str) -> None:
    async def scenario(api: FakeWeChatAPI) -> set[str]:
        providers = [
            AccessTokenProvider(
                api.base, APP_ID, SECRET, RedisTokenCache(redis_url, APP_ID, prefix=redis_prefix)
            )
            for _ in range(5)
        ]
        tokens = await asyncio.gather(*(p.get() for p in providers))
        await providers[0].invalidate(tokens[0])
        fresh = await providers[1].get()
        return {*tokens, fresh}

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        distinct = asyncio.run(scenario(api))
        assert api.token_requests == 2  # one shared fetch, one after invalidation
        assert len(distinct) == 2


def service(
    api: FakeWeChatAPI, tmp_path: Path, store: MemoryStore, clock: Clock
) -> CustomerService:
    tokens = provider(api, tmp_path, clock)
    return CustomerService(api.base, tokens, ServiceWindow(store, clock=clock), backoff=0.01)


def test_customer_service_message_is_sent_as_utf8_json(tmp_path: Path) -> None:
    async def scenario(api: FakeWeChatAPI) -> int:
        store, clock = MemoryStore(), Clock()
        cs = service(api, tmp_path, store, clock)
        await cs.window.opened("oUser1")
        return await cs.send_texts("oUser1", ["您好，答复来了。", "第二条"], "（截断）")

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        assert asyncio.run(scenario(api)) == 2
        assert api.messages_to("oUser1") == ["您好，答复来了。", "第二条"]
        assert "您好".encode() in api.raw_bodies[0]  # raw UTF-8, not \\u escapes


def test_expired_token_is_refetched_and_busy_is_retried(tmp_path: Path) -> None:
    async def scenario(api: FakeWeChatAPI) -> None:
        store, clock = MemoryStore(), Clock()
        cs = service(api, tmp_path, store, clock)
        await cs.window.opened("oUser2")
        await cs.send_text("oUser2", "一")
        api.expire_tokens()  # someone else refreshed: our cached token is now invalid
        api.fail_next(-1)  # and then WeChat is busy once
        await cs.send_text("oUser2", "二")

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        asyncio.run(scenario(api))
        assert api.messages_to("oUser2") == ["一", "二"]
        assert api.token_requests == 2
        assert len(api.raw_bodies) == 4  # sent, refused token, busy, sent
        assert api.failures == []


def test_window_allows_twenty_then_truncates(tmp_path: Path) -> None:
    async def scenario(api: FakeWeChatAPI) -> tuple[int, int]:
        store, clock = MemoryStore(), Clock()
        cs = service(api, tmp_path, store, clock)
        await cs.window.opened("oUser3")
        first = await cs.send_texts("oUser3", [f"第{i}段" for i in range(25)], "（截断）")
        second = await cs.send_texts("oUser3", ["再来一条"], "（截断）")
        return first, second

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        first, second = asyncio.run(scenario(api))
        sent = api.messages_to("oUser3")
        assert (first, second) == (20, 0)
        assert sent[:19] == [f"第{i}段" for i in range(19)]
        assert sent[19] == "（截断）"
        assert len(sent) == 20


def test_window_closes_after_48_hours_and_reopens_on_a_new_message(tmp_path: Path) -> None:
    async def scenario(api: FakeWeChatAPI) -> list[int]:
        clock = Clock()
        store = MemoryStore(clock=clock)
        window = ServiceWindow(store, window_s=48 * 3600, clock=clock)
        cs = CustomerService(api.base, provider(api, tmp_path, clock), window)
        results = [await cs.send_texts("oUser4", ["未开窗"], "")]
        await window.opened("oUser4")
        results.append(await cs.send_texts("oUser4", ["开窗后"], ""))
        clock.now += 48 * 3600 + 1
        results.append(await cs.send_texts("oUser4", ["过期后"], ""))
        await window.opened("oUser4")
        results.append(await cs.send_texts("oUser4", ["新消息后"], ""))
        return results

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        assert asyncio.run(scenario(api)) == [0, 1, 0, 1]
        assert api.messages_to("oUser4") == ["开窗后", "新消息后"]


def test_window_closed_error_from_wechat_stops_sending(tmp_path: Path) -> None:
    async def scenario(api: FakeWeChatAPI) -> int:
        store, clock = MemoryStore(), Clock()
        cs = service(api, tmp_path, store, clock)
        await cs.window.opened("oUser5")
        api.fail_next(45015)
        return await cs.send_texts("oUser5", ["一", "二"], "")

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        assert asyncio.run(scenario(api)) == 0
        assert api.messages_to("oUser5") == []


def test_settings_come_from_environment_over_credentials(tmp_path: Path) -> None:
    key = "a" * 43
    settings = WeChatSettings.from_sources(
        {"token": "from-yml", "api_base": "http://yml/", "passive_timeout": 3},
        load_settings(
            {
                "YIWEN_WECHAT_TOKEN": "from-env",
                "YIWEN_WECHAT_AES_KEY": key,
                "YIWEN_WECHAT_APP_ID": "wx1",
                "YIWEN_WECHAT_RATE_LIMIT": "5/10",
                "YIWEN_DATA_DIR": str(tmp_path),
            }
        ),
    )
    assert settings.token == "from-env"
    assert settings.api_base == "http://yml"
    assert settings.passive_timeout == 3.0
    assert (settings.rate_limit, settings.rate_window) == (5, 10.0)
    assert settings.safe_mode and not settings.can_push
    assert settings.data_dir == tmp_path
    assert not WeChatSettings.from_sources({}, load_settings({})).configured


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"YIWEN_WECHAT_AES_KEY": "short", "YIWEN_WECHAT_APP_ID": "wx"}, "YIWEN_WECHAT_AES_KEY"),
        ({"YIWEN_WECHAT_AES_KEY": "a" * 43}, "YIWEN_WECHAT_APP_ID"),
        ({"YIWEN_WECHAT_RATE_LIMIT": "fast"}, "YIWEN_WECHAT_RATE_LIMIT"),
        ({"YIWEN_WECHAT_PASSIVE_TIMEOUT": "soon"}, "YIWEN_WECHAT_PASSIVE_TIMEOUT"),
        ({"YIWEN_WECHAT_MAX_REPLY_BYTES": "4096"}, "YIWEN_WECHAT_MAX_REPLY_BYTES"),
    ],
)
def test_bad_settings_name_the_variable_to_fix(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        WeChatSettings.from_sources({}, load_settings({"YIWEN_WECHAT_TOKEN": "t", **env}))


def test_menu_is_created_from_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from channels.wechat_menu import main

    with FakeWeChatAPI(APP_ID, SECRET) as api:
        for name, value in {
            "YIWEN_WECHAT_TOKEN": "t",
            "YIWEN_WECHAT_APP_ID": APP_ID,
            "YIWEN_WECHAT_APP_SECRET": SECRET,
            "YIWEN_WECHAT_API_BASE": api.base,
            "YIWEN_DATA_DIR": str(tmp_path),
            "YIWEN_REDIS_URL": "",
        }.items():
            monkeypatch.setenv(name, value)
        assert main([]) == 0
        (menu,) = api.menus
    assert [(b["type"], b["key"]) for b in menu["button"]] == [
        ("click", "POLICY"),
        ("click", "COMPLAINT"),
        ("click", "STATUS"),
    ]
    assert menu["button"][0]["name"] == "政策咨询"
