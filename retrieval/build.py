"""Turn configured folders into a valid on-disk index, rebuilding only when inputs changed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.chunking import CHUNKER_VERSION, chunk_document
from knowledge.faq import faq_to_chunks, load_faq
from knowledge.loaders import LoadError, load_corpus
from knowledge.overlay import apply_faq_overlay, export_files, load_documents
from knowledge.superseded import CONFIG_PATH as SUPERSEDED_CONFIG
from knowledge.superseded import mark_superseded
from retrieval.encoders import Encoder
from retrieval.index import HybridIndex, PreviousVectors, Progress, manifest_for
from retrieval.manifest import Manifest, describe, hash_files
from retrieval.tokenizer import LEXICAL_VERSION, dictionary_files

Log = Callable[[str], None]


@dataclass
class BuildReport:
    """What an ingest did, for the CLI summary and the benchmark."""

    documents: int = 0
    chunks: int = 0
    faq_entries: int = 0
    errors: list[LoadError] = field(default_factory=list)
    seconds: float = 0.0
    rebuilt: bool = False
    reason: str = ""


def source_files(paths: Iterable[Path]) -> list[Path]:
    """Every file under ``paths`` (files or folders), sorted, hidden files skipped.

    Unsupported files are included on purpose: the loader reports each one, and a
    new or removed file of any kind changes the corpus hash.
    """
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
    return sorted(set(found))


def expected_manifest(
    corpus: Iterable[Path], faq_dir: Path | None, encoder: Encoder, console: Path | None = None
) -> tuple[Manifest, list[Path]]:
    files = source_files(corpus)
    faq_files = sorted(faq_dir.glob("*.yml")) if faq_dir and faq_dir.is_dir() else []
    # The console's export is an input like any file: a change there means a rebuild.
    exported = export_files(console)
    if faq_files:
        faq_files += [p for p in exported if p.suffix == ".json"]
    manifest = manifest_for(
        encoder,
        chunker_version=CHUNKER_VERSION,
        tokenizer_hash=f"{LEXICAL_VERSION}:{hash_files(dictionary_files())}",
        corpus_hash=hash_files(
            files + [SUPERSEDED_CONFIG] + [p for p in exported if p.suffix == ".jsonl"]
        ),
        faq_hash=hash_files(faq_files) if faq_files else "none",
    )
    manifest.sources = [f.name for f in files]
    return manifest, files


def build(
    corpus: Iterable[Path],
    faq_dir: Path | None,
    encoder: Encoder,
    index_dir: Path,
    progress: Progress | None = None,
    log: Log = print,
    reuse: bool = True,
    console: Path | None = None,
) -> tuple[HybridIndex, BuildReport]:
    """Build and save the index; ``reuse`` takes over unchanged vectors of the last build.

    ``console`` is the staff console's export folder (``knowledge.overlay``): its
    documents join the corpus, minus the chunks staff disabled, and its FAQ overlay
    edits the seed FAQ.
    """
    started = time.perf_counter()
    corpus = list(corpus)
    manifest, _files = expected_manifest(corpus, faq_dir, encoder, console)
    report = BuildReport(rebuilt=True)
    docs, errors = load_corpus(list(corpus))
    for err in errors:
        log(f"  ✗ {err}")
    docs = mark_superseded(docs + load_documents(console))
    chunks = [
        c
        for d in docs
        for c in chunk_document(d)
        if c.chunk_id not in d.meta.get("disabled_chunks", ())
    ]
    if faq_dir is not None and faq_dir.is_dir():
        entries = apply_faq_overlay(load_faq(faq_dir), console)
        by_id = {d.doc_id: d for d in docs}
        for fc in faq_to_chunks(entries):
            # Cite the primary source by its real title (e.g. 中华人民共和国…) when indexed.
            src = by_id.get(fc.source_doc or "")
            if src is not None:
                fc.title, fc.date = src.title, fc.date or src.date
                # A curated answer resting on a repealed text is out of date with it.
                fc.superseded_by = src.superseded_by
            chunks.append(fc)
        report.faq_entries = len(entries)
    manifest.n_documents = len(docs)
    previous = PreviousVectors.load(index_dir) if reuse else None
    index = HybridIndex.build(chunks, encoder, manifest, progress=progress, previous=previous)
    if manifest.reused_vectors:
        log(f"  沿用上次索引中文本未变的向量：{manifest.reused_vectors} 条")
    index.save(index_dir)
    report.documents = len(docs)
    report.chunks = len(chunks)
    report.errors = errors
    report.seconds = time.perf_counter() - started
    return index, report


def open_index(
    corpus: Iterable[Path],
    faq_dir: Path | None,
    encoder: Encoder,
    index_dir: Path,
    rebuild: bool = False,
    progress: Progress | None = None,
    log: Log = print,
    console: Path | None = None,
) -> tuple[HybridIndex, BuildReport]:
    """Load the index if it matches its inputs; otherwise say why and rebuild it."""
    corpus = list(corpus)
    expected, _ = expected_manifest(corpus, faq_dir, encoder, console)
    reason = "按要求重建"
    if not rebuild and HybridIndex.exists(index_dir):
        try:
            stored = Manifest.load(index_dir / "manifest.json")
            diffs = stored.differences(expected)
        except (OSError, ValueError, TypeError) as exc:
            diffs, reason = ["format"], f"清单无法读取（{exc}）"
        if not diffs:
            try:
                index = HybridIndex.load(index_dir)
                return index, BuildReport(
                    documents=stored.n_documents,
                    chunks=stored.n_chunks,
                    reason="索引与输入一致，直接加载",
                )
            except (OSError, ValueError, RuntimeError) as exc:  # faiss raises RuntimeError
                reason = f"索引文件损坏（{exc}）"
        else:
            reason = describe(diffs)
        log(f"索引已过期：{reason}。正在重建…")
    elif not rebuild:
        reason = "尚未建立索引"
        log(f"{reason}，正在构建…")
    # --rebuild means "trust nothing from before": embed everything again.
    index, report = build(
        corpus,
        faq_dir,
        encoder,
        index_dir,
        progress=progress,
        log=log,
        reuse=not rebuild,
        console=console,
    )
    report.reason = reason
    return index, report
