"""Fixtures for the console's API tests: the whole app (``yiwen.app``, no engine loaded)
in-process on a fresh SQLite file and a fresh PostgreSQL database, with staff tokens,
tickets filed through the ticket API and questions in the question log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.actions import review_log
from core.settings import TicketsSettings
from tests.tickets.helpers import (
    SERVICE_TOKEN,
    PostgresUnavailable,
    complaint,
    fresh_postgres_database,
    post_ticket,
    require_postgres,
)
from tickets.db import make_engine
from tickets.models import ReviewEntry, Ticket
from tickets.services.auth import issue_token
from yiwen.app import create_app

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Console:
    client: TestClient
    url: str
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(params=DATABASES)
def console(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Console]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'app.db'}"])
        yield from _console(next(urls), tmp_path, monkeypatch)
        return
    try:
        with fresh_postgres_database() as url:
            yield from _console(url, tmp_path, monkeypatch)
    except PostgresUnavailable as exc:
        require_postgres(str(exc))


def _console(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    monkeypatch.setenv("YIWEN_DATABASE_URL", url)
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIWEN_TICKET_API_TOKEN", SERVICE_TOKEN)
    with TestClient(create_app(preload=False)) as client:
        engine = make_engine(TicketsSettings(database_url=url))
        console = Console(client, url, engine)
        with Session(engine) as session, session.begin():
            now = dt.datetime.now(dt.UTC)
            for key, role, county in [
                ("admin", "admin", None),
                ("xinhui", "county", "新会区"),
                ("taishan", "county", "台山市"),
            ]:
                _row, secret = issue_token(session, role=role, county=county, name=key, now=now)
                console.tokens[key] = secret
        yield console
        engine.dispose()


def file_tickets(console: Console) -> list[str]:
    """Five tickets in three counties, some accepted, some overdue for acceptance."""
    numbers = []
    for county in ("新会区", "新会区", "台山市", "台山市", "蓬江区"):
        body = complaint(
            respondent={
                "name": "某商店",
                "address": f"江门市{county}中心路1号",
                "is_platform": False,
            }
        )
        response = post_ticket(console.client, body)
        assert response.status_code == 201, response.text
        numbers.append(response.json()["ticket_no"])
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with console.engine.begin() as conn:
        # One overdue for acceptance, one accepted after 4 days, one accepted after 2.
        conn.execute(
            update(Ticket)
            .where(Ticket.ticket_no == numbers[0])
            .values(accept_deadline=today - dt.timedelta(days=2))
        )
        for number, days in ((numbers[1], 4), (numbers[2], 2)):
            conn.execute(
                update(Ticket)
                .where(Ticket.ticket_no == number)
                .values(
                    status="已受理",
                    received_date=today - dt.timedelta(days=days),
                    accepted_date=today,
                )
            )
    return numbers


def log_questions(console: Console) -> None:
    """Questions over two channels and two days, some abstained, some rated."""
    entries = [
        ("个转企有什么补贴", False, "helpful", "rest", "个转企指南"),
        ("个转企有什么补贴", False, "unhelpful", "socketio", "个转企指南"),
        ("投诉多久受理", False, None, "wechat", "投诉举报办法"),
        ("我想吃火锅", True, None, "socketio", None),
        ("社保怎么交", True, None, "rest", None),
    ]
    for question, abstained, feedback, channel, topic in entries:
        review_log.record(
            question=question,
            answer=None if abstained else "答",
            abstained=abstained,
            feedback=feedback,
            channel=channel,
            topic=topic,
            url=console.url,
        )
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=1)
    with console.engine.begin() as conn:
        conn.execute(
            update(ReviewEntry)
            .where(ReviewEntry.question == "社保怎么交")
            .values(created_at=yesterday)
        )
