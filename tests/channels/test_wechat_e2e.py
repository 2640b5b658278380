"""The WeChat channel end to end: simulated WeChat servers → real Rasa → fake WeChat API.

Every test talks HTTP to a real ``rasa run`` (with ``channels.wechat.WeChatInput``),
the real action server and ticket service. What a user "sees" is the passive reply
WeChat accepted plus any customer-service messages the fake API received.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time

import pytest

from tests.channels.conftest import WeChatStack
from tests.channels.wechat_simulator import (
    WeChatSimulator,
    message_xml,
    new_openid,
    next_msg_id,
    sha1_signature,
)

# The first test also starts the stack: loading the model took 6 min on a busy 2-core box.
pytestmark = [pytest.mark.rasa, pytest.mark.slow]

PASSIVE_TIMEOUT = 4.0  # the channel's default, which the stack does not override
# A menu click whose turn calls the action server (the complaint form's validation),
# so the delay proxy can make it slower than the passive timeout.
SLOW_MENU_KEY = "COMPLAINT"
PROJECT_BOT = not os.environ.get("YIWEN_TEST_RASA_MODEL")
needs_project_bot = pytest.mark.skipif(
    not PROJECT_BOT, reason="YIWEN_TEST_RASA_MODEL 指向了别的模型；此测试针对项目自己的对话"
)


class Chat:
    """One WeChat user talking to the bot; ``say`` returns what the user saw."""

    def __init__(self, stack: WeChatStack, sim: WeChatSimulator) -> None:
        self.stack = stack
        self.sim = sim
        self.openid = new_openid()

    def send(self, fields: dict) -> str:  # type: ignore[type-arg]
        before = len(self.stack.api.messages_to(self.openid))
        delivery = self.sim.deliver(fields)
        assert delivery.attempts[-1].status == 200, delivery.attempts
        if delivery.reply is not None:
            assert delivery.reply["ToUserName"] == self.openid
            assert delivery.reply["FromUserName"] == self.sim.account
            assert delivery.reply["MsgType"] == "text"
        seen = [delivery.content] if delivery.content else []
        pushed = self._settle(before, need=0 if seen else 1)
        return "\n".join(seen + pushed)

    def say(self, text: str) -> str:
        return self.send(self.sim.text(self.openid, text))

    def _settle(self, before: int, need: int) -> list[str]:
        """Customer-service messages of this turn: wait for ``need``, then for stragglers."""
        api = self.stack.api
        if need:
            api.wait_for(self.openid, before + need, timeout=90)
        count = len(api.messages_to(self.openid))
        while True:
            time.sleep(0.6)
            now = len(api.messages_to(self.openid))
            if now == count:
                return api.messages_to(self.openid)[before:]
            count = now


# ---------------------------------------------------------------------------- protocol
def test_server_verification_echoes_only_with_the_right_token(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    ok = sim.verify("echo-7A3F")
    assert ok.status_code == 200 and ok.text == "echo-7A3F"
    forged = sim.verify("echo-7A3F", token="not-the-token")
    assert forged.status_code == 403 and "echo" not in forged.text


@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "safe-mode"])
def test_text_message_gets_an_answer_in_both_modes(
    wechat_stack: WeChatStack, encrypted: bool
) -> None:
    sim = wechat_stack.simulator(encrypted=encrypted)
    chat = Chat(wechat_stack, sim)
    msg = sim.text(chat.openid, "你好")
    answer = chat.send(msg)
    assert answer.strip()
    assert "**" not in answer
    (event,) = wechat_stack.user_events(chat.openid)
    assert event["text"] == "你好"
    assert event["metadata"]["wechat"]["msg_id"] == str(msg["MsgId"])
    assert event["input_channel"] == "wechat"
    # The conversation is wx:<openid>, a namespace no web sender id can name; the bare
    # openid (which a web client could send) names none.
    assert wechat_stack.tracker(f"wx:{chat.openid}")["sender_id"] == f"wx:{chat.openid}"
    bare = wechat_stack.tracker(chat.openid).get("events", [])
    assert not [e for e in bare if e.get("event") == "user"]


def test_safe_mode_reply_is_encrypted_and_signed(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator(encrypted=True)
    openid = new_openid()
    attempt = sim.post(sim.text(openid, "你好"))
    assert attempt.status == 200
    if attempt.body.strip() not in {"", "success"}:
        assert "<Encrypt>" in attempt.body and "你好" not in attempt.body
        assert sim.read_reply(attempt.body) is not None  # checks msg signature + AppID


def test_duplicate_retries_produce_exactly_one_turn(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    openid = new_openid()
    msg = sim.text(openid, "你好")
    replies = [sim.post(msg) for _ in range(4)]  # the original and three retries
    assert all(r.status == 200 for r in replies)
    bodies = [sim.read_reply(r.body) for r in replies]
    contents = {b["Content"] for b in bodies if b}
    assert len(wechat_stack.user_events(openid)) == 1
    pushed = wechat_stack.api.messages_to(openid)
    # one answer: either the passive reply (identical on every retry) or one push
    assert (len(contents), len(pushed)) in {(1, 0), (0, 1)}


def test_slow_answer_arrives_through_customer_service(wechat_stack: WeChatStack) -> None:
    """A turn slower than the passive timeout: empty reply, then a 客服消息."""
    if wechat_stack.proxy is None:
        pytest.skip("没有动作服务器，无法放慢对话")
    sim = wechat_stack.simulator()
    openid = new_openid()
    calls = wechat_stack.proxy.calls
    wechat_stack.proxy.delay = PASSIVE_TIMEOUT + 1.5
    try:
        click = sim.event(openid, "CLICK", key=SLOW_MENU_KEY)
        delivery = sim.deliver(click)
        pushed = wechat_stack.api.wait_for(openid, 1, timeout=90)
    finally:
        wechat_stack.proxy.delay = 0.0
    assert wechat_stack.proxy.calls > calls, "this turn did not call the action server"
    assert len(delivery.attempts) == 1  # answered (empty) before WeChat's 5 s
    assert delivery.reply is None
    assert pushed and pushed[0].strip()
    assert len(wechat_stack.user_events(openid)) == 1


def test_retries_of_a_slow_message_start_no_second_turn(wechat_stack: WeChatStack) -> None:
    """WeChat gives up early (network trouble) and retries while the turn still runs."""
    if wechat_stack.proxy is None:
        pytest.skip("没有动作服务器，无法放慢对话")
    sim = wechat_stack.simulator(timeout=1.0)
    openid = new_openid()
    wechat_stack.proxy.delay = PASSIVE_TIMEOUT + 1.5
    try:
        delivery = sim.deliver(sim.event(openid, "CLICK", key=SLOW_MENU_KEY))
        pushed = wechat_stack.api.wait_for(openid, 1, timeout=90)
        time.sleep(1.0)  # room for a (wrong) second push to show up
    finally:
        wechat_stack.proxy.delay = 0.0
    assert len(delivery.attempts) == 4  # WeChat tried four times
    assert len(wechat_stack.user_events(openid)) == 1
    assert len(wechat_stack.api.messages_to(openid)) == len(pushed) == 1


# ---------------------------------------------------------------------------- message kinds
def test_voice_uses_recognition_or_asks_to_type(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    chat = Chat(wechat_stack, sim)
    answer = chat.send(sim.voice(chat.openid, "你好。"))
    assert answer.strip()
    (event,) = wechat_stack.user_events(chat.openid)
    assert event["text"] == "你好"
    assert event["metadata"]["wechat"]["msg_type"] == "voice"

    silent = Chat(wechat_stack, sim)
    prompt = silent.send(sim.voice(silent.openid, None))
    assert "文字" in prompt
    assert wechat_stack.user_events(silent.openid) == []


def test_image_reaches_the_dialogue_as_evidence(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    chat = Chat(wechat_stack, sim)
    media_id = "MEDIA_" + next_msg_id()
    answer = chat.send(sim.image(chat.openid, media_id))
    assert answer.strip()
    (event,) = wechat_stack.user_events(chat.openid)
    assert event["metadata"]["wechat"]["media_id"] == media_id
    assert event["parse_data"]["intent"]["name"] == "inform"
    assert media_id in event["text"]


def test_subscribe_gets_the_welcome_without_a_turn(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    chat = Chat(wechat_stack, sim)
    welcome = chat.send(sim.event(chat.openid, "subscribe"))
    assert "邑问" in welcome
    assert wechat_stack.user_events(chat.openid) == []


@pytest.mark.parametrize(
    ("key", "intent"),
    [("COMPLAINT", "file_complaint"), ("STATUS", "check_ticket_status")],
)
def test_menu_click_becomes_an_intent(wechat_stack: WeChatStack, key: str, intent: str) -> None:
    sim = wechat_stack.simulator()
    chat = Chat(wechat_stack, sim)
    answer = chat.send(sim.event(chat.openid, "CLICK", key=key))
    assert answer.strip()
    (event,) = wechat_stack.user_events(chat.openid)
    assert event["parse_data"]["intent"]["name"] == intent


# ---------------------------------------------------------------------------- hostile input
def test_bad_signatures_are_refused(wechat_stack: WeChatStack) -> None:
    openid = new_openid()
    plain = wechat_stack.simulator(encrypted=False)
    assert plain.post(plain.text(openid, "伪造"), token="wrong").status == 403
    assert plain.post(plain.text(openid, "伪造"), signature="0" * 40).status == 403
    safe = wechat_stack.simulator(encrypted=True)
    assert safe.post(safe.text(openid, "伪造"), msg_signature="0" * 40).status == 403
    assert wechat_stack.user_events(openid) == []


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content>"
    "<MsgId>1</MsgId></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content>"
    "<MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "safe-mode"])
@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, XXE, "<xml><ToUserName>gh</ToUserName", "not xml at all", "<other/>"],
    ids=["billion-laughs", "xxe", "truncated", "garbage", "wrong-root"],
)
def test_hostile_or_malformed_xml_is_400(
    wechat_stack: WeChatStack, body: str, encrypted: bool
) -> None:
    openid = new_openid()
    sim = wechat_stack.simulator(encrypted=encrypted)
    attempt = sim.post(body.replace("{openid}", openid))
    assert attempt.status == 400
    assert wechat_stack.user_events(openid) == []


def test_message_without_required_fields_is_400(wechat_stack: WeChatStack) -> None:
    sim = wechat_stack.simulator()
    body = message_xml({"ToUserName": "gh", "CreateTime": 1, "MsgType": "text", "Content": "x"})
    assert sim.post(body).status == 400


def test_server_survives_hostile_traffic(wechat_stack: WeChatStack) -> None:
    """After forged and broken requests in parallel, a real message still works."""
    sim = wechat_stack.simulator()
    openid = new_openid()

    def attack(i: int) -> None:
        body = BILLION_LAUGHS if i % 2 else "<xml>" + "<a>" * 5000
        sim.post(body.replace("{openid}", openid))
        sim.post(sim.text(openid, "x"), signature=sha1_signature("x", str(i)))

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Chat(wechat_stack, sim).say("你好").strip()


# ---------------------------------------------------------------------------- conversations
# The bot's question (a phrase in it) → what the citizen answers, checked in this order.
COMPLAINT_ANSWERS: list[tuple[str, str]] = [
    ("核对", "确认提交"),  # the summary: the button title maps to its payload
    ("同意吗", "同意"),
    ("证据", "<image>"),
    ("商家叫什么", "江门市蓬江区好味食品店"),
    ("在哪里经营", "蓬江区白沙街道建设路12号"),
    ("哪个区", "蓬江区"),
    ("商品或服务", "牛奶"),
    ("什么时候", "上周五"),
    ("金额", "35元"),
    ("事情经过", "买的牛奶已经过期了，商家拒绝退款，态度也不好"),
    ("怎么解决", "退款"),
    ("您的姓名", "张三"),
    ("电话", "13912345678"),
    ("通讯地址", "江门市蓬江区港口路8号"),
]
TICKET_RE = re.compile(r"编号\s*(JM\d{4}-\d{6}|LOCAL-[0-9A-Z-]+)")


@needs_project_bot
def test_complaint_is_filed_over_wechat(wechat_stack: WeChatStack) -> None:
    """From the menu to a ticket number, with a photo sent as evidence."""
    sim = wechat_stack.simulator()
    chat = Chat(wechat_stack, sim)
    media_id = "MEDIA_" + next_msg_id()
    transcript: list[tuple[str, str]] = []
    last = chat.send(sim.event(chat.openid, "CLICK", key="COMPLAINT"))
    transcript.append(("[菜单：我要投诉]", last))
    sent_image = False
    for _ in range(25):
        if TICKET_RE.search(last):
            break
        question = last.split("请回复序号选择")[0]
        answer = next((a for phrase, a in COMPLAINT_ANSWERS if phrase in question), None)
        assert answer is not None, json.dumps(transcript, ensure_ascii=False, indent=1)
        if answer == "<image>":
            if sent_image:  # the dialogue wants words about the evidence as well
                answer = "有购物小票和过期日期的照片"
            else:
                sent_image = True
                last = chat.send(sim.image(chat.openid, media_id))
                transcript.append(("[图片]", last))
                continue
        last = chat.say(answer)
        transcript.append((answer, last))
    log = json.dumps(transcript, ensure_ascii=False, indent=1)
    print(log)  # shown with `pytest -rP`: the whole conversation as the citizen saw it
    found = TICKET_RE.search(last)
    assert found, log
    summary = next(a for _, a in transcript if "核对" in a)
    assert "13912345678" not in summary  # the phone is masked in chat
    image_turns = [
        e
        for e in wechat_stack.user_events(chat.openid)
        if e["metadata"].get("wechat", {}).get("msg_type") == "image"
    ]
    assert [e["metadata"]["wechat"]["media_id"] for e in image_turns] == [media_id]
    if not found.group(1).startswith("JM") or not wechat_stack.tickets_url:
        return  # queued in the outbox: the ticket service has not numbered it yet
    ticket = wechat_stack.staff_ticket(found.group(1))
    assert "好味食品店" in json.dumps(ticket, ensure_ascii=False), ticket
    # Provenance: the channel and the conversation (wx:<openid>) the complaint came from.
    assert (ticket["channel"], ticket["sender_id"]) == ("wechat", f"wx:{chat.openid}")
    # The image's media id reaches the ticket as evidence (bot/actions/intake/answers.py).
    assert any(media_id in item for item in ticket.get("evidence", [])), ticket.get("evidence")
