"""Fixtures for the Rasa assistant's action tests.

Actions run against rasa_sdk ``Tracker`` objects and a ``CollectingDispatcher``
(financial-demo style). Every test gets its own data dir and app database, and
the knowledge engine is never preloaded here.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ["YIWEN_ACTIONS_PRELOAD"] = "0"

REPO = Path(__file__).resolve().parents[2]


RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"


def run_in_rasa_env(script: str, *args: str) -> str:
    """Run ``script`` with the Rasa environment's Python; return its last stdout line.

    Why a subprocess: Rasa components live in the Python 3.10 environment, the
    tests in the app environment (see DESIGN, "Two environments").
    """
    if not RASA_PY.exists():
        pytest.skip("the Rasa environment (.venv/rasa) is missing")
    done = subprocess.run(
        [str(RASA_PY), "-c", script, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


DOMAIN_PATH = REPO / "bot" / "domain.yml"


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    with DOMAIN_PATH.open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private outbox, review log and an unreachable ticket API unless a test starts one."""
    data = tmp_path / "data"
    monkeypatch.setenv("YIWEN_DATA_DIR", str(data))
    monkeypatch.setenv("YIWEN_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("YIWEN_TICKET_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("YIWEN_TICKET_TIMEOUT", "3")
    return data


def user_message(
    text: str, intent: str = "inform", confidence: float = 0.9, entities: dict | None = None
) -> dict[str, Any]:
    """parse_data as Rasa sends it for the latest user message."""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


def make_tracker(
    slots: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    *,
    after_user: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender_id: str = "citizen-1",
    channel: str = "rest",
) -> Any:
    """A rasa_sdk Tracker whose event log ends with the latest user message.

    ``after_user`` lists the events Rasa appended after that message (the
    form's own execution, or a rejection and a rule's answer).
    """
    from rasa_sdk import Tracker

    message = message or user_message("")
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": message["text"], "parse_data": message, "input_channel": channel},
        {"event": "action", "name": "action_extract_slots"},
        *(after_user or []),
    ]
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=events[-1].get("name"),
    )


class FormDriver:
    """Plays Rasa core's form loop around a FormValidationAction.

    Mirrors rasa/core/actions/forms.py: the validation action runs on every
    user message; the form is *rejected* when it sets nothing but
    ``requested_slot``; otherwise the next slot is the one the action names or
    the first empty required slot.
    """

    def __init__(self, action: Any, domain: dict[str, Any], form: str) -> None:
        self.action = action
        self.domain = domain
        self.form = form
        self.slots: dict[str, Any] = {name: None for name in domain["slots"]}
        self.slots["requested_slot"] = None
        self.active = False
        self.rejected = False
        self.messages: list[dict[str, Any]] = []

    @property
    def requested(self) -> str | None:
        return self.slots.get("requested_slot")

    def required(self) -> list[str]:
        return list(self.domain["forms"][self.form]["required_slots"])

    def responses(self) -> list[str]:
        return [m.get("response") for m in self.messages]

    def say(
        self,
        text: str,
        intent: str = "inform",
        confidence: float = 0.9,
        entities: dict[str, str] | None = None,
    ) -> FormDriver:
        from rasa_sdk.executor import CollectingDispatcher

        message = user_message(text, intent, confidence, entities)
        tracker = make_tracker(
            dict(self.slots),
            message,
            after_user=[
                {"event": "slot", "name": "requested_slot", "value": self.requested},
                {"event": "action", "name": self.form},
            ],
            active_loop=self.form if self.active else None,
        )
        dispatcher = CollectingDispatcher()
        events = asyncio.run(self.action.run(dispatcher, tracker, self.domain))
        self.messages = dispatcher.messages
        sets = [e for e in events if e.get("event") == "slot"]
        self.rejected = self.active and not any(e["name"] != "requested_slot" for e in sets)
        if self.rejected:
            return self
        for event in sets:
            self.slots[event["name"]] = event["value"]
        named = [e for e in sets if e["name"] == "requested_slot"]
        if named:
            next_slot = named[-1]["value"]
        else:
            next_slot = next((s for s in self.required() if self.slots.get(s) is None), None)
        self.slots["requested_slot"] = next_slot
        self.active = next_slot is not None
        return self


@pytest.fixture
def form_driver(domain: dict[str, Any]) -> Any:
    def make(action: Any, form: str) -> FormDriver:
        return FormDriver(action, domain, form)

    return make


# ----------------------------------------------------------------- the real ticket API
class TicketServer:
    """The real ticket service (``tickets.main:create_app``) in a uvicorn subprocess.

    It can be stopped and started again on the same port and database, which is
    how the outbox tests take the API down in the middle of a conversation.
    """

    def __init__(self, tmp: Path) -> None:
        import socket

        self.tmp = tmp
        self.database_url = f"sqlite:///{tmp / 'tickets.db'}"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: Any = None
        self.log = tmp / "tickets.log"
        self._admin_token: str | None = None
        #: The action server's credential (YIWEN_TICKET_API_TOKEN) this service expects.
        import secrets

        self.service_token = "svc_" + secrets.token_urlsafe(24)

    def start(self) -> None:
        import subprocess
        import sys
        import time

        import httpx

        env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
        env.update(
            YIWEN_DATABASE_URL=self.database_url,
            YIWEN_DATA_DIR=str(self.tmp),
            YIWEN_TICKET_API_TOKEN=self.service_token,
            PYTHONPATH=str(REPO),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tickets.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--ws", "none"],
            cwd=REPO, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        # Generous: under make test, six Rasa stacks load their models on two cores.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.log.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def admin_token(self) -> str:
        """A staff admin token, issued straight into the service's database."""
        if self._admin_token is None:
            import datetime as dt

            from core.settings import TicketsSettings
            from tickets.db import make_database
            from tickets.services.auth import issue_token

            db = make_database(TicketsSettings(database_url=self.database_url))
            with db.writing() as session:
                _row, self._admin_token = issue_token(
                    session, role="admin", county=None, name="bot-tests",
                    now=dt.datetime.now(dt.UTC),
                )  # fmt: skip
            db.engine.dispose()
        return self._admin_token

    def staff_tickets(self, sender_id: str | None = None) -> list[dict[str, Any]]:
        """Every ticket in full (unmasked), through the staff API; optionally one sender's."""
        import httpx

        headers = {"Authorization": f"Bearer {self.admin_token()}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            page = client.get("/api/staff/tickets", params={"page_size": 100})
            page.raise_for_status()
            tickets = [
                client.get(f"/api/staff/tickets/{item['ticket_no']}").json()
                for item in page.json()["items"]
            ]
        return [t for t in tickets if sender_id is None or t["sender_id"] == sender_id]


@pytest.fixture(scope="module")
def ticket_service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One real ticket service per test module (starting one takes seconds)."""
    try:
        import tickets.main  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the service ships with the repo
        pytest.skip(f"ticket service not importable: {exc}")
    server = TicketServer(tmp_path_factory.mktemp("tickets"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ticket_server(ticket_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The module's ticket service, running, with the actions pointed at it."""
    if ticket_service.proc is None:
        ticket_service.start()
    monkeypatch.setenv("YIWEN_TICKET_API_URL", ticket_service.base_url)
    monkeypatch.setenv("YIWEN_TICKET_API_TOKEN", ticket_service.service_token)
    return ticket_service
