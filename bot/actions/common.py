"""Helpers shared by the actions: reading the latest message, labels, turn checks.

The form validation actions must decide, for every user message, whether it
answers the form (fill slots) or interrupts it (reject, so a rule answers the
question and the form resumes). These helpers keep that decision in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

from bot.actions.parsing.text import normalise

LABELS_PATH = Path(__file__).with_name("labels.yml")

# Intents that interrupt a form rather than answer it. Rules in bot/data/rules.yml
# handle each of them and then resume the form.
DIGRESSION_INTENTS = frozenset(
    {
        "ask_policy",
        "ask_registration",
        "ask_rural",
        "out_of_scope",
        "chitchat",
        "bot_challenge",
        "human_handoff",
        "cancel",
        "feedback",
        "ask_complaint_or_report",
        "ask_complaint_procedure",
        "ask_report_procedure",
        "check_ticket_status",
        "greet",
        "thanks",
        "goodbye",
    }
)
# Below this NLU confidence an "interruption" is more likely a slot answer.
DIGRESSION_MIN_CONFIDENCE = 0.7

# Actions that may run between the user's message and the form without making
# the message "used up" (activation prelude, slot extraction, the form itself).
_NEUTRAL_ACTIONS = frozenset(
    {
        "action_listen",
        "action_extract_slots",
        "action_session_start",
        "action_deactivate_loop",
        "utter_start_complaint",
        "utter_start_report",
    }
)

# Sentinels stored in slots; never shown raw (see display helpers).
COUNTY_UNKNOWN = "unknown"
COUNTY_OUTSIDE = "outside"
AMOUNT_NONE = "none"


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    """The label file (bot/actions/labels.yml), loaded once."""
    with LABELS_PATH.open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


def label(key: str, **values: str) -> str:
    text = str(labels()[key])
    return text.format(**values) if values else text


def response_text(domain: Any, name: str) -> str:
    """The text of the domain response ``name`` (its first variant), or "" if none.

    A structured reply (``core.replies``) carries the text it stands for; when that text
    is a domain response Rasa renders, the payload takes it from the same place.
    """
    variants = ((domain or {}).get("responses") or {}).get(name) or [{}]
    return str(variants[0].get("text") or "")


def field_label(slot: str) -> str:
    return str(labels()["fields"].get(slot, slot))


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    """The user's words, normalised; empty for button payloads such as ``/affirm``."""
    text = (tracker.latest_message or {}).get("text") or ""
    if text.startswith("/"):
        return ""
    return normalise(text)


def raw_text(tracker: Tracker) -> str:
    """The user's words as typed (payloads excluded), for storing verbatim."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    return "" if text.startswith("/") else text


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of ``entity`` in the latest message (synonym-mapped by Rasa)."""
    found = []
    for ent in (tracker.latest_message or {}).get("entities") or []:
        if ent.get("entity") == entity and ent.get("value") not in (None, ""):
            found.append(str(ent["value"]))
    return found


def is_digression(tracker: Tracker, not_for: frozenset[str] = frozenset()) -> bool:
    """True when the latest message confidently interrupts the form.

    ``not_for`` lists intents that belong to the form itself (查进度 inside the
    status form). Feedback counts only when it comes from the 有帮助/没帮助
    buttons: typed answers such as 不清楚 can look like feedback to the classifier.
    """
    name, confidence = latest_intent(tracker)
    if name in not_for:
        return False
    if name == "feedback":
        text = (tracker.latest_message or {}).get("text") or ""
        return text.startswith("/feedback")
    return name in DIGRESSION_INTENTS and confidence >= DIGRESSION_MIN_CONFIDENCE


def is_fresh_turn(tracker: Tracker, form_name: str) -> bool:
    """True when the latest user message has not been handled by anything else yet.

    When the form resumes after a digression (a rule answered a question), the
    latest message is the question: it must not be parsed as a slot answer.
    """
    events = tracker.events or []
    last_user = None
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            last_user = index
            break
    if last_user is None:
        return False
    allowed = _NEUTRAL_ACTIONS | {form_name, f"validate_{form_name}"}
    for event in events[last_user + 1 :]:
        kind = event.get("event")
        if kind == "action_execution_rejected":
            return False
        if kind == "action" and event.get("name") not in allowed:
            return False
    return True


def matches_any(text: str, words: list[str] | tuple[str, ...]) -> bool:
    """True when ``text`` is (after trimming punctuation) one of ``words`` or starts with one."""
    stripped = text.strip("。.!！,，~～ ")
    return any(stripped == w or (len(w) >= 2 and stripped.startswith(w)) for w in words)


def is_unknown_answer(text: str) -> bool:
    return matches_any(text, labels()["unknown_words"])


def is_none_answer(text: str) -> bool:
    return matches_any(text, labels()["none_words"])


# Intents whose message may be a request the assistant cannot do (唱首歌): the domain
# intents are never second-guessed.
UNSUPPORTED_REQUEST_INTENTS = frozenset({"chitchat", "out_of_scope", "nlu_fallback"})


def asks_for_something_unsupported(text: str) -> bool:
    """True when the message asks the assistant to sing, joke, draw … (``cannot_do_cues``)."""
    normalised = normalise(text)
    return any(cue in normalised for cue in labels()["cannot_do_cues"])
