"""Mark documents that are no longer in force, so answers prefer the current text.

Three sources, strongest first:

1. ``knowledge/superseded.yml``: entries curated by staff (config wins);
2. repeal clauses in the corpus: a sentence in document D such as
   ``本条例自…起施行。《X》同时废止。`` marks every earlier document titled X as
   superseded by D, citing the article that says so;
3. versions: when the corpus holds several dated versions of one title, the
   older ones are superseded by the newest.

Titles are indexed in a dict, so the whole pass is linear in the corpus size
(the 3,500-file LawRefBook set takes well under a second).

A superseded document gets ``superseded_by`` = the replacing document's title
and ``meta["superseded"]`` = ``{"by_title", "by_doc", "article", "reason",
"source"}``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.loaders import ARTICLE_LINE_RE
from knowledge.model import Document
from knowledge.normalize import normalize_text

CONFIG_PATH = Path(__file__).with_name("superseded.yml")

_ARTICLE_AT_RE = re.compile(ARTICLE_LINE_RE.pattern, re.M)  # "^" also after a newline
_TITLE_RE = re.compile(r"《([^《》\n]{2,80})》")
_PAREN_RE = re.compile(r"\([^()\n]{0,60}\)")
# Between the last 《X》 and 废止: "同时", "(国务院令第596号)同时", "自本办法施行之日起".
_REPEAL_GAP_RE = re.compile(r"^\s*(?:自[^。;\n]{0,24}起)?\s*(?:同时|一并|即行|相应)?\s*(?:予以)?$")
# Between two repealed titles: "、", "和", or "2000年1月13日…令第94号公布的".
_TITLE_JOIN_RE = re.compile(
    r"^[、,和及与以\s]*(?:\d{4}年\d{1,2}月\d{1,2}日[^《》。;\n]{0,60}?"
    r"(?:公布|发布|通过|批准|印发|制定|颁布)的)?\s*$"
)


def title_key(title: str) -> str:
    """Key under which titles are compared: normalised, no spaces, no 中华人民共和国 prefix."""
    key = re.sub(r"\s+", "", normalize_text(title))
    return key.removeprefix("中华人民共和国")


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Read and check ``superseded.yml``; a broken file fails loudly at ingest time."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("entries")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 'entries' must be a list")
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not (entry.get("doc_id") or entry.get("title")):
            raise ValueError(f"{path}: entry {n} needs a doc_id or a title")
        if not entry.get("superseded_by") and entry.get("in_force") is not True:
            raise ValueError(f"{path}: entry {n} needs superseded_by (or in_force: true)")
    reasons = data.get("reasons") or {}
    for name in ("repealed", "newer_version"):
        if name not in reasons:
            raise ValueError(f"{path}: reasons.{name} is missing")
    return {"entries": entries, "reasons": reasons}


def find_repeals(doc: Document) -> list[tuple[str, str]]:
    """``(title, article)`` for each document that ``doc`` says it repeals."""
    found: list[tuple[str, str]] = []
    text = doc.text
    for match in re.finditer("废止", text):
        pos = match.start()
        start = _sentence_start(text, pos)
        sentence = text[start:pos]
        titles = list(_TITLE_RE.finditer(sentence))
        if not titles:
            continue
        gap = _PAREN_RE.sub("", sentence[titles[-1].end() :])
        if not _REPEAL_GAP_RE.match(gap):
            continue
        repealed = [titles[-1].group(1)]
        for earlier, later in zip(reversed(titles[:-1]), reversed(titles[1:]), strict=True):
            between = _PAREN_RE.sub("", sentence[earlier.end() : later.start()])
            if not _TITLE_JOIN_RE.match(between):
                break
            repealed.append(earlier.group(1))
        article = _article_at(text, pos)
        found.extend((title, article) for title in reversed(repealed))
    return found


def _sentence_start(text: str, pos: int) -> int:
    """Index just after the last 。/;/newline before ``pos``."""
    best = -1
    for mark in ("。", ";", "\n"):
        best = max(best, text.rfind(mark, 0, pos))
    return best + 1


def _article_at(text: str, pos: int) -> str:
    """Label of the article (第X条) that contains ``pos``, or ""."""
    line_start = text.rfind("\n", 0, pos) + 1
    for _ in range(200):
        match = _ARTICLE_AT_RE.match(text, line_start)
        if match:
            return match.group()
        if line_start == 0:
            break
        line_start = text.rfind("\n", 0, line_start - 1) + 1
    return ""


def mark_superseded(docs: list[Document], config_path: Path = CONFIG_PATH) -> list[Document]:
    """Return the documents with ``superseded_by`` set where they are no longer in force.

    Inputs are not modified; documents that are still in force come back as
    the same objects.
    """
    config = load_config(config_path)
    reasons = config["reasons"]
    by_key: dict[str, list[int]] = defaultdict(list)
    by_id: dict[str, int] = {}
    for i, doc in enumerate(docs):
        by_key[title_key(doc.title)].append(i)
        by_id[doc.doc_id] = i

    marks: dict[int, dict[str, Any]] = {}

    # 3. Older versions of the same title (weakest; overwritten below).
    for indices in by_key.values():
        dated = [i for i in indices if docs[i].date]
        if len(dated) < 2:
            continue
        newest = max(dated, key=lambda i: docs[i].date or "")
        newest_date = docs[newest].date or ""
        for i in dated:
            if (docs[i].date or "") < newest_date:
                marks[i] = _mark(
                    docs[newest].title,
                    docs[newest].doc_id,
                    "",
                    reasons["newer_version"].format(
                        by_title=docs[newest].title, article="", by_date=newest_date
                    ),
                    "version",
                )

    # 2. Repeal clauses found in the text.
    for d, doc in enumerate(docs):
        if "废止" not in doc.text:
            continue
        for title, article in find_repeals(doc):
            for i in by_key.get(title_key(title), []):
                old = docs[i]
                if i == d or (old.date and doc.date and old.date >= doc.date):
                    continue
                marks[i] = _mark(
                    doc.title,
                    doc.doc_id,
                    article,
                    reasons["repealed"].format(by_title=doc.title, article=article, by_date=""),
                    "text",
                )

    # 1. Curated entries win.
    for entry in config["entries"]:
        targets: list[int] = []
        if entry.get("doc_id") in by_id:
            targets.append(by_id[entry["doc_id"]])
        if entry.get("title"):
            targets.extend(by_key.get(title_key(entry["title"]), []))
        if entry.get("in_force") is True:
            for i in targets:  # staff say it is still in force: drop any detected mark
                marks.pop(i, None)
            continue
        by_title = str(entry["superseded_by"])
        replacing = by_key.get(title_key(by_title), [])
        by_doc = (
            docs[max(replacing, key=lambda i: docs[i].date or "")].doc_id if replacing else None
        )
        for i in targets:
            marks[i] = _mark(
                by_title,
                by_doc,
                str(entry.get("article") or ""),
                str(entry.get("reason") or ""),
                "config",
            )

    result = list(docs)
    for i, mark in marks.items():
        meta = dict(docs[i].meta)
        meta["superseded"] = mark
        result[i] = replace(docs[i], superseded_by=mark["by_title"], meta=meta)
    return result


def _mark(
    by_title: str, by_doc: str | None, article: str, reason: str, source: str
) -> dict[str, Any]:
    return {
        "by_title": by_title,
        "by_doc": by_doc,
        "article": article,
        "reason": reason,
        "source": source,
    }
