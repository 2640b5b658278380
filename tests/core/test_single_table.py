"""Jiangmen's county list lives in core/places.yml only.

Two tables once gave two answers for the same address (the assistant's summary said
鹤山市, the ticket said 待分派). This scan fails when a second list of county names
appears in the application packages: a Python tuple, list, set or dict (or a regex
alternation in a string) naming two or more counties, or a YAML list, mapping or lookup
block doing the same. Rasa's own data cannot import Python, so the county buttons in
bot/domain.yml and the district lookup in bot/data/lookups.yml are the two allowed
copies, and they are checked against the table instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from core.places import COUNTIES, SHORT_NAMES, find_county

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "tickets", "channels", "retrieval", "yiwen")
SKIPPED_PARTS = {"models", "__pycache__", ".rasa"}
NAMES = frozenset(COUNTIES) | frozenset(SHORT_NAMES)
DOMAIN = REPO / "bot" / "domain.yml"
LOOKUPS = REPO / "bot" / "data" / "lookups.yml"
ALLOWED = {DOMAIN, LOOKUPS}


def _files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in (".py", ".yml", ".yaml") and not SKIPPED_PARTS & set(path.parts):
                yield path


def _count(items: list[Any]) -> int:
    return len({item for item in items if isinstance(item, str) and item in NAMES})


def _string_items(text: str) -> list[str]:
    """Items of a block (``- 蓬江区`` lines) or a regex alternation (蓬江|江海)."""
    return [part.strip().lstrip("-").strip() for part in re.split(r"[\n|()?:]", text)]


def _python_lists(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        items: list[Any] = []
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        elif isinstance(node, ast.Dict):
            items = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            items = _string_items(node.value)
        if _count(items) >= 2:
            yield f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"


def _yaml_lists(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        if _count(list(node)) >= 2:
            yield where
        for key, value in node.items():
            yield from _yaml_lists(value, f"{where}.{key}")
    elif isinstance(node, list):
        # A list of buttons ({title, payload}) is as much a table as a list of names.
        scalars = [v for i in node for v in (i.values() if isinstance(i, dict) else [i])]
        if _count(scalars) >= 2:
            yield where
        for i, item in enumerate(node):
            yield from _yaml_lists(item, f"{where}[{i}]")
    elif isinstance(node, str) and _count(_string_items(node)) >= 2:
        yield where


def test_no_second_county_table() -> None:
    found: list[str] = []
    for path in _files():
        if path in ALLOWED:
            continue
        if path.suffix == ".py":
            found += _python_lists(path)
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found += _yaml_lists(data, str(path.relative_to(REPO)))
    assert not found, f"county names listed outside core/places.yml: {found}"


def test_the_scan_finds_a_second_table(tmp_path: Path) -> None:
    """The detector itself: the shapes the old tables had are caught."""
    module = tmp_path / "table.py"
    module.write_text('COUNTIES = ("蓬江区", "恩平市")\nPAT = r"(?:蓬江|恩平)"\n', encoding="utf-8")
    old_repo = globals()["REPO"]
    globals()["REPO"] = tmp_path
    try:
        assert len(list(_python_lists(module))) == 2
    finally:
        globals()["REPO"] = old_repo
    assert list(_yaml_lists({"counties": {"蓬江区": {}, "恩平市": {}}}, "y"))
    assert list(_yaml_lists({"towns": ["蓬江区", "恩平市"]}, "y"))
    assert list(_yaml_lists({"examples": "- 蓬江\n- 恩平\n"}, "y"))
    # An NLU example that names two counties in a sentence is not a table.
    assert not list(_yaml_lists({"examples": "- 我在[蓬江区](district)和[恩平市]\n"}, "y"))


def test_rasa_copies_agree_with_the_table() -> None:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    buttons = domain["responses"]["utter_ask_county"][0]["buttons"]
    payloads = [b["payload"] for b in buttons]
    assert tuple(p for p in payloads if p in COUNTIES) == COUNTIES
    assert all(p in COUNTIES or find_county(p) is None for p in payloads)

    lookups = yaml.safe_load(LOOKUPS.read_text(encoding="utf-8"))["nlu"]
    district = next(item for item in lookups if item.get("lookup") == "district")
    names = [n for n in _string_items(district["examples"]) if n]
    assert set(COUNTIES) | set(SHORT_NAMES) <= set(names)
    for name in names:
        # Every district the NLU tags is a Jiangmen place the table knows (白沙: two).
        assert find_county(name, in_jiangmen=True) or name == "白沙", name
