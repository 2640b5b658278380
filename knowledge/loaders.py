"""Load policy documents (.txt, .md, .docx, .pdf) into normalised :class:`Document` objects.

Every format ends up as plain lines, then goes through one parser that pulls
out the metadata a citation needs (title, date, issuer) and strips the header
that is metadata rather than content: the Markdown title and the lines above
the end-of-header comment, or a notice's recipient line, 印发 line, issuer and date.

A file that cannot be read raises :class:`LoadError` with a Chinese message
that says what to do; :func:`load_corpus` collects those and keeps going, so
one bad upload never stops an ingest.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.model import DocKind, Document
from knowledge.normalize import normalize_text

SUPPORTED = {".txt", ".md", ".docx", ".pdf"}

# Files that are part of a static-site layout, not documents (Hugo section pages
# in the LawRefBook collection hold only front matter).
SKIPPED_NAMES = {"_index.md"}
# Office formats that are reported (not silently skipped) when found in a folder.
_REPORTED_IN_FOLDERS = {".doc", ".wps", ".xls", ".xlsx", ".ppt", ".pptx", ".rtf"}

# Operator-facing messages, kept together so they read consistently.
_MESSAGES = {
    "unsupported": "不支持的文件类型 {suffix}：{path}。支持 .txt / .md / .docx / .pdf。",
    "legacy_word": "不支持旧版 Word 文件 {suffix}：{path}。请在 Word 中另存为 .docx 后重新导入。",
    "unreadable": "无法读取文件：{path}（{detail}）。请检查文件是否存在以及读取权限。",
    "empty": "文件为空：{path}。请检查文件内容后重新导入。",
    "no_body": "文件只有标题或说明信息，没有正文：{path}。请检查文件内容后重新导入。",
    "encoding": (
        "无法识别文件编码：{path}。文件既不是 UTF-8 也不是 GB18030(GBK) 编码的文本，"
        "请用文本编辑器另存为 UTF-8 编码后重新导入。"
    ),
    "binary": "文件不是纯文本：{path}。请确认扩展名正确，或另存为 UTF-8 编码的 .txt 后重新导入。",
    "docx_corrupt": "Word 文件已损坏或不是 .docx 格式：{path}。请用 Word 打开并重新另存为 .docx。",
    "pdf_corrupt": "PDF 文件已损坏，无法读取：{path}（{detail}）。请重新导出或提供原始文件。",
    "pdf_encrypted": "PDF 已加密，无法读取：{path}。请提供未加密的版本。",
    "pdf_no_text": (
        "PDF 中没有可提取的文字：{path}。它可能是扫描件或图片，"
        "请先做文字识别(OCR)，或提供 Word / 文本版本。"
    ),
    "not_found": "文件不存在：{path}。请检查路径。",
}


class LoadError(Exception):
    """A file that could not be turned into a document; ``message`` says how to fix it."""

    def __init__(self, path: Path | str, reason: str, **details: Any) -> None:
        self.path = Path(path)
        self.reason = reason
        self.message = _MESSAGES[reason].format(path=self.path, **details)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- patterns

_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")
_STEM_DATE_RE = re.compile(r"\s*[(（](\d{4}-\d{2}-\d{2})[)）]\s*$")
_CN_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_LINE_RE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
# The collection's end-of-header comment (an HTML comment naming INFO and END).
_INFO_END_RE = re.compile(r"^<!--\s*INFO\s+END\s*-->$")
_FRONT_MATTER_RE = re.compile(r"\A---\n.*?\n---(?:\n|\Z)", re.S)

ARTICLE_LINE_RE = re.compile(
    r"^第[零〇一二三四五六七八九十百千万两\d]+条(?:之[一二三四五六七八九十]+)?(?=[\s:【]|$)"
)
_NOTICE_LINE_RE = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|\d{1,3}[.、](?!\d)|\([一二三四五六七八九十]{1,3}\))"
)
# A sentence-like line: contains punctuation that a title or an issuer line lacks.
_SENTENCE_PUNCT_RE = re.compile(r"[。,;:!?]")
_ORG_SUFFIX_RE = re.compile(
    r"(?:局|委员会|委|政府|办公室|办公厅|厅|院|部|署|会|中心|所|处|科|公司|协会|总局|法院|检察院)$"
)
_RECIPIENT_RE = re.compile(r"^[^。]{2,200}:$")
_ISSUE_LINE_RE = re.compile(r"印发|现将|发布|通知如下")

# Issuer patterns for Markdown metadata lines (enacting body), in order of preference.
_ISSUER_PATTERNS = (
    re.compile(r"(全国人民代表大会常务委员会|全国人民代表大会)"),
    re.compile(
        r"^(?:\d{4}年\d{1,2}月\d{1,2}日\s*)?(\S*?)第[一二三四五六七八九十]+届(人民代表大会常务委员会|人民代表大会)"
    ),
    re.compile(r"(\S+?)令第\s*\S+?号"),
    re.compile(r"(\S+?)(?:审判委员会|检察委员会)"),
    re.compile(r"(\S+?)第\d+次常务会议"),
)
_ISSUER_DATE_PREFIX_RE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日\s*")


@dataclass
class _Parsed:
    title: str
    text: str
    date: str | None = None
    issuer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- public API


def load_document(path: Path) -> Document:
    """Read one file and return a normalised :class:`Document`.

    Raises :class:`LoadError` with a message that names the fix when the file is
    missing, empty, encrypted, corrupt, not text or of an unsupported type.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise LoadError(path, "not_found")
    if suffix in {".doc", ".wps"}:
        raise LoadError(path, "legacy_word", suffix=suffix)
    if suffix not in SUPPORTED:
        raise LoadError(path, "unsupported", suffix=suffix or "(无扩展名)")
    if not path.is_file():
        raise LoadError(path, "not_found")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(path, "unreadable", detail=exc.strerror or exc) from exc
    if size == 0:
        raise LoadError(path, "empty")

    if suffix in {".txt", ".md"}:
        raw = _decode(path)
        is_markdown = suffix == ".md"
    elif suffix == ".docx":
        raw = _read_docx(path)
        is_markdown = True  # heading styles become Markdown headings
    else:
        raw = _read_pdf(path)
        is_markdown = False

    if not raw.strip():
        raise LoadError(path, "empty")
    parsed = _parse(raw, path.stem, is_markdown=is_markdown)
    if not parsed.text.strip():
        raise LoadError(path, "no_body")
    parsed.meta["format"] = suffix.lstrip(".")
    return Document(
        doc_id=path.stem,
        title=parsed.title,
        text=parsed.text,
        path=str(path),
        kind=detect_kind(parsed.text),
        date=parsed.date,
        issuer=parsed.issuer,
        meta=parsed.meta,
    )


def load_corpus(paths: Iterable[Path]) -> tuple[list[Document], list[LoadError]]:
    """Load files and folders (recursively, sorted, hidden entries skipped).

    Errors are collected per file so that a single broken upload is reported
    without stopping the rest of the ingest.
    """
    docs: list[Document] = []
    errors: list[LoadError] = []
    for file in _iter_files(paths):
        try:
            docs.append(load_document(file))
        except LoadError as exc:
            errors.append(exc)
    return docs, errors


def detect_kind(text: str) -> DocKind:
    """``law`` for 第X条 articles, ``notice`` for 一、/1. numbered measures, else ``text``."""
    articles = notices = 0
    for line in text.split("\n"):
        if ARTICLE_LINE_RE.match(line):
            articles += 1
            if articles >= 2:
                return "law"
        elif _NOTICE_LINE_RE.match(line):
            notices += 1
    return "notice" if notices >= 2 else "text"


# --------------------------------------------------------------------------- file walking


def _iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for entry in paths:
        entry = Path(entry)
        if entry.is_dir():
            candidates = sorted(
                f
                for f in entry.rglob("*")
                if f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(entry).parts)
                # Images, archives and the like in a folder are not documents; office
                # formats people drop in by mistake are kept so they get reported.
                and f.suffix.lower() in SUPPORTED | _REPORTED_IN_FOLDERS
            )
        else:
            candidates = [entry]
        for f in candidates:
            if f.name in SKIPPED_NAMES or f in seen:
                continue
            seen.add(f)
            yield f


# --------------------------------------------------------------------------- decoding


def _decode(path: Path) -> str:
    """Decode text as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, "unreadable", detail=exc.strerror or exc) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or _control_ratio(text) > 0.01:
            raise LoadError(path, "binary")
        return text
    raise LoadError(path, "encoding")


def _control_ratio(text: str) -> float:
    sample = text[:4000]
    if not sample:
        return 0.0
    return len(_CONTROL_RE.findall(sample)) / len(sample)


def _read_docx(path: Path) -> str:
    """Paragraphs and table rows in document order; heading styles become Markdown headings."""
    import docx  # python-docx; imported lazily, most ingests have no .docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(path, "docx_corrupt") from exc

    lines: list[str] = []
    core_title = (document.core_properties.title or "").strip()
    if core_title:
        lines.append(f"# {core_title}")
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level == 1 and core_title and text == core_title:
                continue
            lines.append(f"{'#' * level} {text}" if level else text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    lines.append(" ".join(cells))
    return "\n\n".join(lines)


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)) + 1, 6) if match else 0


def _read_pdf(path: Path) -> str:
    """Text of every page; layout line breaks inside a sentence are joined again."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                # Many PDFs are "encrypted" only with an owner password and open
                # with an empty user password; those are readable.
                if not reader.decrypt(""):
                    raise LoadError(path, "pdf_encrypted")
            except (DependencyError, NotImplementedError, FileNotDecryptedError) as exc:
                raise LoadError(path, "pdf_encrypted") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError(path, "pdf_encrypted") from exc
    except (PdfReadError, ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        raise LoadError(path, "pdf_corrupt", detail=type(exc).__name__) from exc
    text = "\n".join(pages)
    if not text.strip():
        raise LoadError(path, "pdf_no_text")
    return _reflow_pdf_lines(text)


_PDF_LINE_END_RE = re.compile(r"[。;!?:;!?:。”」』)】]$")
_STRUCTURE_START_RE = re.compile(
    r"^(?:第[零〇一二三四五六七八九十百千万\d]+[条章节编]|[一二三四五六七八九十]+、|"
    r"[(（][一二三四五六七八九十\d]+[)）]|\d{1,3}[.、．](?!\d)|#)"
)


def _reflow_pdf_lines(text: str) -> str:
    """Join PDF layout lines back into paragraphs.

    A line continues the previous one unless the previous line ended a
    sentence or the new line starts a structural unit (article, item, section).
    """
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        prev = out[-1] if out else ""
        if prev and not _PDF_LINE_END_RE.search(prev) and not _STRUCTURE_START_RE.match(line):
            joiner = " " if prev[-1].isascii() and line[0].isascii() else ""
            out[-1] = prev + joiner + line
        else:
            out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- parsing


def _parse(raw: str, stem: str, *, is_markdown: bool) -> _Parsed:
    text = normalize_text(raw)
    stem_title, stem_date = _split_stem(stem)
    if is_markdown:
        text = _FRONT_MATTER_RE.sub("", text, count=1)
    lines = text.split("\n")
    parsed = _parse_markdown_header(lines, stem_title) if is_markdown else None
    if parsed is None:
        parsed = _parse_plain_header(lines, stem_title)
    if stem_date:
        parsed.date = stem_date
    return parsed


def _split_stem(stem: str) -> tuple[str, str | None]:
    match = _STEM_DATE_RE.search(stem)
    if not match:
        return normalize_text(stem), None
    return normalize_text(stem[: match.start()]), match.group(1)


def _iso(match: re.Match[str]) -> str | None:
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _parse_markdown_header(lines: list[str], stem_title: str) -> _Parsed | None:
    """``# title``, metadata lines, the end-of-header line; ``None`` if there is no ``#`` title."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return _Parsed(title=stem_title, text="")
    match = _MD_HEADING_RE.match(lines[first])
    if not match or len(match.group(1)) != 1:
        return None
    title = match.group(2).strip() or stem_title
    end = next((i for i in range(first, len(lines)) if _INFO_END_RE.match(lines[i].strip())), None)
    if end is None:
        # No marker: metadata lines are the dated 通过/公布/施行 lines right after the title.
        end = first + 1
        while end < len(lines) and (not lines[end].strip() or _is_md_meta_line(lines[end])):
            end += 1
        header, body = lines[first + 1 : end], lines[end:]
    else:
        header, body = lines[first + 1 : end], lines[end + 1 :]

    meta_lines: list[str] = []
    sub_headings: list[str] = []
    for line in header:
        line = line.strip()
        if not line:
            continue
        sub = _MD_HEADING_RE.match(line)
        if sub:
            sub_headings.append(sub.group(2).strip())
        else:
            meta_lines.append(line)
    # A second "# X" in the header (民法典 parts: "# 人格权编") is a division of the
    # work, not its title: keep it as the top heading of the body.
    body_text = "\n".join([f"# {h}" for h in sub_headings] + body).strip()
    date, effective = _dates_from_meta(meta_lines)
    meta: dict[str, Any] = {}
    if meta_lines:
        meta["header"] = meta_lines
    if effective:
        meta["effective"] = effective
    return _Parsed(
        title=title,
        text=body_text,
        date=date,
        issuer=_issuer_from_meta(meta_lines),
        meta=meta,
    )


def _is_md_meta_line(line: str) -> bool:
    line = line.strip()
    return bool(
        _ISSUER_DATE_PREFIX_RE.match(line)
        and re.search(r"(通过|公布|发布|施行|修正|修订|批准)\S{0,3}$", line)
    )


def _dates_from_meta(meta_lines: list[str]) -> tuple[str | None, str | None]:
    """Latest promulgation/amendment date, and the 施行 (entry into force) date."""
    version: str | None = None
    effective: str | None = None
    for line in meta_lines:
        match = _CN_DATE_RE.match(line)
        if not match:
            continue
        iso = _iso(match)
        if iso is None:
            continue
        if re.search(r"施行\S{0,2}$", line):
            effective = max(effective or iso, iso)
        else:
            version = max(version or iso, iso)
    return version or effective, effective


def _issuer_from_meta(meta_lines: list[str]) -> str | None:
    for pattern in _ISSUER_PATTERNS:
        for line in meta_lines:
            match = pattern.search(line)
            if not match:
                continue
            issuer = "".join(g for g in match.groups() if g)
            issuer = _ISSUER_DATE_PREFIX_RE.sub("", issuer).strip("《》 ")
            if issuer.startswith("中华人民共和国国务院"):
                issuer = "国务院"
            if 2 <= len(issuer) <= 40:
                return issuer
    return None


def _parse_plain_header(lines: list[str], stem_title: str) -> _Parsed:
    """Header of a notice: recipients, 印发 line, issuer, date, then the title line.

    Only a contiguous run of such lines at the top counts, and only if it holds
    a date line or a line repeating the document's title; anything else is
    content. A signature block (issuer + date) at the very end is metadata too.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    head = [lines[i].strip() for i in content[:8]]
    stem_key = _normalized_title_key(stem_title)
    meta: dict[str, Any] = {}
    title: str | None = None
    issuer: str | None = None
    date: str | None = None

    pos = 0
    if head and _RECIPIENT_RE.match(head[0]) and not _DATE_LINE_RE.match(head[0]):
        meta["recipients"] = head[0].rstrip(":")
        pos = 1
    while pos < len(head):
        line = head[pos]
        following = head[pos + 1] if pos + 1 < len(head) else ""
        if title is None and _normalized_title_key(line) == stem_key:
            title = line
        elif date is None and pos <= 2 and "issue_note" not in meta and _ISSUE_LINE_RE.search(line):
            meta["issue_note"] = line
        elif issuer is None and _looks_like_issuer(line) and _DATE_LINE_RE.match(following):
            issuer = line
        elif _is_md_meta_line(line):
            # A law saved as plain text: "2018年12月29日 第十三届…会议修正" lines.
            meta.setdefault("header", []).append(line)
        elif date is None and _DATE_LINE_RE.match(line):
            match = _CN_DATE_RE.match(line)
            date = _iso(match) if match else None
            if title is None and _looks_like_title(following):
                title = following
                pos += 1
        else:
            break
        pos += 1
    header_len = pos if (date is not None or title is not None) else 0
    if header_len == 0:
        meta, title, issuer, date = {}, None, None, None
    elif meta.get("header"):
        version, effective = _dates_from_meta(meta["header"])
        date = date or version
        issuer = issuer or _issuer_from_meta(meta["header"])
        if effective:
            meta["effective"] = effective
    drop = set(content[:header_len])

    # Signature block at the end: "<issuer>\n<date>".
    if len(content) - header_len >= 3 and _DATE_LINE_RE.match(lines[content[-1]].strip()):
        match = _CN_DATE_RE.match(lines[content[-1]].strip())
        date = date or (_iso(match) if match else None)
        drop.add(content[-1])
        signer = lines[content[-2]].strip()
        if _looks_like_issuer(signer):
            issuer = issuer or signer
            drop.add(content[-2])

    if title is None:
        quoted = re.search(r"《([^》]{4,80})》", meta.get("issue_note", ""))
        title = quoted.group(1) if quoted else stem_title
    body = "\n".join(line for i, line in enumerate(lines) if i not in drop).strip()
    return _Parsed(title=title, text=body, date=date, issuer=issuer, meta=meta)


def _normalized_title_key(text: str) -> str:
    key = re.sub(r"[\s《》\"“”]", "", text).replace("关于", "")
    return key.removeprefix("中华人民共和国")


def _looks_like_issuer(line: str) -> bool:
    return (
        2 <= len(line) <= 40
        and not _SENTENCE_PUNCT_RE.search(line)
        and bool(_ORG_SUFFIX_RE.search(line))
    )


def _looks_like_title(line: str) -> bool:
    return 4 <= len(line) <= 80 and not _SENTENCE_PUNCT_RE.search(line[:-1] or line)
