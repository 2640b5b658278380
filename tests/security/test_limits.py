"""Limits on the public chat endpoints and the knowledge API (issue 12, #10).

Before the fix Sanic accepted 100 MB bodies on every Rasa endpoint, any sender could
send as fast as it liked, and ``/api/ask`` / ``/api/search`` were unthrottled.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.security.stack import Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def test_two_megabyte_chat_message_is_413(stack: Stack) -> None:
    big = {"sender": f"big-{secrets.token_hex(3)}", "message": "投" * (2 * 1024 * 1024 // 3)}
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=big, timeout=60)
    assert response.status_code == 413


def test_overlong_message_gets_a_polite_413(stack: Stack) -> None:
    sender = f"long-{secrets.token_hex(3)}"
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "我要投诉" * 600},
        timeout=60,
    )
    assert response.status_code == 413
    [reply] = response.json()
    assert reply["recipient_id"] == sender and "太长" in reply["text"]


def test_one_sender_flooding_gets_429_and_others_do_not(stack: Stack) -> None:
    """The stack allows 30 messages per sender per minute (fixed windows: a burst that
    crosses a window boundary may get up to twice that before the first 429)."""
    sender = f"flood-{secrets.token_hex(3)}"
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    statuses: list[int] = []
    with httpx.Client(timeout=120) as client:
        while len(statuses) < 70 and 429 not in statuses:
            sent = client.post(url, json={"sender": sender, "message": "你好"})
            statuses.append(sent.status_code)
        refused = client.post(url, json={"sender": sender, "message": "你好"})
        other = client.post(url, json={"sender": f"calm-{secrets.token_hex(3)}", "message": "你好"})
    assert 429 in statuses and statuses.index(429) >= 30, statuses
    assert set(statuses[: statuses.index(429)]) == {200}
    assert refused.status_code == 429
    assert "太快" in refused.json()[0]["text"] and refused.headers["retry-after"]
    assert other.status_code == 200


def test_rest_client_cannot_claim_another_channel(stack: Stack) -> None:
    sender = f"claim-{secrets.token_hex(3)}"
    httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "你好", "input_channel": "wechat"},
        timeout=60,
    ).raise_for_status()
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.rasa_token},
        timeout=30,
    ).json()
    channels = {e.get("input_channel") for e in tracker["events"] if e.get("event") == "user"}
    assert channels == {"rest"}


def test_knowledge_api_is_throttled_per_client(stack: Stack) -> None:
    with httpx.Client(base_url=stack.app_url, timeout=60) as client:
        statuses = [
            client.get("/api/search", params={"q": "个转企", "k": 1}).status_code for _ in range(12)
        ]
        refused = client.post("/api/ask", json={"question": "个转企有什么补贴"})
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429], statuses
    assert refused.status_code == 429 and "频繁" in refused.json()["detail"]


def test_in_memory_tracker_store_forgets_least_recent_conversations(stack: Stack) -> None:
    """The stack runs with YIWEN_RASA_MAX_CONVERSATIONS=40: invented sender ids cannot
    grow Rasa without bound."""
    first = f"lru-first-{secrets.token_hex(3)}"
    stack.say(first, "你好")

    def user_turns(sender: str) -> int:
        tracker = httpx.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker",
            params={"token": stack.rasa_token},
            timeout=30,
        ).json()
        return sum(e.get("event") == "user" for e in tracker["events"])

    assert user_turns(first) == 1
    with httpx.Client(timeout=120) as client:
        for n in range(45):
            client.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": f"lru-{n}-{secrets.token_hex(3)}", "message": "你好"},
            ).raise_for_status()
    assert user_turns(first) == 0
