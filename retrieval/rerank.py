"""Learned reranking of the engine's top candidates (LightGBM lambdarank).

Why a second stage: the fused score weighs dense and BM25 evidence with two fixed
weights for every question, while whether a passage *answers* a question also shows
in cues the first stage never looks at: how much of the question's wording the
passage repeats (and whether it repeats it at its start, as answer documents often
do), whether the passage carries the kind of thing the question asks for (a date
for 何时, an amount for 多少, steps for 如何), and how far ahead of the others each
score is. A small gradient-boosted ranker over those features reorders the first
``depth`` hits; everything else about the hits is left as the engine made it.

The model is trained only on data outside the evaluation sets
(``bench/train_reranker.py``: NCP policy QA questions against their policy
documents' answer spans); ``bench/eval_reranker.py`` measures it on gov_qa.

The module is a pure function of (question, hits): it does not touch the engine,
so it can be switched on or off by whoever calls ``Engine.search``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.normalize import normalize_text

if TYPE_CHECKING:
    from retrieval.engine import Hit

MODEL_PATH = Path(__file__).resolve().parent / "reranker.txt"
DEPTH = 30  # hits reordered per question; the rest keep their place behind them
# Hits an FAQ paraphrase put first stay first. The engine adds FAQ_LEAD (100) to a
# standardised score that may be negative, so the line is drawn at half of it.
PIN_SCORE = 50.0
HEAD_CHARS = 60  # "the passage restates the question at its start"

# Characters that carry no topic: function words and the question's own form words.
# Dropping them keeps "how much of the question does the passage repeat" about content.
_STOP_CHARS = set("的了是在和与及或并就也都而且吗呢吧啊呀么个这那其之此该为对把被将从以于等有")
_FORM_CHARS = set("如何怎么样什哪些谁几多少吗否请问能可")
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)

# Answer-type cues: what a question asks for, and what a passage offers.
_QTYPES: dict[str, re.Pattern[str]] = {
    "how": re.compile(r"如何|怎么|怎样|怎办|办法|方法|措施|流程|步骤|程序|途径|方式"),
    "what": re.compile(r"什么|何种|哪些|哪个|哪家|哪类|内容|包括"),
    "when": re.compile(r"何时|什么时候|时间|期限|多久|多长时间|几天|截止|日期|哪天"),
    "where": re.compile(r"哪里|哪儿|何处|地点|地址|在哪|去哪|哪个部门|窗口"),
    "amount": re.compile(r"多少|金额|标准|费用|补贴|收费|比例|几|额度|上限"),
    "yesno": re.compile(r"是否|能否|可否|能不能|可不可以|吗|有没有|要不要|需不需要"),
    "why": re.compile(r"为什么|为何|原因|怎么回事"),
    "who": re.compile(r"谁|哪些人|对象|条件|资格|人员"),
}
_PCUES: dict[str, re.Pattern[str]] = {
    "date": re.compile(r"\d{1,4}\s*[年月日]|工作日|[日天周月]内|之前|以前|起"),
    "money": re.compile(r"\d[\d.,]*\s*(?:元|万|亿|%|％)|元/|补贴|补助|奖励"),
    "digit": re.compile(r"\d"),
    "enum": re.compile(r"(?:^|[。;；:：\s])(?:\d{1,2}[、.)]|\(?[一二三四五六七八九十]{1,3}[)、])"),
    "place": re.compile(r"路|街|号|楼|室|大厅|窗口|网站|网址|APP|app|平台|电话|热线|\d{7,}"),
    "modal": re.compile(r"可以|不得|应当|必须|需要|不能|不予|禁止|允许"),
}
_CUE_FOR = {"when": "date", "amount": "money", "how": "enum", "where": "place", "yesno": "modal"}

FEATURE_NAMES: list[str] = [
    "rank",
    "rank_frac",
    "fused_z",
    "fused_gap",
    "dense_z",
    "dense_gap",
    "dense_rank",
    "bm25",
    "bm25_gap",
    "bm25_rank",
    "q_len",
    "p_len",
    "len_ratio",
    "uni_cov",
    "bi_cov",
    "bi_cov_gap",
    "head_bi_cov",
    "lcs_frac",
    "lcs_len",
    *(f"q_{name}" for name in _QTYPES),
    *(f"p_{name}" for name in _PCUES),
    "cue_match",
]


def _content(text: str) -> str:
    """Text without punctuation, spaces or topic-free characters."""
    return "".join(ch for ch in _PUNCT_RE.sub("", text) if ch not in _STOP_CHARS)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _longest_common_substring(a: str, b: str) -> int:
    """Length of the longest run of ``a`` found verbatim in ``b`` (a is the short question).

    Grows a window over ``a`` and keeps it while it occurs in ``b``: O(len(a)) substring
    searches, which Python runs in C, fast enough for 30 passages per question.
    """
    best = 0
    start = 0
    for end in range(1, len(a) + 1):
        while start < end and a[start:end] not in b:
            start += 1
        best = max(best, end - start)
    return best


def _zscores(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value; ties share the order they came in."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


def features(question: str, hits: Sequence[Hit]) -> np.ndarray:
    """Feature matrix (one row per hit, columns ``FEATURE_NAMES``) for one question.

    Why relative score features (gaps to the best, z-scores, ranks within the list):
    absolute similarity and BM25 levels depend on the corpus and the passage length,
    and the model is trained on another corpus than the one it serves; how a
    candidate compares with its rivals for the same question carries over.
    """
    n = len(hits)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    q = normalize_text(question)
    qc = _content(q)
    q_topic = {ch for ch in qc if ch not in _FORM_CHARS}
    q_bi = _bigrams(qc)
    qtypes = [1.0 if pat.search(q) else 0.0 for pat in _QTYPES.values()]
    asked = [name for name, pat in _QTYPES.items() if pat.search(q)]

    fused = np.array([h.score for h in hits], dtype=np.float64)
    dense = np.array([h.dense for h in hits], dtype=np.float64)
    bm25 = np.array([h.bm25 for h in hits], dtype=np.float64)
    rows: list[list[float]] = []
    bi_covs: list[float] = []
    for h in hits:
        text = h.text
        pc = _content(text)
        p_bi = _bigrams(pc)
        head_bi = _bigrams(_content(text[:HEAD_CHARS]))
        uni = sum(ch in pc for ch in q_topic) / len(q_topic) if q_topic else 0.0
        bi = len(q_bi & p_bi) / len(q_bi) if q_bi else 0.0
        head = len(q_bi & head_bi) / len(q_bi) if q_bi else 0.0
        lcs = _longest_common_substring(qc, pc) if qc else 0
        cues = {name: 1.0 if pat.search(text) else 0.0 for name, pat in _PCUES.items()}
        match = max((cues[_CUE_FOR[t]] for t in asked if t in _CUE_FOR), default=0.0)
        bi_covs.append(bi)
        rows.append(
            [
                math.log1p(len(q)),
                math.log1p(len(text)),
                math.log((len(text) + 1) / (len(q) + 1)),
                uni,
                bi,
                0.0,  # bi_cov_gap, filled below
                head,
                lcs / max(len(qc), 1),
                float(lcs),
                *qtypes,
                *cues.values(),
                match,
            ]
        )
    bi_arr = np.array(bi_covs)
    ranks = np.arange(n, dtype=np.float64)
    head_cols = np.column_stack(
        [
            ranks,
            ranks / n,
            _zscores(fused),
            fused.max() - fused,
            _zscores(dense),
            dense.max() - dense,
            _ranks(dense),
            bm25,
            bm25.max() - bm25,
            _ranks(bm25),
        ]
    )
    rest = np.array(rows, dtype=np.float64)
    rest[:, 5] = bi_arr.max() - bi_arr
    out = np.hstack([head_cols, rest]).astype(np.float32)
    assert out.shape[1] == len(FEATURE_NAMES)
    return out


@dataclass
class Reranker:
    """Reorders the first ``depth`` hits by a LightGBM ranking model.

    Without a model file it is the identity, so callers can always construct one.
    """

    booster: Any = None  # lightgbm.Booster, imported only when a model exists
    depth: int = DEPTH

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Reranker:
        """The model at ``path``, or the identity reranker when there is none.

        The depth it was trained for is read from the ``.json`` beside the model,
        because scores on deeper lists than it saw are not calibrated.
        """
        if not path.is_file():
            return cls()
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
        names = booster.feature_name()
        if names != FEATURE_NAMES:
            raise ValueError(f"{path}: model features {names} differ from {FEATURE_NAMES}")
        depth = DEPTH
        meta = path.with_suffix(".json")
        if meta.is_file():
            depth = int(json.loads(meta.read_text("utf-8")).get("depth", DEPTH))
        return cls(booster=booster, depth=depth)

    @property
    def active(self) -> bool:
        return self.booster is not None

    def scores(self, question: str, hits: Sequence[Hit]) -> np.ndarray:
        """Model score of each hit (higher is better); zeros without a model."""
        if not self.active or not hits:
            return np.zeros(len(hits))
        return np.asarray(self.booster.predict(features(question, hits), num_threads=1))

    def rerank(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` with the first ``depth`` reordered by the model; the same objects.

        Hits an FAQ paraphrase put first (score ≥ ``PIN_SCORE``) stay in front: the
        model never saw curated FAQ answers. ``Hit.score`` keeps the fused score,
        so callers comparing scores between hits should use the new order instead.
        """
        hits = list(hits)
        if not self.active or len(hits) < 2:
            return hits
        pinned = [h for h in hits[: self.depth] if h.score >= PIN_SCORE]
        window = [h for h in hits[: self.depth] if h.score < PIN_SCORE]
        if len(window) < 2:
            return hits
        s = self.scores(question, window)
        order = np.argsort(-s, kind="stable")
        return pinned + [window[i] for i in order] + hits[self.depth :]
