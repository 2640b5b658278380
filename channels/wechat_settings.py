"""Settings and user-facing texts of the WeChat official-account channel.

Why environment first: Rasa expands ``${VAR}`` in credentials.yml but refuses to start
when a variable is unset, and most developer machines have no official account. So
credentials.yml only names the channel (its values are optional defaults) and every
secret comes from ``YIWEN_WECHAT_*`` variables, which win over the file. The variables
are read by :mod:`core.settings` (section ``wechat``, plus the shared ``redis_url`` and
``data_dir``); this module merges them with credentials.yml and checks the result.

This module imports only the standard library, PyYAML and :mod:`core.settings` (which
works on pydantic 1 too), so that both the Rasa environment (Python 3.10) and the app
environment's tests can use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.settings import DEFAULT_DATA_DIR, Settings, get_settings

MESSAGES_FILE = Path(__file__).with_name("wechat_messages.yml")
DEFAULT_API_BASE = "https://api.weixin.qq.com"

# credentials.yml key → environment variable that overrides it.
ENV_KEYS = {
    "token": "YIWEN_WECHAT_TOKEN",
    "aes_key": "YIWEN_WECHAT_AES_KEY",
    "app_id": "YIWEN_WECHAT_APP_ID",
    "app_secret": "YIWEN_WECHAT_APP_SECRET",
    "api_base": "YIWEN_WECHAT_API_BASE",
    "redis_url": "YIWEN_REDIS_URL",
    "redis_prefix": "YIWEN_WECHAT_REDIS_PREFIX",
    "passive_timeout": "YIWEN_WECHAT_PASSIVE_TIMEOUT",
    "rate_limit": "YIWEN_WECHAT_RATE_LIMIT",
    "dedup_ttl": "YIWEN_WECHAT_DEDUP_TTL",
    "max_reply_bytes": "YIWEN_WECHAT_MAX_REPLY_BYTES",
    "defer_notice": "YIWEN_WECHAT_DEFER_NOTICE",
    "turn_timeout": "YIWEN_WECHAT_TURN_TIMEOUT",
}

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class SettingsError(ValueError):
    """A setting has a value the channel cannot use; the message names the variable."""


@dataclass(frozen=True)
class MenuItem:
    key: str
    name: str
    payload: str


@dataclass(frozen=True)
class Texts:
    """The Chinese sentences the channel itself says (see wechat_messages.yml)."""

    welcome: str
    voice_unrecognized: str
    rate_limited: str
    answer_coming: str
    unsupported: str
    error_fallback: str
    buttons_hint: str
    truncated: str
    menu: tuple[MenuItem, ...] = ()

    def menu_payload(self, key: str) -> str | None:
        for item in self.menu:
            if item.key == key:
                return item.payload
        return None


def load_texts(path: Path = MESSAGES_FILE) -> Texts:
    """Read the YAML once at channel start; a missing key fails loudly at startup."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    menu = tuple(
        MenuItem(key=str(m["key"]), name=str(m["name"]), payload=str(m["payload"]))
        for m in data.get("menu") or []
    )
    names = [f for f in Texts.__dataclass_fields__ if f != "menu"]
    missing = [n for n in names if not data.get(n)]
    if missing:
        raise SettingsError(f"{path} 缺少这些文字：{', '.join(missing)}")
    return Texts(**{n: str(data[n]).strip() for n in names}, menu=menu)


def _parse_rate(value: str) -> tuple[int, float]:
    m = _RATE_RE.match(value)
    if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
        raise SettingsError(
            f"YIWEN_WECHAT_RATE_LIMIT={value!r} 无效：请写成“条数/秒数”，例如 20/60"
        )
    return int(m.group(1)), float(m.group(2))


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class WeChatSettings:
    """Everything the channel needs; ``configured`` is False until a token is set."""

    token: str = ""
    aes_key: str = ""
    app_id: str = ""
    app_secret: str = ""
    api_base: str = DEFAULT_API_BASE
    redis_url: str = ""
    redis_prefix: str = "yiwen:wechat:"
    passive_timeout: float = 4.0
    rate_limit: int = 20
    rate_window: float = 60.0
    dedup_ttl: float = 300.0
    max_reply_bytes: int = 2000
    defer_notice: bool = False
    turn_timeout: float = 120.0
    data_dir: Path = field(default_factory=lambda: DEFAULT_DATA_DIR)

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)

    @property
    def can_push(self) -> bool:
        """Customer-service messages need AppID + AppSecret (for the access token)."""
        return bool(self.app_id and self.app_secret)

    @classmethod
    def from_sources(
        cls, credentials: Mapping[str, Any] | None = None, settings: Settings | None = None
    ) -> WeChatSettings:
        """Set variables override credentials.yml values; both are optional.

        ``settings`` defaults to the process's (:func:`core.settings.get_settings`); the
        data dir is always the settings' one.
        """
        creds = dict(credentials or {})
        s = settings or get_settings()
        raw: dict[str, str] = {}
        for key in ENV_KEYS:
            value = s.redis_url if key == "redis_url" else getattr(s.wechat, key)
            if value is None or value == "":
                value = creds.get(key)
            if value is not None and str(value) != "":
                raw[key] = str(value).strip()

        def number(key: str, default: float, minimum: float) -> float:
            if key not in raw:
                return default
            try:
                value = float(raw[key])
            except ValueError:
                raise SettingsError(f"{ENV_KEYS[key]}={raw[key]!r} 不是数字") from None
            if value < minimum:
                raise SettingsError(f"{ENV_KEYS[key]}={raw[key]!r} 不能小于 {minimum}")
            return value

        aes_key = raw.get("aes_key", "")
        if aes_key and len(aes_key) != 43:
            raise SettingsError(
                "YIWEN_WECHAT_AES_KEY 必须是公众号后台生成的 43 位 EncodingAESKey；明文模式请留空"
            )
        if aes_key and not raw.get("app_id"):
            raise SettingsError(
                "安全模式（已设置 YIWEN_WECHAT_AES_KEY）还需要 YIWEN_WECHAT_APP_ID："
                "消息解密时要核对 AppID"
            )
        limit, window = _parse_rate(raw["rate_limit"]) if "rate_limit" in raw else (20, 60.0)
        max_bytes = int(number("max_reply_bytes", 2000, 200))
        if max_bytes >= 2048:
            raise SettingsError("YIWEN_WECHAT_MAX_REPLY_BYTES 必须小于 2048（微信文本消息上限）")
        return cls(
            token=raw.get("token", ""),
            aes_key=aes_key,
            app_id=raw.get("app_id", ""),
            app_secret=raw.get("app_secret", ""),
            api_base=raw.get("api_base", DEFAULT_API_BASE).rstrip("/"),
            redis_url=raw.get("redis_url", ""),
            redis_prefix=raw.get("redis_prefix", "yiwen:wechat:"),
            passive_timeout=number("passive_timeout", 4.0, 0.0),
            rate_limit=limit,
            rate_window=window,
            dedup_ttl=number("dedup_ttl", 300.0, 30.0),
            max_reply_bytes=max_bytes,
            defer_notice=_truthy(raw.get("defer_notice", "")),
            turn_timeout=number("turn_timeout", 120.0, 1.0),
            data_dir=s.data_dir,
        )
