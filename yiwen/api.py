"""Knowledge API: ask and search over the hybrid index.

Input is checked before it reaches the engine so that every rejection is a 422
with a Chinese message the widget can show verbatim.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import threading
import time
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, field_validator

from core import metrics

log = logging.getLogger("yiwen.api")

MAX_QUESTION_CHARS = 2000

THROTTLED = "提问太频繁了，请约 {seconds} 秒后再试。如需人工服务，请拨打 12315 热线。"


class QuestionThrottle(Exception):
    """Too many questions from one client address in the current window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class ClientRateLimiter:
    """Fixed-window counter per client address, in this process.

    Enough for the app process (one per deployment behind the proxy); its memory is
    bounded because a window's counters are dropped when the next window starts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bucket = -1
        self._counts: dict[str, int] = {}

    def hit(self, client: str, limit: int, window: float, now: float | None = None) -> int:
        """0 when allowed, else the seconds until the window ends."""
        now = time.time() if now is None else now
        bucket = int(now // window)
        with self._lock:
            if bucket != self._bucket:
                self._bucket, self._counts = bucket, {}
            count = self._counts.get(client, 0) + 1
            self._counts[client] = count
        if count <= limit:
            return 0
        return max(1, math.ceil((bucket + 1) * window - now))


def client_group(host: str | None) -> str:
    """IPv4 as is, IPv6 per /64 (one subscriber's block)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


_limiter = ClientRateLimiter()


def throttle_questions(request: Request) -> None:
    """Dependency of /api/ask and /api/search: 429 in Chinese past the per-client rate."""
    from core.settings import get_settings

    settings = get_settings().server
    client = client_group(request.client.host if request.client else None)
    wait = _limiter.hit(client, settings.ask_rate_limit, settings.ask_rate_window_s)
    if wait:
        raise QuestionThrottle(wait)


async def question_throttled(_request: Request, exc: Exception) -> JSONResponse:
    """The 429 reply (installed on the app by ``yiwen.app``)."""
    seconds = exc.retry_after if isinstance(exc, QuestionThrottle) else 60
    return JSONResponse(
        status_code=429,
        content={"detail": THROTTLED.format(seconds=seconds)},
        headers={"Retry-After": str(seconds)},
    )


router = APIRouter(tags=["knowledge"], dependencies=[Depends(throttle_questions)])


def check_question(text: str) -> str:
    """Reject input that cannot be a question; raise ValueError with a Chinese message."""
    if not isinstance(text, str):
        raise ValueError("问题必须是文字。")
    stripped = text.strip()
    if not stripped:
        raise ValueError("问题不能为空，请输入您要咨询的内容。")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"问题太长（{len(text)} 字），请精简到 {MAX_QUESTION_CHARS} 字以内。")
    if "\ufffd" in text or re.search(r"[\ud800-\udfff]", text):
        raise ValueError("问题含有无法识别的字符（编码不是 UTF-8），请重新输入。")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in stripped):
        raise ValueError("问题只包含标点或符号，请用文字描述您的问题。")
    return stripped


class AskRequest(BaseModel):
    question: str = Field(
        ..., description="用户的问题（1–2000 字）", examples=["个转企有什么补贴？"]
    )

    @field_validator("question", mode="before")
    @classmethod
    def _valid(cls, v: Any) -> str:
        return check_question(v)


class HitOut(BaseModel):
    doc: str
    text: str
    score: float
    citation: str


class AskResponse(BaseModel):
    answer: str
    citations: list[str]
    abstained: bool
    confidence: float
    hits: list[HitOut]


def _engine(request: Request) -> Any:
    """The engine for this one request, read through the holder (never cached): a new
    index is taken up between two requests, and this one finishes on the one it got."""
    live = getattr(request.app.state, "live", None)
    if live is not None:
        return live.current
    from retrieval.engine import get_engine

    return get_engine()


def _log_question(request: Request, question: str, ans: Any) -> None:
    """Put an /api/ask question in the question log (masked there), like the bot's.

    Why it never raises: the log serves the console; a database problem must not cost
    the citizen the answer.
    """
    from bot.actions import review_log
    from tickets.deps import STATE_KEY

    state = getattr(request.app.state, STATE_KEY, None)
    if state is None:  # the router mounted without the ticket service: nowhere to log
        return
    lead_doc, topic = review_log.lead_of(ans)
    try:
        review_log.record(
            question=question,
            answer=None if ans.abstained else ans.text,
            abstained=bool(ans.abstained),
            citations=list(ans.citations),
            channel="api",
            lead_doc=lead_doc,
            topic=topic,
            engine=state.db.engine,
        )
    except Exception:
        log.exception("could not write /api/ask to the question log")


@router.post("/api/ask", response_model=AskResponse, summary="回答政策问题（附出处）")
async def ask(body: AskRequest, request: Request) -> AskResponse:
    engine = _engine(request)
    started = time.perf_counter()
    try:
        ans = await run_in_threadpool(engine.ask, body.question)
    except Exception:
        metrics.QUESTIONS.labels(channel="api", outcome="error").inc()
        raise
    metrics.QUESTION_SECONDS.labels(channel="api").observe(time.perf_counter() - started)
    outcome = "abstained" if ans.abstained else "answered"
    metrics.QUESTIONS.labels(channel="api", outcome=outcome).inc()
    await run_in_threadpool(_log_question, request, body.question, ans)
    return AskResponse(
        answer=ans.text,
        citations=ans.citations,
        abstained=ans.abstained,
        confidence=round(ans.confidence, 4),
        hits=[HitOut(**h.public()) for h in ans.hits],
    )


@router.get(
    "/api/search",
    response_model=list[HitOut],
    summary="检索相关条文",
    responses={422: {"description": "检索词不合要求（中文说明）"}},
)
async def search(
    request: Request,
    q: Annotated[str, Query(description="检索词（1–2000 字）"), AfterValidator(check_question)],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[HitOut]:
    engine = _engine(request)
    hits, _ = await run_in_threadpool(engine.search, q, k)
    return [HitOut(**h.public()) for h in hits]
