"""Complaint and report intake: the slot table, extraction, validation, display.

* :mod:`~bot.actions.intake.slots`: one :class:`SlotSpec` row per slot (keywords,
  prefix, answer reader, parser, display) and each form's table;
* :mod:`~bot.actions.intake.message`: the latest user message, read once;
* :mod:`~bot.actions.intake.answers`: the raw answer to the requested slot;
* :mod:`~bot.actions.intake.parsers`: raw answer → value or the response explaining why not;
* :mod:`~bot.actions.intake.extraction`: interruption, answer, extra facts, corrections;
* :mod:`~bot.actions.intake.display`: how values and the 办理单位 are shown;
* :mod:`~bot.actions.intake.validation`: the FormValidationAction the forms subclass.

The names other modules import are re-exported here.
"""

from bot.actions.intake.display import county_summary, respondent_placement
from bot.actions.intake.message import Message
from bot.actions.intake.slots import (
    COMPLAINT_SLOTS,
    INTAKE_SLOTS,
    REPORT_SLOTS,
    SlotSpec,
    SlotTable,
)
from bot.actions.intake.validation import IntakeFormValidation

__all__ = [
    "COMPLAINT_SLOTS",
    "INTAKE_SLOTS",
    "REPORT_SLOTS",
    "IntakeFormValidation",
    "Message",
    "SlotSpec",
    "SlotTable",
    "county_summary",
    "respondent_placement",
]
