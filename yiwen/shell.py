"""``yiwen shell``: talk to the running assistant in a terminal.

Why not ``rasa shell``: that loads a second copy of the model (70–95 s) in the
Rasa environment and bypasses the server that ``make run`` started. This client
speaks to that server over Rasa's REST channel, so the terminal sees exactly
what the web widget and WeChat see, including the quick-reply buttons.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

QUIT_WORDS = {"/quit", "/exit", "/退出"}


@dataclass
class ShellSession:
    """One conversation: a sender id and the buttons offered by the last reply."""

    rasa_url: str
    sender: str = field(default_factory=lambda: f"shell-{secrets.token_hex(4)}")
    buttons: list[dict[str, Any]] = field(default_factory=list)

    def resolve(self, typed: str) -> str:
        """A number picks the last reply's button (its payload); anything else is sent as is."""
        if typed.isdigit() and 1 <= int(typed) <= len(self.buttons):
            return str(self.buttons[int(typed) - 1].get("payload") or "")
        return typed

    def send(self, client: httpx.Client, text: str) -> list[str]:
        response = client.post(
            f"{self.rasa_url.rstrip('/')}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
        )
        response.raise_for_status()
        lines: list[str] = []
        self.buttons = []
        for message in response.json():
            if message.get("text"):
                lines.append(str(message["text"]))
            for button in message.get("buttons") or []:
                self.buttons.append(button)
                lines.append(f"  [{len(self.buttons)}] {button.get('title', '')}")
        return lines


def run_shell(
    rasa_url: str,
    read: Callable[[], str],
    write: Callable[[str], None],
    timeout: float = 120.0,
) -> int:
    """Read-send-print until EOF or a quit word; return the exit status."""
    session = ShellSession(rasa_url)
    with httpx.Client(timeout=timeout) as client:
        try:
            client.get(rasa_url, timeout=5).raise_for_status()
        except httpx.HTTPError:
            write(f"错误：连不上 Rasa（{rasa_url}）。请先运行 make run，或用 --url 指定地址。")
            return 1
        write(f"邑问（{rasa_url}，会话 {session.sender}）。输入 /quit 退出；输入数字选择按钮。")
        while True:
            try:
                typed = read().strip()
            except EOFError:
                return 0
            if typed in QUIT_WORDS:
                return 0
            if not typed:
                continue
            try:
                replies = session.send(client, session.resolve(typed))
            except httpx.HTTPError as exc:
                write(f"错误：发送失败（{exc}）。Rasa 还在运行吗？")
                continue
            _write_all(write, replies or ["（没有回复）"])


def _write_all(write: Callable[[str], None], lines: Iterable[str]) -> None:
    for line in lines:
        write(f"邑问> {line}" if not line.startswith("  [") else line)
