"""The knowledge console's work: documents, FAQ overlay, versions, audit and ingest jobs.

Why here (``yiwen``) and not in ``tickets``: the console needs the loaders (knowledge),
the index build and the engine (retrieval), and the ticket database with its tokens and
audit log (tickets); only ``yiwen`` sits above both ``retrieval`` and ``tickets``.

Why jobs live in a table polled by one worker thread of the app process: a job
survives a restart (a job found ``running`` at start is run again: a build is
idempotent), the state a browser polls is the same whichever worker answers, and one
thread means builds never race on the index folder. FAQ edits coalesce into the job
already queued, which is the debounce: ten edits in a row cost one build.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import KnowledgeSettings
from knowledge.chunking import chunk_document
from knowledge.faq import FaqEntry, FaqError, load_faq
from knowledge.loaders import LoadError, detect_kind, load_document
from knowledge.model import Document
from knowledge.overlay import write_documents, write_faq
from knowledge.superseded import find_repeals
from tickets.db import Database
from tickets.models import KbChunk, KbDocument, KbFaq, KbJob, KbVersion
from tickets.services.auth import audit
from tickets.services.workflow import Actor

log = logging.getLogger("yiwen.console")

MESSAGES_FILE = Path(__file__).with_name("messages.yml")
ALLOWED_SUFFIXES = (".docx", ".pdf", ".txt", ".md")
DOC_FIELDS = (
    "title",
    "date",
    "issuer",
    "region",
    "effective_from",
    "repealed_on",
    "superseded_by",
)


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MESSAGES_FILE.read_text("utf-8"))
    return data


def msg(key: str, **values: Any) -> Any:
    """The console text at ``section.key``, formatted."""
    section, _, name = key.partition(".")
    text = _messages()[section][name]
    return text.format(**values) if values and isinstance(text, str) else text


class ConsoleError(Exception):
    """A refusal with an HTTP status and a Chinese explanation (the router maps it)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# --- snapshots, versions and audit ---------------------------------------------------------


def document_snapshot(doc: KbDocument) -> dict[str, Any]:
    """Everything a rollback must restore: metadata, state, text and disabled chunks."""
    return {
        "title": doc.title,
        "date": _iso(doc.date),
        "issuer": doc.issuer,
        "region": doc.region,
        "effective_from": _iso(doc.effective_from),
        "repealed_on": _iso(doc.repealed_on),
        "superseded_by": doc.superseded_by,
        "state": doc.state,
        "filename": doc.filename,
        "kind": doc.kind,
        "text": doc.text,
        "disabled_chunks": sorted(c.chunk_id for c in doc.chunks if c.disabled),
    }


def faq_snapshot(row: KbFaq) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.topic,
        "questions": list(row.questions),
        "answer": row.answer,
        "sources": [dict(s) for s in row.sources],
        "date": _iso(row.date),
        "state": row.state,
    }


def record(
    session: Session,
    actor: Actor,
    *,
    entity: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: dt.datetime,
    version: int | None = None,
    client_ip: str | None = None,
) -> None:
    """Audit one change (before/after) and, when versioned, keep the new snapshot."""
    audit(
        session,
        actor,
        f"{entity}.{action}"[:32],
        now=now,
        client_ip=client_ip,
        entity=entity,
        entity_id=entity_id,
        detail={"before": before, "after": after},
    )
    if version is not None and after is not None:
        session.add(
            KbVersion(
                entity=entity,
                entity_id=entity_id,
                version=version,
                snapshot=after,
                action=action,
                at=now,
                actor=actor.label,
            )
        )


def versions(session: Session, entity: str, entity_id: str) -> list[KbVersion]:
    return list(
        session.scalars(
            select(KbVersion)
            .where(KbVersion.entity == entity, KbVersion.entity_id == entity_id)
            .order_by(KbVersion.version)
        )
    )


def _lines(snapshot: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in snapshot.items():
        if key == "text" or key == "answer":
            out.append(f"{key}:")
            out.extend(f"  {line}" for line in str(value or "").splitlines())
        else:
            out.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return out


def diff(old: dict[str, Any], new: dict[str, Any], old_name: str, new_name: str) -> list[str]:
    """A unified line diff of two snapshots (metadata one line per field, text by line)."""
    return list(
        difflib.unified_diff(_lines(old), _lines(new), old_name, new_name, lineterm="", n=2)
    )


# --- documents ------------------------------------------------------------------------------


def _parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def as_document(doc: KbDocument, today: dt.date) -> Document:
    """The console document as the index sees it, repeal applied when its date has passed.

    Why through ``superseded_by``: the engine already demotes and labels superseded
    text (``Engine._current_first``, lead candidates, citations' 已废止 note), so a
    console repeal date flows into exactly the same path as a detected repeal.
    """
    meta: dict[str, Any] = dict(doc.meta or {})
    meta["disabled_chunks"] = [c.chunk_id for c in doc.chunks if c.disabled]
    meta["region"] = doc.region
    meta["effective_from"] = _iso(doc.effective_from)
    meta["repealed_on"] = _iso(doc.repealed_on)
    meta["console"] = True
    superseded_by = None
    if doc.repealed_on is not None and doc.repealed_on <= today:
        by = doc.superseded_by or ""
        reason = (
            msg("repeal.reason_by", date=doc.repealed_on.isoformat(), by=by)
            if by
            else msg("repeal.reason", date=doc.repealed_on.isoformat())
        )
        superseded_by = by or reason
        meta["superseded"] = {
            "by_title": superseded_by,
            "by_doc": None,
            "article": "",
            "reason": reason,
            "source": "console",
        }
    return Document(
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text,
        path=f"console/{doc.id}/{doc.filename}",
        kind=detect_kind(doc.text),  # type: ignore[arg-type]
        date=_iso(doc.date),
        issuer=doc.issuer,
        superseded_by=superseded_by,
        meta=meta,
    )


def rechunk(doc: KbDocument, disabled: set[str] | frozenset[str] = frozenset()) -> None:
    """Replace the document's chunks with what the chunker makes of its current text."""
    parsed = Document(
        doc_id=doc.doc_id,
        title=doc.title,
        text=doc.text,
        path=doc.stored_path,
        kind=detect_kind(doc.text),  # type: ignore[arg-type]
    )
    doc.kind = parsed.kind
    doc.chunks.clear()
    for c in chunk_document(parsed):
        doc.chunks.append(
            KbChunk(
                chunk_id=c.chunk_id,
                position=c.position,
                label=c.label,
                heading=c.heading[:300],
                text=c.text,
                disabled=c.chunk_id in disabled,
            )
        )


def parse_upload(path: Path, original_name: str) -> Document:
    """Run the loader on a stored upload; a LoadError becomes a ConsoleError in Chinese.

    The loader's message names the stored path; staff know the file by its own name.
    """
    try:
        parsed = load_document(path)
    except LoadError as exc:
        raise ConsoleError(422, str(exc).replace(str(path), original_name)) from exc
    if parsed.title == path.stem:
        # No title in the file: the loader fell back to the file name, which staff
        # chose for storage, not for citation. A short first line is the title.
        first, _, rest = parsed.text.partition("\n")
        candidate = first.lstrip("#").strip()
        if candidate and len(candidate) <= 80 and "。" not in candidate and rest.strip():
            parsed.title, parsed.text = candidate, rest.strip()
        else:
            parsed.title = Path(original_name).stem
    repeals = find_repeals(parsed)
    parsed.meta["repeals"] = [{"title": t, "article": a} for t, a in repeals]
    return parsed


def store_upload(
    session: Session,
    parsed: Document,
    *,
    filename: str,
    stored_path: Path,
    actor: Actor,
    now: dt.datetime,
    state: str,
    replacing: KbDocument | None = None,
) -> KbDocument:
    """A new console document (or a new version of ``replacing``) from a parsed upload."""
    if replacing is None:
        doc = KbDocument(
            title=parsed.title[:300],
            date=_parse_date(parsed.date),
            issuer=(parsed.issuer or None),
            region=None,
            state=state,
            kind=parsed.kind,
            filename=filename[:300],
            stored_path=str(stored_path),
            text=parsed.text,
            meta=parsed.meta,
            version=1,
            created_at=now,
            updated_at=now,
            updated_by=actor.label,
        )
        session.add(doc)
        session.flush()
        rechunk(doc)
        record(
            session,
            actor,
            entity="document",
            entity_id=str(doc.id),
            action="upload",
            before=None,
            after=document_snapshot(doc),
            now=now,
            version=1,
        )
        return doc
    doc = replacing
    before = document_snapshot(doc)
    doc.text = parsed.text
    doc.filename = filename[:300]
    doc.stored_path = str(stored_path)
    doc.meta = parsed.meta
    doc.title = parsed.title[:300]
    doc.date = _parse_date(parsed.date) or doc.date
    doc.issuer = parsed.issuer or doc.issuer
    doc.state = state
    doc.version += 1
    doc.updated_at, doc.updated_by = now, actor.label
    rechunk(doc)
    record(
        session,
        actor,
        entity="document",
        entity_id=str(doc.id),
        action="replace",
        before=before,
        after=document_snapshot(doc),
        now=now,
        version=doc.version,
    )
    return doc


def apply_snapshot(doc: KbDocument, snapshot: dict[str, Any]) -> None:
    """Restore a document from a version snapshot (rollback)."""
    doc.title = snapshot["title"]
    doc.date = _parse_date(snapshot.get("date"))
    doc.issuer = snapshot.get("issuer")
    doc.region = snapshot.get("region")
    doc.effective_from = _parse_date(snapshot.get("effective_from"))
    doc.repealed_on = _parse_date(snapshot.get("repealed_on"))
    doc.superseded_by = snapshot.get("superseded_by")
    doc.state = snapshot.get("state", doc.state)
    doc.filename = snapshot.get("filename", doc.filename)
    if snapshot.get("text") is not None and snapshot["text"] != doc.text:
        doc.text = snapshot["text"]
        rechunk(doc, set(snapshot.get("disabled_chunks", [])))
    else:
        disabled = set(snapshot.get("disabled_chunks", []))
        for c in doc.chunks:
            c.disabled = c.chunk_id in disabled


# --- FAQ ------------------------------------------------------------------------------------


def seed_entries(settings: KnowledgeSettings) -> dict[str, FaqEntry]:
    """The shipped FAQ (``knowledge/faq/*.yml``), by id; empty when FAQ is off."""
    if not settings.use_faq or not settings.faq_dir.is_dir():
        return {}
    return {e.id: e for e in load_faq(settings.faq_dir)}


def entry_dict(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "topic": entry.topic,
        "questions": list(entry.questions),
        "answer": entry.answer,
        "sources": [{"doc": s.doc, "clause": s.clause} for s in entry.sources],
        "date": _iso(entry.date),
    }


def validate_entry(data: dict[str, Any]) -> FaqEntry:
    """The entry as the index would load it, or a 422 listing every problem in Chinese."""
    try:
        return FaqEntry.model_validate({**data, "file": "console"})
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            problems = "；".join(
                f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in errors()
            )
        else:
            problems = str(exc)
        raise ConsoleError(422, msg("errors.faq_invalid", problems=problems)) from exc


# --- export and build -----------------------------------------------------------------------


def export(db: Database, settings: KnowledgeSettings, today: dt.date) -> None:
    """Write published console content where every build reads it (``knowledge.overlay``)."""
    target = settings.console_export_dir
    with db.reading() as session:
        rows = session.scalars(
            select(KbDocument).where(KbDocument.state == "published").order_by(KbDocument.id)
        ).all()
        docs = [as_document(d, today) for d in rows]
        faq_rows = session.scalars(select(KbFaq).order_by(KbFaq.id)).all()
        entries = [
            {k: v for k, v in faq_snapshot(r).items() if k != "state"}
            for r in faq_rows
            if r.state == "published"
        ]
        disabled = [r.id for r in faq_rows if r.state == "disabled"]
    write_documents(target, docs)
    write_faq(target, entries, disabled)


def export_is_current(db: Database, settings: KnowledgeSettings, today: dt.date) -> bool:
    """Whether the export on disk already says what the database says today.

    Why compare the rendered export: a repeal date that has passed changes it with no
    one touching the database, and this is how the hourly check notices. No export on
    disk says the same as an empty one: a fresh data dir with no console documents is
    current, and starting an app on it must not rebuild the whole index.
    """
    target = settings.console_export_dir
    probe = settings.console_dir / "probe"
    with db.reading() as session:
        rows = session.scalars(
            select(KbDocument).where(KbDocument.state == "published").order_by(KbDocument.id)
        ).all()
        docs = [as_document(d, today) for d in rows]
    write_documents(probe, docs)
    new = (probe / "documents.jsonl").read_bytes()
    old_path = target / "documents.jsonl"
    old = old_path.read_bytes() if old_path.is_file() else b""
    return old == new


#: Share of a job's progress bar each build stage fills, in order.
STAGES = {"分词": (0.05, 0.2), "向量化": (0.2, 0.9), "常见问题向量化": (0.9, 0.97)}


class JobRunner:
    """One worker thread running queued jobs from ``staff_kb_jobs``, oldest first."""

    def __init__(
        self,
        db: Database,
        settings: KnowledgeSettings,
        *,
        today: Callable[[], dt.date],
        on_index: Callable[[Any, Any], None] | None = None,
        encoder: Callable[[], Any] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.today = today
        self.on_index = on_index
        self._encoder_source = encoder
        self._encoder: Any = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_check = 0.0

    # -- queue --
    def enqueue(
        self, session: Session, actor: Actor, now: dt.datetime, document_id: int | None = None
    ) -> str:
        """Queue an ingest; joins the one already waiting (debounce) unless tied to a file."""
        if document_id is None:
            waiting = session.scalars(
                select(KbJob).where(KbJob.state == "queued", KbJob.kind == "ingest").limit(1)
            ).first()
            if waiting is not None:
                return waiting.id
        job = KbJob(
            id=uuid.uuid4().hex,
            kind="ingest",
            state="queued",
            progress=0,
            message=msg("jobs.queued"),
            document_id=document_id,
            created_at=now,
            actor=actor.label,
        )
        session.add(job)
        self._wake.set()
        return job.id

    def finished_job(
        self, session: Session, actor: Actor, now: dt.datetime, document_id: int, text: str
    ) -> str:
        """A job that is done at once (an upload waiting for approval needs no build)."""
        job = KbJob(
            id=uuid.uuid4().hex,
            kind="parse",
            state="done",
            progress=1,
            message=text,
            document_id=document_id,
            created_at=now,
            finished_at=now,
            actor=actor.label,
        )
        session.add(job)
        return job.id

    # -- worker --
    def start(self) -> None:
        with self.db.writing() as session:
            for job in session.scalars(select(KbJob).where(KbJob.state == "running")):
                job.state, job.message = "queued", msg("jobs.queued")
        self._thread = threading.Thread(target=self._loop, name="console-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._last_check >= self.settings.console_recheck_s:
                    self.check_validity()
                while self.run_next():
                    pass
            except Exception:  # the worker must survive a broken job or database blip
                log.exception("console job loop")
            self._wake.wait(timeout=1.0)
            self._wake.clear()

    def check_validity(self) -> str | None:
        """Queue a re-ingest when the export is stale (e.g. a repeal date has passed)."""
        self._last_check = time.monotonic()
        if export_is_current(self.db, self.settings, self.today()):
            return None
        system = Actor(name="定时检查", role="admin", county=None)
        with self.db.writing() as session:
            return self.enqueue(session, system, dt.datetime.now(dt.UTC))

    def run_next(self) -> bool:
        """Run the oldest queued job, if any; returns whether one ran."""
        with self.db.writing() as session:
            job = session.scalars(
                select(KbJob).where(KbJob.state == "queued").order_by(KbJob.created_at).limit(1)
            ).first()
            if job is None:
                return False
            job.state, job.progress, job.message = "running", 0, msg("jobs.exporting")
            job_id = job.id
        self._run(job_id)
        return True

    def _update(self, job_id: str, **values: Any) -> None:
        with self.db.writing() as session:
            job = session.get(KbJob, job_id)
            if job is not None:
                for key, value in values.items():
                    setattr(job, key, value)

    def encoder(self) -> Any:
        if self._encoder is None:
            if self._encoder_source is not None:
                self._encoder = self._encoder_source()
            if self._encoder is None:
                from retrieval.encoders import load_encoder

                s = self.settings
                self._encoder = load_encoder(
                    s.encoder, s.model_cache_dir, threads=s.encoder_threads
                )
        return self._encoder

    def _run(self, job_id: str) -> None:
        from retrieval.build import build

        s = self.settings
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            low, high = STAGES.get(stage, (0.0, 0.97))
            share = low + (high - low) * (done / total if total else 1.0)
            now = time.monotonic()
            if now - last[0] >= 0.3 or done >= total:
                last[0] = now
                self._update(
                    job_id, progress=round(share, 4), message=msg("jobs.building", stage=stage)
                )

        try:
            export(self.db, s, self.today())
            self._update(job_id, progress=0.05)
            index, report = build(
                s.corpus_dirs,
                s.faq_dir if s.use_faq else None,
                self.encoder(),
                s.index_dir,
                progress=progress,
                log=lambda line: log.info("%s", line),
                console=s.console_export_dir,
            )
            if self.on_index is not None:
                self.on_index(index, self.encoder())
        except (FaqError, ValueError, OSError, RuntimeError) as exc:
            self._update(
                job_id,
                state="failed",
                message=msg("jobs.failed", error=str(exc))[:1000],
                finished_at=dt.datetime.now(dt.UTC),
            )
            log.warning("console job %s failed: %s", job_id, exc)
            return
        self._update(
            job_id,
            state="done",
            progress=1,
            message=msg(
                "jobs.done",
                documents=report.documents,
                chunks=report.chunks,
                reused=index.manifest.reused_vectors,
                seconds=report.seconds,
            ),
            finished_at=dt.datetime.now(dt.UTC),
        )

    def wait(self, job_id: str, timeout: float = 120) -> KbJob:
        """Block until the job finishes (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db.reading() as session:
                job = session.get(KbJob, job_id)
                assert job is not None
                if job.state in ("done", "failed") or time.monotonic() > deadline:
                    return job
            time.sleep(0.2)


def snapshot_json(obj: Any) -> Any:
    """JSON-safe copy of a dataclass or mapping (for API responses)."""
    return json.loads(json.dumps(asdict(obj) if hasattr(obj, "__dataclass_fields__") else obj))
