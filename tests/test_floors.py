"""Floors: a package imports only packages on lower floors (see README, "Architecture").

Why a test: upward imports are how ``tickets`` came to need ``yiwen`` and the action
server a settings module of the CLI; once one exists, the next is easy to add. Every
import counts, including ones inside functions and under ``TYPE_CHECKING``: a lazy import
is still a dependency. ``retrieval`` and ``tickets`` share a floor and may not import
each other. Reaching a higher floor at run time goes through a subprocess
(``python -m bench.…``), which this test does not see, on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: package → floor, low to high. Equal floors are siblings: neither imports the other.
FLOORS: dict[str, int] = {
    "core": 0,
    "knowledge": 1,
    "retrieval": 2,
    "tickets": 2,
    "bot": 3,
    "channels": 4,
    "yiwen": 5,
    "bench": 6,
}

#: Generated or vendored files that are not ours to layer (none today).
SKIP: set[str] = set()


def _imported_packages(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _violations(package: str) -> list[str]:
    floor = FLOORS[package]
    problems = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in SKIP or ("/models/" in rel and package == "bot"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for line, target in _imported_packages(tree):
            if target == package or target not in FLOORS:
                continue
            if FLOORS[target] > floor:
                problems.append(
                    f"{rel}:{line} imports {target!r} (floor {FLOORS[target]}) from "
                    f"{package!r} (floor {floor}): move the shared code down (core/) or call "
                    "the higher floor through a subprocess"
                )
            elif FLOORS[target] == floor:
                problems.append(
                    f"{rel}:{line} imports sibling {target!r} from {package!r}: the two "
                    f"share floor {floor}; move what both need down to a lower floor"
                )
    return problems


@pytest.mark.parametrize("package", list(FLOORS))
def test_no_upward_or_sibling_imports(package: str) -> None:
    problems = _violations(package)
    assert not problems, "imports against the floors:\n" + "\n".join(problems)


def test_every_package_has_a_floor() -> None:
    """A new top-level package must be placed (here and in the README table)."""
    packages = {
        p.parent.name
        for p in REPO.glob("*/__init__.py")
        if p.parent.name not in {"tests", "scripts", "docs"}
    }
    assert packages <= set(FLOORS), f"no floor for {sorted(packages - set(FLOORS))}"


def test_readme_table_matches() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for package, floor in FLOORS.items():
        assert f"| {floor} | `{package}/` |" in readme, f"README floors table lacks {package}"
