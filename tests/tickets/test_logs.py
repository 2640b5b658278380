"""The server's own log output (uvicorn access log included) carries no raw phone numbers
or street addresses."""

from __future__ import annotations

import time

import pytest

from tests.tickets.helpers import Server, complaint, fake_ip, post_ticket

pytestmark = pytest.mark.slow


def test_server_logs_mask_phones_and_addresses(server: Server) -> None:
    phone = "13765432109"
    body = complaint(
        complainant={"name": "黄大文", "phone": phone, "address": "江门市蓬江区北街街道港口路88号"},
        respondent={"name": "某电器行", "address": "江门市新会区会城街道东庆北路99号2楼"},
    )
    with server.client() as client:
        created = post_ticket(client, body).json()
        ticket_no, code = created["ticket_no"], created["lookup_code"]
        found = client.get(
            f"/api/tickets/{code}",
            params={"phone_last4": phone[-4:]},
            headers={"X-Forwarded-For": fake_ip()},
        )
        assert found.status_code == 200
        # An invalid phone in a rejected submission is not logged either.
        bad = post_ticket(client, complaint(complainant={"name": "x", "phone": "1376543210999"}))
        assert bad.status_code == 422
    time.sleep(0.5)  # let the server flush its log lines
    log = server.log_text()
    assert f"{ticket_no} created" in log
    # The intake line keeps only the administrative part of the address.
    assert "江门市新会区会城街道****" in log
    # uvicorn's access line for the look-up has the query value and the code's secret masked.
    assert f"/api/tickets/{ticket_no}-******?phone_last4=****" in log
    for secret in (code, phone, phone[-4:] + " ", "1376543210999", "东庆北路", "港口路", "黄大文"):
        assert secret not in log, secret
