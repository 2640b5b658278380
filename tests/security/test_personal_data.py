"""Personal data in logs and files (issue 12, #6): a full complaint and a look-up through
the real stack leave no phone number in any process's log, and every file the project
creates is private (600) from the start.

Before the fix the action server's httpx logged ``…?phone_last4=8000`` at INFO, the
review log kept full-width and dotted phone numbers, and the outbox, the SQLite
databases and ``var/rasa/endpoints.yml`` were created 644.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time

import pytest
from sqlalchemy import create_engine, text

from tests.security.stack import LAST4_RE, PHONE_RE, Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

COMPLAINT = [
    "我在新会区的好又多超市买到过期牛奶，花了35元",
    "会城中心南路12号",
    "3月5号",
    "我要退款",
    "陈大文",
    "13912345678",
    "蓬江区白沙大道西1号",
    "有小票和照片",
    "同意",
    "确认提交",
]


@pytest.fixture(scope="module")
def complaint_and_lookup(stack: Stack) -> str:
    sender = f"pii-{secrets.token_hex(4)}"
    transcript = []
    for line in COMPLAINT:
        transcript.append((line, stack.say(sender, line)))
    done = "\n".join(transcript[-1][1])
    match = re.search(r"JM\d{4}-\d{6}", done)
    assert match, transcript
    stack.say(sender, "查进度")
    stack.say(sender, f"{match.group(0)}，尾号5678")
    # A question with a full-width and a dotted number that the knowledge search abstains on.
    question = "我的电话１３８１２３４５６７８和139.8765.4321，火星上怎么种土豆"
    stack.say(f"pii-q-{secrets.token_hex(4)}", question)
    time.sleep(2)  # let every process flush its log
    return match.group(0)


def test_no_phone_or_last4_in_any_process_log(stack: Stack, complaint_and_lookup: str) -> None:
    log = stack.log_text()  # yiwen up: app, action server and Rasa write here
    assert complaint_and_lookup, "the complaint went through"
    assert PHONE_RE.findall(log) == []
    assert LAST4_RE.findall(log) == []
    for typed in ("１３８１２３４５６７８", "139.8765.4321", "13912345678"):
        assert typed not in log


def test_review_log_masks_full_width_and_dotted_numbers(
    stack: Stack, complaint_and_lookup: str
) -> None:
    engine = create_engine(f"sqlite:///{stack.database}")
    with engine.connect() as conn:
        questions = [r[0] for r in conn.execute(text("SELECT question FROM review_log"))]
    engine.dispose()
    joined = "\n".join(questions)
    assert "火星" in joined, questions
    for typed in ("１３８１２３４５６７８", "139.8765.4321", "１２３４５６７８"):
        assert typed not in joined


def test_files_the_stack_creates_are_private(stack: Stack, complaint_and_lookup: str) -> None:
    files = [
        stack.data / "outbox.sqlite3",
        stack.data / "secrets" / "ticket_api_token",
        stack.data / "secrets" / "rasa_auth_token",
        stack.data / "rasa" / "endpoints.yml",  # generated: the action port is not 5055
        stack.database,
    ]
    files += [p for p in stack.data.glob("outbox.sqlite3-*")]
    files += [p for p in stack.database.parent.glob(stack.database.name + "-*")]
    modes = {str(p): oct(stat.S_IMODE(os.stat(p).st_mode)) for p in files}
    assert set(modes.values()) == {"0o600"}, modes
