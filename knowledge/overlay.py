"""Content the staff console adds to the index: its documents and its FAQ overlay.

The console keeps documents and FAQ edits in the database; before each build it writes
them here (``<data_dir>/console/export``) so that the index build, which knows nothing
of databases, includes them, and so that ``yiwen ingest`` keeps them too.

Layout of the export folder::

    documents.jsonl   one :class:`Document` per line (published and enabled only);
                      ``meta["disabled_chunks"]`` lists chunk ids the build must skip
    faq.json          {"entries": [FAQ entry dicts], "disabled": [ids]}: entries
                      replace seed entries of the same id or add to them; disabled
                      ids are removed from the seed

Why whole documents and not files for the loader: staff corrected the title, date and
validity by hand; re-parsing a file would lose that.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from knowledge.faq import FaqEntry, FaqError
from knowledge.model import Document

DOCUMENTS_FILE = "documents.jsonl"
FAQ_FILE = "faq.json"


def export_files(directory: Path | None) -> list[Path]:
    """The export files present in ``directory`` (they are part of the index's identity)."""
    if directory is None:
        return []
    return [p for p in (directory / DOCUMENTS_FILE, directory / FAQ_FILE) if p.is_file()]


def write_documents(directory: Path, docs: list[Document]) -> None:
    """Replace the exported documents atomically (a build may read them at any time)."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (DOCUMENTS_FILE + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(asdict(doc), ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(directory / DOCUMENTS_FILE)


def write_faq(directory: Path, entries: list[dict[str, Any]], disabled: list[str]) -> None:
    """Replace the FAQ overlay atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (FAQ_FILE + ".tmp")
    payload = {"entries": entries, "disabled": sorted(disabled)}
    tmp.write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=1), "utf-8")
    tmp.replace(directory / FAQ_FILE)


def load_documents(directory: Path | None) -> list[Document]:
    """The console's documents, or none when nothing was exported."""
    if directory is None or not (directory / DOCUMENTS_FILE).is_file():
        return []
    with (directory / DOCUMENTS_FILE).open(encoding="utf-8") as fh:
        return [Document(**json.loads(line)) for line in fh if line.strip()]


def apply_faq_overlay(entries: list[FaqEntry], directory: Path | None) -> list[FaqEntry]:
    """Seed ``entries`` with the console's overrides, additions and removals applied."""
    if directory is None or not (directory / FAQ_FILE).is_file():
        return entries
    data = json.loads((directory / FAQ_FILE).read_text("utf-8"))
    disabled = set(data.get("disabled", []))
    overrides: dict[str, FaqEntry] = {}
    problems: list[str] = []
    for raw in data.get("entries", []):
        try:
            entry = FaqEntry.model_validate({**raw, "file": "console"})
        except ValueError as exc:
            problems.append(f"后台问答 {raw.get('id')}：{exc}")
            continue
        overrides[entry.id] = entry
    if problems:
        raise FaqError(problems)
    out = [overrides.pop(e.id, e) for e in entries if e.id not in disabled]
    out.extend(e for e in overrides.values() if e.id not in disabled)
    return out
