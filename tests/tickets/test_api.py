"""Citizen API against a real uvicorn server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from tests.tickets.helpers import Server, complaint, fake_ip, new_key, post_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.slow


def test_create_returns_contract_fields(server: Server) -> None:
    with server.client() as client:
        response = post_ticket(client, complaint())
    assert response.status_code == 201, response.text
    body = response.json()
    received = dt.datetime.fromisoformat(body["received_at"])
    local_year = received.astimezone(ZoneInfo("Asia/Shanghai")).year
    assert re.fullmatch(rf"JM{local_year}-\d{{6}}", body["ticket_no"])
    assert body["kind"] == "complaint"
    assert body["status"] == "待受理"
    assert body["county"] == "新会区"
    assert body["deadline_provisional"] is False
    assert body["warnings"] == []
    accept = dt.date.fromisoformat(body["accept_deadline"])
    # Seven working days are at least 9 calendar days and at most a few weeks away.
    assert dt.timedelta(days=8) < accept - received.date() < dt.timedelta(days=25)


def test_same_key_same_body_replays_and_different_body_conflicts(server: Server) -> None:
    key = new_key()
    body = complaint()
    with server.client(service=True) as client:
        first = post_ticket(client, body, key)
        # Same content, different JSON formatting and amount spelling: still the same.
        again = client.post(
            "/api/tickets",
            json={**body, "amount": 35},
            headers={"Idempotency-Key": key},
        )
        other = post_ticket(client, {**body, "facts": "另一件事"}, key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]


def _fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {item["field"]: item["message"] for item in response.json()["detail"]}


def test_missing_art9_fields_get_one_chinese_message_each(server: Server) -> None:
    body = complaint(
        complainant={"name": "陈小明"}, respondent={"name": ""}, demand=None, facts=" "
    )
    with server.client() as client:
        fields = _fields(post_ticket(client, body))
    assert set(fields) == {
        "complainant.phone",
        "complainant.address",
        "respondent.name",
        "respondent.address",
        "demand",
        "facts",
    }
    assert fields["complainant.phone"] == (
        "请提供投诉人的联系电话（《市场监督管理投诉举报处理暂行办法》第九条）"
    )
    assert all("第九条" in message for message in fields.values())


def test_schema_errors_and_art9_gaps_reported_together(server: Server) -> None:
    body = complaint(complainant={"name": "陈小明", "phone": "12345"}, facts=None, amount="abc")
    with server.client() as client:
        fields = _fields(post_ticket(client, body))
    assert "手机号" in fields["complainant.phone"]
    assert "金额" in fields["amount"]
    assert "第九条" in fields["facts"] and "第九条" in fields["complainant.address"]


@pytest.mark.parametrize(
    ("override", "field", "needle"),
    [
        ({"kind": "投诉"}, "kind", "可选"),
        ({"demand": "道歉"}, "demand", "可选"),
        ({"incident_date": "2025/01/01"}, "incident_date", "YYYY-MM-DD"),
        ({"amount": "35.123"}, "amount", "两位小数"),
        ({"amount": -1}, "amount", "范围"),
        ({"facts": "长" * 5001}, "facts", "最多 5000"),
        ({"product": "x" * 201}, "product", "最多 200"),
        ({"evidence": ["a"] * 21}, "evidence", "最多 20"),
        ({"evidence": ["x" * 501]}, "evidence[0]", "最多 500"),
        ({"anonymous": True}, "anonymous", "不能匿名"),
        ({"demand": "其他"}, "demand_detail", "第九条"),
        ({"incident_date": "2999-01-01"}, "incident_date", "不能晚于"),
    ],
)
def test_field_level_validation_in_chinese(
    server: Server, override: dict[str, object], field: str, needle: str
) -> None:
    with server.client() as client:
        fields = _fields(post_ticket(client, complaint(**override)))
    assert needle in fields[field], fields


def test_malformed_json_missing_key_and_non_object_bodies(server: Server) -> None:
    with server.client(service=True) as client:
        broken = client.post(
            "/api/tickets",
            content=b'{"kind": "complaint",',
            headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
        )
        bad_utf8 = client.post(
            "/api/tickets",
            content=b'{"kind": "\xff\xfe"}',
            headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
        )
        array = client.post("/api/tickets", json=[1, 2], headers={"Idempotency-Key": new_key()})
        no_key = client.post("/api/tickets", json=complaint())
        long_key = post_ticket(client, complaint(), "k" * 129)
    assert "JSON" in _fields(broken)["body"]
    assert "UTF-8" in _fields(bad_utf8)["body"]
    assert "JSON 对象" in _fields(array)["body"]
    assert "Idempotency-Key" in _fields(no_key)["Idempotency-Key"]
    assert "128" in _fields(long_key)["Idempotency-Key"]


def test_oversized_body_gets_413_in_chinese(server: Server) -> None:
    with server.client() as client:
        response = client.post(
            "/api/tickets",
            content=b'{"facts": "' + b"a" * 70_000 + b'"}',
            headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert "过大" in response.json()["detail"]


def test_report_may_be_anonymous_and_needs_a_lead(server: Server) -> None:
    report = {
        "kind": "report",
        "anonymous": True,
        "respondent": {"name": "某无证作坊", "address": "江门市江海区外海街道"},
        "facts": "夜间生产无标签食品，批发给周边小店。",
    }
    empty_reporter = {**report, "anonymous": False, "complainant": {"name": None, "phone": None}}
    named_reporter = {**report, "anonymous": False, "complainant": {"name": "李四"}}
    with server.client() as client:
        created = post_ticket(client, report)
        no_lead = post_ticket(client, {"kind": "report", "facts": "有问题"})
        nobody = post_ticket(client, empty_reporter)
        no_phone = post_ticket(client, named_reporter)
    assert created.status_code == 201, created.text
    assert created.json()["county"] == "江海区"
    fields = _fields(no_lead)
    assert "第二十四条" in fields["respondent"]
    assert nobody.status_code == 201
    assert "匿名" in _fields(no_phone)["complainant.phone"]


def test_warnings_for_old_incident_and_unassigned_county(server: Server) -> None:
    old = (dt.date.today() - dt.timedelta(days=3 * 366 + 5)).isoformat()
    body = complaint(
        incident_date=old,
        respondent={"name": "某网店", "address": "浙江省杭州市余杭区", "is_platform": True},
        proxy=True,
    )
    with server.client() as client:
        response = post_ticket(client, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["county"] == "待分派"
    warnings = " ".join(created["warnings"])
    assert "三年" in warnings and "人工分派" in warnings and "授权委托书" in warnings
    with server.db.reading() as session:
        ticket = session.scalars(
            select(Ticket).where(Ticket.ticket_no == created["ticket_no"])
        ).one()
        assert "over_3_years" in ticket.flags
        assert ticket.routing_note and "第十二条" in ticket.routing_note
        assert any("三年" in note.text for note in ticket.notes)


def test_citizen_view_masks_personal_data(server: Server) -> None:
    with server.client() as client:
        code = post_ticket(client, complaint()).json()["lookup_code"]
        response = client.get(
            f"/api/tickets/{code}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["lookup_code"] == code and code.startswith(view["ticket_no"] + "-")
    assert view["complainant"] == {"name": "陈**", "phone": "139****5678"}
    assert view["respondent"]["address"] == "江门市新会区会城街道****"
    assert view["status_history"][0]["status"] == "待受理"
    assert view["mediation_deadline"] is None
    assert "13912345678" not in response.text and "今洲路" not in response.text


def test_wrong_phone_and_unknown_ticket_look_identical(server: Server) -> None:
    with server.client() as client:
        created = post_ticket(client, complaint()).json()
        ticket_no, code = created["ticket_no"], created["lookup_code"]
        secret = code.removeprefix(ticket_no + "-")
        other_secret = ("Z" if secret[0] != "Z" else "Y") + secret[1:]
        misses = [
            client.get(
                f"/api/tickets/{ref}",
                params={"phone_last4": last4},
                headers={"X-Forwarded-For": fake_ip()},
            )
            for ref, last4 in [
                (code, "0000"),  # wrong phone
                ("JM2000-999999-7KQ2XM", "5678"),  # unknown ticket
                (ticket_no, "5678"),  # the bare, sequential number: not enough
                (f"{ticket_no}-{other_secret}", "5678"),  # wrong secret
            ]
        ]
    first = misses[0]
    for miss in misses:
        assert miss.status_code == 404
        assert miss.content == first.content
        assert dict(miss.headers).keys() == dict(first.headers).keys()


def test_the_lookup_code_is_needed_and_a_typed_one_works(server: Server) -> None:
    with server.client() as client:
        created = post_ticket(client, complaint()).json()
        code = created["lookup_code"]
        assert re.fullmatch(rf"{created['ticket_no']}-[0-9A-HJKMNP-TV-Z]{{6}}", code)
        bare = client.get(
            f"/api/tickets/{created['ticket_no']}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
        lower = client.get(
            f"/api/tickets/{code.lower()}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert bare.status_code == 404
    assert lower.status_code == 200 and lower.json()["ticket_no"] == created["ticket_no"]
    with server.db.reading() as session:
        ticket = session.scalars(
            select(Ticket).where(Ticket.ticket_no == created["ticket_no"])
        ).one()
        assert ticket.lookup_code == code


def test_guessed_secrets_are_throttled_per_ticket(server: Server) -> None:
    with server.client() as client:
        created = post_ticket(client, complaint()).json()
        ticket_no, code = created["ticket_no"], created["lookup_code"]
        guesses = ["000000", "111111", "222222", "333333", "444444", "555555"]
        guesses = [g for g in guesses if not code.endswith(g)][:5]
        for guess in guesses:
            miss = client.get(
                f"/api/tickets/{ticket_no}-{guess}",
                params={"phone_last4": "5678"},
                headers={"X-Forwarded-For": fake_ip()},
            )
            assert miss.status_code == 404
        blocked = client.get(
            f"/api/tickets/{code}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert blocked.status_code == 429


def test_failed_lookups_are_throttled_per_ticket(server: Server) -> None:
    with server.client() as client:
        ticket_no = post_ticket(client, complaint()).json()["lookup_code"]
        for _ in range(5):
            miss = client.get(
                f"/api/tickets/{ticket_no}",
                params={"phone_last4": "0000"},
                headers={"X-Forwarded-For": fake_ip()},
            )
            assert miss.status_code == 404
        # Even the right phone from a fresh address is refused now.
        blocked = client.get(
            f"/api/tickets/{ticket_no}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert blocked.status_code == 429
    assert "再试" in blocked.json()["detail"]
    assert 0 < int(blocked.headers["Retry-After"]) <= 600


def test_failed_lookups_are_throttled_per_client(server: Server) -> None:
    ip = fake_ip()
    with server.client() as client:
        ticket_no = post_ticket(client, complaint()).json()["lookup_code"]
        for n in range(5):
            miss = client.get(
                f"/api/tickets/JM2001-{n:06d}",
                params={"phone_last4": "1234"},
                headers={"X-Forwarded-For": ip},
            )
            assert miss.status_code == 404
        blocked = client.get(
            f"/api/tickets/{ticket_no}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": ip},
        )
        other_client = client.get(
            f"/api/tickets/{ticket_no}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        )
    assert blocked.status_code == 429
    assert other_client.status_code == 200


HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE tickets;--",
    "1 OR 1=1; SELECT * FROM staff_tokens",
    "{{7*7}} ${7*7} %s %n \\x00",
    "🐶 退货 ＜全角＞ &amp; &lt;b&gt;",
]


def test_hostile_text_is_stored_verbatim(server: Server) -> None:
    facts = "\n".join(HOSTILE)
    body = complaint(
        facts=facts,
        product=HOSTILE[0],
        respondent={"name": HOSTILE[2], "address": "江门市新会区会城" + HOSTILE[1]},
        evidence=HOSTILE,
    )
    with server.client() as client:
        created = post_ticket(client, body)
        assert created.status_code == 201, created.text
        ticket_no = created.json()["ticket_no"]
    with server.client("admin") as staff:
        detail = staff.get(f"/api/staff/tickets/{ticket_no}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["facts"] == facts
    assert data["product"] == HOSTILE[0]
    assert data["respondent_name"] == HOSTILE[2]
    assert data["evidence"] == HOSTILE
    assert detail.headers["content-type"].startswith("application/json")
    # The tables are still there.
    with server.db.reading() as session:
        assert session.scalars(select(Ticket).where(Ticket.ticket_no == ticket_no)).one()


def test_cors_only_for_configured_origins(server: Server) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,idempotency-key",
    }
    with server.client() as client:
        allowed = client.options(
            "/api/tickets", headers={"Origin": "https://allowed.example", **preflight}
        )
        denied = client.options(
            "/api/tickets", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    assert denied.status_code == 400
    assert "access-control-allow-origin" not in denied.headers
    assert "access-control-allow-origin" not in simple.headers


def test_health_docs_and_unknown_routes(server: Server) -> None:
    with server.client() as client:
        health = client.get("/healthz")
        schema = client.get("/openapi.json")
        missing = client.get("/no/such/path")
    assert health.json() == {"status": "ok", "database": "ok", "outbox": "ok", "outbox_stuck": 0}
    paths = schema.json()["paths"]
    assert {"/api/tickets", "/api/tickets/{ticket_no}", "/api/staff/tickets", "/healthz"} <= set(
        paths
    )
    post_responses = paths["/api/tickets"]["post"]["responses"]
    assert {"200", "201", "401", "409", "413", "422"} <= set(post_responses)
    assert "ValidationProblem" in str(post_responses["422"])
    assert missing.status_code == 404 and "不存在" in missing.json()["detail"]


def test_staff_page_is_served_with_strict_headers(server: Server) -> None:
    with server.client() as client:
        page = client.get("/staff")
        script = client.get("/staff/static/staff.js")
    assert page.status_code == 200 and "工作人员控制台" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert script.status_code == 200
    assert "innerHTML" not in script.text and "textContent" in script.text
    assert "sessionStorage" in script.text
