"""Search and answer: hybrid retrieval, fusion, abstention, cited answers.

The engine is process-wide (``get_engine``) because loading the encoder and the
index costs seconds; the action server and the API preload it at start-up so
no citizen waits for a cold first call. A new index is taken up without a
restart by the holder behind it (``retrieval.live``).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
import yaml

from core.replies import (
    AnswerPayload,
    Citation,
    abstention_payload,
    answer_payload,
    citation,
)
from core.settings import KnowledgeSettings, get_settings
from knowledge.authority import Authority, load_authority
from knowledge.model import Chunk
from knowledge.normalize import normalize_text
from retrieval.answer import Answer, Hit
from retrieval.answer_type import (
    QuestionType,
    detect,
    evidence_in,
    kinds_agree,
    load_types,
    prefers_law,
    prefers_local,
    strip_opener,
)
from retrieval.build import BuildReport, open_index
from retrieval.encoders import Encoder, load_encoder
from retrieval.guard import load_guard
from retrieval.index import HybridIndex
from retrieval.lead import (
    Candidate,
    Lead,
    is_heading,
    is_verdict,
    key_terms,
    overlap,
    pick_lead,
    sentences,
    term_weight,
)
from retrieval.synonyms import expand_query, load_synonyms
from retrieval.tokenizer import cjk_bigrams, tokenize

if TYPE_CHECKING:
    from retrieval.live import LiveEngine

MESSAGES_PATH = Path(__file__).resolve().parents[1] / "knowledge" / "messages.yml"
CALIBRATION_PATH = Path(__file__).resolve().parent / "calibration.json"
QUOTE_CHARS = 160  # an FAQ answer quotes the start of each article it rests on
PASSAGE_QUOTE_CHARS = 300  # a passage answer quotes more: it is the explanation


FAQ_LEAD = 100.0  # far above any standardised score: "this FAQ answer comes first"
FAQ_MIN_COVERAGE = 0.6  # share of the question's content words a leading FAQ entry must hold
LEAD_POOL = 5  # passages the lead sentence may come from (rank-weighted, retrieval.lead)
ANCHORED_OVERLAP = 0.5  # weighted share of the question's terms an anchoring sentence holds
GENERIC_SHARE = 0.1  # a key term in this share of FAQ entries names no particular subject


def _standardiser(values: list[float]) -> Callable[[float], float]:
    """z-score against ``values`` (a list's candidate scores); flat lists give 0."""
    if not values:
        return lambda _v: 0.0
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    if std < 1e-9:
        return lambda _v: 0.0
    return lambda v: (v - mean) / std


def _excerpt(text: str, limit: int) -> str:
    """Start of ``text``, cut after a sentence end when one is near the limit."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(p, 0, limit) for p in "。；;")
    return text[: cut + 1] if cut >= limit // 2 else text[:limit] + "…"


@dataclass
class FusionConfig:
    """Knobs of the fusion and abstention stages (see README, "Abstention").

    ``abstain_below`` is calibrated by ``yiwen calibrate`` and stored in
    retrieval/calibration.json; the other weights are fixed by design.
    """

    candidates: int = 50
    # Weights of the standardised dense and BM25 scores. Chosen on all three eval sets
    # (README): 0.75/0.25 lost a dev question from the top five without the FAQ.
    w_dense: float = 0.6
    w_bm25: float = 0.4
    superseded_penalty: float = 0.5  # in standard deviations: below the current text when close
    # A repealed text never comes first while a current one this close (in standard
    # deviations) is among the top five: "never let repealed text lead".
    repealed_margin: float = 2.0
    local_boost: float = 0.6  # local question, local document that states the fact
    law_boost: float = 0.3  # rights or procedure question, a law or regulation
    second_gap: float = 0.5  # a second passage is quoted when this close to the first
    # Abstention: answer only when a curated question is this close (``abstain_below``,
    # question↔question cosines) or a passage is (``abstain_dense``, question↔passage
    # cosines run lower, so the two are calibrated apart; see yiwen/calibration.py).
    abstain_below: float = 0.80
    abstain_dense: float = 0.80
    # Below the bars, a top sentence that names the question's subject and states the
    # asked-for fact still answers, if the best passage is at least this close.
    anchored_floor: float = 0.84
    faq_min: float = 0.90  # FAQ question matches below this do not vote at all
    faq_direct: float = 0.93  # FAQ question similarity above which the FAQ leads

    @classmethod
    def load(cls, path: Path = CALIBRATION_PATH) -> FusionConfig:
        cfg = cls()
        if path.is_file():
            data = json.loads(path.read_text("utf-8"))
            for k, v in data.get("fusion", {}).items():
                if hasattr(cfg, k):
                    setattr(cfg, k, type(getattr(cfg, k))(v))
        return cfg


class Engine:
    def __init__(
        self,
        index: HybridIndex,
        encoder: Encoder,
        config: FusionConfig | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        """``lock``: the lock of an Engine sharing this ``encoder`` (``retrieval.live``)."""
        self.index = index
        self.encoder = encoder
        self.config = config or FusionConfig.load()
        self.messages: dict[str, str] = yaml.safe_load(MESSAGES_PATH.read_text("utf-8"))
        # Articles longer than a chunk are split into parts sharing one label; an FAQ
        # citation quotes the whole article, so the parts are joined back here.
        self._article_text: dict[tuple[str, str], str] = {}
        self._by_doc_label: dict[tuple[str, str], Chunk] = {}
        for c in index.chunks:
            if c.kind == "faq" or not c.label:
                continue
            key = (c.doc_id, c.label)
            self._by_doc_label.setdefault(key, c)
            prev = self._article_text.get(key)
            self._article_text[key] = f"{prev}{c.text}" if prev else c.text
        self._by_id = {c.chunk_id: c for c in index.chunks}
        # The curated question behind each FAQ vector, in the order the index added them.
        self._faq_variants = [q for c in index.chunks for q in c.meta.get("questions", [])]
        table = load_authority()
        self._authority: list[Authority] = [
            table.describe(
                c.title,
                c.issuer if c.kind != "faq" else None,
                c.source_doc or c.doc_id,
            )
            for c in index.chunks
        ]
        self._is_local_question = table.is_local_question
        self.guard = load_guard()
        # Retrieval units of each chunk, whole text first (see retrieval.index.dense_units):
        # units of row r are _unit_order[_unit_start[r]:_unit_start[r + 1]].
        owner = np.asarray(index.passage_owner, dtype=np.int64)
        self._unit_order = np.argsort(owner, kind="stable")
        self._unit_start = np.searchsorted(
            owner[self._unit_order], np.arange(len(index.chunks) + 1)
        )
        self.synonyms = load_synonyms()
        # Every way of saying a term: itself, its formal terms, and the colloquial keys
        # that stand for it; so 个体户 in a question meets 个体工商户 in an entry and back.
        forms: dict[str, set[str]] = {}
        for key, formal in self.synonyms.items():
            forms.setdefault(key, {key}).update(formal)
            for f in formal:
                forms.setdefault(f, {f}).add(key)
        self._forms = {t: tuple(v) for t, v in forms.items()}
        self._generic_terms = self._common_faq_terms(index.chunks)
        self._idf: dict[str, float] = {}
        # faiss/encoders are not guaranteed re-entrant; engines sharing an encoder share it.
        self._lock = lock or threading.Lock()
        faiss.omp_set_num_threads(1)

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    # ---- retrieval -------------------------------------------------------------------
    def _display_text(self, chunk: Chunk) -> str:
        """The passage a user is shown: FAQ answers bring their cited article along."""
        if chunk.kind != "faq":
            return chunk.text
        parts = [chunk.text]
        for src in chunk.meta.get("sources", [])[:2]:
            cited = self._article_text.get((src.get("doc", ""), src.get("clause", "")))
            if cited is not None:
                parts.append(cited)
        return "\n".join(parts)

    def _hit(
        self, row: int, score: float, dense: float, bm25: float, faq: float, agrees: bool
    ) -> Hit:
        c = self.index.chunks[row]
        return Hit(
            doc=c.source_doc or c.doc_id,
            text=self._display_text(c),
            score=score,
            citation=c.citation,
            chunk_id=c.chunk_id,
            title=c.title,
            label=c.label,
            date=c.date,
            kind=c.kind,
            superseded_by=c.superseded_by,
            dense=dense,
            bm25=bm25,
            faq=faq,
            faq_agrees=agrees,
        )

    def _dense_scores(self, qv: np.ndarray, rows: set[int]) -> dict[int, float]:
        """Exact dense score of each row: mean of its whole-text and best-unit similarity.

        Why both: the whole chunk carries the topic, a sentence window the detail a
        question asks about; on gov_qa the mean beat either alone (hit@1 +0.01 over
        the best unit). Vectors are read back from the FAISS index, so rows found
        only by BM25 get a real score too instead of the dense list's floor.
        """
        if not rows:
            return {}
        ordered = sorted(rows)
        spans = [(self._unit_start[r], self._unit_start[r + 1]) for r in ordered]
        units = np.concatenate([self._unit_order[a:b] for a, b in spans])
        vectors = self.index.passages.reconstruct_batch(units.astype(np.int64))
        sims = vectors @ qv[0]
        out: dict[int, float] = {}
        pos = 0
        for row, (a, b) in zip(ordered, spans):  # every chunk has at least its whole text
            part = sims[pos : pos + (b - a)]
            pos += b - a
            out[row] = 0.5 * float(part[0]) + 0.5 * float(part.max())
        return out

    def faq_agrees(self, question: str, qtype: QuestionType, row: int, variant: str) -> bool:
        """Whether a curated answer may lead for ``question`` (FAQ precision).

        Why: e5-small compresses cosines, so 个转企能拿多少钱 sits ≥ 0.93 from
        是否必须转企 too. A curated answer leads only when (1) it states the kind
        of fact asked for (an amount question needs an amount in the answer),
        (2) its matched question asks for the same kind when both ask for a
        specific one, (3) every key term of the user's question (the programme,
        subject, entity: domain-dictionary words and synonym keys) appears in the
        entry, and the matched question names no key term the user did not, and
        (4) the entry holds at least half of the user's content words.
        Otherwise it is evidence like any other unit.
        """
        chunk = self.index.chunks[row]
        if qtype.specific and not evidence_in(chunk.text, qtype.kind):
            return False
        vtype = detect(variant)
        if not kinds_agree(qtype.kind, vtype.kind):
            return False
        entry = normalize_text(" ".join([chunk.text, *chunk.meta.get("questions", [])]))
        for term in self._entity_terms(question):
            if not self._mentions(entry, term):
                return False
        # The matched curated question must not name a subject the user did not
        # (网购 in 网购出了问题投诉找哪里 vs a plain 投诉找哪里); terms common to many
        # entries (市场监管局, 投诉) name no particular subject and are let through.
        for term in self._entity_terms(normalize_text(variant)):
            if term not in self._generic_terms and not self._mentions(question, term):
                return False
        # And most of the user's content words must be about this entry.
        words = [t for t in key_terms(question) if not self._is_expansion(t, question)]
        return self._coverage(words, entry) >= FAQ_MIN_COVERAGE

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` over the indexed chunks (cached).

        Why: in a lead, the question's rare word (专利, 歇业) says more about which
        sentence answers than a common one (企业, 规定).
        """
        cached = self._idf.get(term)
        if cached is None:
            df = sum(term in c.text for c in self.index.chunks)
            cached = math.log((len(self.index.chunks) + 1) / (df + 1)) + 1.0
            if len(self._idf) < 100_000:
                self._idf[term] = cached
        return cached

    def _common_faq_terms(self, chunks: list[Chunk]) -> frozenset[str]:
        """Key terms found in at least ``GENERIC_SHARE`` of the FAQ entries (data-driven)."""
        from retrieval.lead import _domain_words

        entries = [
            normalize_text(" ".join([c.text, *c.meta.get("questions", [])]))
            for c in chunks
            if c.kind == "faq"
        ]
        if not entries:
            return frozenset()
        terms = set(_domain_words()) | set(self.synonyms)
        return frozenset(
            t for t in terms if sum(t in e for e in entries) >= GENERIC_SHARE * len(entries)
        )

    def _mentions(self, text: str, term: str) -> bool:
        """``term`` or a synonym of it occurs in ``text`` (个体户 ⇄ 个体工商户)."""
        return any(f in text for f in self._forms.get(term, (term,)))

    def _is_expansion(self, term: str, question: str) -> bool:
        return term not in question

    def _coverage(self, words: list[str], text: str) -> float:
        if not words:
            return 1.0
        return sum(self._mentions(text, w) for w in words) / len(words)

    def _entity_terms(self, question: str) -> set[str]:
        """Subjects named in ``question``: domain-dictionary words and synonym keys.

        Only words written in the question count (not their expansions), and a
        synonym key that is a way of asking (几天, 找哪里) names no subject.
        """
        from retrieval.lead import _domain_words

        asks = load_types().types
        terms = {t for t in key_terms(question) if t in _domain_words() and t in question}
        terms |= {
            key
            for key in self.synonyms
            if key in question and len(key) >= 2 and not any(a.ask.search(key) for a in asks)
        }
        # A longer term covers the words inside it (农民专业合作社 covers 合作社).
        return {t for t in terms if not any(t != o and t in o for o in terms)}

    def search(
        self, query: str, k: int = 10, qtype: QuestionType | None = None
    ) -> tuple[list[Hit], float]:
        """Ranked hits and the confidence that anything relevant was found."""
        hits, best_dense, best_faq = self.search_parts(query, k, qtype)
        return hits, max(best_dense, best_faq)

    def confident(self, best_dense: float, best_faq: float) -> bool:
        """Whether the best passage or curated question is close enough to answer."""
        cfg = self.config
        return best_faq >= cfg.abstain_below or best_dense >= cfg.abstain_dense

    def search_parts(
        self, query: str, k: int = 10, qtype: QuestionType | None = None
    ) -> tuple[list[Hit], float, float]:
        """Ranked hits, the best passage similarity and the best curated-question one."""
        cfg = self.config
        q = normalize_text(query)
        qtype = qtype or detect(q)
        n = len(self.index.chunks)
        cand = min(cfg.candidates, n)
        with self._lock:
            qv = self.encoder.encode_queries([q]).astype(np.float32)
            n_units = self.index.passages.ntotal
            d_scores, d_units = self.index.passages.search(qv, min(n_units, cand * 4))
            faq_scores = np.zeros(0, dtype=np.float32)
            faq_ids = np.zeros(0, dtype=np.int64)
            if self.index.faq_questions.ntotal:
                kq = min(cfg.candidates, self.index.faq_questions.ntotal)
                fs, fr = self.index.faq_questions.search(qv, kq)
                faq_scores, faq_ids = fs[0], fr[0]
        tokens = expand_query(tokenize(q), self.synonyms, q) + cjk_bigrams(q)
        bm = self.index.bm25.get_scores(tokens) if tokens else np.zeros(n, dtype=np.float32)
        b_rows = np.argsort(-bm)[:cand]

        # Dense candidates: the chunks owning the nearest units (whole text or window).
        found: dict[int, None] = {}  # insertion-ordered set
        for unit in d_units[0]:
            if unit >= 0 and len(found) < cand:
                found.setdefault(int(self.index.passage_owner[unit]))
        faq_of: dict[int, float] = {}
        variant_of: dict[int, str] = {}
        for qid, sim in zip(faq_ids, faq_scores):
            if qid < 0 or sim < cfg.faq_min:
                continue
            row = int(self.index.faq_owner[qid])
            if row not in faq_of:
                faq_of[row] = float(sim)
                variant_of[row] = self._faq_variants[int(qid)]
        agrees = {
            row: self.faq_agrees(q, qtype, row, variant_of[row])
            for row, sim in faq_of.items()
            if sim >= cfg.faq_direct
        }
        lexical = [int(r) for r in b_rows if bm[r] > 0]
        with self._lock:
            exact = self._dense_scores(qv, set(found) | set(lexical))
        dense_of = {row: exact[row] for row in found}

        # Score fusion on standardised scores. Why not reciprocal ranks: ranks throw
        # away how far ahead the leader is, and on our data the dense list is the
        # stronger one whose margins matter (gov_qa hit@1: RRF 0.64, z-scores 0.67).
        # Each list is standardised over its own candidates; a row found only by BM25
        # is scored against the dense candidates' statistics with its exact similarity.
        # A curated question matched by the user's question is dense evidence for its
        # FAQ answer.
        meaning = dict(dense_of)
        for row, sim in faq_of.items():
            meaning[row] = max(meaning.get(row, sim), sim)
        z_dense = _standardiser(list(meaning.values()))
        z_bm25 = _standardiser([float(bm[r]) for r in lexical])
        local_q = prefers_local(qtype) or self._is_local_question(q)
        law_q = prefers_law(qtype) and not self._is_local_question(q)

        ranked: list[tuple[float, int]] = []
        for row in set(meaning) | set(lexical):
            c = self.index.chunks[row]
            sim = meaning[row] if row in meaning else exact[row]  # BM25-only: exact
            s = cfg.w_dense * z_dense(sim) + cfg.w_bm25 * z_bm25(float(bm[row]))
            if agrees.get(row) and not c.superseded_by:
                # A near-paraphrase of a curated question of the same kind and key
                # terms leads; closest first.
                s += FAQ_LEAD + faq_of[row]
            if c.superseded_by:
                s -= cfg.superseded_penalty  # below the current text when close, not buried
            where = self._authority[row]
            if local_q and where.local and evidence_in(c.text, qtype.kind):
                s += cfg.local_boost  # the local measure that states the local fact
            elif law_q and c.kind == "law" and not where.local:
                s += cfg.law_boost  # rights and procedure: the law itself
            ranked.append((s, row))
        ranked.sort(reverse=True)
        bm_max = float(bm.max()) if n else 0.0
        hits = [
            self._hit(
                row,
                s,
                dense_of.get(row, 0.0),
                float(bm[row] / bm_max) if bm_max > 0 else 0.0,
                faq_of.get(row, 0.0),
                agrees.get(row, False),
            )
            for s, row in ranked[: k * 3]
        ]
        hits = self._collapse(self._current_first(hits), k)
        # Confidence: the single best unit's and curated question's similarity, each
        # against its own calibrated threshold (retrieval/calibration.json).
        best_dense = float(d_scores[0][0]) if d_scores.size and d_units[0][0] >= 0 else 0.0
        best_faq = float(faq_scores[0]) if faq_scores.size else 0.0
        if not self.confident(best_dense, best_faq):
            best_dense = max(best_dense, self._expanded_confidence(q))
        return hits, best_dense, best_faq

    def _shares_terms(self, q: str, qtype: QuestionType, hits: list[Hit]) -> bool:
        """Whether any candidate lead sentence shares a key term with the question.

        Why: e5-small puts short commands (帮我订个外卖) near curated questions;
        when not one sentence of the top passages shares a word with the question,
        an answer could only lead with something the citizen did not ask about.
        """
        return pick_lead(q, qtype, self._lead_candidates(qtype, hits), self.idf) is not None

    def _anchored(self, q: str, qtype: QuestionType, hits: list[Hit]) -> bool:
        """Whether a top passage states the asked-for fact about the question's subject.

        Why: a short question (个转企给几多钱) can sit below the similarity bar
        although a sentence of the top passages names its subject (个转企) and
        states the kind of fact asked for (1万元). Such a sentence is evidence that
        the documents answer it; an off-topic question names none of our subjects.
        """
        subjects = {t for t in self._entity_terms(q) if t not in self._generic_terms}
        if not subjects:
            return False
        lead = pick_lead(q, qtype, self._lead_candidates(qtype, hits), self.idf)
        if lead is None or not any(self._mentions(lead.sentence, t) for t in subjects):
            return False
        if qtype.specific:
            return lead.has_evidence
        weight = term_weight(q, self.idf)
        return overlap(key_terms(q), lead.sentence, weight) >= ANCHORED_OVERLAP

    def _expanded_confidence(self, q: str) -> float:
        """Best passage similarity of ``q`` restated in the documents' words, or 0.

        Why: a short colloquial question (个转企给几多钱) sits far from the measure
        that answers it; with the formal terms its words stand for (资助, 奖补) it
        meets the passage. This only raises the confidence that something relevant
        exists, and only when the question alone fell short: the ranking stays the
        citizen's own words, and a confident question pays no second encoding.
        """
        expanded = self._expanded_query(q)
        if not expanded:
            return 0.0
        with self._lock:
            ev = self.encoder.encode_queries([expanded]).astype(np.float32)
            return float(self.index.passages.search(ev, 1)[0][0][0])

    def _expanded_query(self, q: str) -> str:
        """``q`` plus the document terms its colloquial words stand for, or "" if none."""
        extra = [t for key, terms in self.synonyms.items() if key in q for t in terms if t not in q]
        return f"{q} {' '.join(dict.fromkeys(extra))}" if extra else ""

    def _current_first(self, hits: list[Hit]) -> list[Hit]:
        """Move the best text in force ahead of a repealed one that is barely better.

        Why: 《农民专业合作社登记管理条例》(2014) was repealed by 《市场主体登记管理
        条例》第五十五条; when 《农民专业合作社法》 answers the same question within
        ``repealed_margin`` standard deviations, the law in force comes first.
        """
        if not hits or not hits[0].superseded_by:
            return hits
        for i, h in enumerate(hits[1:5], start=1):
            if not h.superseded_by and h.score >= hits[0].score - self.config.repealed_margin:
                return [h, *hits[:i], *hits[i + 1 :]]
        return hits

    # ---- answering -------------------------------------------------------------------
    def _collapse(self, hits: list[Hit], k: int) -> list[Hit]:
        """Keep the best part of each article: its parts are one citation.

        Why: a long article or paragraph is indexed as several parts that share
        its label; two parts of one article in the top five waste a slot that a
        different article could use (gov_qa recall@5 +0.01).
        """
        seen: set[tuple[str, str]] = set()
        out: list[Hit] = []
        for h in hits:
            if h.kind != "faq" and h.label:
                if (h.doc, h.label) in seen:
                    continue
                seen.add((h.doc, h.label))
            out.append(h)
            if len(out) == k:
                break
        return out

    def _cite_source(self, src: dict[str, str], fallback: Hit) -> tuple[Citation, Chunk | None]:
        """A curated answer's source (document id + clause) as a citation, unquoted."""
        cited = self._by_doc_label.get((src.get("doc", ""), src.get("clause", "")))
        title = cited.title if cited else fallback.title
        date = (cited.date if cited else fallback.date) or None
        return citation(title, src.get("clause", ""), date), cited

    def _sources(self, hits: list[Hit]) -> list[Citation]:
        """The sources cited, each with its date, quote and superseded note.

        A curated answer cites the articles it rests on; a passage answer cites
        the top passage and the second one when it is close (``second_gap``).
        """
        top = hits[0]
        out: list[Citation] = []
        if top.kind == "faq":
            chunk = self._by_id[top.chunk_id]
            for src in chunk.meta.get("sources", []):
                cite, cited = self._cite_source(src, top)
                if cited is not None:
                    cite["quote"] = _excerpt(
                        self._article_text[(cited.doc_id, cited.label)], QUOTE_CHARS
                    )
                    cite["superseded_by"] = cited.superseded_by or None
                out.append(cite)
            return out
        for h in hits[:2]:
            if h is not top and (h.kind == "faq" or h.score < top.score - self.config.second_gap):
                continue
            out.append(
                citation(
                    h.title,
                    h.label,
                    h.date,
                    _excerpt(h.text, PASSAGE_QUOTE_CHARS),
                    h.superseded_by,
                )
            )
        return out

    def _lead_candidates(self, qtype: QuestionType, hits: list[Hit]) -> list[Candidate]:
        """Texts the lead may come from: top passages, and a curated answer's articles.

        An agreed curated answer (the FAQ shortcut) is the only candidate unless the
        question asks for a specific fact it does not state; then its articles and
        the next passages compete. A repealed text is left out whenever a text in
        force is among them, so it never states the first sentence while current
        law answers.
        """
        top = hits[0]
        if top.kind == "faq" and top.faq_agrees:
            chunk = self._by_id[top.chunk_id]
            shortcut = Candidate(chunk.text, 0, top.citation, curated=True, agreed=True)
            if not qtype.specific or evidence_in(chunk.text, qtype.kind):
                return [shortcut]
        top_hits = hits[:LEAD_POOL]
        if any(not h.superseded_by for h in top_hits):
            top_hits = [h for h in top_hits if not h.superseded_by]
        out: list[Candidate] = []
        for rank, h in enumerate(top_hits):
            if h.kind != "faq":
                out.append(Candidate(h.text, rank, h.citation))
                continue
            chunk = self._by_id[h.chunk_id]
            out.append(Candidate(chunk.text, rank, h.citation, curated=True, agreed=h.faq_agrees))
            for src in chunk.meta.get("sources", []):
                cited = self._by_doc_label.get((src.get("doc", ""), src.get("clause", "")))
                if cited is not None and not cited.superseded_by:
                    text = self._article_text[(cited.doc_id, cited.label)]
                    out.append(Candidate(text, rank, cited.citation))
        return out

    def compose(
        self, question: str, qtype: QuestionType, hits: list[Hit]
    ) -> tuple[AnswerPayload, str]:
        """Lead with the asked-for fact, then explain, then cite (依据) with quotes.

        Returns the answer's payload (``core.replies``; its text is
        ``render_text(payload)``) and the lead's citation.

        The lead is one sentence: from the curated answer when it states the kind
        of fact asked for, else from the passage that does (``retrieval.lead``).
        A bare 有。/可以。 never opens an answer to a what/where/how question.
        """
        m = self.messages
        top = hits[0]
        lead = pick_lead(question, qtype, self._lead_candidates(qtype, hits), self.idf)
        curated = self._by_id[top.chunk_id].text if top.kind == "faq" else None
        lead_citation = lead.citation if lead is not None else top.citation
        if lead is None:
            first = [x for x in sentences(curated or top.text) if not is_heading(x)]
            first_line = first[0] if first else _excerpt(top.text, QUOTE_CHARS)
        elif lead.curated:
            # The rule itself, never a curated entry's bare verdict (可以。不一定。): that
            # verdict answers the entry's own question, which may differ in polarity
            # from the citizen's (一定要出现金吗 vs 能用知识产权出资吗).
            first_line = strip_opener(lead.sentence)
        else:
            first_line = m["lead_passage"].format(fact=lead.sentence, citation=lead.citation)
        payload = answer_payload(first_line, self._explanation(lead, curated), self._sources(hits))
        return payload, lead_citation

    def _explanation(self, lead: Lead | None, curated: str | None) -> str:
        """The curated answer's other statements (verdict and lead left out), or nothing.

        A passage answer needs none: its sources section quotes the passage.
        """
        if curated is None:
            return ""
        rest = [
            x
            for x in sentences(curated)
            if not is_verdict(x)
            and (lead is None or strip_opener(x) not in lead.sentence)
            and (lead is None or lead.sentence.rstrip("。") not in x)
        ]
        return "".join(x if x.endswith(("。", "?", "!", ";")) else x + "。" for x in rest)

    def ask(self, question: str, k: int = 5) -> Answer:
        started = time.perf_counter()
        q = normalize_text(question)
        qtype = detect(q)
        hits, best_dense, best_faq = self.search_parts(q, k=max(k, 10), qtype=qtype)
        confidence = max(best_dense, best_faq)
        lead_citation = ""
        # Another office's question that shares a word with ours is refused (retrieval/guard.yml).
        trapped = self.guard.trapped(q)
        sure = bool(hits) and not trapped and self.confident(best_dense, best_faq)
        if hits and not trapped and not sure and best_dense >= self.config.anchored_floor:
            sure = self._anchored(q, qtype, hits)
        if sure and not self._shares_terms(q, qtype, hits):
            sure = False  # no top sentence shares a word with the question: nothing to lead
        if not sure:
            payload = abstention_payload(self.messages["abstain"])
        else:
            payload, lead_citation = self.compose(q, qtype, hits)
        return Answer.from_payload(
            question,
            payload,
            confidence=confidence,
            hits=hits[:k],
            latency_ms=(time.perf_counter() - started) * 1000,
            question_type=qtype.label,
            lead_citation=lead_citation,
        )


def open_engine(
    settings: KnowledgeSettings | None = None,
    corpus: list[Path] | None = None,
    faq_dir: Path | bool | None = True,
    index_dir: Path | None = None,
    rebuild: bool = False,
    log: Any = print,
    progress: Any = None,
) -> tuple[Engine, BuildReport]:
    """Load (or build) the index for the given inputs and wrap it in an Engine."""
    s = settings or get_settings().knowledge
    encoder = load_encoder(s.encoder, s.model_cache_dir, threads=s.encoder_threads)
    faq = (s.faq_dir if s.use_faq else None) if faq_dir is True else (faq_dir or None)
    index, report = open_index(
        corpus if corpus is not None else s.corpus_dirs,
        faq,
        encoder,
        index_dir or s.index_dir,
        rebuild=rebuild,
        progress=progress,
        log=log,
        console=s.console_export_dir,
    )
    return Engine(index, encoder), report


_live: LiveEngine | None = None
_engine_lock = threading.Lock()


def get_live() -> LiveEngine:
    """The process-wide engine holder, built from settings on first use.

    The first load keeps today's behaviour (``open_index`` rebuilds an index that does
    not match the settings); after that the holder only *loads* the versions that
    ``yiwen ingest`` saves (``retrieval.live``), polling every
    ``YIWEN_INDEX_POLL_SECONDS``.
    """
    global _live
    with _engine_lock:
        if _live is None:
            from retrieval.live import LiveEngine

            s = get_settings().knowledge
            engine, _ = open_engine(s)
            _live = LiveEngine(engine, s.index_dir, poll_seconds=s.index_poll_seconds).start()
        return _live


def get_engine() -> Engine:
    """The engine to answer one question with: the current one of :func:`get_live`.

    Callers must call this per question and not keep the result, or they keep
    answering from the index of the day they kept it.
    """
    return get_live().current
