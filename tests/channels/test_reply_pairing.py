"""Rasa's output channels send a structured reply as one message (channels.pairing).

Rasa 3.6's ``OutputChannel.send_response`` sends a message's text (with buttons) and
its ``custom`` payload separately. Our REST collector, the socket.io output and the
WeChat collector pair them, so the widget gets text, buttons and card together. These
run the real Rasa classes in the Rasa environment (Python 3.10) in a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rasa_env import run_in_rasa

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json
from channels.webchat.rasa_socketio import CustomJsonSocketIOOutput
from channels.webchat.rest import PairedCollectingOutputChannel
from core.replies import render_text, summary_payload

values = {k: "值" for k in ("complainant_name", "masked_phone", "complainant_address",
    "respondent_name", "respondent_address_display", "county_display", "product",
    "date_display", "amount_display", "demand_display", "facts", "evidence_display",
    "consent_display")}
payload = summary_payload("complaint", values)
buttons = [{"title": "确认提交", "payload": "/affirm"}]

def message(custom):
    return {"text": render_text(payload), "buttons": list(buttons), "custom": custom}

class FakeSio:
    def __init__(self):
        self.emitted = []
    async def emit(self, event, data=None, room=None, **kw):
        self.emitted.append({"event": event, "data": data, "room": room})

async def main():
    rest = PairedCollectingOutputChannel()
    await rest.send_response("u1", message(payload))
    await rest.send_response("u1", message({"type": "video", "data": 1}))
    shared = []
    into = PairedCollectingOutputChannel(shared)
    await into.send_response("u2", {"text": "你好"})
    sio = FakeSio()
    await CustomJsonSocketIOOutput(sio, "bot_uttered").send_response("u3", message(payload))
    print(json.dumps({"rest": rest.messages, "shared": shared, "sio": sio.emitted,
                      "name": rest.name()}, ensure_ascii=False))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def sent() -> dict:
    return run_in_rasa(
        SCRIPT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "YIWEN_DATA_DIR": "/tmp"},
        timeout=300,
    )


def test_rest_collector_pairs_a_reply_and_nothing_else(sent: dict) -> None:
    paired, text_only, custom_only = sent["rest"]
    assert set(paired) == {"recipient_id", "text", "buttons", "custom"}
    assert paired["text"].startswith("请核对您的投诉信息：\n• 投诉人：值")
    assert paired["buttons"] == [{"title": "确认提交", "payload": "/affirm"}]
    assert paired["custom"]["type"] == "complaint_summary"
    # A custom payload that is not a structured reply goes Rasa's usual way: two messages.
    assert "custom" not in text_only and text_only["buttons"]
    assert custom_only == {"recipient_id": "u1", "custom": {"type": "video", "data": 1}}
    assert sent["name"] == "collector"  # channel-specific responses are unchanged


def test_rest_collector_fills_the_list_rasa_answers_with(sent: dict) -> None:
    assert sent["shared"] == [{"recipient_id": "u2", "text": "你好"}]


def test_socketio_emits_one_event_with_quick_replies_and_card(sent: dict) -> None:
    [event] = sent["sio"]
    assert event["event"] == "bot_uttered" and event["room"] == "u3"
    data = event["data"]
    assert data["text"].startswith("请核对您的投诉信息：")
    assert data["quick_replies"] == [
        {"content_type": "text", "title": "确认提交", "payload": "/affirm"}
    ]
    assert data["custom"]["fields"][0] == {
        "key": "complainant_name",
        "label": "投诉人",
        "value": "值",
    }
