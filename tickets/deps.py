"""Shared state and FastAPI dependencies of the ticket routers."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.settings import TicketsSettings
from tickets.db import Database
from tickets.errors import ApiError
from tickets.services.auth import KNOWLEDGE_ROLES, TICKET_ROLES, authenticate
from tickets.services.deadlines import WorkCalendar
from tickets.services.messages import message
from tickets.services.workflow import Actor

STATE_KEY = "tickets"


@dataclass
class ServiceState:
    """Everything the routers need, built once by ``create_app``."""

    settings: TicketsSettings
    db: Database
    calendar: WorkCalendar
    #: The action server's credential (``Settings.service_token``), read once at start.
    service_token: str = ""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(ZoneInfo(self.settings.timezone)).date()


def get_state(request: Request) -> ServiceState:
    state: ServiceState = getattr(request.app.state, STATE_KEY)
    return state


State = Annotated[ServiceState, Depends(get_state)]


def client_ip(request: Request) -> str | None:
    """The caller's address (uvicorn puts the proxy's X-Forwarded-For here if trusted)."""
    return request.client.host if request.client else None


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="工作人员令牌（yiwen tokens create 生成）",
)


def current_actor(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """The authenticated staff member, or a 401."""
    unauthorized = ApiError(
        401, message("errors.unauthorized"), headers={"WWW-Authenticate": "Bearer"}
    )
    if credentials is None or not credentials.credentials or len(credentials.credentials) > 200:
        raise unauthorized
    with state.db.reading() as session:
        actor = authenticate(session, credentials.credentials, state.settings)
    if actor is None:
        raise unauthorized
    return actor


Staff = Annotated[Actor, Depends(current_actor)]

ROLE_NAMES = {"admin": "管理员", "county": "县区工作人员", "editor": "知识编辑"}


def require_roles(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency: the authenticated staff member if their role is one of ``roles``.

    Why 403 and not 404: the endpoint exists and the token is valid; hiding it would
    make a misconfigured token look like a broken deployment.
    """

    def check(actor: Staff) -> Actor:
        if actor.role not in roles:
            raise ApiError(
                403,
                message(
                    "errors.role_forbidden",
                    role=ROLE_NAMES.get(actor.role, actor.role),
                    allowed="、".join(ROLE_NAMES.get(r, r) for r in roles),
                ),
            )
        return actor

    return check


#: Ticket queue (county officers and admins) and knowledge console (editors and admins).
TicketStaff = Annotated[Actor, Depends(require_roles(*TICKET_ROLES))]
KnowledgeStaff = Annotated[Actor, Depends(require_roles(*KNOWLEDGE_ROLES))]
AdminStaff = Annotated[Actor, Depends(require_roles("admin"))]


#: Header in which the authenticated action server names the conversation a look-up is
#: made for: a hash of channel + sender id, never the raw id.
CONVERSATION_HEADER = "X-Yiwen-Conversation"
_CONVERSATION = re.compile(r"^[0-9a-f]{16,64}$")


def is_service(request: Request, state: ServiceState) -> bool:
    """Whether the caller presented the action server's token (constant-time compare)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or not state.service_token:
        return False
    return hmac.compare_digest(value.strip().encode(), state.service_token.encode())


def require_service(request: Request, state: State) -> None:
    """401 unless the caller is the action server (ticket creation is not public)."""
    if not is_service(request, state):
        raise ApiError(
            401, message("errors.service_unauthorized"), headers={"WWW-Authenticate": "Bearer"}
        )


def conversation(request: Request, state: ServiceState) -> str | None:
    """The conversation a look-up is made for, asserted by the action server only.

    Anyone else's header is ignored: a client must not choose its own throttle bucket.
    """
    value = request.headers.get(CONVERSATION_HEADER, "").strip().lower()
    if value and _CONVERSATION.match(value) and is_service(request, state):
        return value
    return None


ServiceCaller = Annotated[None, Depends(require_service)]
