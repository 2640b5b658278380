"""How each WeChat message kind becomes dialogue input (or a channel reply)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from channels.webchat.senders import is_web_sender
from channels.wechat_inbound import MalformedMessage, classify, dedup_key, wechat_sender
from channels.wechat_settings import load_texts

TEXTS = load_texts()
REPO = Path(__file__).resolve().parents[2]
BASE = {"ToUserName": "gh_bureau", "FromUserName": "oAlice", "CreateTime": "1700000000"}


def test_text_goes_to_the_dialogue_with_wechat_metadata() -> None:
    inbound = classify({**BASE, "MsgType": "text", "Content": " 个转企 ", "MsgId": "42"}, TEXTS)
    assert inbound.text == "个转企"
    assert inbound.reply is None
    assert inbound.dedup_key == "msg:42"
    assert inbound.metadata == {"wechat": {"msg_type": "text", "openid": "oAlice", "msg_id": "42"}}


def test_the_conversation_is_named_wx_openid_and_no_web_client_can_name_it() -> None:
    inbound = classify({**BASE, "MsgType": "text", "Content": "你好", "MsgId": "43"}, TEXTS)
    assert inbound.sender_id == wechat_sender("oAlice") == "wx:oAlice"
    assert inbound.openid == "oAlice"  # WeChat itself is still addressed by the bare openid
    openid = "oT7a_V0s1Qz-kX2mRbYc3dEf4GhI"  # 28 characters, like a real openid
    assert not is_web_sender(wechat_sender(openid))


def test_voice_uses_recognition_or_asks_to_type() -> None:
    heard = classify(
        {**BASE, "MsgType": "voice", "MediaId": "m1", "Recognition": "我要投诉。", "MsgId": "1"},
        TEXTS,
    )
    assert heard.text == "我要投诉"
    unheard = classify({**BASE, "MsgType": "voice", "MediaId": "m2", "MsgId": "2"}, TEXTS)
    assert unheard.text is None
    assert unheard.reply == TEXTS.voice_unrecognized


def test_image_is_evidence_with_its_media_id() -> None:
    inbound = classify(
        {**BASE, "MsgType": "image", "MediaId": "MEDIA_9", "PicUrl": "http://x/p", "MsgId": "3"},
        TEXTS,
    )
    assert inbound.text is not None and inbound.text.startswith("/inform")
    assert json.loads(inbound.text[len("/inform") :]) == {"evidence": "wechat-media:MEDIA_9"}
    assert inbound.metadata["wechat"]["media_id"] == "MEDIA_9"
    assert inbound.metadata["wechat"]["evidence"] == "wechat-media:MEDIA_9"


def test_subscribe_is_welcomed_without_a_turn() -> None:
    inbound = classify({**BASE, "MsgType": "event", "Event": "subscribe"}, TEXTS)
    assert inbound.text is None and inbound.reply == TEXTS.welcome
    assert inbound.dedup_key == "evt:oAlice:1700000000:subscribe"
    gone = classify({**BASE, "MsgType": "event", "Event": "unsubscribe"}, TEXTS)
    assert gone.text is None and gone.reply is None and not gone.opens_window


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        ("POLICY", "/ask_policy"),
        ("COMPLAINT", "/file_complaint"),
        ("STATUS", "/check_ticket_status"),
    ],
)
def test_menu_clicks_become_intents(key: str, payload: str) -> None:
    inbound = classify({**BASE, "MsgType": "event", "Event": "CLICK", "EventKey": key}, TEXTS)
    assert inbound.text == payload


def test_menu_intents_exist_in_the_domain() -> None:
    domain = REPO / "bot" / "domain.yml"
    if not domain.is_file():
        pytest.skip("bot/domain.yml 尚不存在")
    intents = set(yaml.safe_load(domain.read_text(encoding="utf-8"))["intents"])
    for item in TEXTS.menu:
        assert item.payload.lstrip("/") in intents, item


def test_other_kinds_get_a_polite_note() -> None:
    video = classify({**BASE, "MsgType": "video", "MediaId": "v", "MsgId": "5"}, TEXTS)
    assert video.reply == TEXTS.unsupported and video.text is None


def test_event_dedup_key_separates_events_in_the_same_second() -> None:
    a = dedup_key({**BASE, "MsgType": "event", "Event": "subscribe"})
    b = dedup_key({**BASE, "MsgType": "event", "Event": "CLICK"})
    assert a != b


@pytest.mark.parametrize("missing", ["FromUserName", "ToUserName", "MsgType"])
def test_message_without_required_fields_is_malformed(missing: str) -> None:
    fields = {**BASE, "MsgType": "text", "Content": "hi", "MsgId": "1"}
    fields.pop(missing)
    with pytest.raises(MalformedMessage):
        classify(fields, TEXTS)
