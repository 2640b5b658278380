"""Plain data types shared by loaders, chunker, FAQ and the retrieval index.

They are deliberately dumb dataclasses: every stage (ingest, index, answer) can
serialise them to JSON for the on-disk index without a schema library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DocKind = Literal["law", "notice", "faq", "text"]


@dataclass
class Document:
    """One source file, already decoded and normalised.

    ``doc_id`` is the file stem; evaluation sets and FAQ sources refer to it.
    """

    doc_id: str
    title: str
    text: str
    path: str
    kind: DocKind = "text"
    date: str | None = None  # ISO date (YYYY-MM-DD) or None
    issuer: str | None = None
    superseded_by: str | None = None  # doc_id or title of the replacing text
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    """A retrievable passage that keeps enough structure to be cited.

    ``label`` is the article or clause (第十三条, 第14项); ``heading`` is the
    chapter/section path above it (第二章 ... / 三、...). ``position`` is the
    chunk's ordinal inside its document, so neighbours can be found.
    """

    chunk_id: str
    doc_id: str
    title: str
    text: str
    position: int
    label: str = ""
    heading: str = ""
    kind: DocKind = "text"
    date: str | None = None
    issuer: str | None = None
    superseded_by: str | None = None
    source_doc: str | None = None  # for FAQ chunks: doc_id of the primary source
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        """Human citation such as 《促进个体工商户发展条例》第十三条."""
        cite = f"《{self.title}》{self.label}"
        return cite

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)
