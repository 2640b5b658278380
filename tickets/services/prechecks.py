"""Art. 9 / Art. 15 pre-checks run before a ticket is stored.

Missing Art. 9 fields make the submission incomplete, and the bureau would have to refuse
it (Art. 15 (5)), so they are refused here with one message per field and the caller
can ask the citizen. The three-year limit (Art. 15 (4)) is only flagged: the law allows
exceptions and the decision belongs to staff.

The checks work on plain JSON-like mappings so that they can also run on a body that
failed schema validation, and the citizen learns about every missing field at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tickets.services.messages import message


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class PrecheckFailed(Exception):
    """The submission lacks required information; carries one problem per field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.field for p in problems))
        self.problems = problems


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _section(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def _anonymous(body: Mapping[str, Any]) -> bool:
    return body.get("anonymous") is True or _section(body, "complainant").get("anonymous") is True


def missing_fields(body: Mapping[str, Any]) -> list[FieldProblem]:
    """Problems with required content, in the order a form would list them."""
    kind = body.get("kind")
    complainant = _section(body, "complainant")
    respondent = _section(body, "respondent")
    problems: list[FieldProblem] = []
    if kind == "complaint":
        if _anonymous(body):
            problems.append(FieldProblem("anonymous", message("precheck.complaint_anonymous")))
        for part in ("name", "phone", "address"):
            if not _present(complainant.get(part)):
                field = f"complainant.{part}"
                problems.append(FieldProblem(field, message(f"art9.{field}")))
        for part in ("name", "address"):
            if not _present(respondent.get(part)):
                field = f"respondent.{part}"
                problems.append(FieldProblem(field, message(f"art9.{field}")))
        if not _present(body.get("demand")):
            problems.append(FieldProblem("demand", message("art9.demand")))
        elif body.get("demand") == "其他" and not _present(body.get("demand_detail")):
            problems.append(FieldProblem("demand_detail", message("art9.demand_detail")))
        if not _present(body.get("facts")):
            problems.append(FieldProblem("facts", message("art9.facts")))
    elif kind == "report":
        if not (_present(respondent.get("name")) or _present(respondent.get("address"))):
            problems.append(FieldProblem("respondent", message("report.respondent")))
        if not _present(body.get("facts")):
            problems.append(FieldProblem("facts", message("report.facts")))
        # A reporter who gives a name or address but no phone probably meant to report
        # under their name; one who gives nothing at all is simply anonymous.
        named = any(_present(complainant.get(part)) for part in ("name", "address"))
        if not _anonymous(body) and named and not _present(complainant.get("phone")):
            problems.append(FieldProblem("complainant.phone", message("report.complainant.phone")))
    return problems


def date_problems(incident_date: dt.date | None, received: dt.date) -> list[FieldProblem]:
    """An incident date after the day of receipt is a typo the citizen should fix."""
    if incident_date is not None and incident_date > received:
        return [FieldProblem("incident_date", message("precheck.incident_future"))]
    return []


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 Feb falls back to 28 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def over_three_years(incident_date: dt.date | None, received: dt.date) -> bool:
    """Whether more than three years passed between the incident and receipt (Art. 15 (4))."""
    return incident_date is not None and incident_date < years_before(received, 3)
