"""The outbox keeps the citizen's lookup code beside the ticket number, in old files too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.actions.outbox import _SCHEMA, Outbox
from bot.actions.ticket_client import TicketReceipt


def test_an_outbox_file_from_before_lookup_codes_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    old_schema = _SCHEMA.replace("    lookup_code TEXT,\n", "")
    assert old_schema != _SCHEMA
    conn = sqlite3.connect(path)
    conn.executescript(old_schema)
    conn.close()
    path.chmod(0o600)

    box = Outbox(path)
    item = box.add({"complainant": {}}, "complaint", phone_last4="5678")
    receipt = TicketReceipt.from_json(
        {"ticket_no": "JM2026-000007", "lookup_code": "JM2026-000007-7KQ2XM"}
    )
    assert receipt.citizen_ref == "JM2026-000007-7KQ2XM"
    box.mark_delivered(item.local_ref, receipt)
    delivered = Outbox(path).get(item.local_ref)
    assert delivered is not None
    assert (delivered.ticket_no, delivered.lookup_code) == ("JM2026-000007", "JM2026-000007-7KQ2XM")
    assert TicketReceipt(ticket_no="JM2026-000008").citizen_ref == "JM2026-000008"
