"""Status look-ups the bot makes: throttled per conversation, LOCAL references too (#2).

Before the fix every look-up of the action server came from 127.0.0.1, so five wrong
guesses by anyone locked every citizen out for ten minutes, and ``LOCAL-…`` references
were answered from the outbox without any throttle. The probes call the real action
server the way Rasa calls it, against the real ticket API of the stack.
"""

from __future__ import annotations

import secrets

import pytest

from tests.security.stack import Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def _responses(result: dict) -> list[str]:
    return [r.get("response") for r in result.get("responses", [])]


def _lookup(stack: Stack, sender: str, ref: str, last4: str, channel: str = "rest") -> list[str]:
    result = stack.run_action(
        "action_check_ticket_status",
        sender,
        {"ticket_no": ref, "phone_last4": last4},
        channel=channel,
    )
    return _responses(result)


def test_sender_a_wrong_guesses_leave_sender_b_working(stack: Stack) -> None:
    a, b = f"guesser-{secrets.token_hex(4)}", f"citizen-{secrets.token_hex(4)}"
    victim = stack.file_ticket("13711112222")["lookup_code"]
    own = stack.file_ticket("13733334444")["lookup_code"]
    for n in range(5):
        assert _lookup(stack, a, victim, f"{n:04d}") == ["utter_ticket_not_found"]
    assert _lookup(stack, a, victim, "2222") == ["utter_ticket_throttled"]
    # B talks to the same action server (same address for the ticket API).
    assert _lookup(stack, b, own, "4444", channel="wechat") == ["utter_ticket_status"]


def test_local_references_go_through_the_same_throttle(stack: Stack) -> None:
    sender = f"local-{secrets.token_hex(4)}"
    refs = [f"LOCAL-20261206-{secrets.token_hex(3).upper()}" for _ in range(6)]
    for ref in refs[:5]:
        assert _lookup(stack, sender, ref, "1234") == ["utter_ticket_not_found"]
    assert _lookup(stack, sender, refs[5], "1234") == ["utter_ticket_throttled"]


def test_delivered_local_reference_is_resolved_by_the_api(stack: Stack) -> None:
    local = f"LOCAL-20261206-{secrets.token_hex(3).upper()}"
    code = stack.file_ticket("13755556666", local_ref=local)["lookup_code"]
    result = stack.run_action(
        "action_check_ticket_status",
        f"owner-{secrets.token_hex(4)}",
        {"ticket_no": local, "phone_last4": "6666"},
    )
    assert _responses(result) == ["utter_ticket_local_delivered", "utter_ticket_status"]
    # The citizen is given the lookup code they need from now on.
    assert result["responses"][0]["ticket_no"] == code
    assert result["responses"][1]["ticket_no"] == code
