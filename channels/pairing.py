"""One outgoing message for a reply that carries both text and a structured payload.

Why: an action sends a structured reply (``core.replies``) as one Rasa message with
``text``, ``buttons`` and ``custom``, but Rasa 3.6's ``OutputChannel.send_response``
sends the text (with its buttons) and the custom payload as two separate messages.
The widget would then see a bare card and, apart from it, a text bubble with the
buttons; our output channels call :func:`take_reply` first and send the three together,
so a client gets ``{"text", "buttons", "custom"}`` and plain clients still find the
text where it always was. Only payloads of ``core.replies`` are paired; anything else
goes through Rasa's usual path. No Rasa import here, so the app's tests can use it.
"""

from __future__ import annotations

from typing import Any

from core.replies import is_payload


def take_reply(message: dict[str, Any]) -> dict[str, Any] | None:
    """Pop text, buttons and a reply payload off Rasa's outgoing ``message``.

    Returns them as one message (``{"text", "buttons", "custom"}``, buttons possibly
    empty), leaving the rest of ``message`` (an image, say) for Rasa's usual path; or
    None, with ``message`` untouched, when it has no ``core.replies`` payload beside text.
    """
    if not is_payload(message.get("custom")) or not message.get("text"):
        return None
    if message.get("quick_replies"):
        return None  # Rasa's quick-reply path; no action of ours sends them
    return {
        "text": message.pop("text"),
        "buttons": list(message.pop("buttons", None) or []),
        "custom": message.pop("custom"),
    }
