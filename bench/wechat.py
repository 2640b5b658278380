"""WeChat channel benchmark: what the channel itself costs per message.

Run in the Rasa environment (it needs wechatpy)::

    .venv/rasa/bin/python -m bench.wechat                 # channel CPU only
    .venv/rasa/bin/python -m bench.wechat --url http://127.0.0.1:5005 --turns 50

With ``--url`` (a running Rasa with the WeChat channel and the REST channel, and the
same ``YIWEN_WECHAT_*`` variables in this shell) it also compares one "你好" turn
through the WeChat webhook, plaintext and safe mode, with the same turn over REST.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import secrets
import statistics
import time
import urllib.request
from collections.abc import Callable

from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.wechat_inbound import classify
from channels.wechat_settings import load_texts
from channels.wechat_text import cdata_safe, split_message, strip_markdown
from channels.wechat_xml import parse_xml
from core.settings import get_settings

ANSWER = (
    "**个转企**可以保留原字号。根据《促进个体工商户发展条例》第十三条，"
    "个体工商户可以依法转型为企业，登记机关应当为其提供便利。\n\n"
) * 40


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _timeit(fn: Callable[[], object], n: int) -> float:
    """Median microseconds per call over five rounds of ``n`` calls."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def channel_cpu() -> list[tuple[str, str]]:
    texts = load_texts()
    token, app_id = "bench-token", "wxbench"
    aes_key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    crypto = WeChatCrypto(token, aes_key, app_id)
    inner = (
        "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[oUser]]>"
        "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[个转企可以保留原来的字号吗]]></Content><MsgId>1</MsgId></xml>"
    )
    ts, nonce = "1700000000", "n0nce"
    outer = crypto.encrypt_message(inner, nonce, ts)
    fields = parse_xml(outer)
    signature = _sign(token, ts, nonce)

    def plain() -> None:
        check_signature(token, signature, ts, nonce)
        inbound = classify(parse_xml(inner), texts)
        TextReply(source=inbound.account, target=inbound.openid, content=cdata_safe("好")).render()

    def safe() -> None:
        check_signature(token, signature, ts, nonce)
        decrypted = crypto.decrypt_message(
            {"Encrypt": fields["Encrypt"]}, fields["MsgSignature"], ts, nonce
        )
        inbound = classify(parse_xml(decrypted), texts)
        reply = TextReply(source=inbound.account, target=inbound.openid, content=cdata_safe("好"))
        crypto.encrypt_message(reply.render(), nonce, ts)

    answer_bytes = len(ANSWER.encode())
    return [
        ("每条消息（明文）：验签 + 解析 + 生成回复", f"{_timeit(plain, 2000):.0f} µs"),
        ("每条消息（安全模式）：验签 + 解密 + 解析 + 加密回复", f"{_timeit(safe, 1000):.0f} µs"),
        (
            f"去 markdown + 分段（{answer_bytes} 字节答复）",
            f"{_timeit(lambda: split_message(strip_markdown(ANSWER)), 200):.0f} µs",
        ),
    ]


def _post(url: str, body: bytes, content_type: str) -> float:
    start = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def end_to_end(url: str, turns: int) -> list[tuple[str, str]]:
    wechat = get_settings().wechat
    token, aes_key, app_id = wechat.token, wechat.aes_key, wechat.app_id
    if not token:
        raise SystemExit("请先设置 YIWEN_WECHAT_TOKEN（与 Rasa 使用的相同）")
    crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
    rows = []
    modes = ["rest", "plaintext"] + (["safe"] if crypto else [])
    for mode in modes:
        latencies = []
        for i in range(turns):
            openid = f"obench{mode}{secrets.token_hex(4)}"
            if mode == "rest":
                body = json.dumps({"sender": openid, "message": "你好"}).encode()
                latencies.append(_post(f"{url}/webhooks/rest/webhook", body, "application/json"))
                continue
            ts, nonce = str(int(time.time())), secrets.token_hex(4)
            xml = (
                f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA["
                f"{openid}]]></FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]>"
                f"</MsgType><Content><![CDATA[你好]]></Content><MsgId>{time.time_ns() + i}"
                "</MsgId></xml>"
            )
            query = f"signature={_sign(token, ts, nonce)}&timestamp={ts}&nonce={nonce}"
            if mode == "safe" and crypto is not None:
                wrapped = parse_xml(crypto.encrypt_message(xml, nonce, ts))
                query += f"&encrypt_type=aes&msg_signature={wrapped['MsgSignature']}"
                xml = f"<xml><Encrypt><![CDATA[{wrapped['Encrypt']}]]></Encrypt></xml>"
            hook = f"{url}/webhooks/wechat/webhook?{query}"
            latencies.append(_post(hook, xml.encode(), "text/xml"))
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        rows.append((f"一轮“你好”（{mode}）p50 / p95", f"{p50:.0f} / {p95:.0f} ms（{turns} 次）"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="运行中的 Rasa 地址，例如 http://127.0.0.1:5005")
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    rows = channel_cpu()
    if args.url:
        rows += end_to_end(args.url.rstrip("/"), args.turns)
    print(f"机器：{os.cpu_count()} 核，Python {platform.python_version()}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
