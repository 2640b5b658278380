"""Pydantic v2 request and response schemas of the ticket API.

Every string has a declared maximum length, so oversized input is refused with a 422
before it reaches the database. Fields that Art. 9 requires are optional *here* on
purpose: their absence is reported by ``services.prechecks`` with one Chinese message per
field citing the article, instead of a generic "field required".
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core.phones import normalise_phone
from core.places import COUNTIES, UNASSIGNED

Kind = Literal["complaint", "report"]
Demand = Literal["退货", "退款", "赔偿", "其他"]
Status = Literal["待受理", "已受理", "不予受理", "调解中", "调解成功", "调解终止", "办结"]
Action = Literal["受理", "不予受理", "调解中", "调解成功", "调解终止", "办结"]
#: One of Jiangmen's county-level units or 待分派, from core/places.yml.
CountyOrUnassigned = Literal[(*COUNTIES, UNASSIGNED)]  # type: ignore[valid-type]


#: C0 controls except tab and line breaks, DEL, C1 controls and lone surrogates. No
#: citizen types them; NUL in particular is refused by PostgreSQL (a 500 there, while
#: SQLite stored it), so both databases now refuse them at validation with a 422.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

#: Free-text query parameters: no control characters (see ``CONTROL_CHARS``).
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def has_control_chars(value: Any) -> bool:
    """Whether ``value`` (a string, or a list of strings) holds a refused character."""
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and CONTROL_CHARS.search(v) for v in items)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _check_phone(value: str | None) -> str | None:
    if value is None:
        return None
    phone = normalise_phone(value)
    if phone is None:
        raise PydanticCustomError("phone_invalid", "not a mobile or landline number")
    return phone


Str16 = Annotated[Annotated[str, Field(max_length=16)] | None, BeforeValidator(_blank_to_none)]
Str32 = Annotated[Annotated[str, Field(max_length=32)] | None, BeforeValidator(_blank_to_none)]
Str64 = Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(_blank_to_none)]
Str128 = Annotated[Annotated[str, Field(max_length=128)] | None, BeforeValidator(_blank_to_none)]
Str200 = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)]
Str1000 = Annotated[Annotated[str, Field(max_length=1000)] | None, BeforeValidator(_blank_to_none)]
Str5000 = Annotated[Annotated[str, Field(max_length=5000)] | None, BeforeValidator(_blank_to_none)]
Phone = Annotated[
    Annotated[str, Field(max_length=32, examples=["13912345678", "0750-1234567"])] | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_check_phone),
]
EvidenceRef = Annotated[str, Field(min_length=1, max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_chars(cls, value: Any) -> Any:
        # Runs on every field of every request model (nested ones validate their own).
        if has_control_chars(value):
            raise PydanticCustomError("control_char", "contains control characters")
        return value


class ComplainantIn(_In):
    """The person complaining or reporting (投诉人 / 举报人)."""

    name: Str64 = None
    phone: Phone = None
    address: Str200 = None
    anonymous: bool = Field(default=False, description="Same as the top-level flag.")


class RespondentIn(_In):
    """The business complained about (被投诉人 / 被举报人)."""

    name: Str128 = None
    address: Str200 = None
    is_platform: bool = Field(
        default=False, description="An e-commerce platform operator (Art. 12, paragraph 2)."
    )


class TicketCreate(_In):
    """A complaint or report as the dialogue collected it."""

    kind: Kind
    complainant: ComplainantIn | None = None
    anonymous: bool = Field(default=False, description="Anonymous report; not for complaints.")
    proxy: bool = Field(
        default=False, description="Filed on someone else's behalf (Art. 10 paperwork needed)."
    )
    respondent: RespondentIn | None = None
    county: Str16 = Field(default=None, description="Client hint; used only as a fallback.")
    incident_date: dt.date | None = None
    amount: (
        Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)] | None
    ) = None
    product: Str200 = None
    order_no: Str64 = None
    demand: Annotated[Demand | None, BeforeValidator(_blank_to_none)] = None
    demand_detail: Str1000 = None
    facts: Str5000 = None
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=20)
    consent_share_contact: bool = False
    channel: Str32 = None
    sender_id: Str128 = None
    local_ref: Str128 = None

    @field_validator("amount")
    @classmethod
    def _two_places(cls, value: Decimal | None) -> Decimal | None:
        # 35 and "35.00" are the same amount, and must hash the same for idempotency.
        return None if value is None else value.quantize(Decimal("0.01"))

    @property
    def is_anonymous(self) -> bool:
        return self.anonymous or bool(self.complainant and self.complainant.anonymous)


class TicketCreated(BaseModel):
    ticket_no: str = Field(examples=["JM2026-000123"], description="工单号（工作人员使用）")
    lookup_code: str = Field(
        examples=["JM2026-000123-7KQ2XM"],
        description="查询码：工单号加 6 位随机字符，群众凭它和电话后四位查询进度",
    )
    kind: Kind
    status: Status
    county: CountyOrUnassigned
    received_at: dt.datetime
    accept_deadline: dt.date
    deadline_provisional: bool
    warnings: list[str]


class FieldProblem(BaseModel):
    field: str = Field(examples=["complainant.phone"])
    message: str


class ValidationProblem(BaseModel):
    """Every 422 of this API, malformed JSON included: one Chinese message per field."""

    detail: list[FieldProblem]


class Problem(BaseModel):
    """Every other error: one Chinese sentence that says what to do."""

    detail: str


class HistoryEntry(BaseModel):
    status: Status
    at: dt.datetime
    reason: str | None


class MaskedPerson(BaseModel):
    name: str | None
    phone: str | None


class RespondentView(BaseModel):
    name: str | None
    address: str | None
    is_platform: bool


class CitizenView(BaseModel):
    """What a citizen sees: status, deadlines and their data, masked."""

    ticket_no: str
    lookup_code: str = Field(examples=["JM2026-000123-7KQ2XM"])
    kind: Kind
    status: Status
    status_history: list[HistoryEntry]
    county: CountyOrUnassigned
    accept_deadline: dt.date
    mediation_deadline: dt.date | None
    deadline_provisional: bool
    complainant: MaskedPerson | None
    respondent: RespondentView


# --- staff -------------------------------------------------------------------------------


class StaffMe(BaseModel):
    name: str
    role: Literal["county", "admin", "editor"]
    county: str | None


class StaffTicketSummary(BaseModel):
    ticket_no: str
    kind: Kind
    status: Status
    county: CountyOrUnassigned
    received_at: dt.datetime
    due_date: dt.date | None = Field(description="The next deadline staff must meet.")
    overdue: bool
    accept_deadline: dt.date
    mediation_deadline: dt.date | None
    deadline_provisional: bool
    respondent_name: str | None
    product: str | None
    flags: list[str]


class StaffTicketPage(BaseModel):
    items: list[StaffTicketSummary]
    total: int
    page: int
    page_size: int


class StaffHistoryEntry(HistoryEntry):
    actor: str


class NoteView(BaseModel):
    at: dt.datetime
    author: str
    text: str


class StaffTicketDetail(StaffTicketSummary):
    """Everything on the ticket, unmasked: staff need to contact the parties."""

    lookup_code: str = Field(
        description="群众查询用的查询码；核实来电人身份后可告知（如其遗失）",
        examples=["JM2026-000123-7KQ2XM"],
    )
    complainant_name: str | None
    complainant_phone: str | None
    complainant_address: str | None
    anonymous: bool
    proxy: bool
    respondent_address: str | None
    respondent_is_platform: bool
    county_hint: str | None
    routing_note: str | None
    incident_date: dt.date | None
    amount: Decimal | None
    order_no: str | None
    demand: Demand | None
    demand_detail: str | None
    facts: str
    evidence: list[str]
    consent_share_contact: bool
    channel: str | None
    sender_id: str | None
    local_ref: str | None
    warnings: list[str]
    accepted_date: dt.date | None
    history: list[StaffHistoryEntry]
    notes: list[NoteView]
    allowed_actions: list[Action]


class TransitionIn(_In):
    action: Action
    reason: Str1000 = None


class NoteIn(_In):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class AssignIn(_In):
    county: CountyOrUnassigned
    reason: Str1000 = None


class AuditView(BaseModel):
    at: dt.datetime
    actor: str
    role: str
    action: str
    ticket_no: str | None
    entity: str | None = None
    entity_id: str | None = None
    detail: dict[str, Any]
    client_ip: str | None


class AuditPage(BaseModel):
    items: list[AuditView]
    total: int
    page: int
    page_size: int


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    outbox: Literal["ok", "stuck"] = "ok"
    outbox_stuck: int = Field(default=0, description="Submissions queued past the alert time.")
    index: dict[str, Any] | None = Field(
        default=None,
        description="The knowledge index this process serves (version, swaps, last swap "
        "error); absent where the process answers no questions.",
    )
    replicas: dict[str, bool] | None = Field(
        default=None,
        description="Production profile only: each Rasa replica and action server, ready "
        "or not (a Rasa replica is ready once its model is loaded).",
    )
    redis: Literal["ok", "unavailable"] | None = Field(
        default=None, description="Production profile only: the lock store."
    )
