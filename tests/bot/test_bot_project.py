"""Consistency of the Rasa project: domain ↔ actions ↔ rules, model hash, services."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk.executor import ActionExecutor

from bot import processes, train
from bot.actions.common import labels
from core.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_every_domain_action_is_registered(domain: dict[str, Any]) -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    assert sorted(executor.actions) == sorted(domain["actions"])


def test_every_response_the_actions_use_exists(domain: dict[str, Any]) -> None:
    used: set[str] = set()
    for path in (REPO / "bot" / "actions").rglob("*.py"):
        used |= set(re.findall(r'"(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    used.discard("utter_action")  # a key of Rasa's parse data (response selector), not a response
    missing = used - set(domain["responses"])
    assert not missing, f"responses used in Python but missing from the domain: {missing}"


def test_every_form_slot_can_be_asked(domain: dict[str, Any]) -> None:
    asked = set(domain["responses"]) | set(domain["actions"])
    for form, spec in domain["forms"].items():
        for slot in spec["required_slots"]:
            candidates = {
                f"utter_ask_{form}_{slot}",
                f"utter_ask_{slot}",
                f"action_ask_{form}_{slot}",
                f"action_ask_{slot}",
            }
            assert candidates & asked, f"nothing asks {form}.{slot}"


def test_actions_send_domain_responses_only() -> None:
    """User-facing text lives in the domain (or labels.yml), never in utter_message(text=…)."""
    calls = 0
    for path in (REPO / "bot" / "actions").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "utter_message":
                calls += 1
                keywords = {k.arg for k in node.keywords}
                assert "response" in keywords and "text" not in keywords, (
                    f"{path.name}:{node.lineno} sends text instead of a domain response"
                )
    assert calls > 20
    assert labels()["fields"]["complainant_phone"]


def test_every_intent_has_enough_examples() -> None:
    counts: dict[str, int] = {}
    for path in (REPO / "bot" / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in block:
                name = block["intent"].split("/")[0]
                counts[name] = counts.get(name, 0) + block["examples"].count("\n- ") + 1
    required = [
        "greet", "goodbye", "thanks", "ask_policy", "ask_registration", "ask_rural",
        "file_complaint", "file_report", "check_ticket_status", "human_handoff", "affirm",
        "deny", "cancel", "inform", "out_of_scope", "bot_challenge", "chitchat",
    ]  # fmt: skip
    assert {i: counts.get(i, 0) for i in required if counts.get(i, 0) < 25} == {}


def _copy_inputs(dest: Path) -> Path:
    for rel in (
        "config.yml",
        "bot/domain.yml",
        "bot/data",
        "retrieval/jieba_dict",
        "bot/nlu",
        "requirements/rasa.txt",
    ):
        src = REPO / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy2(src, target)
    return dest


def test_model_hash_follows_the_inputs(tmp_path: Path) -> None:
    root = _copy_inputs(tmp_path / "repo")
    first = train.content_hash(root)
    assert train.content_hash(root) == first
    assert train.model_path(root).name == f"{first}.tar.gz"
    (root / "bot" / "models").mkdir()
    (root / "bot" / "models" / "unrelated.txt").write_text("x")
    assert train.content_hash(root) == first  # outputs do not count
    with (root / "retrieval" / "jieba_dict" / "yiwen.txt").open("a", encoding="utf-8") as fh:
        fh.write("新词 10 n\n")
    second = train.content_hash(root)
    assert second != first
    nlu = root / "bot" / "data" / "nlu" / "basic.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    third = train.content_hash(root)
    assert third not in (first, second)
    # Another Rasa or TensorFlow in the lock makes another model (and a cached one is not reused).
    lock = root / "requirements" / "rasa.txt"
    lock.write_text(lock.read_text(encoding="utf-8") + "# upgraded\n", encoding="utf-8")
    assert train.content_hash(root) not in (first, second, third)


def test_existing_model_is_not_retrained(tmp_path: Path, capsys: Any) -> None:
    root = _copy_inputs(tmp_path / "repo")
    target = train.model_path(root)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"model")
    assert train.train(root) == target
    assert "not training" in capsys.readouterr().out


def test_services_for_yiwen_up() -> None:
    env = {"YIWEN_DATABASE_URL": "sqlite:///x.db"}
    actions, rasa = processes.rasa_services(load_settings(env), env)
    assert actions["name"] == "actions"
    assert actions["cmd"][-4:] == ["--actions", "bot.actions", "--port", "5055"]
    assert actions["env"]["SANIC_HOST"] == "127.0.0.1"
    assert actions["env"]["YIWEN_DATABASE_URL"] == "sqlite:///x.db"
    assert actions["health_url"] == "http://127.0.0.1:5055/health"
    cmd = rasa["cmd"]
    # Rasa starts through bot.rasa_server, which adds the admin token out of sight.
    assert cmd[1:5] == ["-m", "bot.rasa_server", "run", "--enable-api"]
    assert "--auth-token" not in cmd
    assert cmd[cmd.index("--model") + 1] == f"bot/models/{train.content_hash()}.tar.gz"
    assert cmd[cmd.index("--interface") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--credentials") + 1] == "bot/credentials.yml"
    assert rasa["health_url"] == "http://127.0.0.1:5005/"
    assert rasa["ready_url"].startswith("http://127.0.0.1:5005/status?token=")
    endpoints = yaml.safe_load((REPO / "bot" / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    credentials = yaml.safe_load((REPO / "bot" / "credentials.yml").read_text(encoding="utf-8"))
    # REST with the public limits; the widget's socket.io channel is owned by channels/
    assert "channels.webchat.rest.LimitedRestInput" in credentials
    assert any("socketio" in name.lower() for name in credentials)
