"""Structure-aware chunking: one chunk per citable unit.

Fixed character windows cut articles in half and lose the label a citation
needs. Here each chunk is one unit a person would cite:

* laws: one article (第X条 with its 款 and (一) items), under its 编/章/节 path;
* notices: one numbered measure (``1.`` → 第1项) or ``(一)`` item, under its
  ``一、`` section; the intro paragraph is the 序言;
* free text: one paragraph (第N段), with very short lines such as captions
  merged into the paragraph that follows, under the current section headline.

A unit longer than ``max_chars`` is split at sentence ends (never inside a
sentence, unless one sentence alone is too long; then at commas, and only as a
last resort at ``max_chars``). Every part keeps the unit's label.

The chunker reads normalised text (see :mod:`knowledge.normalize`), so its
patterns expect half-width forms: ``(一)``, ``,``, ``;``, ``:``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from knowledge.model import Chunk, Document

# Bump whenever the chunks produced for the same input change; the index
# manifest records it, so a new version triggers a rebuild.
CHUNKER_VERSION = "structure-2025.1"

_CN_NUM = "零〇一二三四五六七八九十百千万两"
_ARTICLE_RE = re.compile(rf"^(第[{_CN_NUM}\d]+条(?:之[一二三四五六七八九十]+)?)(?=[\s:【]|$)")
# 编 / 分编 / 章 / 节 headings, with their rank in the heading path.
_STRUCT_RE = re.compile(rf"^第[{_CN_NUM}\d]+(分编|编|章|节)(?=\s|$)")
_STRUCT_RANK = {"编": 2, "分编": 3, "章": 4, "节": 5}
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")

# Notice numbering levels: 一、 / (一) / 1. or 1、 / (1).
_SECTION_RE = re.compile(r"^([一二三四五六七八九十]{1,3})、\s*")
_ITEM_RE = re.compile(r"^\(([一二三四五六七八九十]{1,3})\)\s*")
_MEASURE_RE = re.compile(r"^(\d{1,3})[.、](?!\d)\s*")
_SUBITEM_RE = re.compile(r"^(?:\(\d{1,3}\)|\d{1,2}\))")
_SECTION_RANK = 20
_ITEM_RANK = 21
_HEADLINE_RANK = 20

# Free-text section markers: a lone capital letter ("A"), or a letter and its headline.
_LETTER_RE = re.compile(r"^([A-Z])(?:\s+(\S.*))?$")

_SENTENCE_END = "。;!?"
_CLOSERS = "”’」』)]】〕\"'"
_SENTENCE_RE = re.compile(
    rf"[^{_SENTENCE_END}\n]*(?:[{_SENTENCE_END}]+[{re.escape(_CLOSERS)}]*|\n|$)"
)
_CLAUSE_RE = re.compile(r"[^,、:]*(?:[,、:]+|$)")
_PUNCT_IN_LINE_RE = re.compile(r"[。;!?,:]")
_SENTENCE_PUNCT_RE = re.compile(r"[。;!?]")

_SHORT_PARAGRAPH = 60  # free text: shorter paragraphs merge into the next one
_HEADLINE_MAX = 40
_TINY_ENTRY = 24  # notice entries shorter than this (list lines) are packed together
_SHORT_TITLE = 20  # a numbered title may end with 。 only when this short
_MIN_PREAMBLE = 10  # law text before the first article shorter than this is dropped
_PLAIN_HEADING_RANK = 6  # unnumbered chapter titles in laws, below 节
_PLAIN_HEADING_EXCLUDE_RE = re.compile(r"[。,;:!?=<>×%]")
_HEADING_CONTINUES = ("、", "和", "及", "与", "的", "或")
# 附件 / 附表一 / 附: lines end the last article; what follows is an appendix.
_APPENDIX_RE = re.compile(r"^附(?:件|表|录|图)?[一二三四五六七八九十\d]*(?::.{0,30})?$")
_APPENDIX_RANK = 12


@dataclass
class _Unit:
    label: str
    heading: str
    lines: list[str] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
    # Numbered notice units: 1 = 一、, 2 = (一), 3 = 1.; 0 for everything else.
    level: int = 0
    number: str = ""
    last_number: str = ""  # set when consecutive short entries were packed together
    prefix: str = ""  # qualifies numbers that restart, e.g. "二、" in 二、(三)

    @property
    def lists(self) -> bool:
        """The unit ends with ":" or already holds entries: deeper lines belong to it."""
        return len(self.lines) > 1 or self.text.endswith(":")

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


class _HeadingStack:
    """Heading path by rank: a new heading closes every heading of equal or lower rank."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []

    def push(self, rank: int, text: str) -> None:
        while self._items and self._items[-1][0] >= rank:
            self._items.pop()
        self._items.append((rank, text))

    def last(self) -> str | None:
        return self._items[-1][1] if self._items else None

    def extend_last(self, text: str) -> None:
        rank, head = self._items[-1]
        self._items[-1] = (rank, head + text)

    def pop_from(self, rank: int) -> None:
        while self._items and self._items[-1][0] >= rank:
            self._items.pop()

    def path(self) -> str:
        return " / ".join(text for _, text in self._items)

    def top_rank(self) -> int:
        """Rank of the innermost heading (0 when there is none)."""
        return self._items[-1][0] if self._items else 0


def chunk_document(doc: Document, max_chars: int = 480) -> list[Chunk]:
    """Split ``doc`` into citable chunks in reading order (see module docstring)."""
    lines = [line.strip() for line in doc.text.split("\n")]
    if doc.kind == "law":
        units = _law_units(lines)
    elif doc.kind == "notice":
        units = _notice_units(lines, max_chars)
    else:
        units = _text_units(lines, max_chars)

    chunks: list[Chunk] = []
    for unit in units:
        parts = split_text(unit.text, max_chars)
        for n, part in enumerate(parts, start=1):
            meta: dict[str, object] = dict(unit.meta)
            if len(parts) > 1:
                meta["part"], meta["parts"] = n, len(parts)
            if doc.superseded_by and "superseded" in doc.meta:
                meta["superseded"] = doc.meta["superseded"]
            position = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{position}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    text=part,
                    position=position,
                    label=unit.label,
                    heading=unit.heading,
                    kind=doc.kind,
                    date=doc.date,
                    issuer=doc.issuer,
                    superseded_by=doc.superseded_by,
                    meta=meta,
                )
            )
    return chunks


# --------------------------------------------------------------------------- headings


def _heading(line: str) -> tuple[int, str] | None:
    """Markdown or plain 编/章/节 heading → (rank, text); ``None`` for other lines."""
    md = _MD_HEADING_RE.match(line)
    if md:
        text = md.group(2).strip()
        struct = _STRUCT_RE.match(text)
        if struct:
            return _STRUCT_RANK[struct.group(1)], text
        if _SECTION_RE.match(text):
            return _PLAIN_HEADING_RANK + 1, text
        if _ITEM_RE.match(text):
            return _PLAIN_HEADING_RANK + 2, text
        level = len(md.group(1))
        return (1 if level == 1 else 10 + level), text
    struct = _STRUCT_RE.match(line)
    if struct and len(line) <= _HEADLINE_MAX and not _PUNCT_IN_LINE_RE.search(line):
        return _STRUCT_RANK[struct.group(1)], line
    return None


# --------------------------------------------------------------------------- laws


def _law_units(lines: list[str]) -> list[_Unit]:
    """One unit per article; loose text (preamble, appendices) per heading block."""
    content = [line for line in lines if line]
    units: list[_Unit] = []
    stack = _HeadingStack()
    current: _Unit | None = None
    after_heading = False

    for idx, line in enumerate(content):
        nxt = content[idx + 1] if idx + 1 < len(content) else ""
        heading = _heading(line)
        if heading is not None:
            stack.push(*heading)
            current, after_heading = None, True
            continue
        article = _ARTICLE_RE.match(line)
        if article:
            current = _Unit(label=article.group(1), heading=stack.path(), lines=[line])
            units.append(current)
            after_heading = False
            continue
        if _APPENDIX_RE.match(line):
            stack.push(_APPENDIX_RANK, line.rstrip(":"))
            current, after_heading = None, True
            continue
        if _is_plain_law_heading(line, nxt, current):
            last = stack.last()
            if after_heading and last is not None and last.endswith(_HEADING_CONTINUES):
                stack.extend_last(line)  # a chapter title wrapped onto a second line
            elif _SECTION_RE.match(line):
                stack.push(_PLAIN_HEADING_RANK + 1, line)
            elif _ITEM_RE.match(line):
                stack.push(_PLAIN_HEADING_RANK + 2, line)
            else:
                stack.push(_PLAIN_HEADING_RANK, line)
            current, after_heading = None, True
            continue
        after_heading = False
        if current is not None:
            current.lines.append(line)
        else:
            current = _Unit(label="", heading=stack.path(), lines=[line])
            units.append(current)
    return [u for u in units if u.label or len(u.text) >= _MIN_PREAMBLE]


def _is_plain_law_heading(line: str, nxt: str, current: _Unit | None) -> bool:
    """A chapter title written without 第X章 or ``#`` (法律责任, 附 则) right before an article.

    Also 一、/(一) group titles in judicial interpretations. Short, no
    punctuation, not a numbered list entry, not the line after a lead-in ending
    with ":" (that is a formula or a list entry), and followed by an article
    or another heading.
    """
    if not (0 < len(line) <= 24) or _PLAIN_HEADING_EXCLUDE_RE.search(line):
        return False
    if line[0].isdigit() or (current is not None and current.text.endswith(":")):
        return False
    numbered = _SECTION_RE.match(line) or _ITEM_RE.match(line)
    if numbered and current is not None and current.lines[-1][:1] in "(一二三四五六七八九十":
        return False  # the last entry of an unpunctuated list ((一)警告 (二)罚款 ...)
    return bool(_ARTICLE_RE.match(nxt)) or _heading(nxt) is not None


# --------------------------------------------------------------------------- notices


def _is_headline(line: str, *, allow_full_stop: bool = False) -> bool:
    """A short line that is not a sentence: a title, not content.

    Commas are allowed (一、做强做优特色产业,全面壮大县域经济); a trailing 。 only
    where numbered headings sometimes carry one ((一)加强组织领导。).
    """
    if allow_full_stop and len(line) <= _SHORT_TITLE:
        line = line.removesuffix("。")
    return (
        0 < len(line) <= _HEADLINE_MAX
        and not _SENTENCE_PUNCT_RE.search(line)
        and not line.endswith((",", ":", "、"))
    )


def _notice_units(lines: list[str], max_chars: int) -> list[_Unit]:
    """Sections (一、), items ((一)) and measures (1.) of a bureau notice.

    ``一、`` and ``(一)`` lines that are short titles become headings; when they
    carry content themselves they are units. ``1.`` measures are always units
    (第1项). A unit whose text ends with ":" introduces a list, and the deeper
    numbered lines after it stay with it. Plain paragraphs before any
    numbering are the 序言; later ones are units labelled by the innermost
    numbered heading above them. Runs of one-line entries (a list of case
    types, say) are packed together so that no chunk is a bare fragment.
    """
    content = [line for line in lines if line]
    measure_numbers = Counter(m.group(1) for line in content if (m := _MEASURE_RE.match(line)))
    restarts = any(count > 1 for count in measure_numbers.values())

    units: list[_Unit] = []
    stack = _HeadingStack()
    section: str | None = None  # numeral of the current 一、 section
    item: str | None = None  # numeral of the current (一) heading or unit
    current: _Unit | None = None
    seen_numbering = False

    def start(unit: _Unit) -> _Unit:
        units.append(unit)
        return unit

    for idx, line in enumerate(content):
        nxt = content[idx + 1] if idx + 1 < len(content) else ""
        heading = _heading(line)
        if heading is not None:
            stack.push(*heading)
            current = None
            continue
        sec = _SECTION_RE.match(line)
        itm = None if sec else _ITEM_RE.match(line)
        mea = None if sec or itm else _MEASURE_RE.match(line)
        level = 1 if sec else 2 if itm else 3 if mea else 0
        if (
            level
            and current is not None
            and current.level
            and level > current.level
            and current.lists
        ):
            current.lines.append(line)  # an entry of the list the unit introduced
            continue
        if sec:
            seen_numbering = True
            section, item = sec.group(1), None
            # A title only if something other than the next section follows it.
            if _is_headline(line, allow_full_stop=True) and nxt and not _SECTION_RE.match(nxt):
                stack.push(_SECTION_RANK, line)
                current = None
            else:
                stack.pop_from(_SECTION_RANK)
                current = start(_Unit("", stack.path(), [line], level=1, number=section))
            continue
        if itm:
            seen_numbering = True
            item = itm.group(1)
            if (
                _is_headline(line, allow_full_stop=True)
                and nxt
                and not _ITEM_RE.match(nxt)
                and not _SECTION_RE.match(nxt)
            ):
                stack.push(_ITEM_RANK, line)
                current = None
            else:
                stack.pop_from(_ITEM_RANK)
                prefix = f"{section}、" if section else ""
                current = start(_Unit("", stack.path(), [line], level=2, number=item))
                current.prefix = prefix
            continue
        if mea:
            seen_numbering = True
            current = start(_Unit("", stack.path(), [line], level=3, number=mea.group(1)))
            if restarts:
                current.prefix = (f"{section}、" if section else "") + (f"({item})" if item else "")
            continue
        # Sub-items and lines after a lead-in ending with ":" belong to the unit above.
        if current is not None and (_SUBITEM_RE.match(line) or current.text.endswith(":")):
            current.lines.append(line)
            continue
        if not seen_numbering:
            label = "序言"
        elif item and stack.top_rank() == _ITEM_RANK:
            label = f"{section}、({item})" if section else f"({item})"
        elif section and stack.top_rank() == _SECTION_RANK:
            label = f"第{section}部分"
        else:
            label = ""
        if current is not None and current.label == label and not current.level:
            current.lines.append(line)
        else:
            current = start(_Unit(label, stack.path(), [line]))
    units = _pack_tiny_entries(units, max_chars)
    for unit in units:
        if unit.level:
            unit.label = _numbered_label(unit)
    return units


def _numbered_label(unit: _Unit) -> str:
    first, last = unit.number, unit.last_number or unit.number
    if unit.level == 1:
        return f"第{first}部分" if first == last else f"第{first}至{last}部分"
    if unit.level == 2:
        span = f"({first})" if first == last else f"({first})至({last})"
        return unit.prefix + span
    return unit.prefix + (f"第{first}项" if first == last else f"第{first}至{last}项")


def _pack_tiny_entries(units: list[_Unit], max_chars: int) -> list[_Unit]:
    """Join consecutive one-line entries of the same level and heading into one unit."""
    out: list[_Unit] = []
    for unit in units:
        prev = out[-1] if out else None
        if (
            prev is not None
            and unit.level
            and prev.level == unit.level
            and prev.heading == unit.heading
            and prev.prefix == unit.prefix
            and len(unit.text) < _TINY_ENTRY
            and (prev.last_number or len(prev.text) < _TINY_ENTRY)
            and len(prev.text) + len(unit.text) < max_chars
        ):
            prev.lines.extend(unit.lines)
            prev.last_number = unit.number
        else:
            out.append(unit)
    return out


# --------------------------------------------------------------------------- free text


def _text_units(lines: list[str], max_chars: int) -> list[_Unit]:
    """Paragraph units with stable 第N段 labels under the current section headline.

    N counts body paragraphs from 1 (headlines and section letters are not
    paragraphs), so a label does not depend on ``max_chars``. Paragraphs
    shorter than ``_SHORT_PARAGRAPH`` (captions, one-line remarks) join the
    next paragraph of the same section, whose number the unit carries; at the
    end of a section they join the previous unit instead.
    """
    stack = _HeadingStack()
    blocks: list[tuple[str, list[tuple[int, str]]]] = []  # (heading, [(n, paragraph)])
    paragraphs: list[tuple[int, str]] = []
    heading = ""
    number = 0
    content = [line for line in lines if line]

    def close_block() -> None:
        nonlocal paragraphs
        if paragraphs:
            blocks.append((heading, paragraphs))
        paragraphs = []

    idx = 0
    while idx < len(content):
        line = content[idx]
        nxt = content[idx + 1] if idx + 1 < len(content) else ""
        md = _heading(line)
        letter = _LETTER_RE.match(line)
        if md is not None:
            close_block()
            stack.push(*md)
            heading = stack.path()
        elif letter and (letter.group(2) is None or _is_headline(letter.group(2))):
            # A section letter on its own line ("A") or with its headline ("D 标题"),
            # followed by more headline lines (main title and subtitle).
            close_block()
            parts = [letter.group(2)] if letter.group(2) else []
            while idx + 1 < len(content) and _is_headline(content[idx + 1]):
                idx += 1
                parts.append(content[idx])
            stack.push(_HEADLINE_RANK, " ".join(parts) or letter.group(1))
            heading = stack.path()
        elif _is_headline(line) and len(nxt) >= _SHORT_PARAGRAPH and not _is_byline(line):
            close_block()
            stack.push(_HEADLINE_RANK, line)
            heading = stack.path()
        else:
            number += 1
            paragraphs.append((number, line))
        idx += 1
    close_block()

    units: list[_Unit] = []
    for block_heading, paras in blocks:
        pending: list[tuple[int, str]] = []
        block_units: list[_Unit] = []
        for n, text in paras:
            pending.append((n, text))
            if len(text) >= _SHORT_PARAGRAPH:
                block_units.append(_Unit(f"第{n}段", block_heading, [t for _, t in pending]))
                pending = []
        if pending:
            tail = [t for _, t in pending]
            last = block_units[-1] if block_units else None
            if last is not None and len(last.text) + sum(map(len, tail)) <= max_chars:
                last.lines.extend(tail)
            else:
                block_units.append(_Unit(f"第{pending[0][0]}段", block_heading, tail))
        units.extend(block_units)
    return units


def _is_byline(line: str) -> bool:
    """Bylines such as "文/图 某某" look like headlines but are not."""
    return line.startswith(("文/", "图/", "文图/", "记者", "通讯员"))


# --------------------------------------------------------------------------- splitting


def split_text(text: str, max_chars: int = 480) -> list[str]:
    """Split ``text`` into parts of at most ``max_chars`` at sentence ends.

    Parts are balanced (a 500-character article becomes two of about 250
    rather than 480 + 20). A single sentence longer than ``max_chars`` is cut
    at commas, and only if a clause is still too long, at ``max_chars``.
    """
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    segments: list[str] = []
    for sentence in _sentences(text):
        if len(sentence) <= max_chars:
            segments.append(sentence)
        else:
            segments.extend(_split_long_sentence(sentence, max_chars))
    return [p for p in (part.strip() for part in _pack(segments, max_chars)) if p]


def _sentences(text: str) -> Iterator[str]:
    for match in _SENTENCE_RE.finditer(text):
        if match.group():
            yield match.group()


def _split_long_sentence(sentence: str, max_chars: int) -> list[str]:
    clauses: list[str] = []
    for match in _CLAUSE_RE.finditer(sentence):
        clause = match.group()
        if not clause:
            continue
        while len(clause) > max_chars:
            clauses.append(clause[:max_chars])
            clause = clause[max_chars:]
        clauses.append(clause)
    return _pack(clauses, max_chars)


def _pack(segments: list[str], max_chars: int) -> list[str]:
    """Greedy packing towards an even part size, never above ``max_chars``."""
    total = sum(len(s) for s in segments)
    if total <= max_chars:
        return ["".join(segments)]
    target = total / math.ceil(total / max_chars)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for seg in segments:
        if current and (size + len(seg) > max_chars or size + len(seg) / 2 > target):
            parts.append("".join(current))
            current, size = [], 0
        current.append(seg)
        size += len(seg)
    if current:
        tail = "".join(current)
        if parts and len(tail.strip()) < max_chars / 4 and len(parts[-1]) + len(tail) <= max_chars:
            parts[-1] += tail
        else:
            parts.append(tail)
    return parts
