"""The hybrid index on disk: chunks, a BM25 index over jieba tokens, FAISS vectors.

Layout on disk: ``index`` is a symbolic link to the version it serves,
``index.versions/v-<version>/`` (see :func:`publish`). Each version folder holds::

    manifest.json      identity of the inputs and the version (written last)
    chunks.jsonl       one Chunk per line, in index order
    bm25/              bm25s sparse matrices
    passages.faiss + passage_owner.npy   one vector per retrieval unit -> chunk row
    passage_keys.npy   a 64-bit digest of each unit's text, so a rebuild can reuse its vector
    faq_questions.faiss + faq_owner.npy   one vector per FAQ question variant -> chunk row

Why retrieval units: a long article or measure mixes several topics, and one
vector for all of it matches none of them well. Each chunk is embedded whole and,
when long, also as windows of a few sentences; a chunk scores as its best unit,
but the user is always shown (and cited) the whole article.

Why FAQ questions get their own vectors: a citizen's question is compared with
the curated question variants query-to-query, which is far more precise than
query-to-passage similarity, while the FAQ answer still competes as a passage.

Why reuse vectors on rebuild: embedding is the slow stage (minutes for the core
corpus on two cores, hours for the law collection), while most rebuilds change
little: one new FAQ entry, one edited notice, a new tokenizer. A unit whose exact
text was embedded by the same encoder in the previous build gets its vector back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import faiss
import numpy as np

from knowledge.model import Chunk
from retrieval.encoders import Encoder
from retrieval.manifest import INDEX_FORMAT, Manifest, next_version
from retrieval.tokenizer import tokenize_many

# Exact search stays fast up to this many vectors (DESIGN: FlatIP 13.5 ms at 100k);
# above it an HNSW graph keeps single-query latency under a millisecond.
FLAT_MAX_VECTORS = 50_000
HNSW_M = 32

VERSION_PREFIX = "v-"  # <index>.versions/v-<manifest.version>/
BUILD_PREFIX = ".build-"  # a version being written (never read)
KEEP_VERSIONS = 3  # the current one and two before it (see prune_versions)
ABANDONED_BUILD_S = 3600.0

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def lexical_text(chunk: Chunk) -> str:
    """Text BM25 sees: title and labels help queries that name a law or article."""
    questions = " ".join(chunk.meta.get("questions", []))
    return " ".join(
        x for x in (chunk.title, chunk.heading, chunk.label, questions, chunk.text) if x
    )


def dense_text(chunk: Chunk) -> str:
    """Text the encoder sees for a passage (the encoder adds its own prefix)."""
    head = f"{chunk.title} {chunk.heading} {chunk.label}".strip()
    return f"{head}\n{chunk.text}" if head else chunk.text


UNIT_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?\n])")


def dense_units(chunk: Chunk, max_chars: int = UNIT_CHARS) -> list[str]:
    """Texts embedded for ``chunk``: the whole chunk, plus sentence windows if it is long."""
    whole = dense_text(chunk)
    if len(chunk.text) <= max_chars:
        return [whole]
    windows: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(chunk.text) if s.strip()):
        if current and len(current) + len(sentence) > max_chars:
            windows.append(current)
            current = sentence
        else:
            current += sentence
    if current:
        windows.append(current)
    if len(windows) < 2:
        return [whole]
    head = f"{chunk.title} {chunk.label}".strip()
    return [whole] + [f"{head}\n{w}" for w in windows]


def unit_keys(texts: Sequence[str]) -> np.ndarray:
    """64-bit digests of unit texts (a collision would need 2^32 units to be likely)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
            for t in texts
        ],
        dtype=np.uint64,
    )


@dataclass
class PreviousVectors:
    """Vectors of the last build, offered to the next one (same encoder only)."""

    encoder: str
    keys: np.ndarray
    vectors: faiss.Index

    @classmethod
    def load(cls, directory: Path) -> PreviousVectors | None:
        """The reusable part of an index folder, or ``None`` if there is none."""
        try:
            manifest = Manifest.load(directory / "manifest.json")
            keys = np.load(directory / "passage_keys.npy")
            vectors = faiss.read_index(str(directory / "passages.faiss"))
        except (OSError, ValueError, TypeError, RuntimeError):
            return None
        if vectors.ntotal != len(keys):
            return None
        return cls(f"{manifest.encoder}@{manifest.dim}", keys, vectors)

    def take(self, encoder: Encoder, keys: np.ndarray) -> dict[int, np.ndarray]:
        """Vectors for the given unit keys that the previous build holds, by position."""
        if self.encoder != f"{encoder.name}@{encoder.dim}":
            return {}
        where = {int(k): i for i, k in enumerate(self.keys)}
        found = {pos: where[int(k)] for pos, k in enumerate(keys) if int(k) in where}
        return {pos: self.vectors.reconstruct(i) for pos, i in found.items()}


def _new_faiss(dim: int, n: int) -> faiss.Index:
    if n > FLAT_MAX_VECTORS:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        return index
    return faiss.IndexFlatIP(dim)


@dataclass
class HybridIndex:
    chunks: list[Chunk]
    bm25: bm25s.BM25
    passages: faiss.Index
    passage_owner: np.ndarray  # row in ``chunks`` for each passage vector (retrieval unit)
    faq_questions: faiss.Index
    faq_owner: np.ndarray  # row in ``chunks`` for each FAQ question vector
    manifest: Manifest
    passage_keys: np.ndarray | None = None  # unit_keys() of each passage vector's text

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        encoder: Encoder,
        manifest: Manifest,
        progress: Progress | None = None,
        batch_size: int = 32,
        previous: PreviousVectors | None = None,
    ) -> HybridIndex:
        """Tokenise, embed and index ``chunks``; ``manifest`` gets the counts filled in.

        Units whose text ``previous`` already embedded with this encoder are not
        embedded again; ``manifest.reused_vectors`` says how many were reused.
        """
        started = time.perf_counter()
        chunks = list(chunks)
        n = len(chunks)
        if n == 0:
            raise ValueError("没有可索引的内容：请检查文档目录是否为空或全部导入失败。")

        corpus_tokens = [
            tokens or ["<empty>"]
            for tokens in tokenize_many(
                [lexical_text(c) for c in chunks],
                progress=(lambda done, total: progress("分词", done, total)) if progress else None,
            )
        ]
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        bm25.index(corpus_tokens, show_progress=False)

        done = 0

        unit_texts: list[str] = []
        unit_owner: list[int] = []
        for row, c in enumerate(chunks):
            for text in dense_units(c):
                unit_texts.append(text)
                unit_owner.append(row)
        units = len(unit_texts)

        def tick(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress("向量化", done, units)

        keys = unit_keys(unit_texts)
        known = previous.take(encoder, keys) if previous is not None else {}
        vectors = np.empty((units, encoder.dim), dtype=np.float32)
        for pos, vector in known.items():
            vectors[pos] = vector
        todo = [pos for pos in range(units) if pos not in known]
        tick(len(known))
        if todo:
            vectors[todo] = encoder.encode_passages(
                [unit_texts[pos] for pos in todo], batch_size=batch_size, progress=tick
            )
        passages = _new_faiss(encoder.dim, units)
        passages.add(np.ascontiguousarray(vectors, dtype=np.float32))

        questions: list[str] = []
        owner: list[int] = []
        for row, c in enumerate(chunks):
            for q in c.meta.get("questions", []):
                questions.append(q)
                owner.append(row)
        faq_index = faiss.IndexFlatIP(encoder.dim)
        if questions:
            if progress:
                progress("常见问题向量化", 0, len(questions))
            qv = encoder.encode_queries(questions)
            faq_index.add(np.ascontiguousarray(qv, dtype=np.float32))
            if progress:
                progress("常见问题向量化", len(questions), len(questions))

        manifest.n_chunks = n
        manifest.n_faq_questions = len(questions)
        manifest.reused_vectors = len(known)
        manifest.faiss_index = type(passages).__name__
        manifest.built_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        manifest.build_seconds = round(time.perf_counter() - started, 2)
        return cls(
            chunks,
            bm25,
            passages,
            np.asarray(unit_owner, dtype=np.int64),
            faq_index,
            np.asarray(owner, dtype=np.int64),
            manifest,
            keys,
        )

    def save(self, directory: Path) -> None:
        """Write a new version beside the old ones, then point ``directory`` at it.

        See :func:`publish` for why a reader can never see a half-written index.
        ``manifest.version`` is set here: above the version ``directory`` holds now.
        """
        versions = versions_dir(directory)
        versions.mkdir(parents=True, exist_ok=True)
        self.manifest.version = next_version(stored_version(directory))
        tmp = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=versions))
        try:
            with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
                for c in self.chunks:
                    fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
            self.bm25.save(str(tmp / "bm25"), show_progress=False)
            faiss.write_index(self.passages, str(tmp / "passages.faiss"))
            faiss.write_index(self.faq_questions, str(tmp / "faq_questions.faiss"))
            np.save(tmp / "faq_owner.npy", self.faq_owner)
            np.save(tmp / "passage_owner.npy", self.passage_owner)
            if self.passage_keys is not None:
                np.save(tmp / "passage_keys.npy", self.passage_keys)
            final = self._seal(tmp, versions)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        publish(directory, final)

    def _seal(self, tmp: Path, versions: Path) -> Path:
        """Write the manifest last and give the folder its final, never reused name."""
        while True:
            self.manifest.save(tmp / "manifest.json")
            final = versions / f"{VERSION_PREFIX}{self.manifest.version}"
            if not final.exists():
                try:
                    tmp.rename(final)  # a rename onto a non-empty folder fails: no clobbering
                    return final
                except OSError:
                    if not final.exists():
                        raise
            # Another build took this version in the same millisecond: take the next one.
            self.manifest.version += 1

    @classmethod
    def load(cls, directory: Path) -> HybridIndex:
        """Load one version. The link is resolved once, so every file comes from the
        same folder even if an ingest points ``directory`` elsewhere meanwhile."""
        directory = Path(os.path.realpath(directory))
        manifest = Manifest.load(directory / "manifest.json")
        with (directory / "chunks.jsonl").open(encoding="utf-8") as fh:
            chunks = [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]
        bm25 = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
        passages = faiss.read_index(str(directory / "passages.faiss"))
        faq_questions = faiss.read_index(str(directory / "faq_questions.faiss"))
        owner = np.load(directory / "faq_owner.npy")
        unit_owner = np.load(directory / "passage_owner.npy")
        if (
            passages.ntotal != len(unit_owner)
            or len(owner) != faq_questions.ntotal
            or (len(unit_owner) and int(unit_owner.max()) >= len(chunks))
        ):
            raise ValueError(
                f"索引文件不完整：{directory}。请运行 `yiwen ingest --rebuild` 重建索引。"
            )
        keys_path = directory / "passage_keys.npy"
        keys = np.load(keys_path) if keys_path.is_file() else None
        return cls(chunks, bm25, passages, unit_owner, faq_questions, owner, manifest, keys)

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / "manifest.json").is_file()

    def size_on_disk(self, directory: Path) -> int:
        return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def versions_dir(directory: Path) -> Path:
    """Where the versions behind ``directory`` live: ``<directory>.versions/``."""
    return directory.with_name(directory.name + ".versions")


def stored_version(directory: Path) -> int:
    """The version ``directory`` serves now (0: none, unreadable, or saved before versions)."""
    try:
        return int(Manifest.load(directory / "manifest.json").version or 0)
    except (OSError, ValueError, TypeError):
        return 0


def publish(directory: Path, version: Path, keep: int = KEEP_VERSIONS) -> None:
    """Make ``directory`` (a symbolic link) point at the complete folder ``version``.

    Why a link to immutable versioned folders: the index is several files, and no
    file system renames several files at once. Renaming whole folders (the old
    layout: ``index`` → ``index.old``, ``index.tmp`` → ``index``) left an instant
    with no index at all, and a reader that opened ``chunks.jsonl`` of one build
    could read ``passages.faiss`` of the next. Here a version folder is complete
    before it gets its name and is never written again; ``os.replace`` of a link
    is atomic (rename(2)), so a reader resolves either the old or the new version,
    and :meth:`HybridIndex.load` reads all its files from the folder it resolved.
    The link is relative, so the data dir can be mounted anywhere (a volume).

    An index folder of the old layout (a real directory) is moved into the versions
    once; only that first switch has an instant without an index.
    """
    versions = version.parent
    link_tmp = directory.with_name(f".{directory.name}.link-{os.getpid()}-{uuid.uuid4().hex}")
    os.symlink(os.path.relpath(version, directory.parent), link_tmp)
    try:
        if directory.is_dir() and not directory.is_symlink():
            directory.rename(versions / f"{VERSION_PREFIX}0-legacy-{uuid.uuid4().hex[:8]}")
        os.replace(link_tmp, directory)
    except BaseException:
        link_tmp.unlink(missing_ok=True)
        raise
    prune_versions(versions, keep=keep, current=version)


def _version_number(path: Path) -> int:
    head = path.name[len(VERSION_PREFIX) :].split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def prune_versions(versions: Path, keep: int, current: Path) -> None:
    """Delete all but the ``keep`` newest versions (never ``current``), and dead builds.

    Why keep a few: an engine that resolved the link just before a swap is still
    reading that folder. Loaded indexes live in memory (nothing is memory-mapped),
    so once loaded, a deleted folder harms no one; a load that loses its folder
    fails, keeps the old index serving, and the next poll loads the newer one.
    """
    folders = sorted(
        (p for p in versions.glob(f"{VERSION_PREFIX}*") if p.is_dir()),
        key=_version_number,
        reverse=True,
    )
    for old in folders[keep:]:
        if old.resolve() != current.resolve():
            shutil.rmtree(old, ignore_errors=True)
    cutoff = time.time() - ABANDONED_BUILD_S
    for build in versions.glob(f"{BUILD_PREFIX}*"):
        try:
            if build.stat().st_mtime < cutoff:  # a build that crashed long ago
                shutil.rmtree(build, ignore_errors=True)
        except OSError:
            pass


def manifest_for(
    encoder: Encoder, chunker_version: str, tokenizer_hash: str, corpus_hash: str, faq_hash: str
) -> Manifest:
    return Manifest(
        format=INDEX_FORMAT,
        encoder=encoder.name,
        dim=encoder.dim,
        chunker_version=chunker_version,
        tokenizer_hash=tokenizer_hash,
        corpus_hash=corpus_hash,
        faq_hash=faq_hash,
    )
