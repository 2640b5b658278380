"""The cached action-reply check (bot.rasa_patches) accepts and refuses exactly what
Rasa's own ``RemoteAction._validate_action_result`` does, with the same message.

Runs the real Rasa class in the Rasa environment (Python 3.10), in a subprocess.
"""

from __future__ import annotations

from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import json
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from bot import rasa_patches

REPLIES = [
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "好"}]},
    {"events": [], "responses": []},
    {},
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": [{"text": 5}]},
]

def outcome(fn):
    out = []
    for reply in REPLIES:
        try:
            out.append(["ok", fn(RemoteAction("x", None), reply)])
        except ValidationError as exc:
            out.append(["error", exc.message])
    return out

original = outcome(RemoteAction._validate_action_result)
rasa_patches.install()
patched = outcome(RemoteAction._validate_action_result)
print(json.dumps({"original": original, "patched": patched,
                  "installed": RemoteAction._validate_action_result
                  is rasa_patches._validate_action_result}, ensure_ascii=False))
"""


def test_cached_reply_check_matches_rasas_own() -> None:
    seen = run_in_rasa(SCRIPT)
    assert seen["installed"] is True
    assert seen["patched"] == seen["original"]
    kinds = [k for k, _ in seen["original"]]
    assert kinds[:3] == ["ok", "ok", "ok"] and "error" in kinds[3:]
