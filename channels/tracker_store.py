"""Rasa's in-memory tracker store with a bound: least recently used conversations and
conversations idle too long are forgotten.

Why: the default in-memory store (one Rasa process, no ``YIWEN_RASA_TRACKER_STORE_URL``)
never evicts, and the public chat endpoints accept any well-formed sender id, so a client inventing
sender ids grows Rasa until it dies. It also keeps what citizens typed (names, phones)
for as long as the process lives.

Named in ``bot/endpoints.yml`` (and in the endpoints ``yiwen up`` generates) as
``channels.tracker_store.BoundedInMemoryTrackerStore``. Settings, in the endpoints entry
or else ``get_settings().rasa`` (:mod:`core.settings`): ``max_conversations`` /
``YIWEN_RASA_MAX_CONVERSATIONS`` (default 20,000) and ``idle_ttl_s`` /
``YIWEN_RASA_IDLE_TTL_S`` (default 7,200 s: a citizen who comes back after two hours
starts a new conversation, as a new Rasa session would).
Runs inside the Rasa server (Python 3.10).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from core.settings import get_settings

logger = logging.getLogger(__name__)


def _setting(value: Any, name: str, default: float) -> float:
    """The endpoints entry's ``value`` when usable, else the setting's ``default``."""
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        logger.warning("%s=%r 无效，使用 %s", name, value, default)
        return default


class BoundedInMemoryTrackerStore(InMemoryTrackerStore):
    """In-memory trackers with an LRU bound and an idle expiry (see the module docstring)."""

    def __init__(
        self,
        domain: Any,
        event_broker: Any = None,
        host: Any = None,
        max_conversations: int | None = None,
        idle_ttl_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.store: OrderedDict[str, str] = OrderedDict()
        self._seen: dict[str, float] = {}
        rasa = get_settings().rasa
        self.max_conversations = int(
            _setting(max_conversations, "max_conversations", rasa.max_conversations)
        )
        self.idle_ttl_s = _setting(idle_ttl_s, "idle_ttl_s", rasa.idle_ttl_s)

    def _forget(self, sender_id: str) -> None:
        self.store.pop(sender_id, None)
        self._seen.pop(sender_id, None)

    def _expire(self, now: float) -> None:
        # The store is in recency order: expired conversations are at the front.
        while self.store:
            oldest = next(iter(self.store))
            if now - self._seen.get(oldest, now) <= self.idle_ttl_s:
                break
            self._forget(oldest)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        now = time.monotonic()
        self.store.move_to_end(tracker.sender_id)
        self._seen[tracker.sender_id] = now
        self._expire(now)
        while len(self.store) > self.max_conversations:
            self._forget(next(iter(self.store)))

    async def _retrieve(
        self, sender_id: str, fetch_all_sessions: bool
    ) -> DialogueStateTracker | None:
        self._expire(time.monotonic())
        return await super()._retrieve(sender_id, fetch_all_sessions)
