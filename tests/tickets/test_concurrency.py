"""Concurrent submissions: idempotency and ticket numbering under 200 parallel POSTs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.tickets.helpers import SERVICE_HEADERS, Server, complaint, new_key
from tickets.models import Ticket

pytestmark = pytest.mark.slow

PARALLEL = 200


async def _burst(
    base_url: str, bodies_and_keys: list[tuple[dict[str, Any], str]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=PARALLEL)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/tickets", json=body, headers={**SERVICE_HEADERS, "Idempotency-Key": key}
                )
                for body, key in bodies_and_keys
            )
        )


def test_same_key_200_times_makes_one_ticket(server: Server) -> None:
    key = new_key()
    body = complaint()
    responses = asyncio.run(_burst(server.base_url, [(body, key)] * PARALLEL))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (PARALLEL - 1) + [201], {s: statuses.count(s) for s in statuses}
    assert len({r.json()["ticket_no"] for r in responses}) == 1
    with server.db.reading() as session:
        count = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.idempotency_key == key)
        )
    assert count == 1


def test_200_different_keys_get_200_unique_gap_free_numbers(server: Server) -> None:
    keys = [new_key() for _ in range(PARALLEL)]
    responses = asyncio.run(_burst(server.base_url, [(complaint(), key) for key in keys]))
    assert [r.status_code for r in responses] == [201] * PARALLEL
    numbers = [r.json()["ticket_no"] for r in responses]
    assert len(set(numbers)) == PARALLEL
    years = {n[2:6] for n in numbers}
    assert len(years) == 1
    seqs = sorted(int(n.split("-")[1]) for n in numbers)
    # Nothing else was submitting, so the burst took a contiguous block of numbers.
    assert seqs == list(range(seqs[0], seqs[0] + PARALLEL))
    with server.db.reading() as session:
        stored = session.scalars(select(Ticket.ticket_no).where(Ticket.idempotency_key.in_(keys)))
        assert sorted(stored) == sorted(numbers)
