"""Jiangmen's places: which county-level bureau an address belongs to (Art. 12).

Why one module: the assistant showed the citizen one county ("办理单位：鹤山市" for an
address in 重庆沙坪坝) while the ticket service routed the same address to 待分派,
because each kept its own table and its own rules. Both now call :func:`resolve` on the
table in ``places.yml``, so the summary and the ticket cannot disagree.

How an address is read (callers pass text already normalised with
``knowledge.normalize.normalize_text``; whitespace is ignored here):

1. A full county name (新会区) decides on its own; two different ones are ambiguous.
2. Unless the address says 江门, a suffixed place elsewhere (重庆市, 沙坪坝) puts it
   outside Jiangmen.
3. Towns and sub-districts with their suffix (赤坎镇, 沙坪街道) outrank bare names.
4. Short forms and bare names vote; weak bare names (also ordinary words or places
   elsewhere) only when the address says 江门. A bare name followed by a road suffix
   (堤东路, 台山路) is a road, not a vote.
5. With nothing from Jiangmen found, a bare province or city name (湖南, 重庆) puts it
   outside Jiangmen.

The citizen's own answer to "which district?" (the hint) is used when the address yields
nothing, or picks between the candidates of an ambiguous address; never against an
address outside Jiangmen, and never for an e-commerce platform, whose bureau is fixed by
its domicile (Art. 12, second paragraph), not by where the consumer is.

Nothing here imports another package of this project (see ``core/__init__.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

PLACES_FILE = Path(__file__).with_name("places.yml")

_TOWN_SUFFIXES = ("街道", "镇")


class Status(str, Enum):
    """How sure the placement is."""

    MATCHED = "matched"  # the address names exactly one county
    HINTED = "hinted"  # the citizen's answer decided (the address alone did not)
    AMBIGUOUS = "ambiguous"  # the address points at more than one county
    OUTSIDE = "outside"  # the address is outside Jiangmen
    UNKNOWN = "unknown"  # nothing recognisable


class Reason(str, Enum):
    """Why: the value is the key of the explanation in the caller's message file."""

    ADDRESS = "address"
    HINT_USED = "hint_used"
    HINT_SETTLED = "hint_settled"
    AMBIGUOUS = "ambiguous"
    OUTSIDE = "outside"
    NO_ADDRESS = "no_address"
    UNRECOGNISED = "unrecognised"
    PLATFORM_OUTSIDE = "platform_outside"


@dataclass(frozen=True)
class Placement:
    """Where a respondent's complaint goes: a county, or ``None`` (待分派) and why."""

    county: str | None
    status: Status
    reason: Reason
    #: the counties an ambiguous address points at, in table order
    candidates: tuple[str, ...] = ()
    #: the place names that voted, for notes and debugging
    terms: tuple[str, ...] = ()

    @property
    def assigned(self) -> bool:
        return self.county is not None

    @property
    def display(self) -> str:
        return county_display(self.county)


@dataclass(frozen=True)
class _Term:
    counties: frozenset[str]
    tier: int  # 1 full county name, 2 suffixed town, 3 short or bare name
    weak: bool = False


@dataclass(frozen=True)
class PlacesTable:
    """``places.yml``, checked and indexed."""

    counties: tuple[str, ...]
    unassigned: str
    short: Mapping[str, tuple[str, ...]]
    towns: Mapping[str, tuple[str, ...]]
    strong: Mapping[str, tuple[str, ...]]
    weak: Mapping[str, tuple[str, ...]]
    city_markers: tuple[str, ...]
    road_suffixes: tuple[str, ...]
    road_directions: tuple[str, ...]
    outside_markers: tuple[str, ...]
    outside_bare: tuple[str, ...]
    platforms: tuple[str, ...]
    online_cues: tuple[str, ...]

    @cached_property
    def terms(self) -> dict[str, _Term]:
        return _index(self)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str = "places.yml") -> PlacesTable:
        counties_raw = raw.get("counties")
        if not isinstance(counties_raw, dict) or not counties_raw:
            raise ValueError(f"{source}: 'counties' must map each county to its names")
        counties = tuple(str(c) for c in counties_raw)

        def names(county: str, key: str) -> tuple[str, ...]:
            value = (counties_raw[county] or {}).get(key) or []
            if not isinstance(value, list):
                raise ValueError(f"{source}: {county}.{key} must be a list")
            return tuple(str(v) for v in value)

        short = {c: names(c, "short") for c in counties}
        towns = {c: names(c, "towns") for c in counties}
        strong = {c: names(c, "strong") for c in counties}
        weak = {c: names(c, "weak") for c in counties}
        for county in counties:
            bad = [t for t in towns[county] if not t.endswith(_TOWN_SUFFIXES)]
            if bad:
                raise ValueError(f"{source}: {county}.towns must end in 镇 or 街道: {bad}")
        outside = raw.get("outside") or {}
        platforms = raw.get("platforms") or {}
        table = cls(
            counties=counties,
            unassigned=str(raw.get("unassigned") or ""),
            short=short,
            towns=towns,
            strong=strong,
            weak=weak,
            city_markers=tuple(str(m) for m in raw.get("city_markers") or []),
            road_suffixes=tuple(str(s) for s in raw.get("road_suffixes") or []),
            road_directions=tuple(str(s) for s in raw.get("road_directions") or []),
            outside_markers=tuple(str(m) for m in outside.get("markers") or []),
            outside_bare=tuple(str(m) for m in outside.get("bare") or []),
            platforms=tuple(str(p) for p in platforms.get("names") or []),
            online_cues=tuple(str(c) for c in platforms.get("online_cues") or []),
        )
        if not table.unassigned:
            raise ValueError(f"{source}: 'unassigned' is missing")
        _ = table.terms  # a name listed twice fails here, at load
        return table


def _index(table: PlacesTable) -> dict[str, _Term]:
    """Every county, town and bare name → the counties it points at and its tier."""
    index: dict[str, _Term] = {}
    for county in table.counties:
        entries = [(county, 1, False)]
        entries += [(t, 2, False) for t in table.towns[county]]
        entries += [(n, 3, False) for n in (*table.short[county], *table.strong[county])]
        entries += [(n, 3, True) for n in table.weak[county]]
        for name, tier, weak in entries:
            previous = index.get(name)
            if previous and (previous.tier, previous.weak) != (tier, weak):
                raise ValueError(f"places.yml: {name} is listed as two kinds of name")
            counties = previous.counties if previous else frozenset()
            index[name] = _Term(counties | {county}, tier, weak)
    return index


@lru_cache(maxsize=4)
def load_table(path: Path = PLACES_FILE) -> PlacesTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be a mapping")
    return PlacesTable.from_mapping(raw, source=str(path))


_TABLE = load_table()

#: The seven county-level units of Jiangmen, in the order staff lists show them; with
#: ``UNASSIGNED`` the only values a ticket's county may take.
COUNTIES: tuple[str, ...] = _TABLE.counties
#: Where a ticket waits until a person assigns it (待分派).
UNASSIGNED: str = _TABLE.unassigned
#: Short forms (新会 for 新会区), in county order.
SHORT_NAMES: tuple[str, ...] = tuple(n for c in COUNTIES for n in _TABLE.short[c])
#: E-commerce platforms users mention (淘宝, 京东 …).
PLATFORMS: tuple[str, ...] = _TABLE.platforms


# ---------------------------------------------------------------------------- matching
def _compact(text: str | None) -> str:
    return "".join((text or "").split())


def _find_terms(text: str, terms: Iterable[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping matches, longest term first: (start, end, term) in text order."""
    taken = [False] * len(text)
    found: list[tuple[int, int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        start = text.find(term)
        while start != -1:
            end = start + len(term)
            if not any(taken[start:end]):
                found.append((start, end, term))
                taken[start:end] = [True] * len(term)
            start = text.find(term, start + 1)
    return sorted(found)


def _road_follows(text: str, end: int, table: PlacesTable) -> bool:
    """True when ``text[end:]`` starts a road or village name: 路, 东路, 大道, 村 …"""
    rest = text[end:]
    if rest[:1] in table.road_directions:
        rest = rest[1:]
    if rest.startswith("街道"):
        return False
    return rest.startswith(table.road_suffixes)


def _says_jiangmen(text: str, table: PlacesTable) -> bool:
    return any(marker in text for marker in table.city_markers)


def _outside_marker(text: str, table: PlacesTable) -> str | None:
    for marker in table.outside_markers:
        start = text.find(marker)
        while start != -1:
            end = start + len(marker)
            # "北京市场" is a market called 北京, not 北京市.
            if not (marker.endswith("市") and text[end : end + 1] == "场"):
                return marker
            start = text.find(marker, start + 1)
    return None


def _outside_bare(text: str, table: PlacesTable) -> str | None:
    for _start, end, name in _find_terms(text, table.outside_bare):
        if not (_road_follows(text, end, table) or text[end:].startswith("市场")):
            return name
    return None


def _ordered(counties: Iterable[str], table: PlacesTable) -> tuple[str, ...]:
    found = set(counties)
    return tuple(c for c in table.counties if c in found)


def _decide(counties: set[str], terms: list[str], table: PlacesTable) -> Placement:
    ordered = _ordered(counties, table)
    if len(ordered) == 1:
        return Placement(ordered[0], Status.MATCHED, Reason.ADDRESS, ordered, tuple(terms))
    return Placement(None, Status.AMBIGUOUS, Reason.AMBIGUOUS, ordered, tuple(terms))


def place(text: str | None, *, in_jiangmen: bool = False) -> Placement:
    """Where ``text`` points, from the address alone (no hint, no platform rule).

    ``in_jiangmen`` says the text answers "which district of Jiangmen?", so weak names
    count as if it said 江门 (an answer such as 重庆 is still outside).
    """
    table = _TABLE
    text = _compact(text)
    if not text:
        return Placement(None, Status.UNKNOWN, Reason.NO_ADDRESS)
    jiangmen = _says_jiangmen(text, table)
    weak_ok = jiangmen or in_jiangmen
    vocabulary = {n: t for n, t in table.terms.items() if weak_ok or not t.weak}
    votes: dict[int, set[str]] = {1: set(), 2: set(), 3: set()}
    shared: set[str] = set()  # counties of names that belong to several (白沙)
    terms: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for _start, end, name in _find_terms(text, vocabulary):
        term = vocabulary[name]
        if term.tier == 3 and _road_follows(text, end, table):
            continue  # 堤东路, 台山路: a road named after a place, not the place
        terms[term.tier].append(name)
        if len(term.counties) > 1:
            shared |= term.counties
        else:
            votes[term.tier] |= term.counties
    if votes[1]:
        return _decide(votes[1], terms[1], table)
    if not jiangmen and (marker := _outside_marker(text, table)):
        return Placement(None, Status.OUTSIDE, Reason.OUTSIDE, terms=(marker,))
    for tier in (2, 3):
        if votes[tier]:
            return _decide(votes[tier], terms[tier], table)
    if shared:
        names = tuple(terms[2] + terms[3])
        return Placement(None, Status.AMBIGUOUS, Reason.AMBIGUOUS, _ordered(shared, table), names)
    if not jiangmen and (name := _outside_bare(text, table)):
        return Placement(None, Status.OUTSIDE, Reason.OUTSIDE, terms=(name,))
    return Placement(None, Status.UNKNOWN, Reason.UNRECOGNISED)


# ---------------------------------------------------------------------------- the API
def find_county(text: str | None, *, in_jiangmen: bool = False) -> str | None:
    """The county when free text (a message, an answer) names exactly one, else ``None``."""
    if text in COUNTIES:
        return text
    return place(text, in_jiangmen=in_jiangmen).county


def resolve(address: str | None, hint: str | None = None, *, platform: bool = False) -> Placement:
    """The county for a respondent at ``address`` (Art. 12), or ``None`` with the reason.

    ``hint`` is the county the citizen named in the chat (新会区 or 新会); ``platform``
    says the respondent is an e-commerce platform or a shop on one.
    """
    hinted = find_county(hint, in_jiangmen=True) if hint else None
    found = place(address)
    if platform:
        if found.status is Status.MATCHED:
            return found
        return Placement(None, found.status, Reason.PLATFORM_OUTSIDE, found.candidates, found.terms)
    if found.status in (Status.MATCHED, Status.OUTSIDE):
        return found
    if found.status is Status.AMBIGUOUS:
        if hinted in found.candidates:
            return Placement(
                hinted, Status.HINTED, Reason.HINT_SETTLED, found.candidates, found.terms
            )
        return found
    if hinted:
        return Placement(hinted, Status.HINTED, Reason.HINT_USED)
    return found


def county_display(county: str | None) -> str:
    """What the citizen and staff see as the handling unit: the county, or 待分派."""
    return county if county in COUNTIES else UNASSIGNED


def is_outside_jiangmen(text: str | None) -> bool:
    return place(text).status is Status.OUTSIDE


def find_platform(text: str | None) -> str | None:
    """The e-commerce platform named in the text (淘宝, 京东 …), if any."""
    return next((name for name in PLATFORMS if name in (text or "")), None)


@lru_cache(maxsize=1)
def _online_pattern() -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, _TABLE.online_cues)), re.IGNORECASE)


def mentions_online_purchase(text: str | None) -> bool:
    """网购, 直播间, 小程序 … or a platform name."""
    return bool(find_platform(text) or _online_pattern().search(text or ""))
