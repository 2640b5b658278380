"""Staff API (bearer tokens; county officers see their county, admins everything) and the
staff queue page. Every call is written to the audit log in the same transaction as its
effect, so a change can never happen unrecorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.places import COUNTIES, UNASSIGNED
from core.ticket_ref import TICKET_NO_PATTERN
from tickets.deps import Staff, State, TicketStaff, client_ip
from tickets.errors import ApiError, FieldErrors
from tickets.models import AuditEntry, Note, Ticket
from tickets.schemas import (
    PLAIN_TEXT_PATTERN,
    AssignIn,
    AuditPage,
    AuditView,
    Kind,
    NoteIn,
    NoteView,
    Problem,
    StaffHistoryEntry,
    StaffMe,
    StaffTicketDetail,
    StaffTicketPage,
    StaffTicketSummary,
    Status,
    TransitionIn,
    ValidationProblem,
)
from tickets.services import workflow
from tickets.services.auth import audit
from tickets.services.messages import message
from tickets.services.prechecks import FieldProblem
from tickets.services.workflow import Actor
from tickets.settings import PACKAGE_DIR

STATIC_DIR = PACKAGE_DIR / "static"

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "缺少或无效的工作人员令牌"},
    422: {"model": ValidationProblem, "description": "参数不正确（逐项中文说明）"},
}
router = APIRouter(prefix="/api/staff", tags=["staff"], responses=RESPONSES)
page_router = APIRouter(include_in_schema=False)

TicketNo = Annotated[
    str,
    Path(max_length=32, pattern=TICKET_NO_PATTERN, description="工单号，如 JM2026-000123"),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "工单不存在或不在本人辖区"}
}


def _visible(query: Select[Ticket], actor: Actor) -> Select[Ticket]:
    return query if actor.is_admin else query.where(Ticket.county == actor.county)


def _summary_fields(ticket: Ticket, today: dt.date) -> dict[str, Any]:
    return {
        "ticket_no": ticket.ticket_no,
        "kind": ticket.kind,
        "status": ticket.status,
        "county": ticket.county,
        "received_at": ticket.received_at,
        "due_date": ticket.due_date,
        "overdue": ticket.due_date is not None and ticket.due_date < today,
        "accept_deadline": ticket.accept_deadline,
        "mediation_deadline": ticket.mediation_deadline,
        "deadline_provisional": ticket.deadline_provisional,
        "respondent_name": ticket.respondent_name,
        "product": ticket.product,
        "flags": list(ticket.flags),
    }


def _detail(ticket: Ticket, today: dt.date) -> StaffTicketDetail:
    return StaffTicketDetail(
        **_summary_fields(ticket, today),
        lookup_code=ticket.lookup_code,
        complainant_name=ticket.complainant_name,
        complainant_phone=ticket.complainant_phone,
        complainant_address=ticket.complainant_address,
        anonymous=ticket.anonymous,
        proxy=ticket.proxy_filing,
        respondent_address=ticket.respondent_address,
        respondent_is_platform=ticket.respondent_is_platform,
        county_hint=ticket.county_hint,
        routing_note=ticket.routing_note,
        incident_date=ticket.incident_date,
        amount=ticket.amount,
        order_no=ticket.order_no,
        demand=ticket.demand,  # type: ignore[arg-type]
        demand_detail=ticket.demand_detail,
        facts=ticket.facts,
        evidence=list(ticket.evidence),
        consent_share_contact=ticket.consent_share_contact,
        channel=ticket.channel,
        sender_id=ticket.sender_id,
        local_ref=ticket.local_ref,
        warnings=list(ticket.warnings),
        accepted_date=ticket.accepted_date,
        history=[
            StaffHistoryEntry(
                status=e.status,  # type: ignore[arg-type]
                at=e.at,
                reason=e.reason,
                actor=e.actor,
            )
            for e in ticket.history
        ],
        notes=[NoteView(at=n.at, author=n.author, text=n.text) for n in ticket.notes],
        allowed_actions=workflow.allowed_actions(ticket),  # type: ignore[arg-type]
    )


def _load_for(session: Session, ticket_no: str, actor: Actor, *, lock: bool) -> Ticket:
    query = _visible(select(Ticket).where(Ticket.ticket_no == ticket_no.upper()), actor)
    if lock:
        query = query.with_for_update()
    query = query.options(selectinload(Ticket.history), selectinload(Ticket.notes))
    ticket = session.scalars(query).one_or_none()
    if ticket is None:
        raise ApiError(404, message("errors.staff_not_found"))
    return ticket


@router.get("/me", response_model=StaffMe, summary="当前令牌的身份")
def me(request: Request, state: State, actor: Staff) -> StaffMe:
    with state.db.writing() as session:
        audit(session, actor, "me", now=state.now(), client_ip=client_ip(request))
    return StaffMe(name=actor.name, role=actor.role, county=actor.county)  # type: ignore[arg-type]


@router.get("/tickets", response_model=StaffTicketPage, summary="工单列表（按期限紧急程度排序）")
def list_tickets(
    request: Request,
    state: State,
    actor: TicketStaff,
    status: Annotated[Status | None, Query(description="状态")] = None,
    county: Annotated[
        str | None,
        Query(
            max_length=16,
            pattern=PLAIN_TEXT_PATTERN,
            description="县（市、区）或 待分派；县区账号只看本地",
        ),
    ] = None,
    kind: Annotated[Kind | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="true 只看逾期，false 只看未逾期")] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> StaffTicketPage:
    if county is not None and county not in (*COUNTIES, UNASSIGNED):
        raise FieldErrors(
            [FieldProblem("county", message("errors.county_invalid", expected="、".join(COUNTIES)))]
        )
    today = state.today()
    query = _visible(select(Ticket), actor)
    if status is not None:
        query = query.where(Ticket.status == status)
    if county is not None:
        query = query.where(Ticket.county == county)
    if kind is not None:
        query = query.where(Ticket.kind == kind)
    if overdue is True:
        query = query.where(Ticket.due_date < today)
    elif overdue is False:
        query = query.where(or_(Ticket.due_date.is_(None), Ticket.due_date >= today))
    filters = {"status": status, "county": county, "kind": kind, "overdue": overdue, "page": page}
    with state.db.writing() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(
                Ticket.due_date.is_(None), Ticket.due_date, Ticket.received_at, Ticket.id
            )
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        items = [StaffTicketSummary(**_summary_fields(t, today)) for t in rows]
        audit(
            session,
            actor,
            "list",
            now=state.now(),
            client_ip=client_ip(request),
            detail={k: v for k, v in filters.items() if v is not None} | {"returned": len(items)},
        )
    return StaffTicketPage(items=items, total=total, page=page, page_size=page_size)


@router.get(
    "/tickets/{ticket_no}",
    response_model=StaffTicketDetail,
    summary="工单详情（含联系方式）",
    responses=NOT_FOUND,
)
def read_ticket(
    request: Request, state: State, actor: TicketStaff, ticket_no: TicketNo
) -> StaffTicketDetail:
    with state.db.writing() as session:
        ticket = _load_for(session, ticket_no, actor, lock=False)
        detail = _detail(ticket, state.today())
        audit(
            session,
            actor,
            "read",
            now=state.now(),
            ticket_no=ticket.ticket_no,
            client_ip=client_ip(request),
        )
    return detail


@router.post(
    "/tickets/{ticket_no}/transitions",
    response_model=StaffTicketDetail,
    summary="变更状态（受理、不予受理、调解中、调解成功、调解终止、办结）",
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "当前状态不允许该操作"}},
)
def change_status(
    request: Request, state: State, actor: TicketStaff, ticket_no: TicketNo, body: TransitionIn
) -> StaffTicketDetail:
    now, today = state.now(), state.today()
    with state.db.writing() as session:
        ticket = _load_for(session, ticket_no, actor, lock=True)
        before = ticket.status
        try:
            workflow.transition(
                ticket,
                body.action,
                body.reason,
                actor=actor,
                today=today,
                now=now,
                calendar=state.calendar,
            )
        except workflow.ReasonMissing as exc:
            raise FieldErrors([FieldProblem("reason", str(exc))]) from None
        except workflow.TransitionRefused as exc:
            raise ApiError(409, str(exc)) from None
        audit(
            session,
            actor,
            "transition",
            now=now,
            ticket_no=ticket.ticket_no,
            client_ip=client_ip(request),
            detail={"action": body.action, "from": before, "to": ticket.status},
        )
        session.flush()
        detail = _detail(ticket, today)
    return detail


@router.post(
    "/tickets/{ticket_no}/notes",
    response_model=StaffTicketDetail,
    status_code=201,
    summary="添加备注",
    responses=NOT_FOUND,
)
def add_note(
    request: Request, state: State, actor: TicketStaff, ticket_no: TicketNo, body: NoteIn
) -> StaffTicketDetail:
    now = state.now()
    with state.db.writing() as session:
        ticket = _load_for(session, ticket_no, actor, lock=True)
        ticket.notes.append(Note(at=now, author=actor.label, text=body.text))
        ticket.updated_at = now
        audit(
            session,
            actor,
            "note",
            now=now,
            ticket_no=ticket.ticket_no,
            client_ip=client_ip(request),
            detail={"length": len(body.text)},
        )
        session.flush()
        detail = _detail(ticket, state.today())
    return detail


@router.post(
    "/tickets/{ticket_no}/assign",
    response_model=StaffTicketDetail,
    summary="分派县区（管理员）或退回待分派（县区）",
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "不允许的分派"}},
)
def assign_ticket(
    request: Request, state: State, actor: TicketStaff, ticket_no: TicketNo, body: AssignIn
) -> StaffTicketDetail:
    now = state.now()
    with state.db.writing() as session:
        ticket = _load_for(session, ticket_no, actor, lock=True)
        before = ticket.county
        try:
            workflow.assign(ticket, body.county, body.reason, actor=actor, now=now)
        except workflow.TransitionRefused as exc:
            raise ApiError(409, str(exc)) from None
        audit(
            session,
            actor,
            "assign",
            now=now,
            ticket_no=ticket.ticket_no,
            client_ip=client_ip(request),
            detail={"from": before, "to": body.county},
        )
        session.flush()
        detail = _detail(ticket, state.today())
    return detail


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="审计日志（管理员）",
    responses={403: {"model": Problem, "description": "仅限管理员"}},
)
def audit_log(
    request: Request,
    state: State,
    actor: Staff,
    ticket_no: Annotated[str | None, Query(max_length=32, pattern=PLAIN_TEXT_PATTERN)] = None,
    entity: Annotated[
        str | None, Query(max_length=16, pattern=r"^[a-z]+$", description="document、faq、chunk…")
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=PLAIN_TEXT_PATTERN)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    if not actor.is_admin:
        raise ApiError(403, message("errors.admin_only"))
    query = select(AuditEntry)
    if ticket_no:
        query = query.where(AuditEntry.ticket_no == ticket_no.upper())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    with state.db.writing() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(AuditEntry.id.desc()).limit(page_size).offset((page - 1) * page_size)
        ).all()
        items = [
            AuditView(
                at=r.at,
                actor=r.actor,
                role=r.role,
                action=r.action,
                ticket_no=r.ticket_no,
                entity=r.entity,
                entity_id=r.entity_id,
                detail=r.detail,
                client_ip=r.client_ip,
            )
            for r in rows
        ]
        audit(
            session,
            actor,
            "audit",
            now=state.now(),
            ticket_no=ticket_no,
            client_ip=client_ip(request),
        )
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


# --- the staff queue page ----------------------------------------------------------------


@page_router.get("/staff", response_class=FileResponse)
def staff_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "staff.html", media_type="text/html; charset=utf-8")
