"""Drive the widget the way a citizen does: through roles and labels a screen reader sees."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, WebSocket

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
REPLY_TIMEOUT_MS = 90_000


@dataclass
class WidgetPage:
    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    frames_received: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("websocket", self._on_websocket)

    def _on_dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_websocket(self, ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: self.frames_received.append(str(payload)))

    # ------------------------------------------------------------------ locators
    @property
    def launcher(self) -> Locator:
        return self.page.get_by_role("button", name="打开邑问在线咨询")

    @property
    def panel(self) -> Locator:
        return self.page.get_by_role("dialog", name="邑问")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="对话记录")

    @property
    def input(self) -> Locator:
        return self.page.get_by_role("textbox", name="输入您的问题")

    @property
    def typing(self) -> Locator:
        return self.page.locator(".yw-typing")

    def bot_messages(self) -> Locator:
        return self.log.locator(".yw-bot:not(.yw-welcome)")

    def user_messages(self) -> Locator:
        return self.log.locator(".yw-user")

    def reply(self, name: str) -> Locator:
        """An enabled quick-reply button of the latest bot turn."""
        return self.log.locator(".yw-reply:not([disabled])", has_text=re.compile(f"^{name}$"))

    # ------------------------------------------------------------------ actions
    def open(self, url: str) -> None:
        self.page.goto(url)
        self.launcher.click()
        self.input.wait_for()

    def frames_with(self, event: str) -> list[str]:
        """socket.io frames received by the page that carry ``event``."""
        return [f for f in self.frames_received if f'"{event}"' in f]

    def focused_is(self, locator: Locator) -> bool:
        return bool(locator.evaluate("el => el.getRootNode().activeElement === el"))

    def wait_socket_ready(self, timeout_ms: int = 60_000) -> None:
        """Wait for the socket.io session handshake (Rasa's ``session_confirm``)."""
        waited = 0
        while not self.frames_with("session_confirm"):
            if waited > timeout_ms:
                raise AssertionError("the widget never completed the socket.io session handshake")
            self.page.wait_for_timeout(100)
            waited += 100

    def settle(self, before: int) -> None:
        """Wait until the bot has said something new and stopped typing."""
        self.page.wait_for_function(
            """([before]) => {
                const root = document.querySelector('#yiwen-widget')?.shadowRoot;
                if (!root) return false;
                const n = root.querySelectorAll('.yw-bot:not(.yw-welcome)').length;
                return n > before && root.querySelector('.yw-typing').hidden;
            }""",
            arg=[before],
            timeout=REPLY_TIMEOUT_MS,
        )

    def ask(self, text: str) -> str:
        """Type and send with Enter; return the text of the whole bot reply."""
        before = self.bot_messages().count()
        self.input.fill(text)
        self.input.press("Enter")
        self.settle(before)
        return self.reply_since(before)

    def click_reply(self, name: str) -> str:
        before = self.bot_messages().count()
        self.reply(name).first.click()
        self.settle(before)
        return self.reply_since(before)

    def reply_since(self, before: int) -> str:
        messages = self.bot_messages()
        return "\n".join(messages.nth(i).inner_text() for i in range(before, messages.count()))

    def transcript(self) -> list[str]:
        return [t.strip() for t in self.log.locator(".yw-msg").all_inner_texts()]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path)
        return path
