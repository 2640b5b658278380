"""Turning Rasa's answers into what a WeChat text message can show.

Why: WeChat shows text only (markdown arrives as literal asterisks and hashes) and a
text message holds about 2,048 bytes of UTF-8, so long answers must be cut. A cut in
the middle of 《促进个体工商户发展条例》第十三条 would leave a citation nobody can
look up, so cuts avoid citations and prefer paragraph and sentence ends.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from core.replies import is_payload, render_text

# A citation: 《title》 optionally followed by article / paragraph / item labels.
_NUM = r"[零〇一二两三四五六七八九十百千0-9０-９]+"
CITATION_RE = re.compile(rf"《[^《》\n]{{1,80}}》(?:\s*(?:第{_NUM}[章节条款项]|[（(]{_NUM}[）)]))*")
_URL_RE = re.compile(r"https?://[^\s<>\"'）)]+")

_FENCE_RE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_HR_RE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_QUOTE_RE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_BULLET_RE = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$", re.MULTILINE)
_TABLE_ROW_RE = re.compile(r"^\s*\|(.*)\|\s*$", re.MULTILINE)
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_BOLD_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_ITALIC_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE_RE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE_RE = re.compile(r"`([^`\n]+)`")
_HTML_TAG_RE = re.compile(r"</?(?:b|strong|i|em|u|br|p|span|code)\b[^>]*>", re.IGNORECASE)
_BLANKS_RE = re.compile(r"\n{3,}")

# Where a long answer may be cut, best first: paragraph, line, sentence, clause, space.
_BREAKS: tuple[tuple[str, ...], ...] = (
    ("\n\n",),
    ("\n",),
    ("。", "！", "？", "；", "!", "?", ";", "…"),
    ("，", "、", "：", ",", ":"),
    (" ",),
)


def strip_markdown(text: str) -> str:
    """Plain text that reads naturally in WeChat; links keep their address."""
    text = _FENCE_RE.sub("", text)
    text = _HEADING_RE.sub(r"\1", text)
    text = _HR_RE.sub("", text)
    text = _QUOTE_RE.sub("", text)
    text = _TABLE_SEP_RE.sub("", text)
    text = _TABLE_ROW_RE.sub(lambda m: "  ".join(c.strip() for c in m.group(1).split("|")), text)
    text = _BULLET_RE.sub(r"\1• ", text)
    text = _IMAGE_RE.sub(
        lambda m: f"{m.group(1)}（{m.group(2)}）" if m.group(1) else m.group(2), text
    )
    text = _LINK_RE.sub(
        lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)}（{m.group(2)}）",
        text,
    )
    text = _BOLD_RE.sub(r"\2", text)
    text = _ITALIC_RE.sub(r"\1", text)
    text = _STRIKE_RE.sub(r"\1", text)
    text = _CODE_RE.sub(r"\1", text)
    text = _HTML_TAG_RE.sub("", text)
    text = _BLANKS_RE.sub("\n\n", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _char_bytes(ch: str) -> int:
    code = ord(ch)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _protected_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in CITATION_RE.finditer(text)]
    spans += [m.span() for m in _URL_RE.finditer(text)]
    return sorted(spans)


def _inside(pos: int, spans: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The protected span that a cut at ``pos`` would break, if any."""
    for start, end in spans:
        if start < pos < end:
            return start, end
        if start >= pos:
            break
    return None


def split_message(text: str, max_bytes: int = 2000) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes.

    Pieces are whole characters; no citation (or URL) is cut unless it alone is
    longer than a message; joined back they give ``text`` up to whitespace at the cuts.
    """
    text = text.strip()
    if not text:
        return []
    if utf8_len(text) <= max_bytes:
        return [text]
    # offsets[i] = UTF-8 bytes of text[:i]
    offsets = list(accumulate(map(_char_bytes, text), initial=0))
    spans = _protected_spans(text)
    pieces: list[str] = []
    start = 0
    n = len(text)
    while start < n:
        if offsets[n] - offsets[start] <= max_bytes:
            pieces.append(text[start:])
            break
        # the furthest end such that text[start:end] fits
        limit = bisect.bisect_right(offsets, offsets[start] + max_bytes) - 1
        cut = _best_cut(text, start, limit, spans)
        pieces.append(text[start:cut])
        start = cut
    return [p.strip() for p in pieces if p.strip()]


def _best_cut(text: str, start: int, limit: int, spans: Sequence[tuple[int, int]]) -> int:
    # Do not accept tiny first pieces when a better break exists further on: look for
    # each kind of break in the last part of the window only after the first third.
    floor = start + max(1, (limit - start) // 3)
    for group in _BREAKS:
        best = -1
        for token in group:
            pos = text.rfind(token, floor, limit)
            while pos != -1:
                cut = pos + len(token)
                if cut <= limit and _inside(cut, spans) is None:
                    best = max(best, cut)
                    break
                pos = text.rfind(token, floor, pos)
        if best > start:
            return best
    span = _inside(limit, spans)
    if span is not None and span[0] > start:
        return span[0]  # end the piece just before the citation
    return max(limit, start + 1)


def cdata_safe(text: str) -> str:
    """Text that cannot close the CDATA section wechatpy wraps replies in.

    wechatpy renders ``<Content><![CDATA[...]]></Content>`` without escaping, so an
    answer that echoes ``]]><MsgType>...`` from a user would inject XML. Splitting the
    terminator across two CDATA sections keeps the characters and the structure.
    """
    return text.replace("]]>", "]]]]><![CDATA[>")


def render_messages(
    messages: Iterable[Mapping[str, Any]], buttons_hint: str
) -> tuple[str, list[tuple[str, str]]]:
    """One WeChat text for a Rasa turn, plus the (title, payload) choices it offers.

    Buttons become a numbered list; the user answers with the number or the title.
    A structured reply (``core.replies``) is rendered from its payload, a summary one
    field a line; its text is the fallback.
    """
    parts: list[str] = []
    choices: list[tuple[str, str]] = []
    for message in messages:
        text = message.get("text")
        custom = message.get("custom")
        if is_payload(custom):
            text = render_text(custom, field_per_line=True) or text
        if text:
            parts.append(strip_markdown(str(text)))
        image = message.get("image")
        if image:
            parts.append(str(image))
        if isinstance(custom, Mapping) and isinstance(custom.get("text"), str):
            parts.append(strip_markdown(custom["text"]))
        buttons = message.get("buttons") or message.get("quick_replies") or []
        for button in buttons:
            if not isinstance(button, Mapping):
                continue
            title = str(button.get("title") or "").strip()
            payload = str(button.get("payload") or button.get("url") or title).strip()
            if title:
                choices.append((title, payload))
    if choices:
        lines = [buttons_hint] + [f"{i}. {title}" for i, (title, _) in enumerate(choices, 1)]
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p), choices


def resolve_choice(text: str, choices: Sequence[Sequence[str]]) -> str:
    """Map a reply "2" or a button title to that button's payload; else keep the text."""
    answer = text.strip()
    if not answer or not choices:
        return text
    digits = answer.translate(str.maketrans("０１２３４５６７８９", "0123456789")).rstrip(".。")
    if re.fullmatch(r"[0-9]{1,3}", digits) and 1 <= int(digits) <= len(choices):
        return str(choices[int(digits) - 1][1])
    for title, payload in choices:
        if answer == title:
            return str(payload)
    return text
