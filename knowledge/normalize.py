"""One text normaliser for documents and queries alike.

Retrieval only works if a query and a passage that mean the same thing also
look the same, so both sides go through :func:`normalize_text`:

* Unicode NFKC, which also folds full-width ASCII, digits and punctuation to
  half-width (``２０２３`` → ``2023``, ``（一）`` → ``(一)``, ``，`` → ``,``);
* traditional → simplified Chinese with OpenCC ``t2s`` (Jiangmen is a home town
  of overseas Chinese and many users write traditional characters);
* zero-width characters removed, line endings unified, runs of spaces
  collapsed. Newlines are kept: the chunker reads the document's structure
  from its lines.

OpenCC's ``t2s`` is not a no-op on text that is already simplified: its phrase
table rewrites, for example, 破坏土地 as 破坯土地. So conversion is applied only
to the clauses that actually contain a character OpenCC would change on its
own; simplified text passes through untouched, and a traditional query is
still converted with full phrase context inside each clause.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

# Zero-width and invisible formatting characters that break token matching.
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
# Line separators other than "\n" (after "\r\n" has been handled).
_LINE_BREAK_RE = re.compile("\r\n?|[\u2028\u2029\u0085]")
# Horizontal whitespace that survives NFKC (tabs, vertical tabs, form feeds;
# NFKC already maps U+3000 and NBSP to a plain space).
_SPACES_RE = re.compile(r"[ \t\v\f]{2,}|[\t\v\f]")
_SPACE_AROUND_NEWLINE_RE = re.compile(r" \n ?|\n ")
# Full-width ASCII and the ideographic space: by far the most common NFKC
# changes in Chinese text. Folding them with one regex first lets most
# documents skip the much slower full NFKC pass (63 MB: 0.6 s instead of 3-5 s).
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_FULLWIDTH = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH["\u3000"] = " "
_MANY_BLANK_LINES_RE = re.compile(r"\n{3,}")
# Clause delimiters: OpenCC gets one clause at a time, so a conversion never
# reaches across punctuation into simplified text next door.
_CLAUSE_RE = re.compile(r"[^\s,.;:!?()。、《》“”\"']+")

# CJK blocks scanned once to find the characters OpenCC converts on their own.
_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EBEF),
    (0x30000, 0x3134F),
)

_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def t2s_converter() -> opencc.OpenCC:
    """The project's one OpenCC ``t2s`` converter; building it is not thread-safe.

    The bot's form parsers use it through :func:`normalize_text`; the NLU tokenizer
    (``bot.nlu.textnorm``, Rasa environment) calls it one character at a time, so its
    output shapes the trained model: changing the configuration here means retraining.
    """
    with _converter_lock:
        return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_tables() -> tuple[re.Pattern[str], frozenset[str]]:
    """Characters that ``t2s`` changes in isolation: a BMP regex class and a set of the rest.

    Built by converting all CJK code points in one call (about 0.05 s), so it
    always matches the installed OpenCC data instead of a hand-kept list. The
    regex holds only BMP characters: ``re`` matches such a class with a bitmap,
    while one astral character would make every test a linear scan.
    """
    chars = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1)]
    converted = t2s_converter().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - defensive, OpenCC keeps newlines
        changed = [c for c in chars if t2s_converter().convert(c) != c]
    else:
        changed = [c for c, out in zip(chars, converted, strict=True) if c != out]
    bmp = "".join(re.escape(c) for c in changed if ord(c) <= 0xFFFF)
    astral = frozenset(c for c in changed if ord(c) > 0xFFFF)
    return re.compile(f"[{bmp}]"), astral


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


def has_traditional(text: str) -> bool:
    """Whether ``text`` holds a character that OpenCC ``t2s`` would convert."""
    bmp, astral = _traditional_tables()
    if bmp.search(text):
        return True
    return bool(_ASTRAL_RE.search(text)) and not astral.isdisjoint(_ASTRAL_RE.findall(text))


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified, leaving simplified clauses as they are."""
    if not has_traditional(text):
        return text
    convert = t2s_converter().convert

    def _clause(match: re.Match[str]) -> str:
        clause = match.group()
        return convert(clause) if has_traditional(clause) else clause

    return _CLAUSE_RE.sub(_clause, text)


def normalize_text(text: str) -> str:
    """Normalise a document or a query so that both sides compare equal.

    The result has NFKC forms (half-width ASCII, digits and punctuation),
    simplified characters, no zero-width characters, ``\\n`` line endings,
    single spaces, no spaces at line ends and at most one blank line in a row.
    """
    if not text:
        return ""
    if text.isascii():
        if "\r" in text:
            text = _LINE_BREAK_RE.sub("\n", text)
    else:
        text = _LINE_BREAK_RE.sub("\n", text)
        text = _ZERO_WIDTH_RE.sub("", text)
        text = _FULLWIDTH_RE.sub(lambda m: _FULLWIDTH[m.group()], text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = to_simplified(text)
    text = _SPACES_RE.sub(" ", text)
    if "\n" in text:
        text = _SPACE_AROUND_NEWLINE_RE.sub("\n", text)
        text = _MANY_BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()
