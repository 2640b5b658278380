"""Knowledge API: ask and search over the hybrid index.

Input is checked before it reaches the engine so that every rejection is a 422
with a Chinese message the widget can show verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

MAX_QUESTION_CHARS = 2000

router = APIRouter(tags=["knowledge"])


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
    from retrieval.engine import get_engine

    return getattr(request.app.state, "engine", None) or get_engine()


@router.post("/api/ask", response_model=AskResponse, summary="回答政策问题（附出处）")
async def ask(body: AskRequest, request: Request) -> AskResponse:
    engine = _engine(request)
    ans = await run_in_threadpool(engine.ask, body.question)
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
    q: Annotated[str, Query(description="检索词（1–2000 字）")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[HitOut] | JSONResponse:
    try:
        q = check_question(q)
    except ValueError as exc:
        return JSONResponse(
            status_code=422, content={"detail": [{"field": "q", "message": str(exc)}]}
        )
    engine = _engine(request)
    hits, _ = await run_in_threadpool(engine.search, q, k)
    return [HitOut(**h.public()) for h in hits]
