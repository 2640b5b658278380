"""May this Rasa replica run a turn now? Checked before every chat message.

Why, with several replicas behind nginx (README "Production profile"):

* Rasa 3.6 answers its channels even when no model is loaded (a broken model file,
  a replica still loading) and then drops the message: the citizen gets an empty
  reply. A replica without a ready agent answers **503** with a sentence instead, so
  nginx hands the message to the next replica, and a client that reaches none still
  reads why.
* ``FailSafeTrackerStore`` falls back to memory, silently, when the SQL tracker store
  fails: the citizen's half-filled complaint vanishes and a new conversation starts
  that no other replica can see. The same when Redis (the lock store) is down: turns
  fail or run unlocked. So both stores are checked (at most every
  ``STORE_CHECK_TTL_S``); a failing one makes the replica log it and answer 503 with
  an apology. The app's ``/healthz`` reports the same outage as ``degraded``.

Runs inside the Rasa server (Python 3.10); imports Rasa only through the agent it is
given.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from core.replies import strings

logger = logging.getLogger(__name__)
STORE_CHECK_TTL_S = 2.0
_last: dict[str, Any] = {"at": 0.0, "problem": None}


def _check_stores(agent: Any) -> str | None:
    """The first failing store ("tracker store: …" / "lock store: …"), or None."""
    store = getattr(agent, "tracker_store", None)
    inner = getattr(store, "_tracker_store", store)  # FailSafeTrackerStore wraps it
    engine = getattr(inner, "engine", None)
    if engine is not None:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            return f"tracker store: {type(exc).__name__}"
    red = getattr(getattr(agent, "lock_store", None), "red", None)
    if red is not None:
        try:
            red.ping()
        except Exception as exc:
            return f"lock store: {type(exc).__name__}"
    return None


def _note(problem: str | None) -> None:
    """Remember the stores' state now; log when it changes (once per outage, not per turn)."""
    if problem and problem != _last["problem"]:
        logger.error("对话存储不可用（%s）：本副本暂停接收消息，答复 503", problem)
    elif _last["problem"] and not problem:
        logger.warning("对话存储已恢复，本副本恢复接收消息")
    _last.update(at=time.monotonic(), problem=problem)


class TrackerStoreUnavailable(RuntimeError):
    """Raised instead of Rasa's silent fall-back to an in-memory tracker."""


def _refuse_memory_fallback(error: Exception) -> None:
    """``FailSafeTrackerStore``'s error callback: fail the turn, never go on in memory.

    Why raise: after this callback returns, Rasa carries on with an empty tracker (a
    retrieve) or saves to memory (a save), and the citizen's conversation silently
    starts over where no other replica can see it. Raising fails the turn instead; the
    channel answers 503 with the stores apology and nginx tries another replica.
    """
    problem = f"tracker store: {type(error).__name__}"
    _note(problem)
    raise TrackerStoreUnavailable(problem) from error


def forbid_memory_fallback(agent: Any) -> None:
    """Point the agent's ``FailSafeTrackerStore`` at :func:`_refuse_memory_fallback`
    (checked per message: a new model brings a new agent)."""
    store = getattr(agent, "tracker_store", None)
    if hasattr(store, "_on_tracker_store_error"):
        store._on_tracker_store_error = _refuse_memory_fallback


async def stores_problem(agent: Any, fresh: bool = False) -> str | None:
    """:func:`_check_stores`, run off the loop. A healthy answer is kept for
    ``STORE_CHECK_TTL_S`` (unless ``fresh``); a problem is checked again on the next
    message, so the replica takes turns again as soon as the store is back."""
    now = time.monotonic()
    if fresh or _last["problem"] or now - _last["at"] >= STORE_CHECK_TTL_S:
        _note(await asyncio.get_running_loop().run_in_executor(None, _check_stores, agent))
    return _last["problem"]


def _agent(app: Any) -> Any:
    return getattr(getattr(app, "ctx", None), "agent", None)


async def refusal(app: Any) -> tuple[int, str] | None:
    """``(503, text)`` when this replica must not take a turn, else None."""
    agent = _agent(app)
    if agent is None or not agent.is_ready():
        return 503, strings()["unavailable"]["starting"]
    forbid_memory_fallback(agent)
    if await stores_problem(agent):
        return 503, strings()["unavailable"]["stores"]
    return None


async def failed_turn(app: Any) -> tuple[int, str]:
    """What to answer for a turn that said nothing (it raised inside Rasa, which then
    answers an empty list): 503 and the stores apology when a store is down now (nginx
    hands the message on), else 500 and the busy apology. Never an empty reply."""
    agent = _agent(app)
    if agent is not None and await stores_problem(agent, fresh=True):
        return 503, strings()["unavailable"]["stores"]
    return 500, strings()["unavailable"]["busy"]
