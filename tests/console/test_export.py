"""Ticket export: a county gets only its county, CSV opens in Excel (BOM), XLSX reads back."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.console.conftest import Console, file_tickets
from tickets.models import AuditEntry, Ticket


def test_county_csv_is_its_county_with_bom(console: Console) -> None:
    numbers = file_tickets(console)
    r = console.client.get("/api/staff/export/tickets.csv", headers=console.headers("xinhui"))
    assert r.status_code == 200, r.text
    assert r.content.startswith("\ufeff".encode())
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[:4] == ["工单号", "类型", "状态", "县区"]
    assert {row[0] for row in data} == set(numbers[:2])
    assert {row[3] for row in data} == {"新会区"}
    phone = header.index("联系电话")
    assert all(row[phone] for row in data)  # a county officer sees contacts, as on the page

    other = console.client.get(
        "/api/staff/export/tickets.csv",
        params={"county": "台山市"},
        headers=console.headers("xinhui"),
    )
    assert other.status_code == 403 and "本辖区" in other.json()["detail"]
    with console.engine.connect() as conn:
        exports = conn.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")
        ).scalar_one()
    assert exports == 1


def test_admin_xlsx_per_county_and_range(console: Console) -> None:
    file_tickets(console)
    r = console.client.get(
        "/api/staff/export/tickets.xlsx",
        params={"county": "台山市"},
        headers=console.headers("admin"),
    )
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    with console.engine.connect() as conn:
        expected = conn.execute(
            select(func.count()).select_from(Ticket).where(Ticket.county == "台山市")
        ).scalar_one()
    assert len(values) - 1 == expected == 2
    assert all(row[3] == "台山市" for row in values[1:])

    empty = console.client.get(
        "/api/staff/export/tickets.csv",
        params={"from": "2000-01-01", "to": "2000-01-31"},
        headers=console.headers("admin"),
    )
    assert len(empty.content.decode("utf-8-sig").strip().splitlines()) == 1  # the header only
    bad = console.client.get(
        "/api/staff/export/tickets.csv", params={"county": "广州"}, headers=console.headers("admin")
    )
    assert bad.status_code == 422


def test_formula_text_is_not_a_formula(console: Console) -> None:
    from yiwen.console.export import _safe_cell

    assert _safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _safe_cell("牛奶") == "牛奶"
