"""``yiwen shell`` without a server: button numbers and a clear error when Rasa is down."""

from __future__ import annotations

from channels.webchat.senders import is_web_sender
from yiwen.shell import ShellSession, run_shell


def test_the_sender_id_is_one_the_rest_channel_accepts() -> None:
    assert is_web_sender(ShellSession("http://127.0.0.1:5005").sender)


def test_a_number_sends_the_button_payload() -> None:
    session = ShellSession("http://127.0.0.1:5005")
    session.buttons = [{"title": "有帮助", "payload": '/feedback{"helpful": true}'}]
    assert session.resolve("1") == '/feedback{"helpful": true}'
    assert session.resolve("2") == "2"  # no such button: sent as text
    assert session.resolve("我要投诉") == "我要投诉"


def test_unreachable_rasa_says_how_to_start_it() -> None:
    written: list[str] = []
    status = run_shell("http://127.0.0.1:9", lambda: "你好", written.append, timeout=2)
    assert status == 1
    assert "make run" in written[0]
