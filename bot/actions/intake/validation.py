"""The FormValidationAction both intake forms use (financial-demo style).

Rasa calls ``validate_<form>`` after every user message while the form is active. This
base class does the two steps for each form, driven by the form's :class:`SlotTable`:

* extraction (:meth:`IntakeFormValidation.get_extraction_events`): reads the message
  once, decides whether it interrupts the form, and otherwise asks
  :func:`~bot.actions.intake.extraction.extract` for the slots it fills;
* validation: ``validate_<slot>`` for every row of the table, each one the row's parser
  with injected inputs (:class:`~bot.actions.intake.parsers.Context`); the responses the
  parser names are sent here, the one place that talks to the user.

Why generated ``validate_<slot>`` methods: rasa-sdk finds validators by name, and
writing fourteen one-line methods per form would put each slot back into two places.
A form class may still define its own ``validate_<slot>``; it wins.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.common import is_digression, is_fresh_turn, latest_text
from bot.actions.intake import extraction
from bot.actions.intake.message import Message
from bot.actions.intake.parsers import Context
from bot.actions.intake.slots import INTAKE_SLOTS, SlotTable


def _validator(slot: str) -> Callable[..., dict[str, Any]]:
    """A ``validate_<slot>`` method (self, value, dispatcher, tracker, domain) for a row."""

    def validate(
        self: IntakeFormValidation,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self.validate_slot(slot, value, dispatcher, tracker)

    validate.__name__ = validate.__qualname__ = f"validate_{slot}"
    validate.__doc__ = f"Validate ``{slot}`` with its SlotSpec parser."
    return validate


class IntakeFormValidation(FormValidationAction, ABC):
    """Extraction and validation common to ``complaint_form`` and ``report_form``."""

    #: the form's rows (set by each form class; its ``validate_<slot>`` come from them)
    slot_table: ClassVar[SlotTable] = INTAKE_SLOTS
    #: the review slot at the end of the form (complaint_confirmed / report_confirmed)
    confirm_slot: str = ""
    #: minimum characters for the facts / leads text
    min_facts_chars: int = 6
    facts_too_short_response: str = "utter_facts_too_short"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for spec in cls.slot_table:
            name = f"validate_{spec.slot}"
            if name not in cls.__dict__:
                setattr(cls, name, _validator(spec.slot))

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>; abstract so the action server skips this base class."""

    # ------------------------------------------------------------------ extraction
    async def get_extraction_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """Replace per-slot ``extract_<slot>`` methods with one pass over the message."""
        requested = tracker.get_slot("requested_slot")
        if not is_fresh_turn(tracker, self.form_name()):
            return []  # the message was an interruption already answered by a rule
        # At activation (nothing requested yet) the message is the one that opened the form;
        # a parseable phone, date or amount answers the question whatever the classifier says.
        if (
            requested
            and is_digression(tracker)
            and not extraction.is_clear_answer(self.slot_table, requested, latest_text(tracker))
        ):
            return []  # nothing extracted → the form is rejected → a rule takes over
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        message = Message.from_tracker(tracker)
        found = extraction.extract(
            message, tracker.slots, requested, required, self.slot_table, self.confirm_slot
        )
        for slot, value in extraction.changed_values(found, tracker.slots, requested):
            dispatcher.utter_message(
                response="utter_slot_updated",
                field=self.slot_table.label(slot),
                value=self.display_value(slot, value),
            )
        if requested in required and requested not in found:
            # Keep the form in charge (no rejection); it asks the same slot again.
            found[requested] = None
        return [SlotSet(name, value) for name, value in found.items()]

    # ------------------------------------------------------------------ validation
    def context(self, tracker: Tracker) -> Context:
        """The inputs a parser may use, read from the tracker as validation left it."""
        return Context(
            slots=tracker.slots,
            text=latest_text(tracker),
            requested=tracker.slots.get("requested_slot"),
            confirm_slot=self.confirm_slot,
            min_facts_chars=self.min_facts_chars,
            facts_too_short_response=self.facts_too_short_response,
        )

    def validate_slot(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Run ``slot``'s parser; send the responses it names; return the slots it sets."""
        spec = self.slot_table.get(slot)
        if spec is None:
            raise KeyError(f"{type(self).__name__} has no SlotSpec for {slot!r}")
        parsed = spec.parse(value, self.context(tracker))
        for say in parsed.say:
            dispatcher.utter_message(response=say.response, **say.values)
        return parsed.slots(slot)

    # ------------------------------------------------------------------ display
    def display_value(self, slot: str, value: Any) -> str:
        """``value`` as the summary and correction notices show it."""
        return self.slot_table.display(slot, value)
