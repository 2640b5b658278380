"""Client for the ticket API (``tickets/``), sync for the retry worker, async for actions.

Errors are sorted by what the caller should do: :class:`TicketUnavailable`
(network, timeout, 5xx, and 401/403 — a token the operator must fix — → queue in
the outbox and retry), :class:`TicketRejected` (422 and other 4xx → ask the user to
fix a field; the outbox stops retrying), :class:`TicketConflict` (409: the
idempotency key was used for other content; retrying cannot help),
:class:`TicketNotFound` (404 on a look-up) and :class:`TicketThrottled` (429 →
show the server's message, or retry later).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.settings import get_settings


class TicketApiError(Exception):
    """Base class; ``detail`` carries the server's JSON ``detail`` when there is one."""

    def __init__(self, message: str, detail: Any = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.detail = detail
        self.status_code = status_code


class TicketUnavailable(TicketApiError):
    """The API could not be reached or failed (network error, timeout, 5xx)."""


class TicketRejected(TicketApiError):
    """422: the payload failed validation; ``field_errors`` lists ``{field, message}``."""

    @property
    def field_errors(self) -> list[dict[str, str]]:
        detail = self.detail if isinstance(self.detail, list) else []
        return [d for d in detail if isinstance(d, dict)]


class TicketConflict(TicketApiError):
    """409: the idempotency key already names a different submission."""


class TicketNotFound(TicketApiError):
    """404: unknown ticket, or the phone digits do not match (deliberately the same)."""


class TicketThrottled(TicketApiError):
    """429: too many wrong attempts; ``detail`` is the server's message."""


@dataclass
class TicketReceipt:
    """What the bot keeps of the API's ``TicketCreated`` reply (``tickets.schemas``)."""

    ticket_no: str
    #: ``JM2026-000123-7KQ2XM``: what the citizen is told and needs for a look-up; the
    #: number alone is for staff (``core.ticket_ref``).
    lookup_code: str | None = None
    status: str | None = None
    county: str | None = None
    accept_deadline: str | None = None
    deadline_provisional: bool = False
    warnings: list[Any] = field(default_factory=list)

    @property
    def citizen_ref(self) -> str:
        """What to show the citizen: the lookup code (the number from an older API)."""
        return self.lookup_code or self.ticket_no

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TicketReceipt:
        return cls(
            ticket_no=str(data["ticket_no"]),
            lookup_code=str(data["lookup_code"]) if data.get("lookup_code") else None,
            status=data.get("status"),
            county=data.get("county"),
            accept_deadline=data.get("accept_deadline"),
            deadline_provisional=bool(data.get("deadline_provisional", False)),
            warnings=list(data.get("warnings") or []),
        )


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text or None


def _created(response: httpx.Response) -> TicketReceipt:
    if response.status_code in (200, 201):
        try:
            return TicketReceipt.from_json(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise TicketUnavailable(f"unexpected ticket API reply: {exc}") from exc
    code = response.status_code
    if code == 429:
        raise TicketThrottled("throttled", _detail(response), 429)
    if code == 409:
        raise TicketConflict("idempotency conflict", _detail(response), 409)
    if 400 <= code < 500 and code not in (401, 403, 408):
        raise TicketRejected(f"ticket rejected ({code})", _detail(response), code)
    raise TicketUnavailable(f"ticket API answered {code}", _detail(response), code)


def _status(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 200:
        return dict(response.json())
    if response.status_code == 404:
        raise TicketNotFound("not found", _detail(response), 404)
    if response.status_code == 429:
        raise TicketThrottled("throttled", _detail(response), 429)
    if response.status_code == 422:
        raise TicketNotFound("malformed query", _detail(response), 422)
    raise TicketUnavailable(
        f"ticket API answered {response.status_code}", _detail(response), response.status_code
    )


def _url(path: str, base_url: str | None) -> str:
    return f"{(base_url or get_settings().bot.ticket_api_url).rstrip('/')}{path}"


#: Where the ticket API reads the conversation a look-up is made for (tickets.deps).
CONVERSATION_HEADER = "X-Yiwen-Conversation"


def conversation_id(channel: str | None, sender_id: str | None) -> str:
    """The conversation as the ticket API's throttle knows it: a hash, not the sender id.

    Channel and sender together, so the same id on two channels stays two conversations.
    """
    raw = f"{channel or 'unknown'}\x1f{sender_id or ''}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _headers(idempotency_key: str | None = None, conversation: str | None = None) -> dict[str, str]:
    """The service credential, plus the request's own headers."""
    headers = {"Authorization": f"Bearer {get_settings().ticket_api_token()}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if conversation:
        headers[CONVERSATION_HEADER] = conversation
    return headers


def create_ticket(
    payload: dict[str, Any],
    idempotency_key: str,
    *,
    base_url: str | None = None,
    timeout: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> TicketReceipt:
    """POST /api/tickets (sync; used by the outbox retry worker)."""
    try:
        with httpx.Client(
            timeout=timeout or get_settings().bot.ticket_timeout, transport=transport
        ) as c:
            response = c.post(
                _url("/api/tickets", base_url),
                json=payload,
                headers=_headers(idempotency_key),
            )
    except httpx.HTTPError as exc:
        raise TicketUnavailable(f"ticket API unreachable: {exc!r}") from exc
    return _created(response)


async def create_ticket_async(
    payload: dict[str, Any],
    idempotency_key: str,
    *,
    base_url: str | None = None,
    timeout: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TicketReceipt:
    """POST /api/tickets from inside an action."""
    try:
        async with httpx.AsyncClient(
            timeout=timeout or get_settings().bot.ticket_timeout, transport=transport
        ) as client:
            response = await client.post(
                _url("/api/tickets", base_url),
                json=payload,
                headers=_headers(idempotency_key),
            )
    except httpx.HTTPError as exc:
        raise TicketUnavailable(f"ticket API unreachable: {exc!r}") from exc
    return _created(response)


async def get_status_async(
    ticket_no: str,
    phone_last4: str,
    *,
    conversation: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """GET /api/tickets/{ref}?phone_last4=…; the server checks the phone and throttles.

    ``ticket_no`` is the citizen's lookup code or ``LOCAL-…`` reference (a bare number
    gets 404 like a wrong one); the reply carries the ``lookup_code`` to show them.

    ``conversation`` (see :func:`conversation_id`) makes the server count failures for
    this conversation instead of for the action server's address, which all bot users
    share.
    """
    try:
        async with httpx.AsyncClient(
            timeout=timeout or get_settings().bot.ticket_timeout, transport=transport
        ) as client:
            response = await client.get(
                _url(f"/api/tickets/{ticket_no}", base_url),
                params={"phone_last4": phone_last4},
                headers=_headers(conversation=conversation),
            )
    except httpx.HTTPError as exc:
        raise TicketUnavailable(f"ticket API unreachable: {exc!r}") from exc
    return _status(response)
