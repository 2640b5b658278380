"""Knowledge console API under ``/api/staff``: documents, jobs, FAQ, versions, hit test.

Editors and admins only (``tickets.deps.KnowledgeStaff``); county officers get a 403.
Every change is audited with before/after snapshots in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import KnowledgeSettings
from tickets.deps import KnowledgeStaff, State, client_ip
from tickets.models import KbDocument, KbFaq, KbJob, KbVersion
from tickets.services.workflow import Actor
from yiwen.console import service
from yiwen.console.service import ConsoleError, JobRunner, msg

CONSOLE_KEY = "console"
router = APIRouter(prefix="/api/staff", tags=["staff-knowledge"])
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff（）()]+")


class Console:
    """What the routes share: settings and the job runner (``app.state.console``)."""

    def __init__(self, settings: KnowledgeSettings, runner: JobRunner) -> None:
        self.settings = settings
        self.runner = runner


def _console(request: Request) -> Console:
    console: Console = getattr(request.app.state, CONSOLE_KEY)
    return console


def _engine(request: Request) -> Any:
    """The engine serving now (read through the app's holder on every request)."""
    from retrieval.engine import get_engine

    holder = getattr(request.app.state, "live", None)
    return holder.current if holder is not None else get_engine()


async def console_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConsoleError)
    return JSONResponse(status_code=exc.status, content={"detail": exc.detail})


# --- documents ---------------------------------------------------------------------------


class DocumentPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    date: dt.date | None = None
    issuer: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=64)
    effective_from: dt.date | None = None
    repealed_on: dt.date | None = None
    superseded_by: str | None = Field(default=None, max_length=300)


def _doc_view(doc: KbDocument, today: dt.date, chunks: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": doc.id,
        "doc_id": doc.doc_id,
        "title": doc.title,
        "date": service._iso(doc.date),
        "issuer": doc.issuer,
        "region": doc.region,
        "effective_from": service._iso(doc.effective_from),
        "repealed_on": service._iso(doc.repealed_on),
        "repealed": doc.repealed_on is not None and doc.repealed_on <= today,
        "superseded_by": doc.superseded_by,
        "state": doc.state,
        "state_label": msg(f"states.{doc.state}"),
        "kind": doc.kind,
        "filename": doc.filename,
        "version": doc.version,
        "updated_at": doc.updated_at.isoformat(),
        "updated_by": doc.updated_by,
        "repeals": (doc.meta or {}).get("repeals", []),
        "chunk_count": len(doc.chunks),
    }
    if chunks:
        view["chunks"] = [
            {
                "id": c.id,
                "chunk_id": c.chunk_id,
                "position": c.position,
                "label": c.label,
                "heading": c.heading,
                "text": c.text,
                "disabled": c.disabled,
            }
            for c in doc.chunks
        ]
    return view


def _load_doc(session: Session, doc_id: int) -> KbDocument:
    doc = session.get(KbDocument, doc_id)
    if doc is None:
        raise ConsoleError(404, msg("errors.document_not_found", id=doc_id))
    return doc


def _publish_state(console: Console, actor: Actor) -> str:
    """Where a change lands: published, or pending when two-person publishing is on."""
    return "pending" if console.settings.console_two_person else "published"


async def _save_upload(console: Console, file: UploadFile | None) -> tuple[str, Any]:
    if file is None or not file.filename:
        raise ConsoleError(422, msg("errors.file_missing"))
    name = file.filename.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in service.ALLOWED_SUFFIXES:
        raise ConsoleError(422, msg("errors.file_type", suffix=suffix or "无扩展名"))
    safe = _SAFE_NAME.sub("_", name).strip("._")[:120]
    if not safe or not safe.lower().endswith(suffix):
        raise ConsoleError(422, msg("errors.file_name"))
    limit = console.settings.console_upload_max_bytes
    folder = console.settings.console_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    size = 0
    with target.open("wb") as fh:
        while block := await file.read(1 << 20):
            size += len(block)
            if size > limit:
                fh.close()
                target.unlink(missing_ok=True)
                raise ConsoleError(
                    413,
                    msg("errors.file_too_large", size_mb=size / 2**20, limit_mb=limit / 2**20),
                )
            fh.write(block)
    return name, target


@router.post("/documents", status_code=202, summary="上传文档（解析后后台更新索引）")
async def upload_document(
    request: Request,
    state: State,
    actor: KnowledgeStaff,
    file: Annotated[UploadFile | None, File(description=".docx .pdf .txt .md")] = None,
    replaces: Annotated[int | None, Query(ge=1, description="替换此文档（新版本）")] = None,
) -> dict[str, Any]:
    console = _console(request)
    name, target = await _save_upload(console, file)
    parsed = await run_in_threadpool(service.parse_upload, target, name)
    now = state.now()
    landing = _publish_state(console, actor)
    with state.db.writing() as session:
        replacing = _load_doc(session, replaces) if replaces else None
        doc = service.store_upload(
            session,
            parsed,
            filename=name,
            stored_path=target,
            actor=actor,
            now=now,
            state=landing,
            replacing=replacing,
        )
        if landing == "published":
            job_id = console.runner.enqueue(session, actor, now, document_id=doc.id)
        else:
            job_id = console.runner.finished_job(
                session, actor, now, doc.id, msg("jobs.pending_approval")
            )
        document_id = doc.id
    return {"job_id": job_id, "document_id": document_id}


@router.get("/jobs/{job_id}", summary="后台任务进度")
def job_status(
    state: State, actor: KnowledgeStaff, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
) -> dict[str, Any]:
    with state.db.reading() as session:
        job = session.get(KbJob, job_id)
        if job is None:
            raise ConsoleError(404, msg("errors.job_not_found", id=job_id))
        return {
            "job_id": job.id,
            "state": job.state,
            "progress": float(job.progress),
            "message": job.message,
            "document_id": job.document_id,
        }


@router.get("/documents", summary="文档列表")
def list_documents(state: State, actor: KnowledgeStaff) -> dict[str, Any]:
    today = state.today()
    with state.db.reading() as session:
        docs = session.scalars(select(KbDocument).order_by(KbDocument.id.desc())).all()
        return {"items": [_doc_view(d, today) for d in docs]}


@router.get("/documents/{doc_id}", summary="文档详情（含片段）")
def read_document(state: State, actor: KnowledgeStaff, doc_id: int) -> dict[str, Any]:
    with state.db.reading() as session:
        return _doc_view(_load_doc(session, doc_id), state.today(), chunks=True)


def _change_document(
    request: Request,
    state: State,
    actor: Actor,
    doc_id: int,
    action: str,
    change: Any,
    reindex: bool = True,
) -> dict[str, Any]:
    console = _console(request)
    now = state.now()
    with state.db.writing() as session:
        doc = _load_doc(session, doc_id)
        before = service.document_snapshot(doc)
        change(doc)
        doc.updated_at, doc.updated_by = now, actor.label
        doc.version += 1
        after = service.document_snapshot(doc)
        service.record(
            session,
            actor,
            entity="document",
            entity_id=str(doc.id),
            action=action,
            before=before,
            after=after,
            now=now,
            version=doc.version,
            client_ip=client_ip(request),
        )
        job_id = None
        if reindex and (before["state"] == "published" or doc.state == "published"):
            job_id = console.runner.enqueue(session, actor, now)
        view = _doc_view(doc, state.today(), chunks=True)
    view["job_id"] = job_id
    return view


@router.patch("/documents/{doc_id}", summary="更正文档信息（标题、日期、施行、废止…）")
def patch_document(
    request: Request, state: State, actor: KnowledgeStaff, doc_id: int, body: DocumentPatch
) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)

    def change(doc: KbDocument) -> None:
        for key, value in fields.items():
            setattr(doc, key, value)

    return _change_document(request, state, actor, doc_id, "edit", change)


@router.post("/documents/{doc_id}/publish", summary="发布（双人发布时由管理员审核）")
def publish_document(
    request: Request, state: State, actor: KnowledgeStaff, doc_id: int
) -> dict[str, Any]:
    console = _console(request)
    if console.settings.console_two_person and not actor.is_admin:
        raise ConsoleError(403, msg("errors.needs_admin"))

    def change(doc: KbDocument) -> None:
        doc.state = "published"

    return _change_document(request, state, actor, doc_id, "publish", change)


@router.post("/documents/{doc_id}/disable", summary="停用文档")
def disable_document(
    request: Request, state: State, actor: KnowledgeStaff, doc_id: int
) -> dict[str, Any]:
    def change(doc: KbDocument) -> None:
        doc.state = "disabled"

    return _change_document(request, state, actor, doc_id, "disable", change)


@router.post("/documents/{doc_id}/chunks/{chunk_pk}/disable", summary="停用单个条文或片段")
def disable_chunk(
    request: Request,
    state: State,
    actor: KnowledgeStaff,
    doc_id: int,
    chunk_pk: int,
    enable: bool = False,
) -> dict[str, Any]:
    def change(doc: KbDocument) -> None:
        for c in doc.chunks:
            if c.id == chunk_pk:
                c.disabled = not enable
                return
        raise ConsoleError(404, msg("errors.chunk_not_found", id=chunk_pk))

    return _change_document(
        request, state, actor, doc_id, "chunk_enable" if enable else "chunk_disable", change
    )


@router.delete("/documents/{doc_id}", summary="删除文档")
def delete_document(
    request: Request, state: State, actor: KnowledgeStaff, doc_id: int
) -> dict[str, Any]:
    console = _console(request)
    now = state.now()
    with state.db.writing() as session:
        doc = _load_doc(session, doc_id)
        before = service.document_snapshot(doc)
        was_published = doc.state == "published"
        session.delete(doc)
        service.record(
            session,
            actor,
            entity="document",
            entity_id=str(doc_id),
            action="delete",
            before=before,
            after=None,
            now=now,
            client_ip=client_ip(request),
        )
        job_id = console.runner.enqueue(session, actor, now) if was_published else None
    return {"deleted": doc_id, "job_id": job_id}


# --- versions (documents and FAQ) ---------------------------------------------------------

Entity = Annotated[str, Path(pattern=r"^(documents|faq)$")]


def _entity(kind: str) -> str:
    return "document" if kind == "documents" else "faq"


@router.get("/{kind}/{entity_id}/versions", summary="版本历史")
def list_versions(
    state: State, actor: KnowledgeStaff, kind: Entity, entity_id: str
) -> dict[str, Any]:
    with state.db.reading() as session:
        rows = service.versions(session, _entity(kind), entity_id)
        return {
            "items": [
                {"version": v.version, "action": v.action, "at": v.at.isoformat(), "actor": v.actor}
                for v in rows
            ]
        }


def _version(session: Session, entity: str, entity_id: str, version: int) -> KbVersion:
    for v in service.versions(session, entity, entity_id):
        if v.version == version:
            return v
    raise ConsoleError(404, msg("errors.version_not_found", version=version))


@router.get("/{kind}/{entity_id}/diff", summary="两个版本的差异")
def version_diff(
    state: State,
    actor: KnowledgeStaff,
    kind: Entity,
    entity_id: str,
    a: Annotated[int, Query(ge=1)],
    b: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    entity = _entity(kind)
    with state.db.reading() as session:
        old = _version(session, entity, entity_id, a)
        new = _version(session, entity, entity_id, b)
        return {"diff": service.diff(old.snapshot, new.snapshot, f"第{a}版", f"第{b}版")}


@router.post("/{kind}/{entity_id}/rollback/{version}", summary="回滚到某一版本（生成新版本）")
def rollback(
    request: Request,
    state: State,
    actor: KnowledgeStaff,
    kind: Entity,
    entity_id: str,
    version: int,
) -> dict[str, Any]:
    console = _console(request)
    entity = _entity(kind)
    now = state.now()
    with state.db.writing() as session:
        old = _version(session, entity, entity_id, version)
        if entity == "document":
            doc = _load_doc(session, int(entity_id))
            before = service.document_snapshot(doc)
            service.apply_snapshot(doc, old.snapshot)
            doc.version += 1
            doc.updated_at, doc.updated_by = now, actor.label
            after, new_version = service.document_snapshot(doc), doc.version
        elif needs_approval(console, actor):
            row = session.get(KbFaq, entity_id)
            if row is None:
                raise ConsoleError(404, msg("errors.faq_not_found", id=entity_id))
            clean = {k: v for k, v in old.snapshot.items() if k not in ("state", "submitted_by")}
            _propose(session, actor, clean, {}, row, now, f"rollback_v{version}")
            return {"version": row.version, "job_id": None, "pending": _pending_view(row.pending)}
        else:
            row = session.get(KbFaq, entity_id)
            if row is None:
                raise ConsoleError(404, msg("errors.faq_not_found", id=entity_id))
            before = service.faq_snapshot(row)
            _apply_faq(row, old.snapshot)
            row.state = old.snapshot.get("state", row.state)
            row.pending = None
            row.version += 1
            row.updated_at, row.updated_by = now, actor.label
            after, new_version = service.faq_snapshot(row), row.version
        service.record(
            session,
            actor,
            entity=entity,
            entity_id=entity_id,
            action=f"rollback_v{version}",
            before=before,
            after=after,
            now=now,
            version=new_version,
            client_ip=client_ip(request),
        )
        job_id = console.runner.enqueue(session, actor, now)
    return {"version": new_version, "job_id": job_id, "snapshot": after}


# --- FAQ -----------------------------------------------------------------------------------


class SourceIn(BaseModel):
    doc: str = Field(min_length=1, max_length=200)
    clause: str = Field(min_length=1, max_length=80)


class FaqIn(BaseModel):
    id: str | None = Field(default=None, max_length=64)
    topic: str = Field(min_length=1, max_length=64)
    questions: list[str] = Field(min_length=1, max_length=30)
    answer: str = Field(min_length=1, max_length=2000)
    sources: list[SourceIn] = Field(min_length=1, max_length=10)
    date: dt.date | None = None


def _apply_faq(row: KbFaq, data: dict[str, Any]) -> None:
    row.topic = data["topic"]
    row.questions = list(data["questions"])
    row.answer = data["answer"]
    row.sources = [dict(s) for s in data["sources"]]
    row.date = service._parse_date(data.get("date"))


def check_sources(
    session: Session, engine: Any, sources: list[dict[str, str]], today: dt.date
) -> None:
    """Each source must be an existing, current article: console chunk or indexed text."""
    for src in sources:
        doc, clause = src["doc"], src["clause"]
        if doc.startswith("console-") and doc[8:].isdigit():
            row = session.get(KbDocument, int(doc[8:]))
            chunk = (
                next((c for c in row.chunks if c.label == clause and not c.disabled), None)
                if row is not None and row.state == "published"
                else None
            )
            if chunk is None:
                raise ConsoleError(422, msg("errors.source_missing", doc=doc, clause=clause))
            if row is not None and row.repealed_on is not None and row.repealed_on <= today:
                reason = msg("repeal.reason", date=row.repealed_on.isoformat())
                raise ConsoleError(
                    422, msg("errors.source_repealed", doc=row.title, clause=clause, reason=reason)
                )
            continue
        cited = engine._by_doc_label.get((doc, clause)) if engine is not None else None
        if cited is None:
            raise ConsoleError(422, msg("errors.source_missing", doc=doc, clause=clause))
        if cited.superseded_by:
            mark = cited.meta.get("superseded") or {}
            reason = mark.get("reason") or f"已被《{cited.superseded_by}》取代"
            raise ConsoleError(
                422, msg("errors.source_repealed", doc=cited.title, clause=clause, reason=reason)
            )


def faq_items(session: Session, settings: KnowledgeSettings, q: str | None) -> list[dict[str, Any]]:
    seed = service.seed_entries(settings)
    rows = {r.id: r for r in session.scalars(select(KbFaq))}
    items: list[dict[str, Any]] = []
    for entry_id in sorted(set(seed) | set(rows)):
        if entry_id in rows:
            row = rows[entry_id]
            item = service.faq_snapshot(row)
            item["origin"] = "seed_override" if entry_id in seed else "console"
            item["version"] = row.version
            if row.pending:
                item["pending"] = _pending_view(row.pending)
        else:
            item = service.entry_dict(seed[entry_id])
            item.update(state="published", origin="seed", version=0)
        items.append(item)
    if q:
        items = [
            i
            for i in items
            if q in i["id"] or q in i["answer"] or any(q in x for x in i["questions"])
        ]
    return items


@router.get("/faq", summary="问答库（种子条目与后台条目）")
def list_faq(
    request: Request,
    state: State,
    actor: KnowledgeStaff,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    with state.db.reading() as session:
        return {"items": faq_items(session, _console(request).settings, q)}


def save_faq(
    session: Session,
    console: Console,
    engine: Any,
    actor: Actor,
    data: dict[str, Any],
    now: dt.datetime,
    today: dt.date,
    *,
    create: bool,
    action: str = "edit",
) -> tuple[KbFaq, bool]:
    """Create or change one entry (audited, versioned); returns (row, changed).

    With two-person publishing on, an editor's change is only proposed (``row.pending``,
    audited as ``faq.submit``) and ``changed`` is False: nothing reaches the index
    until an admin approves it.
    """
    entry = service.validate_entry(data)
    clean = service.entry_dict(entry)
    seed = service.seed_entries(console.settings)
    row = session.get(KbFaq, entry.id)
    if create and (row is not None or entry.id in seed):
        raise ConsoleError(409, msg("errors.faq_exists", id=entry.id))
    if not create and row is None and entry.id not in seed:
        raise ConsoleError(404, msg("errors.faq_not_found", id=entry.id))
    check_sources(session, engine, clean["sources"], today)
    if needs_approval(console, actor):
        if row is not None:
            current: dict[str, Any] | None = service.faq_snapshot(row)
        else:
            current = service.entry_dict(seed[entry.id]) if entry.id in seed else None
        if current is not None and {k: v for k, v in current.items() if k != "state"} == clean:
            return row or KbFaq(id=entry.id, pending=None, **{**clean, "date": None}), False
        return _propose(session, actor, clean, seed, row, now, action), False
    if row is None:
        base = service.entry_dict(seed[entry.id]) if entry.id in seed else None
        before = {**base, "state": "published"} if base else None
        if base is not None and {**base} == clean:
            return KbFaq(id=entry.id, **{**base, "date": None}), False
        row = KbFaq(
            id=entry.id,
            state="published",
            overrides_seed=entry.id in seed,
            version=0,
            updated_at=now,
            updated_by=actor.label,
        )
        _apply_faq(row, clean)
        session.add(row)
        if base is not None:
            _seed_version(session, row, base, now)
        action = "create" if create else action
    else:
        before = service.faq_snapshot(row)
        if {k: v for k, v in before.items() if k != "state"} == clean:
            return row, False
        _apply_faq(row, clean)
    row.version += 1
    row.updated_at, row.updated_by = now, actor.label
    session.flush()
    service.record(
        session,
        actor,
        entity="faq",
        entity_id=row.id,
        action=action,
        before=before,
        after=service.faq_snapshot(row),
        now=now,
        version=row.version,
    )
    return row, True


def _seed_version(session: Session, row: KbFaq, base: dict[str, Any], now: dt.datetime) -> None:
    """Keep the shipped text as version 1 when a seed entry is first overridden.

    Why: without it the first edit of a shipped entry would have nothing to roll back to.
    """
    session.add(
        KbVersion(
            entity="faq",
            entity_id=row.id,
            version=1,
            snapshot={**base, "state": "published"},
            action="seed",
            at=now,
            actor=msg("versions.seed_actor"),
        )
    )
    row.version = 1


def needs_approval(console: Console, actor: Actor) -> bool:
    """Two-person publishing: an editor's content change waits for an admin."""
    return console.settings.console_two_person and not actor.is_admin


def _pending_view(pending: dict[str, Any]) -> dict[str, Any]:
    data = pending["data"]
    return {
        "by": pending["by"],
        "at": pending["at"],
        "action": pending["action"],
        "answer": data["answer"],
        "questions": data["questions"],
        "sources": data["sources"],
        "topic": data["topic"],
    }


def _propose(
    session: Session,
    actor: Actor,
    clean: dict[str, Any],
    seed: dict[str, Any],
    row: KbFaq | None,
    now: dt.datetime,
    action: str,
) -> KbFaq:
    """Keep ``clean`` as the entry's pending proposal; the published entry is untouched."""
    if row is None:
        # A seed entry gets an override row that still says what the seed says; a new
        # entry gets a row in state ``pending``, which the export leaves out.
        base = service.entry_dict(seed[clean["id"]]) if clean["id"] in seed else clean
        row = KbFaq(
            id=clean["id"],
            state="published" if clean["id"] in seed else "pending",
            overrides_seed=clean["id"] in seed,
            version=0,
            updated_at=now,
            updated_by=actor.label,
        )
        _apply_faq(row, base)
        session.add(row)
        if clean["id"] in seed:
            _seed_version(session, row, base, now)
    before = service.faq_snapshot(row)
    row.pending = {"data": clean, "by": actor.label, "at": now.isoformat(), "action": action}
    session.flush()
    service.record(
        session,
        actor,
        entity="faq",
        entity_id=row.id,
        action="submit",
        before=before,
        after={**clean, "state": "pending"},
        now=now,
    )
    return row


def _faq_result(row: KbFaq, job_id: str | None) -> dict[str, Any]:
    out = {**service.faq_snapshot(row), "version": row.version, "job_id": job_id}
    out["pending"] = _pending_view(row.pending) if row.pending else None
    return out


@router.post("/faq/{entry_id}/approve", summary="审核通过待发布的问答修改（管理员）")
def approve_faq(
    request: Request, state: State, actor: KnowledgeStaff, entry_id: str
) -> dict[str, Any]:
    console = _console(request)
    if not actor.is_admin:
        raise ConsoleError(403, msg("errors.needs_admin"))
    now = state.now()
    with state.db.writing() as session:
        row = session.get(KbFaq, entry_id)
        if row is None or not row.pending:
            raise ConsoleError(404, msg("errors.faq_not_pending", id=entry_id))
        # The sources must still be current when the change goes live.
        check_sources(session, _engine(request), row.pending["data"]["sources"], state.today())
        before = service.faq_snapshot(row)
        submitted = row.pending
        _apply_faq(row, submitted["data"])
        row.state = "published"
        row.pending = None
        row.version += 1
        row.updated_at, row.updated_by = now, actor.label
        session.flush()
        service.record(
            session,
            actor,
            entity="faq",
            entity_id=entry_id,
            action="approve",
            before=before,
            after={**service.faq_snapshot(row), "submitted_by": submitted["by"]},
            now=now,
            version=row.version,
            client_ip=client_ip(request),
        )
        job_id = console.runner.enqueue(session, actor, now)
        return _faq_result(row, job_id)


@router.post("/faq/{entry_id}/reject", summary="退回待发布的问答修改（管理员）")
def reject_faq(
    request: Request, state: State, actor: KnowledgeStaff, entry_id: str
) -> dict[str, Any]:
    if not actor.is_admin:
        raise ConsoleError(403, msg("errors.needs_admin"))
    now = state.now()
    with state.db.writing() as session:
        row = session.get(KbFaq, entry_id)
        if row is None or not row.pending:
            raise ConsoleError(404, msg("errors.faq_not_pending", id=entry_id))
        before = {**service.faq_snapshot(row), "pending": row.pending}
        row.pending = None
        service.record(
            session,
            actor,
            entity="faq",
            entity_id=entry_id,
            action="reject",
            before=before,
            after=service.faq_snapshot(row),
            now=now,
            client_ip=client_ip(request),
        )
        result = _faq_result(row, None)
        if row.state == "pending":  # never published: nothing is left to keep
            session.delete(row)
        return result


def _save_and_queue(
    request: Request, state: State, actor: Actor, data: dict[str, Any], *, create: bool
) -> dict[str, Any]:
    """Save one entry and queue the index build its change needs (none when unchanged
    or only proposed for approval)."""
    console = _console(request)
    now = state.now()
    with state.db.writing() as session:
        row, changed = save_faq(
            session, console, _engine(request), actor, data, now, state.today(), create=create
        )
        job_id = console.runner.enqueue(session, actor, now) if changed else None
        return _faq_result(row, job_id)


@router.post("/faq", status_code=201, summary="新建问答条目")
def create_faq(
    request: Request, state: State, actor: KnowledgeStaff, body: FaqIn
) -> dict[str, Any]:
    data = body.model_dump(mode="json")
    if not data.get("id"):
        data["id"] = f"console-{uuid.uuid4().hex[:8]}"
    return _save_and_queue(request, state, actor, data, create=True)


@router.put("/faq/{entry_id}", summary="修改问答条目（种子条目生成后台覆盖）")
def update_faq(
    request: Request, state: State, actor: KnowledgeStaff, entry_id: str, body: FaqIn
) -> dict[str, Any]:
    data = {**body.model_dump(mode="json"), "id": entry_id}
    return _save_and_queue(request, state, actor, data, create=False)


@router.post("/faq/{entry_id}/disable", summary="停用问答条目")
def disable_faq(
    request: Request, state: State, actor: KnowledgeStaff, entry_id: str, enable: bool = False
) -> dict[str, Any]:
    console = _console(request)
    now = state.now()
    with state.db.writing() as session:
        row = session.get(KbFaq, entry_id)
        seed = service.seed_entries(console.settings)
        if row is None:
            if entry_id not in seed:
                raise ConsoleError(404, msg("errors.faq_not_found", id=entry_id))
            row = KbFaq(
                id=entry_id,
                state="published",
                overrides_seed=True,
                version=0,
                updated_at=now,
                updated_by=actor.label,
            )
            _apply_faq(row, service.entry_dict(seed[entry_id]))
            session.add(row)
            _seed_version(session, row, service.entry_dict(seed[entry_id]), now)
        before = service.faq_snapshot(row)
        row.state = "published" if enable else "disabled"
        row.version += 1
        row.updated_at, row.updated_by = now, actor.label
        session.flush()
        service.record(
            session,
            actor,
            entity="faq",
            entity_id=entry_id,
            action="enable" if enable else "disable",
            before=before,
            after=service.faq_snapshot(row),
            now=now,
            version=row.version,
        )
        job_id = console.runner.enqueue(session, actor, now)
        return {**service.faq_snapshot(row), "job_id": job_id}


# --- Excel ----------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(items: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "问答库"
    ws.append(list(msg("excel.headers")))
    for i in items:
        ws.append(
            [
                i["id"],
                i["topic"],
                "\n".join(i["questions"]),
                i["answer"],
                "\n".join(f"{s['doc']} {s['clause']}" for s in i["sources"]),
                i.get("date") or "",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@router.get("/faq/export.xlsx", summary="导出问答库（Excel）")
def export_faq(request: Request, state: State, actor: KnowledgeStaff) -> Response:
    with state.db.reading() as session:
        items = [
            i
            for i in faq_items(session, _console(request).settings, None)
            if i["state"] != "disabled"
        ]
    return Response(
        _workbook(items),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="faq.xlsx"'},
    )


@router.get("/faq/template.xlsx", summary="问答库导入模板（Excel）")
def faq_template(actor: KnowledgeStaff) -> Response:
    return Response(
        _workbook([]),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="faq-template.xlsx"'},
    )


def _row_entry(values: list[Any]) -> dict[str, Any]:
    cells = [("" if v is None else str(v)).strip() for v in (list(values) + [None] * 6)[:6]]
    sources = []
    for line in cells[4].splitlines():
        if not line.strip():
            continue
        doc, _, clause = line.strip().rpartition(" ")
        if not doc or not clause:
            raise ConsoleError(422, msg("excel.bad_source", value=line.strip()))
        sources.append({"doc": doc.strip(), "clause": clause.strip()})
    date = cells[5][:10] or None
    if date is not None and service._parse_date(date) is None:
        raise ConsoleError(422, msg("errors.date_invalid", value=cells[5]))
    return {
        "id": cells[0],
        "topic": cells[1],
        "questions": [q.strip() for q in cells[2].splitlines() if q.strip()],
        "answer": cells[3],
        "sources": sources,
        "date": date,
    }


@router.post("/faq/import", summary="导入问答库（Excel，逐行报告）")
async def import_faq(
    request: Request,
    state: State,
    actor: KnowledgeStaff,
    file: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    from openpyxl import load_workbook

    console = _console(request)
    if file is None:
        raise ConsoleError(422, msg("errors.file_missing"))
    raw = await file.read(console.settings.console_upload_max_bytes + 1)
    try:
        ws = load_workbook(io.BytesIO(raw), read_only=True).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise ConsoleError(422, msg("errors.excel_unreadable")) from exc
    headers = list(msg("excel.headers"))
    if not rows or [str(c or "").strip() for c in rows[0][: len(headers)]] != headers:
        raise ConsoleError(422, msg("errors.excel_header", expected="、".join(headers)))
    report: dict[str, Any] = {
        "created": [],
        "changed": [],
        "unchanged": [],
        "pending": [],
        "failed": [],
    }
    engine = _engine(request)
    now = state.now()
    for number, values in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in values):
            continue
        try:
            data = _row_entry(list(values))
            with state.db.writing() as session:
                exists = session.get(KbFaq, data["id"]) is not None or data[
                    "id"
                ] in service.seed_entries(console.settings)
                row, changed = save_faq(
                    session,
                    console,
                    engine,
                    actor,
                    data,
                    now,
                    state.today(),
                    create=not exists,
                    action="import",
                )
            key = "unchanged" if not changed else ("changed" if exists else "created")
            if not changed and needs_approval(console, actor) and row.pending:
                key = "pending"
            report[key].append(data["id"])
        except ConsoleError as exc:
            report["failed"].append(
                {"row": number, "message": msg("errors.excel_row", row=number, problem=exc.detail)}
            )
    job_id = None
    if report["created"] or report["changed"]:
        with state.db.writing() as session:
            job_id = console.runner.enqueue(session, actor, now)
    return {**report, "job_id": job_id}


# --- hit test -------------------------------------------------------------------------------


class HitTestIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)


@router.post("/hittest", summary="命中测试：检索结果、置信度与机器人将给出的回答")
async def hit_test(request: Request, actor: KnowledgeStaff, body: HitTestIn) -> dict[str, Any]:
    from yiwen.console.hittest import explain

    engine = _engine(request)
    return await run_in_threadpool(explain, engine, body.question)


def install(app: FastAPI, settings: KnowledgeSettings, runner: JobRunner) -> None:
    """Mount the console API on the app and keep its state on ``app.state``."""
    setattr(app.state, CONSOLE_KEY, Console(settings, runner))
    app.add_exception_handler(ConsoleError, console_error)
    app.include_router(router)
