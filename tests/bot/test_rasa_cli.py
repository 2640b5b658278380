"""Rasa's own checks on the project: data validation and the end-to-end test stories.

``rasa data validate --fail-on-warnings`` must pass, and its only remaining
warnings may be responses that custom actions send (Rasa cannot see those in
stories) and the retrieval intent listed both in the domain (as Rasa's docs ask)
and in the NLU data, which Rasa 3.6 reports as a duplicate when it merges them.

``rasa test core`` must pass every story in ``bot/tests/`` with the
trained model for the current inputs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot import train
from tests.conftest import STACK_START_S

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RASA_BIN = REPO / ".venv" / "rasa" / "bin" / "rasa"


def _rasa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not RASA_BIN.exists():
        pytest.skip("the Rasa environment (.venv/rasa) is missing")
    return subprocess.run(
        [str(RASA_BIN), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STACK_START_S,  # a model load and the stories, beside the other stacks
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)},
    )


def test_data_validate_fails_on_nothing(tmp_path: Path) -> None:
    done = _rasa(
        "data", "validate", "--fail-on-warnings", "--config", str(REPO / "config.yml"),
        "--domain", str(REPO / "bot" / "domain.yml"), "--data", str(REPO / "bot" / "data"),
        cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    sent_by_actions = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "bot" / "actions").rglob("*.py")
    )
    retrieval_intents = set(re.findall(r"intent: (\w+)/", _nlu_text()))
    warnings = re.findall(r"UserWarning: (.+)", output)
    unexplained = []
    for warning in warnings:
        unused = re.match(r"The utterance '(utter_\w+)' is not used in any story or rule", warning)
        if unused and (
            f'"{unused.group(1)}"' in sent_by_actions or unused.group(1) in _form_questions()
        ):
            continue  # an action or a form sends it: correct, and invisible to the validator
        duplicated = re.match(r"The following duplicated intents have been found .*: (.+)", warning)
        if duplicated and set(duplicated.group(1).split(", ")) <= retrieval_intents:
            continue
        unexplained.append(warning)
    assert retrieval_intents == {"chitchat"}
    assert unexplained == []


def _form_questions() -> set[str]:
    """What Rasa sends by itself: a form's ``utter_ask_[<form>_]<slot>`` for any slot it
    requests (our validation actions add slots such as demand_detail on the fly), and
    ``utter_default`` from the built-in ``action_default_fallback``."""
    domain = yaml.safe_load((REPO / "bot" / "domain.yml").read_text(encoding="utf-8"))
    asked: set[str] = {"utter_default", "utter_chitchat"}  # the latter: action_small_talk
    for slot in domain["slots"]:
        asked.add(f"utter_ask_{slot}")
        asked |= {f"utter_ask_{form}_{slot}" for form in domain["forms"]}
    return asked


def _nlu_text() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "bot" / "data" / "nlu").glob("*.yml")
    )


def test_every_test_story_passes(tmp_path: Path) -> None:
    model = train.model_path()
    if not model.exists():
        pytest.skip(f"no model for the current inputs ({model.name}); run python -m bot.train")
    stories = REPO / "bot" / "tests" / "test_stories.yml"
    done = _rasa(
        "test", "core", "--stories", str(stories), "--model", str(model),
        "--endpoints", str(REPO / "bot" / "endpoints.yml"), "--out", str(tmp_path / "results"),
        "--fail-on-prediction-errors", "--no-plot",
        cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    n_stories = len(yaml.safe_load(stories.read_text(encoding="utf-8"))["stories"])
    assert f"Correct:          {n_stories} / {n_stories}" in output, output[-4000:]
    failed = (tmp_path / "results" / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed
