"""Staff API: tokens and roles, queue order and filters, the state machine, notes, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from core.settings import reset_settings
from tests.tickets.helpers import Server, complaint, fake_ip, post_ticket
from tickets.cli import cli as tickets_cli
from tickets.models import AuditEntry, StaffToken, Ticket
from tickets.services.deadlines import MEDIATION_WORKING_DAYS, WorkCalendar
from tickets.settings import PACKAGE_DIR

pytestmark = pytest.mark.slow

TAISHAN = {"name": "台城某餐馆", "address": "台山市台城街道环市东路5号"}


def _create(server: Server, **overrides: Any) -> str:
    with server.client() as client:
        response = post_ticket(client, complaint(**overrides))
    assert response.status_code == 201, response.text
    ticket_no: str = response.json()["ticket_no"]
    return ticket_no


def _act(
    client: httpx.Client, ticket_no: str, action: str, reason: str | None = None
) -> httpx.Response:
    return client.post(
        f"/api/staff/tickets/{ticket_no}/transitions", json={"action": action, "reason": reason}
    )


def test_staff_endpoints_need_a_valid_token(server: Server) -> None:
    with server.client() as client:
        none = client.get("/api/staff/tickets")
        bad = client.get("/api/staff/tickets", headers={"Authorization": "Bearer yw_wrong"})
        basic = client.get("/api/staff/tickets", headers={"Authorization": "Basic abc"})
    for response in (none, bad, basic):
        assert response.status_code == 401
        assert "令牌" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_county_officer_sees_only_their_county(server: Server) -> None:
    xinhui_no = _create(server)
    taishan_no = _create(server, respondent=TAISHAN)
    with server.client("xinhui") as xinhui, server.client("admin") as admin:
        assert xinhui.get(f"/api/staff/tickets/{xinhui_no}").status_code == 200
        hidden = xinhui.get(f"/api/staff/tickets/{taishan_no}")
        assert hidden.status_code == 404 and "不属于" in hidden.json()["detail"]
        assert _act(xinhui, taishan_no, "受理").status_code == 404
        assert admin.get(f"/api/staff/tickets/{taishan_no}").json()["county"] == "台山市"
        listed = xinhui.get("/api/staff/tickets", params={"page_size": 100}).json()
        assert listed["total"] >= 1
        assert {item["county"] for item in listed["items"]} == {"新会区"}
        other = xinhui.get("/api/staff/tickets", params={"county": "台山市"}).json()
        assert other["total"] == 0
        me = xinhui.get("/api/staff/me").json()
        assert me["name"].startswith("xinhui#")
        assert (me["role"], me["county"]) == ("county", "新会区")


def test_queue_is_sorted_by_urgency_and_pages_cover_everything(server: Server) -> None:
    accepted = _create(server)
    refused = _create(server)
    _create(server)
    with server.client("admin") as admin:
        assert _act(admin, accepted, "受理").status_code == 200
        assert _act(admin, refused, "不予受理", "不属于市场监管职责").status_code == 200
        seen: list[dict[str, Any]] = []
        page, total = 1, None
        while True:
            data = admin.get("/api/staff/tickets", params={"page": page, "page_size": 7}).json()
            total = data["total"]
            seen += data["items"]
            if page * 7 >= total:
                break
            page += 1
    numbers = [item["ticket_no"] for item in seen]
    assert len(numbers) == len(set(numbers)) == total
    keys = [(item["due_date"] is None, item["due_date"] or "") for item in seen]
    assert keys == sorted(keys)
    position = {n: i for i, n in enumerate(numbers)}
    # A closed ticket has no deadline and comes after every open one.
    assert next(i for i in seen if i["ticket_no"] == refused)["due_date"] is None
    assert position[refused] > position[accepted]


def test_filters_by_status_kind_county_and_overdue(server: Server) -> None:
    late = _create(server)
    with server.db.writing() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.ticket_no == late)
            .values(due_date=dt.date.today() - dt.timedelta(days=2))
        )
    with server.client("admin") as admin:
        overdue = admin.get("/api/staff/tickets", params={"overdue": "true", "page_size": 100})
        on_time = admin.get("/api/staff/tickets", params={"overdue": "false", "page_size": 100})
        pending = admin.get("/api/staff/tickets", params={"status": "待受理", "page_size": 100})
        reports = admin.get("/api/staff/tickets", params={"kind": "report", "page_size": 100})
        bad = admin.get("/api/staff/tickets", params={"county": "广州市"})
        bad_status = admin.get("/api/staff/tickets", params={"status": "完成"})
    overdue_items = overdue.json()["items"]
    assert late in {i["ticket_no"] for i in overdue_items}
    assert all(i["overdue"] for i in overdue_items)
    assert late not in {i["ticket_no"] for i in on_time.json()["items"]}
    assert all(i["status"] == "待受理" for i in pending.json()["items"])
    assert all(i["kind"] == "report" for i in reports.json()["items"])
    assert bad.status_code == 422 and "新会区" in bad.json()["detail"][0]["message"]
    assert bad_status.status_code == 422 and bad_status.json()["detail"][0]["field"] == "status"


def test_complaint_lifecycle_sets_mediation_deadline(server: Server) -> None:
    ticket_no = _create(server)
    calendar = WorkCalendar.from_file(PACKAGE_DIR / "holidays.yml")
    with server.client("xinhui") as xinhui:
        accepted = _act(xinhui, ticket_no, "受理")
        assert accepted.status_code == 200, accepted.text
        data = accepted.json()
        accepted_on = dt.date.fromisoformat(data["accepted_date"])
        expected, _ = calendar.deadline_after(accepted_on, MEDIATION_WORKING_DAYS)
        assert data["mediation_deadline"] == expected.isoformat()
        assert data["due_date"] == data["mediation_deadline"]
        assert data["allowed_actions"] == ["调解中", "调解终止", "办结"]
        for action in ("调解中", "调解成功", "办结"):
            response = _act(xinhui, ticket_no, action)
            assert response.status_code == 200, response.text
        final = response.json()
    assert final["status"] == "办结"
    assert final["allowed_actions"] == [] and final["due_date"] is None
    assert [h["status"] for h in final["history"]] == [
        "待受理",
        "已受理",
        "调解中",
        "调解成功",
        "办结",
    ]
    assert all("新会区" in h["actor"] for h in final["history"][1:])
    with server.db.reading() as session:
        code = (
            session.scalars(select(Ticket).where(Ticket.ticket_no == ticket_no)).one().lookup_code
        )
    with server.client() as client:
        view = client.get(
            f"/api/tickets/{code}",
            params={"phone_last4": "5678"},
            headers={"X-Forwarded-For": fake_ip()},
        ).json()
    assert view["status"] == "办结" and view["mediation_deadline"] == expected.isoformat()


def test_invalid_transitions_are_conflicts(server: Server) -> None:
    ticket_no = _create(server)
    report_body = {
        "kind": "report",
        "respondent": {"name": "某作坊", "address": "江门市新会区会城"},
        "facts": "无证生产",
    }
    with server.client() as client:
        report_no = post_ticket(client, report_body).json()["ticket_no"]
    with server.client("xinhui") as xinhui:
        skip = _act(xinhui, ticket_no, "调解成功")
        no_reason = _act(xinhui, ticket_no, "不予受理", "  ")
        refused = _act(xinhui, ticket_no, "不予受理", "已由法院受理（第十五条第二项）")
        after_final = _act(xinhui, ticket_no, "受理")
        unknown = _act(xinhui, ticket_no, "删除")
        assert _act(xinhui, report_no, "受理").status_code == 200
        mediate_report = _act(xinhui, report_no, "调解中")
        close_report = _act(xinhui, report_no, "办结")
    assert skip.status_code == 409
    assert "待受理" in skip.json()["detail"] and "受理、不予受理" in skip.json()["detail"]
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["field"] == "reason"
    assert refused.status_code == 200
    assert refused.json()["history"][-1]["reason"] == "已由法院受理（第十五条第二项）"
    assert after_final.status_code == 409 and "最终状态" in after_final.json()["detail"]
    assert unknown.status_code == 422
    assert mediate_report.status_code == 409
    assert close_report.status_code == 200


def test_unassigned_ticket_is_assigned_before_acceptance(server: Server) -> None:
    ticket_no = _create(server, respondent={"name": "某店", "address": "江门市某某路"})
    with server.client("admin") as admin, server.client("xinhui") as xinhui:
        assert admin.get(f"/api/staff/tickets/{ticket_no}").json()["county"] == "待分派"
        needs_county = _act(admin, ticket_no, "受理")
        assert needs_county.status_code == 409 and "分派" in needs_county.json()["detail"]
        assert xinhui.get(f"/api/staff/tickets/{ticket_no}").status_code == 404
        assigned = admin.post(
            f"/api/staff/tickets/{ticket_no}/assign", json={"county": "新会区", "reason": "核实"}
        )
        assert assigned.status_code == 200 and assigned.json()["county"] == "新会区"
        assert "unassigned" not in assigned.json()["flags"]
        assert xinhui.get(f"/api/staff/tickets/{ticket_no}").status_code == 200
        elsewhere = xinhui.post(
            f"/api/staff/tickets/{ticket_no}/assign", json={"county": "台山市", "reason": "x"}
        )
        no_reason = xinhui.post(f"/api/staff/tickets/{ticket_no}/assign", json={"county": "待分派"})
        handed_back = xinhui.post(
            f"/api/staff/tickets/{ticket_no}/assign",
            json={"county": "待分派", "reason": "被投诉人实际在开平经营"},
        )
    assert elsewhere.status_code == 409 and no_reason.status_code == 409
    assert handed_back.status_code == 200 and handed_back.json()["county"] == "待分派"
    assert any("开平" in note["text"] for note in handed_back.json()["notes"])


def test_notes_and_audit_log_record_every_staff_call(server: Server) -> None:
    ticket_no = _create(server)
    with server.client("xinhui") as xinhui:
        xinhui.get(f"/api/staff/tickets/{ticket_no}")
        note = xinhui.post(f"/api/staff/tickets/{ticket_no}/notes", json={"text": "已电话联系商家"})
        empty = xinhui.post(f"/api/staff/tickets/{ticket_no}/notes", json={"text": ""})
        _act(xinhui, ticket_no, "受理")
        forbidden = xinhui.get("/api/staff/audit")
    assert note.status_code == 201 and note.json()["notes"][-1]["text"] == "已电话联系商家"
    assert empty.status_code == 422
    assert forbidden.status_code == 403
    with server.client("admin") as admin:
        log = admin.get("/api/staff/audit", params={"ticket_no": ticket_no}).json()
    actions = [(entry["action"], entry["role"]) for entry in reversed(log["items"])]
    assert actions == [("read", "county"), ("note", "county"), ("transition", "county")]
    transition = log["items"][0]
    assert transition["detail"] == {"action": "受理", "from": "待受理", "to": "已受理"}
    assert "新会区" in transition["actor"] and transition["client_ip"] == "127.0.0.1"
    with server.db.reading() as session:
        audit_reads = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "audit", AuditEntry.ticket_no == ticket_no
            )
        ).all()
    assert len(audit_reads) == 1


def test_cli_issues_hashed_token_once_and_revokes(server: Server) -> None:
    runner = CliRunner()
    env = {"YIWEN_DATABASE_URL": server.database_url}

    def cli(*args: str) -> Result:
        reset_settings()
        try:
            return runner.invoke(tickets_cli, list(args), env=env)
        finally:
            reset_settings()

    created = cli(
        "tokens", "create", "--role", "county", "--county", "开平市", "--name", "开平值班"
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("yw_") and "\n" not in token
    assert "只显示这一次" in created.stderr and token not in created.stderr
    missing_county = cli("tokens", "create", "--role", "county")
    assert missing_county.exit_code != 0 and "--county" in missing_county.output
    with server.db.reading() as session:
        row = session.scalars(select(StaffToken).where(StaffToken.name == "开平值班")).one()
        assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    listed = cli("tokens", "list")
    assert "开平值班" in listed.stdout and token not in listed.stdout
    with server.client() as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/staff/me", headers=auth).json()["county"] == "开平市"
        assert cli("tokens", "revoke", str(row.id)).exit_code == 0
        assert client.get("/api/staff/me", headers=auth).status_code == 401
    with server.db.writing() as session:
        session.delete(session.get(StaffToken, row.id))
