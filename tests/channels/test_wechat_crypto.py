"""Signatures and AES: the simulator's own implementation against the channel's wechatpy.

The end-to-end tests cover this through a running Rasa; this cross-check runs in a few
seconds without a model, using the Rasa environment's Python for the wechatpy side.
"""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from tests.channels.rasa_stack import REPO
from tests.channels.wechat_simulator import (
    AESEnvelope,
    WeChatSimulator,
    new_aes_key,
    new_openid,
    sha1_signature,
)

RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"

# Runs in the Rasa environment: verify and decrypt what the simulator produced, encrypt a
# reply, and feed hostile documents to the channel's XML parser.
CHANNEL_SIDE = textwrap.dedent(
    """
    import json, sys
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature
    from channels.wechat_xml import BadRequest, parse_xml

    job = json.load(sys.stdin)
    q = job["query"]
    check_signature(job["token"], q["signature"], q["timestamp"], q["nonce"])
    crypto = WeChatCrypto(job["token"], job["aes_key"], job["app_id"])
    outer = parse_xml(job["body"])
    inner = crypto.decrypt_message(
        {"Encrypt": outer["Encrypt"]}, q["msg_signature"], q["timestamp"], q["nonce"]
    )
    try:
        crypto.decrypt_message({"Encrypt": outer["Encrypt"]}, "0" * 40, q["timestamp"], q["nonce"])
        forged = "accepted"
    except InvalidSignatureException:
        forged = "rejected"
    reply = crypto.encrypt_message(
        "<xml><Content><![CDATA[收到：" + parse_xml(inner)["Content"] + "]]></Content></xml>",
        "n0nce",
        "1700000000",
    )
    hostile = []
    for doc in job["hostile"]:
        try:
            parse_xml(doc)
            hostile.append("parsed")
        except BadRequest as exc:
            hostile.append(str(exc))
    print(json.dumps({"fields": parse_xml(inner), "forged": forged, "reply": reply,
                      "hostile": hostile}, ensure_ascii=False))
    """
)


def test_envelope_round_trip_and_app_id_check() -> None:
    key = new_aes_key()
    envelope = AESEnvelope(key, "wxapp")
    for text in ["", "你好", "x" * 31, "y" * 32, "长" * 1000]:
        assert envelope.decrypt(envelope.encrypt(text)) == text
    with pytest.raises(AssertionError):
        AESEnvelope(key, "wxother").decrypt(envelope.encrypt("你好"))


def test_signature_is_order_independent_sha1() -> None:
    assert sha1_signature("b", "a", "c") == sha1_signature("c", "b", "a")
    assert len(sha1_signature("token", "1", "n")) == 40


def test_wechatpy_and_the_simulator_agree() -> None:
    if not RASA_PY.exists():
        pytest.skip(f"没有 Rasa 环境（{RASA_PY}）：先运行 make env")
    token, key, app_id = "tok3n", new_aes_key(), "wx1234567890"
    sim = WeChatSimulator("http://unused", token, aes_key=key, app_id=app_id)
    openid = new_openid()
    query, body = sim.signed_request(sim.text(openid, "个转企"))
    hostile = [
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><C>&b;</C></xml>',
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><C>&e;</C></xml>',
        "<xml><C>unclosed</xml>",
    ]
    job = {"token": token, "aes_key": key, "app_id": app_id, "query": query, "body": body}
    job["hostile"] = hostile
    done = subprocess.run(
        [str(RASA_PY), "-c", CHANNEL_SIDE],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["fields"]["Content"] == "个转企"
    assert result["fields"]["FromUserName"] == openid
    assert result["forged"] == "rejected"
    reply = sim.read_reply(result["reply"])  # checks MsgSignature and the AppID
    assert reply == {"Content": "收到：个转企"}
    assert [h.split(" (")[0] for h in result["hostile"]] == [
        "hostile XML rejected",
        "hostile XML rejected",
        "malformed XML",
    ]
