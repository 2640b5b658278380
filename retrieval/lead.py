"""Pick the one sentence an answer opens with: the fact the citizen asked for.

Why a separate step after ranking: the best passage is often a long article or
a numbered measure that states five things; the citizen asked about one. The
lead is the sentence of the top passages that (1) contains the asked-for kind
of fact (an amount for 多少钱, a deadline for 多久, see
:mod:`retrieval.answer_type`) and (2) shares the question's key terms, with a
small preference for higher-ranked passages. Everything here is lexical and
costs well under a millisecond per answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from retrieval.answer_type import QuestionType, asking_words, evidence_in, load_types
from retrieval.synonyms import load_synonyms
from retrieval.tokenizer import get_jieba, tokenize

MAX_LEAD_CHARS = 110
# Text is NFKC-normalised, so ；！？，： are already their half-width forms. A sentence
# ends at 。!? or a line break; ";" and "," only separate its clauses.
_SENTENCE_RE = re.compile(r"[^。!?\n]+[。!?]?")
_CLAUSE_SPLIT_RE = re.compile(r"(?<=[,:;])")
LIST_MAX_CHARS = 160  # "…包括:" and its items, read as one sentence
LIST_KINDS = frozenset({"list", "materials"})
RANK_PRIOR = {0: 0.6, 1: 0.3, 2: 0.15, 3: 0.05}  # by the source passage's rank
HEADING_MAX_CHARS = 16  # a short line without punctuation is a heading, not a statement
# List numbering and article labels that open a passage line: "14.", "(一)", "第十三条 ".
_NUMBERING_RE = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百零〇\d]+条\s*|[\d]{1,2}[.、]\s*|\([一二三四五六七八九十\d]{1,3}\)\s*|[一二三四五六七八九十]{1,3}、\s*)+"
)
# A trailing "(责任单位:…)" names who carries a measure out, not the measure.
_TRAILER_RE = re.compile(r"\((?:责任单位|牵头单位)[^()]*\)\s*$")


@dataclass(frozen=True)
class Candidate:
    """A passage the lead may come from, with its rank among the answer's sources."""

    text: str
    rank: int
    citation: str
    curated: bool = False  # a curated FAQ answer (our own words, written answer-first)
    agreed: bool = False  # … whose kind and key terms agree with the question


@dataclass(frozen=True)
class Lead:
    sentence: str
    citation: str
    curated: bool
    has_evidence: bool
    score: float


VERDICT_MAX_CHARS = 8  # 可以。/ 不一定。/ 要先处理好。: a curated answer's verdict


def sentences(text: str) -> list[str]:
    """Sentences of ``text``, numbering and trailers removed, empty ones dropped.

    A sentence that introduces a list ("一般登记事项包括:") is joined with its
    items ("(一)名称;" …) while they fit, so a list question leads with the list.
    """
    out: list[str] = []
    open_list = False
    for raw in _SENTENCE_RE.findall(text):
        numbered = bool(_NUMBERING_RE.match(raw.strip()))
        s = _TRAILER_RE.sub("", _NUMBERING_RE.sub("", raw.strip())).strip()
        if len(s) < 2:
            continue
        if open_list and numbered and len(out[-1]) + len(s) <= LIST_MAX_CHARS:
            out[-1] += s
            continue
        open_list = s.endswith(":")
        out.append(s)
    return out


def is_verdict(sentence: str) -> bool:
    """A short opening verdict (可以。有。不一定。), never a lead on its own."""
    return len(sentence.rstrip("。;!?,")) <= VERDICT_MAX_CHARS - 2 or len(sentence) < 4


def is_heading(sentence: str) -> bool:
    return len(sentence) <= HEADING_MAX_CHARS and not re.search(r"[,。;:!?、]", sentence)


@lru_cache(maxsize=4096)
def _expanded_terms(question: str) -> frozenset[str]:
    """The question's content words plus the formal terms its colloquial words stand for.

    jieba's search mode also yields the pieces of a compound (个体工商户 → 个体,
    工商户, 工商, 商户); a piece inside a longer word of the question is dropped,
    or one compound would count five times in an overlap.
    """
    words = set(tokenize(question))
    asking = asking_words(question)
    # A word that only occurs inside how the question asks (不能 of 能不能) is no key term.
    ignore = {t for t in words if t in asking or _only_inside(question, t, asking)}
    ignore |= {t for t in words if any(s.ask.fullmatch(t) for s in load_types().types)}
    for key, formal in load_synonyms().items():
        if key in question:
            words.update(formal)
    words = {t for t in words - ignore if len(t) >= 2 or "\u4e00" <= t <= "\u9fff"}
    return frozenset(t for t in words if not any(t != o and t in o for o in words))


def _only_inside(question: str, term: str, spans: frozenset[str]) -> bool:
    """Whether every occurrence of ``term`` in ``question`` lies within one of ``spans``."""
    covered = [False] * len(question)
    for span in spans:
        start = question.find(span)
        while start >= 0:
            covered[start : start + len(span)] = [True] * len(span)
            start = question.find(span, start + 1)
    at = question.find(term)
    if at < 0:
        return False
    while at >= 0:
        if not all(covered[at : at + len(term)]):
            return False
        at = question.find(term, at + 1)
    return True


def key_terms(question: str) -> frozenset[str]:
    """Key terms of a normalised question (cached: the engine asks once per candidate)."""
    return _expanded_terms(question)


def term_weight(question: str, idf: Callable[[str], float] | None) -> Callable[[str], float]:
    """Weight of a key term: its rarity, halved for a term the question does not contain.

    Why halve expansions: 过户 expands to 变更/转让/转移; a sentence about 变更经营者
    must not outscore one that names the question's own word, 专利.
    """

    def weight(term: str) -> float:
        return (idf(term) if idf else 1.0) * (1.0 if term in question else 0.5)

    return weight


def overlap(terms: Iterable[str], text: str, weight: Callable[[str], float] | None = None) -> float:
    """Weighted share of ``terms`` found in ``text``.

    Domain-dictionary words count double, and ``weight`` (the engine passes an
    inverse document frequency) lets a rare word such as 专利 outweigh 企业.
    """
    terms = list(terms)
    if not terms:
        return 0.0
    domain = _domain_words()

    def w(t: str) -> float:
        return (2.0 if t in domain else 1.0) * (weight(t) if weight else 1.0)

    total = sum(w(t) for t in terms)
    return sum(w(t) for t in terms if t in text) / total if total else 0.0


@lru_cache(maxsize=1)
def _domain_words() -> frozenset[str]:
    from retrieval.tokenizer import dictionary_files

    words: set[str] = set()
    get_jieba()
    for path in dictionary_files():
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.add(line.split()[0])
    return frozenset(words)


def _trim(
    sentence: str,
    qtype: QuestionType,
    terms: frozenset[str],
    weight: Callable[[str], float] | None = None,
) -> str:
    """A long sentence shortened to the clauses that state the fact (and what precedes it).

    A list ("…不予受理:(一)…;(二)…") keeps its header and as many items as fit.
    """
    if len(sentence) <= MAX_LEAD_CHARS:
        return sentence
    if qtype.kind in LIST_KINDS and ":" in sentence[:MAX_LEAD_CHARS]:
        cut = sentence.rfind(";", 0, LIST_MAX_CHARS)
        return (
            sentence[:cut] + "等。"
            if cut > sentence.index(":")
            else sentence[:LIST_MAX_CHARS] + "…"
        )
    clauses = [c for c in _CLAUSE_SPLIT_RE.split(sentence) if c]
    best, best_score = 0, -1.0
    for i, c in enumerate(clauses):
        s = 2.0 * evidence_in(c, qtype.kind) + overlap(terms, c, weight)
        if s > best_score:
            best, best_score = i, s
    lo, hi = best, best + 1
    # Grow around the best clause while it stays short: the subject usually comes before.
    while lo > 0 and sum(len(c) for c in clauses[lo - 1 : hi]) <= MAX_LEAD_CHARS:
        lo -= 1
        if overlap(terms, clauses[lo], weight) > 0 or len(clauses[lo]) < 12:
            break
    text = "".join(clauses[lo:hi]).rstrip(",:;")
    return text if text.endswith(("。", ";", "!", "?")) else text + "。"


def _subject(question: str, qtype: QuestionType, terms: frozenset[str]) -> frozenset[str]:
    """The key terms before a yes/no marker inside the question (企业 of 企业能不能加入…).

    Only a marker within the question counts (能不能, 可不可以, 是否); a final 吗 leaves
    the whole question as its subject, which says nothing.
    """
    if not qtype.yesno:
        return frozenset()
    stripped = re.sub(r"[??!!。. ]+$", "", question)
    for m in load_types().yesno.finditer(stripped):
        if m.start() > 0 and m.end() < len(stripped):
            head = stripped[: m.start()]
            return frozenset(t for t in terms if t in head)
    return frozenset()


def pick_lead(
    question: str,
    qtype: QuestionType,
    candidates: list[Candidate],
    weight: Callable[[str], float] | None = None,
) -> Lead | None:
    """The best opening sentence among ``candidates`` (None when they hold no sentence).

    Score: the asked-for kind of fact (+3 for specific kinds, where a sentence
    without it cannot answer), key-term overlap (0–2, over the terms some
    candidate holds), the source's rank (+0.6, +0.3, +0.15, +0.05) and +1 for a
    curated answer the question agrees with. For a yes/no question with a subject
    (企业能不能…) the best sentence naming that subject wins when there is one. A
    curated answer is written answer-first, so for a question that asks for no
    specific fact (yes/no, how, what is) only its first statement may lead.
    """
    weight = term_weight(question, weight)
    # Only terms some candidate contains tell the candidates apart; the others (a typo,
    # a filler jieba cut oddly) would shrink every overlap alike and leave the rank to decide.
    texts = [c.text for c in candidates]
    terms = frozenset(t for t in key_terms(question) if any(t in x for x in texts))
    subject = _subject(question, qtype, terms)
    best: Lead | None = None
    about: Lead | None = None  # the best sentence that names the subject
    for cand in candidates:
        prior = RANK_PRIOR.get(cand.rank, 0.0) + (1.0 if cand.agreed else 0.0)
        statements = [x for x in sentences(cand.text) if not is_verdict(x) and not is_heading(x)]
        if cand.curated and not qtype.specific:
            statements = statements[:1]
        for pos, sent in enumerate(statements):
            ev = evidence_in(sent, qtype.kind)
            ov = overlap(terms, sent, weight)
            if ov == 0 and not cand.agreed:
                continue  # a sentence that shares nothing with the question never leads
            fact = 3.0 if qtype.specific else 0.5
            score = fact * ev + 2.0 * ov + prior + (0.2 if pos == 0 else 0.0)
            lead = Lead(_trim(sent, qtype, terms, weight), cand.citation, cand.curated, ev, score)
            if best is None or score > best.score:
                best = lead
            names = cand.agreed or all(t in sent for t in subject)
            if subject and names and (about is None or score > about.score):
                about = lead
    # 企业能不能加入…: a sentence not about 企业 does not answer it, when one about it is there.
    return about or best
