"""Route a ticket to the Jiangmen county-level bureau that has jurisdiction (Art. 12).

The county comes from the respondent's address, matched against ``gazetteer.yml``:
a full county name decides on its own; otherwise short forms and town names vote, and
names that are ordinary words or places elsewhere (weak names) count only when the address
also says 江门. Anything ambiguous, outside Jiangmen or unrecognised goes to 待分派 for a
person to assign, with a note saying why. The client's county hint (what the citizen told
the assistant) is used only when the address yields nothing at all: not when it is
ambiguous or points outside Jiangmen, since then the address contradicts or outranks it.

E-commerce platform operators are handled by the bureau where the platform is domiciled
(Art. 12, second paragraph), so for them the hint, which reflects where the consumer is,
is never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from tickets.services.messages import message
from tickets.settings import COUNTIES, UNASSIGNED


@dataclass(frozen=True)
class Gazetteer:
    """Place names per county, loaded from YAML."""

    strong: dict[str, frozenset[str]]
    weak: dict[str, frozenset[str]]
    full_names: frozenset[str]
    city_markers: tuple[str, ...]
    outside_markers: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        strong: dict[str, set[str]] = {}
        weak: dict[str, set[str]] = {}
        counties = raw["counties"]
        if set(counties) != set(COUNTIES):
            raise ValueError(f"{path}: counties must be exactly {COUNTIES}")
        for county, spec in counties.items():
            for term in [*spec.get("short", []), *spec.get("towns", []), *spec.get("strong", [])]:
                strong.setdefault(str(term), set()).add(county)
            for term in spec.get("weak", []):
                weak.setdefault(str(term), set()).add(county)
        return cls(
            strong={k: frozenset(v) for k, v in strong.items()},
            weak={k: frozenset(v) for k, v in weak.items()},
            full_names=frozenset(COUNTIES),
            city_markers=tuple(raw.get("city_markers", [])),
            outside_markers=tuple(raw.get("outside_markers", [])),
        )


@lru_cache(maxsize=4)
def load_gazetteer(path: Path) -> Gazetteer:
    return Gazetteer.load(path)


@dataclass(frozen=True)
class Routing:
    """Where a ticket goes and, when it goes to 待分派, why."""

    county: str
    note: str | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)

    @property
    def assigned(self) -> bool:
        return self.county != UNASSIGNED


def _find_terms(text: str, terms: dict[str, frozenset[str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping matches, longest first: (start, end, term)."""
    taken = [False] * len(text)
    found: list[tuple[int, int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        start = text.find(term)
        while start != -1:
            end = start + len(term)
            if not any(taken[start:end]):
                found.append((start, end, term))
                for i in range(start, end):
                    taken[i] = True
            start = text.find(term, start + 1)
    return found


def _has_outside_marker(text: str, markers: tuple[str, ...]) -> bool:
    for marker in markers:
        start = text.find(marker)
        while start != -1:
            end = start + len(marker)
            # "北京市场" is a market called 北京, not 北京市.
            if not (marker.endswith("市") and text[end : end + 1] == "场"):
                return True
            start = text.find(marker, start + 1)
    return False


def counties_in(address: str, gazetteer: Gazetteer) -> tuple[set[str], bool]:
    """Counties the address points to, and whether it points outside Jiangmen."""
    text = "".join(address.split())
    full = {c for c in gazetteer.full_names if c in text}
    if full:
        return full, False
    says_jiangmen = any(marker in text for marker in gazetteer.city_markers)
    if not says_jiangmen and _has_outside_marker(text, gazetteer.outside_markers):
        return set(), True
    vocabulary = dict(gazetteer.strong)
    if says_jiangmen:
        for term, counties in gazetteer.weak.items():
            vocabulary[term] = vocabulary.get(term, frozenset()) | counties
    found: set[str] = set()
    ambiguous: set[str] = set()
    for _start, _end, term in _find_terms(text, vocabulary):
        counties = vocabulary[term]
        if len(counties) == 1:
            found |= counties
        else:
            ambiguous |= counties
    if found:
        return found, False
    return ambiguous, False


def route(
    address: str | None,
    *,
    is_platform: bool,
    hint: str | None,
    gazetteer: Gazetteer,
) -> Routing:
    """Decide the county for a respondent at ``address``."""
    hint = hint if hint in COUNTIES else None
    if is_platform:
        if address:
            counties, _outside = counties_in(address, gazetteer)
            if len(counties) == 1:
                return Routing(next(iter(counties)))
        return Routing(UNASSIGNED, message("routing.platform_outside"))
    if not address:
        if hint:
            return Routing(hint, message("routing.hint_used"))
        return Routing(UNASSIGNED, message("routing.no_address"))
    counties, outside = counties_in(address, gazetteer)
    if outside:
        return Routing(UNASSIGNED, message("routing.outside"))
    if len(counties) == 1:
        return Routing(next(iter(counties)))
    if len(counties) > 1:
        ordered = tuple(c for c in COUNTIES if c in counties)
        return Routing(
            UNASSIGNED, message("routing.ambiguous", candidates="、".join(ordered)), ordered
        )
    if hint:
        return Routing(hint, message("routing.hint_used"))
    return Routing(UNASSIGNED, message("routing.unrecognised"))
