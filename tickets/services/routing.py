"""Route a ticket to the Jiangmen county-level bureau that has jurisdiction (Art. 12).

The decision is :func:`core.places.resolve`, the same call the assistant makes for the
citizen's summary, so the county the citizen was shown is the county the ticket gets.
This module only normalises the text the way the assistant does and turns the reason
into the note staff read on a ticket that went to 待分派 (``messages.yml``, ``routing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import places
from knowledge.normalize import normalize_text
from tickets.services.messages import message


@dataclass(frozen=True)
class Routing:
    """Where a ticket goes and, when not by its address alone, why."""

    county: str
    note: str | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)

    @property
    def assigned(self) -> bool:
        return self.county != places.UNASSIGNED


def _note(placement: places.Placement) -> str | None:
    if placement.reason is places.Reason.ADDRESS:
        return None
    return message(
        f"routing.{placement.reason.value}",
        candidates="、".join(placement.candidates),
        county=placement.county or places.UNASSIGNED,
    )


def route(address: str | None, *, is_platform: bool, hint: str | None) -> Routing:
    """Decide the county for a respondent at ``address``; ``hint`` is the chat's county."""
    placement = places.resolve(
        normalize_text(address or ""), normalize_text(hint or ""), platform=is_platform
    )
    return Routing(
        places.county_display(placement.county),
        _note(placement),
        placement.candidates if placement.status is places.Status.AMBIGUOUS else (),
    )
