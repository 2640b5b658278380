"""Probes of the ticket API, on SQLite and on PostgreSQL (issue 12, items 2–5 and 7).

Each probe failed before the fix: anonymous ticket creation was accepted (201), every
look-up of the action server shared one throttle bucket, a concurrent burst got about 40
guesses instead of 5, IPv6 clients could rotate addresses inside their /64, NUL gave a
500 on PostgreSQL, and the SQLite ticket database ran ``synchronous=NORMAL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.settings import TicketsSettings
from tests.tickets.helpers import (
    SERVICE_HEADERS,
    Server,
    complaint,
    fake_ip,
    new_key,
    post_ticket,
)
from tickets.db import make_database

pytestmark = pytest.mark.slow


def _conversation(channel: str, sender: str) -> str:
    return hashlib.sha256(f"{channel}\x1f{sender}".encode()).hexdigest()[:32]


def _file(api: Server, phone: str = "13912345678", **overrides: Any) -> str:
    """File a complaint; its lookup code (what the citizen holds)."""
    body = complaint(complainant={"name": "陈小明", "phone": phone, "address": "江门市蓬江区"})
    body.update(overrides)
    with api.client(service=True) as client:
        response = post_ticket(client, body)
    assert response.status_code == 201, response.text
    return str(response.json()["lookup_code"])


def _number(code: str) -> str:
    return code.rsplit("-", 1)[0]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ----------------------------------------------------------------------- service credential
def test_ticket_creation_needs_the_service_token(api: Server) -> None:
    body = complaint()
    with api.client() as anonymous:
        refused = anonymous.post("/api/tickets", json=body, headers={"Idempotency-Key": new_key()})
    with api.client("admin") as staff:
        staff_try = staff.post("/api/tickets", json=body, headers={"Idempotency-Key": new_key()})
    with api.client() as client:
        wrong = client.post(
            "/api/tickets",
            json=body,
            headers={"Idempotency-Key": new_key(), "Authorization": "Bearer wrong"},
        )
    for response in (refused, staff_try, wrong):
        assert response.status_code == 401, response.text
        assert _chinese(response.json()["detail"])
        assert response.headers["www-authenticate"] == "Bearer"
    with api.client(service=True) as service:
        assert post_ticket(service, body).status_code == 201


def test_forged_provenance_from_an_anonymous_client_is_not_stored(api: Server) -> None:
    victim = f"oVictim{secrets.token_hex(4)}"
    forged = complaint(channel="wechat", sender_id=victim, local_ref="LOCAL-20260101-ABCDEF")
    with api.client() as anonymous:
        response = anonymous.post(
            "/api/tickets",
            json=forged,
            headers={"Idempotency-Key": new_key(), "X-Forwarded-For": fake_ip()},
        )
    assert response.status_code == 401
    with api.db.reading() as session:
        stored = session.execute(
            text("SELECT count(*) FROM tickets WHERE sender_id = :s"), {"s": victim}
        ).scalar_one()
    assert stored == 0


# ----------------------------------------------------------------------- throttle scopes
def _lookup(
    client: httpx.Client,
    ticket_no: str,
    last4: str,
    *,
    conversation: str | None = None,
    ip: str | None = None,
    service: bool = True,
) -> httpx.Response:
    headers = dict(SERVICE_HEADERS) if service else {}
    if conversation:
        headers["X-Yiwen-Conversation"] = conversation
    if ip:
        headers["X-Forwarded-For"] = ip
    return client.get(f"/api/tickets/{ticket_no}", params={"phone_last4": last4}, headers=headers)


def test_one_conversations_wrong_guesses_leave_another_conversation_working(api: Server) -> None:
    target = _file(api, "13700001111")
    own = _file(api, "13800002222")
    a = _conversation("rest", f"a-{secrets.token_hex(4)}")
    b = _conversation("wechat", f"b-{secrets.token_hex(4)}")
    with api.client() as client:
        # Same client address for both: only the conversation tells them apart.
        guesses = [_lookup(client, target, f"{n:04d}", conversation=a) for n in range(5)]
        assert [g.status_code for g in guesses] == [404] * 5
        assert _lookup(client, target, "1111", conversation=a).status_code == 429
        b_answer = _lookup(client, own, "2222", conversation=b)
    assert b_answer.status_code == 200, b_answer.text


def test_conversation_header_without_the_service_token_is_ignored(api: Server) -> None:
    target = _file(api, "13700003333")
    ip = fake_ip()
    with api.client() as client:
        for n in range(5):
            forged = _conversation("rest", secrets.token_hex(6))  # a new bucket each time
            response = _lookup(
                client, target, f"{n:04d}", conversation=forged, ip=ip, service=False
            )
            assert response.status_code == 404
        other = _file(api, "13700004444")
        blocked = _lookup(client, other, "4444", conversation=forged, ip=ip, service=False)
    assert blocked.status_code == 429, "the address bucket still counts"


def test_ipv6_clients_are_grouped_by_64(api: Server) -> None:
    prefix = "2001:db8:%x:%x" % (secrets.randbits(16), secrets.randbits(16))
    target = _file(api, "13700005555")
    with api.client() as client:
        for n in range(5):
            host = f"{prefix}:{n + 1:x}:{secrets.randbits(16):x}::1"
            assert _lookup(client, target, f"{n:04d}", ip=host, service=False).status_code == 404
        other = _file(api, "13700006666")
        same_64 = _lookup(client, other, "6666", ip=f"{prefix}:ffff::9", service=False)
        other_64 = _lookup(client, other, "6666", ip="2001:db8:ffff:1::1", service=False)
    assert same_64.status_code == 429
    assert other_64.status_code == 200


def test_concurrent_guess_burst_gets_at_most_five_answers(api: Server) -> None:
    target = _file(api, "13700007777")
    ip = fake_ip()

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=api.base_url, limits=limits, timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.get(
                        f"/api/tickets/{target}",
                        params={"phone_last4": f"{n:04d}"},
                        headers={"X-Forwarded-For": ip},
                    )
                    for n in range(1000, 1050)
                )
            )

    responses = asyncio.run(burst())
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {404, 429}, statuses
    assert sum(s != 429 for s in statuses) <= 5, {s: statuses.count(s) for s in set(statuses)}


def test_sequential_numbers_do_not_open_tickets(api: Server) -> None:
    """Issue 12: the number alone, or with a guessed secret, is a counted 404."""
    code = _file(api, "13700009999")
    number = _number(code)
    secret = code.removeprefix(number + "-")
    wrong = ("Z" if secret[0] != "Z" else "Y") + secret[1:]
    a = _conversation("rest", f"seq-{secrets.token_hex(4)}")
    with api.client() as client:
        misses = [
            _lookup(client, number, "9999", conversation=a),
            _lookup(client, f"{number}-{wrong}", "9999", conversation=a),
            _lookup(client, code, "0000", conversation=a),
        ]
        assert [m.status_code for m in misses] == [404] * 3
        assert misses[0].content == misses[1].content == misses[2].content
        assert _lookup(client, code, "9999", conversation=a).status_code == 200
        # Two more guesses at this ticket from anywhere, and it is blocked, code or not.
        for guess in ("000000", "111111"):
            assert _lookup(client, f"{number}-{guess}", "9999", ip=fake_ip()).status_code == 404
        assert _lookup(client, code, "9999", ip=fake_ip(), service=False).status_code == 429
    with api.client("admin") as staff:
        by_number = staff.get(f"/api/staff/tickets/{number}")
        by_code = staff.get(f"/api/staff/tickets/{code}")
    assert by_number.status_code == 200 and by_number.json()["ticket_no"] == number
    assert by_number.json()["lookup_code"] == code  # to tell a verified caller who lost it
    assert by_code.status_code == 422


def test_concurrent_secret_guess_burst_gets_at_most_five_answers(api: Server) -> None:
    number = _number(_file(api, "13700001212"))

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=api.base_url, limits=limits, timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.get(
                        f"/api/tickets/{number}-{n:06d}",
                        params={"phone_last4": "1212"},
                        headers={"X-Forwarded-For": fake_ip()},  # a new address each time
                    )
                    for n in range(100000, 100050)
                )
            )

    statuses = [r.status_code for r in asyncio.run(burst())]
    assert set(statuses) <= {404, 429}, statuses
    assert sum(s != 429 for s in statuses) <= 5, {s: statuses.count(s) for s in set(statuses)}


# ----------------------------------------------------------------------- control characters
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"facts": "牛奶过期\u0000了"}, "facts"),
        ({"complainant": {"name": "陈\u0000", "phone": "13912345678", "address": "江门"}},
         "complainant.name"),
        ({"product": "牛奶\u001b[31m"}, "product"),
        ({"evidence": ["wx-media-1", "bad\u0007"]}, "evidence"),
    ],
)  # fmt: skip
def test_control_characters_are_a_chinese_422(
    api: Server, override: dict[str, Any], field: str
) -> None:
    with api.client(service=True) as client:
        response = post_ticket(client, complaint(**override))
    assert response.status_code == 422, response.text
    problems = {p["field"]: p["message"] for p in response.json()["detail"]}
    assert field in problems, problems
    assert "控制字符" in problems[field]


@pytest.mark.parametrize("ref", ["JM%00X", "JM2026-00%001", "LOCAL-%00", "JM2026-000001%0A"])
def test_lookup_with_control_characters_is_not_a_500(api: Server, ref: str) -> None:
    with api.client() as client:
        response = client.get(
            f"/api/tickets/{ref}",
            params={"phone_last4": "1234"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert response.status_code == 422, response.text
    assert _chinese(response.json()["detail"][0]["message"])


# ----------------------------------------------------------------------- LOCAL references
def test_local_reference_resolves_through_the_api_and_is_throttled(api: Server) -> None:
    local = f"LOCAL-20261206-{secrets.token_hex(3).upper()}"
    code = _file(api, "13700008888", local_ref=local)
    a = _conversation("rest", f"local-{secrets.token_hex(4)}")
    with api.client() as client:
        found = _lookup(client, local, "8888", conversation=a)
        assert found.status_code == 200, found.text
        # The bot can give the citizen the lookup code they need from now on.
        assert found.json()["ticket_no"] == _number(code)
        assert found.json()["lookup_code"] == code
        for n in range(5):
            assert _lookup(client, local, f"{n:04d}", conversation=a).status_code == 404
        assert _lookup(client, local, "8888", conversation=a).status_code == 429


# ----------------------------------------------------------------------- storage
def test_sqlite_ticket_database_is_private_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "tickets.db"
    db = make_database(TicketsSettings(database_url=f"sqlite:///{path}", data_dir=tmp_path))
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert db.engine.hide_parameters
    finally:
        db.engine.dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_database_errors_do_not_log_parameters(api: Server) -> None:
    assert api.db.engine.hide_parameters  # what the server builds with make_database
    if make_url(api.database_url).get_backend_name() == "sqlite":
        assert stat.S_IMODE(os.stat(make_url(api.database_url).database or "").st_mode) == 0o600
