"""The reranker: features, identity without a model, reordering rules, the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.engine import Hit
from retrieval.rerank import FEATURE_NAMES, MODEL_PATH, PIN_SCORE, Reranker, features


def _hit(doc: str, text: str, score: float, dense: float = 0.8, bm25: float = 0.5) -> Hit:
    return Hit(
        doc=doc,
        text=text,
        score=score,
        citation=f"《{doc}》",
        chunk_id=doc,
        title=doc,
        label="第1段",
        date=None,
        kind="text",
        dense=dense,
        bm25=bm25,
    )


QUESTION = "失业保险金的申领期限是多久？"
HITS = [
    _hit("a", "就业补贴按每人每月300元发放。", 1.2, 0.85, 1.0),
    _hit("b", "失业保险金申领期限为失业之日起60日内，逾期不予受理。", 1.0, 0.84, 0.6),
    _hit("c", "办理流程：1、提交申请；2、审核；3、发放。", -0.5, 0.80, 0.1),
]


def test_features_shape_and_question_wording_cues() -> None:
    x = features(QUESTION, HITS)
    assert x.shape == (3, len(FEATURE_NAMES))
    col = {n: x[:, i] for i, n in enumerate(FEATURE_NAMES)}
    assert col["rank"].tolist() == [0, 1, 2]
    assert col["fused_gap"][0] == 0 and col["dense_gap"][0] == 0
    # the passage that repeats the question's wording scores highest on overlap
    assert np.argmax(col["bi_cov"]) == 1 and np.argmax(col["lcs_len"]) == 1
    assert col["bi_cov_gap"][1] == 0
    # "期限/多久" asks for a time; only passage b offers one
    assert col["q_when"].tolist() == [1, 1, 1]
    assert col["cue_match"].tolist() == [0, 1, 0]
    assert col["p_enum"][2] == 1


def test_features_of_empty_list_and_flat_scores() -> None:
    assert features(QUESTION, []).shape == (0, len(FEATURE_NAMES))
    flat = [_hit("a", "甲", 1.0), _hit("b", "乙", 1.0)]
    x = features("", flat)
    assert np.isfinite(x).all()


def test_missing_model_is_identity(tmp_path: Path) -> None:
    r = Reranker.load(tmp_path / "none.txt")
    assert not r.active
    out = r.rerank(QUESTION, HITS)
    assert out == HITS and out is not HITS


@pytest.fixture
def toy_model(tmp_path: Path) -> Path:
    """A ranker that learned 'more question bigrams in the passage is better'."""
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    n_lists, size = 200, 5
    x = rng.random((n_lists * size, len(FEATURE_NAMES))).astype(np.float32)
    bi = FEATURE_NAMES.index("bi_cov")
    y = np.zeros(n_lists * size, dtype=int)
    for g in range(n_lists):
        y[g * size + int(np.argmax(x[g * size : (g + 1) * size, bi]))] = 1
    model = lgb.LGBMRanker(
        objective="lambdarank", n_estimators=30, num_leaves=4, min_child_samples=5, verbose=-1
    )
    model.fit(x, y, group=[size] * n_lists, feature_name=FEATURE_NAMES)
    path = tmp_path / "toy.txt"
    model.booster_.save_model(str(path))
    path.with_suffix(".json").write_text(json.dumps({"depth": 3}), "utf-8")
    return path


def test_model_reorders_within_depth_and_keeps_the_tail(toy_model: Path) -> None:
    r = Reranker.load(toy_model)
    assert r.active and r.depth == 3
    tail = _hit("z", "尾部", -3.0)
    out = r.rerank(QUESTION, [*HITS, tail])
    assert out[0].doc == "b"  # the passage that answers the question
    assert {h.doc for h in out[:3]} == {"a", "b", "c"} and out[3] is tail
    assert [h.score for h in out if h.doc == "b"] == [1.0]  # hits are not modified


def test_faq_lead_stays_first(toy_model: Path) -> None:
    faq = _hit("faq", "常见问题答案", PIN_SCORE + 0.95)
    out = Reranker.load(toy_model).rerank(QUESTION, [faq, *HITS[:2]])
    assert out[0] is faq and out[1].doc == "b"


def test_model_with_other_features_is_refused(toy_model: Path) -> None:
    text = toy_model.read_text("utf-8").replace("feature_names=rank ", "feature_names=old ")
    toy_model.write_text(text, "utf-8")
    with pytest.raises(ValueError, match="differ"):
        Reranker.load(toy_model)


def test_shipped_model_matches_the_features() -> None:
    if not MODEL_PATH.is_file():
        pytest.skip("no shipped reranker model")
    pytest.importorskip("lightgbm")
    meta = json.loads(MODEL_PATH.with_suffix(".json").read_text("utf-8"))
    assert meta["features"] == FEATURE_NAMES
    assert MODEL_PATH.stat().st_size < 20 * 2**20
    r = Reranker.load()
    assert r.active and r.depth == meta["depth"]
    assert len(r.rerank(QUESTION, HITS)) == len(HITS)
