"""Ticket intake and the citizen look-up.

``POST /api/tickets`` is for the action server only (service token): a public intake let
anyone file tickets in anyone's name, each starting a statutory clock, and set the
provenance (``channel``, ``sender_id``, ``local_ref``) that staff read. The look-up is
public, throttled per caller and per ticket (``services.throttle``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request, Response

from core import metrics
from core.phones import last4 as last4_of
from core.phones import mask_phone
from core.ticket_ref import TICKET_REF_PATTERN, split_lookup_code
from tickets.deps import ServiceCaller, State, client_ip, conversation
from tickets.errors import ApiError
from tickets.models import Ticket
from tickets.schemas import (
    CitizenView,
    HistoryEntry,
    MaskedPerson,
    Problem,
    RespondentView,
    TicketCreate,
    TicketCreated,
    ValidationProblem,
)
from tickets.services import throttle
from tickets.services.intake import IdempotencyConflict, load_ticket_by_ref, submit
from tickets.services.masking import mask_address, mask_name
from tickets.services.messages import message

VALIDATION: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationProblem, "description": "请求内容不完整或格式不对（逐项中文说明）"}
}
router = APIRouter(prefix="/api/tickets", tags=["citizen"], responses=VALIDATION)


def _created(ticket: Ticket) -> TicketCreated:
    return TicketCreated(
        ticket_no=ticket.ticket_no,
        lookup_code=ticket.lookup_code,
        kind=ticket.kind,  # type: ignore[arg-type]
        status=ticket.status,  # type: ignore[arg-type]
        county=ticket.county,  # type: ignore[arg-type]
        received_at=ticket.received_at,
        accept_deadline=ticket.accept_deadline,
        deadline_provisional=ticket.deadline_provisional,
        warnings=list(ticket.warnings),
    )


@router.post(
    "",
    status_code=201,
    response_model=TicketCreated,
    summary="提交投诉或举报（幂等）",
    responses={
        200: {"model": TicketCreated, "description": "同一 Idempotency-Key 的重复提交"},
        401: {"model": Problem, "description": "缺少对话服务令牌（工单只能经由对话提交）"},
        409: {"model": Problem, "description": "Idempotency-Key 已用于不同内容"},
        413: {"model": Problem, "description": "请求内容过大"},
    },
)
def create_ticket(
    _service: ServiceCaller,
    payload: TicketCreate,
    response: Response,
    state: State,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="同一份工单的所有重试使用同一个值",
        ),
    ],
) -> TicketCreated:
    try:
        result = submit(
            state.db,
            payload,
            idempotency_key,
            now=state.now(),
            settings=state.settings,
            calendar=state.calendar,
        )
    except IdempotencyConflict:
        raise ApiError(409, message("errors.idempotency_conflict")) from None
    response.status_code = 201 if result.created else 200
    if result.created:
        metrics.TICKETS_CREATED.labels(kind=result.ticket.kind).inc()
    return _created(result.ticket)


def _citizen_view(ticket: Ticket) -> CitizenView:
    person = None
    if not ticket.anonymous and (ticket.complainant_name or ticket.complainant_phone):
        person = MaskedPerson(
            name=mask_name(ticket.complainant_name),
            phone=mask_phone(ticket.complainant_phone) or None,
        )
    return CitizenView(
        ticket_no=ticket.ticket_no,
        lookup_code=ticket.lookup_code,
        kind=ticket.kind,  # type: ignore[arg-type]
        status=ticket.status,  # type: ignore[arg-type]
        status_history=[
            HistoryEntry(status=e.status, at=e.at, reason=e.reason)  # type: ignore[arg-type]
            for e in ticket.history
        ],
        county=ticket.county,  # type: ignore[arg-type]
        accept_deadline=ticket.accept_deadline,
        mediation_deadline=ticket.mediation_deadline,
        deadline_provisional=ticket.deadline_provisional,
        complainant=person,
        respondent=RespondentView(
            name=ticket.respondent_name,
            address=mask_address(ticket.respondent_address),
            is_platform=ticket.respondent_is_platform,
        ),
    )


@router.get(
    "/{ticket_no}",
    response_model=CitizenView,
    summary="凭查询码和手机号后四位查询进度",
    responses={
        404: {
            "model": Problem,
            "description": "工单不存在、查询码不对（含只给工单号）或手机号不匹配（回复相同）",
        },
        429: {"model": Problem, "description": "失败次数过多，稍后再试"},
    },
)
def citizen_lookup(
    request: Request,
    state: State,
    ticket_no: Annotated[
        str,
        Path(
            max_length=32,
            pattern=TICKET_REF_PATTERN,
            description="查询码，如 JM2026-000123-7KQ2XM，或对话中给出的 LOCAL-20260105-7F3A9C",
        ),
    ],
    phone_last4: Annotated[str, Query(pattern=r"^[0-9]{4}$", description="登记电话的后四位")],
) -> CitizenView:
    settings = state.settings
    now = state.now()
    window = dt.timedelta(seconds=settings.lookup_window_s)
    # Counted per ticket number, whatever secret was guessed with it.
    counted_as, _secret = split_lookup_code(ticket_no)
    keys = throttle.scopes(client_ip(request), counted_as, conversation(request, state))
    # Reserve-then-check (see services.throttle): the attempt is committed before counting.
    with state.db.writing() as session:
        reserved = throttle.reserve(session, keys, now=now, window=window)
    with state.db.reading() as session:
        until = throttle.blocked_until(
            session,
            keys,
            now=now,
            window=window,
            max_failures=settings.lookup_max_failures,
            exclude=reserved,
        )
    if until is not None:
        with state.db.writing() as session:
            throttle.release(session, reserved)
        seconds = max(1, math.ceil((until - now).total_seconds()))
        local = until.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
        raise ApiError(
            429,
            message("errors.throttled", retry_at=local, minutes=math.ceil(seconds / 60)),
            headers={"Retry-After": str(seconds)},
        )
    view: CitizenView | None = None
    with state.db.reading() as session:
        ticket = load_ticket_by_ref(session, ticket_no)
        if (
            ticket is not None
            and ticket.complainant_phone
            and not ticket.anonymous
            and hmac.compare_digest(last4_of(ticket.complainant_phone), phone_last4)
        ):
            view = _citizen_view(ticket)
    if view is None:
        # The reservation stays: it is the recorded failure.
        raise ApiError(404, message("errors.not_found"))
    with state.db.writing() as session:
        throttle.release(session, reserved)
    return view
