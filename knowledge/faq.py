"""Curated FAQ: load and validate ``knowledge/faq/*.yml`` and turn entries into chunks.

Why a strict loader: the FAQ is edited by hand by bureau staff, and a typo (a
misspelt key, a date like ``2023-4-4``, a duplicated id) must stop ``yiwen
ingest`` with a message that says which file, which entry and which field to
fix, in Chinese, instead of silently shipping a broken answer.

YAML layout (one file per topic)::

    version: 1
    topic: 个转企                 # default topic for the file's entries
    entries:
      - id: gzq-subsidy          # unique across all files
        topic: 个转企             # optional override
        questions: [..., ..., ...]   # at least 3 variants
        answer: >-               # own words, at most 400 characters
          ...
        sources:                 # the first one is the primary source
          - {doc: <corpus file stem>, clause: 第十三条}
        date: 2022-10-01         # date of the primary source; null if it carries none
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from knowledge.model import Chunk

DEFAULT_FAQ_DIR = Path(__file__).parent / "faq"
SUPPORTED_VERSION = 1
MAX_ANSWER_CHARS = 400
MIN_QUESTIONS = 3

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRAILING_DATE = re.compile(r"\s*[(（]\d{4}-\d{2}-\d{2}[)）]\s*$")
_FILE_KEYS = {"version", "topic", "entries"}
# A YAML folded block (``>-``) joins its lines with a space; after Chinese punctuation
# that space is wrong, so it is dropped.
_SPACE_AFTER_CJK_PUNCT = re.compile(r"(?<=[。！？；：，、）】」』”])[ \t\n]+")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class FaqError(ValueError):
    """Raised when the FAQ cannot be loaded; ``problems`` holds one Chinese line per fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class FaqSource(BaseModel):
    """A cited passage: corpus file stem plus the article / measure / paragraph label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc: NonEmpty
    clause: NonEmpty


class FaqEntry(BaseModel):
    """One curated question with its answer; ``file`` is the YAML file name it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    topic: NonEmpty
    questions: list[NonEmpty] = Field(min_length=MIN_QUESTIONS)
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER_CHARS)
    ]
    sources: list[FaqSource] = Field(min_length=1)
    date: dt.date | None
    file: NonEmpty

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, questions: list[str]) -> list[str]:
        seen: set[str] = set()
        for question in questions:
            if question in seen:
                raise ValueError(f"问题“{question}”重复出现")
            seen.add(question)
        return questions

    @field_validator("answer", mode="before")
    @classmethod
    def _join_folded_lines(cls, value: Any) -> Any:
        return _SPACE_AFTER_CJK_PUNCT.sub("", value) if isinstance(value, str) else value

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date_only(cls, value: Any) -> Any:
        # YAML dates are kept as text by our loader, so only YYYY-MM-DD is accepted;
        # pydantic alone would also take timestamps and integers.
        if value is None or isinstance(value, dt.date):
            return value
        if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
            raise ValueError("日期格式")
        return value.strip()

    @property
    def primary(self) -> FaqSource:
        """The source an FAQ hit cites."""
        return self.sources[0]


def doc_title(stem: str) -> str:
    """Title shown in citations: the corpus stem without a trailing ``(YYYY-MM-DD)``."""
    return _TRAILING_DATE.sub("", stem)


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key; reported with its line, apart from syntax errors."""


class _FaqYamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text and refuses duplicate keys.

    PyYAML would turn ``2023-13-01`` into an exception outside its error type and
    would let a second ``answer:`` silently overwrite the first.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(None, None, f"键 {key} 重复出现", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _where(name: str, index: int | None = None, entry_id: Any = None) -> str:
    where = f"FAQ 文件 {name}"
    if index is not None:
        where += f" 第 {index} 条"
        if isinstance(entry_id, str) and entry_id.strip():
            where += f"（id={entry_id.strip()}）"
    return where


def _field_name(loc: tuple[int | str, ...]) -> str:
    """('sources', 0, 'clause') -> 'sources 第 1 项的 clause'."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f" 第 {item + 1} 项")
        else:
            parts.append(f"的 {item}" if parts else str(item))
    return "".join(parts) or "（整条）"


def _describe(error: Mapping[str, Any]) -> str:
    """Turn one pydantic error into a Chinese sentence that names the field and the fix."""
    loc = tuple(error.get("loc", ()))
    field = _field_name(loc)
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"缺少字段 {field}"
    if kind == "extra_forbidden":
        return f"未知字段 {field}（拼写错了吗？允许的字段见 knowledge/faq.py 说明）"
    if loc and loc[0] == "date":
        return "字段 date 不是有效日期，请写成 YYYY-MM-DD，例如 2023-04-04；来源没有日期时写 null"
    if loc and loc[0] == "id":
        return "字段 id 格式不对：只能用小写字母、数字和连字符，例如 cmp-where"
    if kind == "too_short":
        if loc and loc[0] == "questions":
            return f"字段 questions 至少需要 {MIN_QUESTIONS} 个问法"
        if len(loc) == 1:
            return f"字段 {field} 至少需要 {ctx.get('min_length', 1)} 项"
        return f"字段 {field} 不能为空"
    if kind == "string_too_short":
        return f"字段 {field} 不能为空"
    if kind == "string_too_long":
        return f"字段 {field} 超过 {ctx.get('max_length')} 字，请精简"
    if kind in {"string_type", "str_type"}:
        return f"字段 {field} 应当是文字"
    if kind == "list_type":
        return f"字段 {field} 应当是列表（每项以 - 开头）"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"字段 {field} 应当是 doc/clause 这样的键值对"
    if kind == "value_error":
        return f"字段 {field} 有误：{ctx.get('error', error.get('msg', ''))}"
    return f"字段 {field} 有误：{error.get('msg', '')}"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FaqError([f"{_where(path.name)}：不是 UTF-8 编码，请另存为 UTF-8"]) from exc
    try:
        loader = _FaqYamlLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" 第 {mark.line + 1} 行" if mark is not None else ""
        problem = exc.problem or exc.context or "无法解析"
        if isinstance(exc, _DuplicateKeyError):
            raise FaqError([f"{_where(path.name)}{line}：{problem}，请只保留一个"]) from exc
        raise FaqError(
            [f"{_where(path.name)}{line}：YAML 语法错误（{problem}），请检查缩进、冒号和引号"]
        ) from exc
    except yaml.YAMLError as exc:
        raise FaqError([f"{_where(path.name)}：YAML 语法错误（{exc}）"]) from exc


def _load_file(path: Path) -> tuple[list[FaqEntry], list[str]]:
    """Validate one file; return its good entries and the problems found."""
    name = path.name
    data = _read_yaml(path)
    if not isinstance(data, dict):
        return [], [f"{_where(name)}：顶层应当是包含 version、topic、entries 的键值对"]
    problems: list[str] = []
    unknown = sorted(str(key) for key in data if key not in _FILE_KEYS)
    if unknown:
        problems.append(f"{_where(name)}：未知的顶层字段 {'、'.join(unknown)}")
    if data.get("version") != SUPPORTED_VERSION:
        problems.append(f"{_where(name)}：字段 version 应为 {SUPPORTED_VERSION}")
    default_topic = data.get("topic")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        problems.append(f"{_where(name)}：字段 entries 应当是非空列表")
        return [], problems

    entries: list[FaqEntry] = []
    for index, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict):
            problems.append(f"{_where(name, index)}：每条应当是键值对（id、questions、answer…）")
            continue
        if "file" in raw:
            problems.append(f"{_where(name, index, raw.get('id'))}：未知字段 file（由程序填写）")
            continue
        values = {**raw, "file": name}
        if values.get("topic") is None and default_topic is not None:
            values["topic"] = default_topic
        try:
            entries.append(FaqEntry.model_validate(values))
        except ValidationError as exc:
            where = _where(name, index, raw.get("id"))
            problems.extend(f"{where}：{_describe(err)}" for err in exc.errors())
    return entries, problems


def load_faq(directory: Path = DEFAULT_FAQ_DIR) -> list[FaqEntry]:
    """Read every ``*.yml`` in ``directory`` (sorted by name) and validate all entries.

    All faults across all files are gathered into one ``FaqError`` so an editor
    can fix them in one pass.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FaqError([f"FAQ 目录不存在：{directory}"])
    entries: list[FaqEntry] = []
    problems: list[str] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            file_entries, file_problems = _load_file(path)
        except FaqError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(file_problems)
        for index, entry in enumerate(file_entries, start=1):
            if entry.id in first_seen:
                other_file, other_index = first_seen[entry.id]
                problems.append(
                    f"{_where(path.name, index, entry.id)}：id 重复，"
                    f"已在 {other_file} 第 {other_index} 条使用，请改一个唯一的 id"
                )
                continue
            first_seen[entry.id] = (path.name, index)
            entries.append(entry)
    if problems:
        raise FaqError(problems)
    return entries


def faq_to_chunks(entries: list[FaqEntry]) -> list[Chunk]:
    """One retrievable chunk per entry; it cites the entry's primary source."""
    chunks: list[Chunk] = []
    for position, entry in enumerate(entries):
        primary = entry.primary
        chunks.append(
            Chunk(
                chunk_id=f"faq:{entry.id}",
                doc_id=f"faq:{entry.id}",
                title=doc_title(primary.doc),
                text=entry.answer,
                position=position,
                label=primary.clause,
                kind="faq",
                date=entry.date.isoformat() if entry.date else None,
                source_doc=primary.doc,
                meta={
                    "questions": list(entry.questions),
                    "topic": entry.topic,
                    "sources": [{"doc": s.doc, "clause": s.clause} for s in entry.sources],
                },
            )
        )
    return chunks
