"""A replica never runs a turn on a store it cannot reach, and never answers nothing.

Rasa 3.6's ``FailSafeTrackerStore`` falls back to an in-memory tracker when the SQL
store fails: the conversation silently starts over on one replica. These run the real
Rasa classes (Python 3.10, in a subprocess): without our callback Rasa hands back no
tracker; with it the turn fails, and the channel's answer is the stores apology
(503) when a store is down now, the busy apology (500) otherwise. The whole path,
with PostgreSQL and Redis really stopped, runs in tests/topology.
"""

from __future__ import annotations

import pytest

from core.replies import strings
from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import asyncio, json
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from channels.webchat import readiness

class DeadEngine:
    def connect(self):
        raise ConnectionError("database gone")

class Broken(InMemoryTrackerStore):
    engine = DeadEngine()   # what SQLTrackerStore has; the readiness check asks it
    async def retrieve(self, sender_id):
        raise ConnectionError("database gone")

class Red:
    def __init__(self, up):
        self.up = up
    def ping(self):
        if not self.up:
            raise ConnectionError("redis gone")
        return True

class Agent:
    def __init__(self, store, redis_up):
        self.tracker_store = store
        self.lock_store = type("Lock", (), {"red": Red(redis_up)})()
    def is_ready(self):
        return True

class App:
    def __init__(self, agent):
        self.ctx = type("Ctx", (), {"agent": agent})()

async def main():
    out = {}
    store = FailSafeTrackerStore(Broken(Domain.empty()))
    out["rasa_default"] = repr(await store.retrieve("u1"))
    agent = Agent(store, redis_up=True)
    readiness.forbid_memory_fallback(agent)   # what refusal() does before every turn
    try:
        await store.retrieve("u1")
        out["strict"] = "no error"
    except readiness.TrackerStoreUnavailable as exc:
        out["strict"] = str(exc)
    out["refused_after"] = await readiness.refusal(App(agent))
    healthy = Agent(FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty())), redis_up=True)
    readiness._last.update(at=0.0, problem=None)
    out["failed_healthy"] = await readiness.failed_turn(App(healthy))
    out["serves_healthy"] = await readiness.refusal(App(healthy))
    out["installed"] = (
        healthy.tracker_store._on_tracker_store_error is readiness._refuse_memory_fallback
    )
    out["failed_redis"] = await readiness.failed_turn(App(Agent(healthy.tracker_store, False)))
    print(json.dumps(out, ensure_ascii=False))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def seen() -> dict:
    return run_in_rasa(SCRIPT)


def test_rasa_alone_would_start_the_conversation_over(seen: dict) -> None:
    assert seen["rasa_default"] == "None"


def test_a_tracker_store_error_fails_the_turn_and_refuses_the_next(seen: dict) -> None:
    unavailable = strings()["unavailable"]
    assert seen["strict"] == "tracker store: ConnectionError"
    assert seen["refused_after"] == [503, unavailable["stores"]]


def test_every_turn_runs_with_the_guard_installed(seen: dict) -> None:
    assert seen["serves_healthy"] is None and seen["installed"] is True


def test_a_turn_that_said_nothing_gets_an_apology(seen: dict) -> None:
    unavailable = strings()["unavailable"]
    assert seen["failed_healthy"] == [500, unavailable["busy"]]
    assert seen["failed_redis"] == [503, unavailable["stores"]]
