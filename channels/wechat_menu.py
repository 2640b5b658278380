"""Create the official account's custom menu from channels/wechat_messages.yml.

Why a script: the menu keys (POLICY, COMPLAINT, STATUS) must match what the channel
maps to intents, so the menu is generated from the same YAML instead of being typed
into the console by hand. Run once after connecting the account::

    .venv/rasa/bin/python -m channels.wechat_menu --dry-run   # print the JSON
    .venv/rasa/bin/python -m channels.wechat_menu             # POST /cgi-bin/menu/create
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.parse
from typing import Any

from channels.wechat_api import AccessTokenProvider, WeChatAPIError, http_json, make_token_cache
from channels.wechat_settings import SettingsError, Texts, WeChatSettings, load_texts


def menu_json(texts: Texts) -> dict[str, Any]:
    """WeChat's menu format: up to three top-level CLICK buttons."""
    if not 1 <= len(texts.menu) <= 3:
        raise SettingsError("wechat_messages.yml 的 menu 需要 1 到 3 项（微信一级菜单最多 3 个）")
    return {"button": [{"type": "click", "name": m.name, "key": m.key} for m in texts.menu]}


async def create_menu(settings: WeChatSettings, menu: dict[str, Any]) -> None:
    cache = make_token_cache(
        settings.redis_url, settings.data_dir, settings.app_id, settings.redis_prefix
    )
    tokens = AccessTokenProvider(settings.api_base, settings.app_id, settings.app_secret, cache)
    token = await tokens.get()
    query = urllib.parse.urlencode({"access_token": token})
    await asyncio.to_thread(http_json, f"{settings.api_base}/cgi-bin/menu/create?{query}", menu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="按 wechat_messages.yml 创建公众号自定义菜单")
    parser.add_argument("--dry-run", action="store_true", help="只打印菜单 JSON，不调用微信接口")
    args = parser.parse_args(argv)
    try:
        menu = menu_json(load_texts())
        if args.dry_run:
            print(json.dumps(menu, ensure_ascii=False, indent=2))
            return 0
        settings = WeChatSettings.from_sources()
        if not settings.can_push:
            print("请先设置 YIWEN_WECHAT_APP_ID 和 YIWEN_WECHAT_APP_SECRET", file=sys.stderr)
            return 2
        asyncio.run(create_menu(settings, menu))
    except (SettingsError, WeChatAPIError) as exc:
        print(f"创建菜单失败：{exc}", file=sys.stderr)
        return 1
    print("已创建自定义菜单：" + "、".join(b["name"] for b in menu["button"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
