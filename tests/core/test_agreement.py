"""The assistant and the ticket service agree on every address of tests/core/addresses.yml.

The issue that made core.places: the citizen's summary said 办理单位：鹤山市 for an
address in 重庆沙坪坝 while the ticket went to 待分派. Here each address goes through the
complaint form's own validation, the review summaries, the payload the assistant sends,
and the ticket service's routing.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.complaint_form import ValidateComplaintForm, complaint_summary
from bot.actions.report_form import report_summary
from bot.actions.submission import build_payload
from tests.bot.conftest import make_tracker
from tests.core.address_set import ADDRESSES, case_id
from tickets.services.routing import route


@pytest.mark.parametrize("case", ADDRESSES, ids=case_id)
def test_summary_and_ticket_routing_agree(case: dict[str, Any]) -> None:
    """The 办理单位 the citizen confirms is the county the ticket service assigns."""
    platform = bool(case.get("platform"))
    slots: dict[str, Any] = {
        "respondent_name": case.get("respondent") or "某商家",
        "respondent_is_platform": platform or None,
        "requested_slot": "respondent_address",
    }
    form = ValidateComplaintForm()
    filled = form.validate_respondent_address(
        case["address"], CollectingDispatcher(), make_tracker(slots), {}
    )
    slots.update(filled)
    tracker = make_tracker(slots)

    routed = route(case["address"], is_platform=platform, hint=None)
    assert complaint_summary(tracker)["county_display"] == routed.county == case["county"]
    assert report_summary(tracker)["county_display"] == routed.county
    # What the assistant actually sends (its county slot as the hint) routes the same way.
    payload = build_payload(tracker, "complaint")
    sent = route(
        payload["respondent"]["address"],
        is_platform=payload["respondent"]["is_platform"],
        hint=payload["county"],
    )
    assert sent.county == routed.county
