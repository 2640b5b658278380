"""Shared slot extraction and validation for the complaint and report forms.

Every form slot has a *custom* mapping, so this class sees each user message
whole and decides:

* **interruption** (a confident question, 转人工, 取消 …): extract nothing, so
  the form is rejected and a rule answers before the form resumes;
* **answer** to the requested slot: pass the raw words to ``validate_<slot>``,
  which parses them and explains what is wrong when it can't;
* **extra facts** in the same message (我在新会区的好又多超市买到过期牛奶，花了35元)
  fill other empty slots at once;
* **corrections** (电话写错了，是13912345678) overwrite a filled slot when the
  message says so, or at any time during the final review.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    AMOUNT_NONE,
    COUNTY_OUTSIDE,
    COUNTY_UNKNOWN,
    entity_values,
    field_label,
    is_digression,
    is_fresh_turn,
    is_none_answer,
    is_unknown_answer,
    label,
    latest_intent,
    latest_text,
    raw_text,
)
from bot.actions.parsing.complaint_text import (
    DEMANDS,
    clean_product,
    find_merchant,
    find_product,
    mentions_defect,
    parse_demand,
)
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import find_amount, format_amount, parse_amount
from bot.actions.parsing.phone import find_phone, mask_phone, parse_phone
from bot.actions.parsing.text import has_correction_cue, normalise
from core.places import (
    COUNTIES,
    Placement,
    Status,
    county_display,
    find_county,
    find_platform,
    is_outside_jiangmen,
    mentions_online_purchase,
    resolve,
)
from knowledge.normalize import normalize_text

# Words that name a field, so "我要改电话" at the review step reopens that field.
FIELD_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("complainant_phone", re.compile(r"电话|手机|号码")),
    ("respondent_address", re.compile(r"商家地址|店的地址|店铺地址|经营地址|商家的地址|店地址")),
    ("complainant_address", re.compile(r"我的地址|通讯地址|我家地址|住址|地址")),
    ("respondent_name", re.compile(r"商家|店名|店铺|公司名|被投诉|被举报")),
    ("complainant_name", re.compile(r"姓名|名字|名称")),
    ("incident_date", re.compile(r"日期|时间|哪天|几号")),
    ("amount", re.compile(r"金额|价钱|价格|多少钱|钱数")),
    ("product", re.compile(r"商品|产品|服务|买的东西")),
    ("demand", re.compile(r"诉求|要求|退货|退款|赔偿")),
    ("facts", re.compile(r"经过|事实|情况|线索|描述")),
    ("evidence", re.compile(r"证据|照片|小票|发票|截图")),
    ("county", re.compile(r"区|县|办理单位|管辖")),
)

_NAME_PREFIX = re.compile(
    r"^(?:我的?(?:姓名|名字)(?:是|叫)?|我叫|我是|本人|姓名(?:是|:)?|名字(?:是|叫)?|叫)"
)
_MERCHANT_PREFIX = re.compile(
    r"^(?:是|叫|就是|那家|这家|商家(?:名字|名称)?(?:是|叫)?|店名(?:是|叫)?|公司(?:名字|名称)?(?:是|叫)?|"
    r"被投诉(?:的)?(?:商家|人)?(?:是)?|被举报(?:的)?(?:商家|人)?(?:是)?)"
)
_ADDRESS_PREFIX = re.compile(r"^(?:地址(?:是|在)?|在|位于|我住(?:在)?|住在|就在|店在|商家在)")
_NAME_OR_ADDRESS_SLOTS = frozenset(
    {"respondent_name", "respondent_address", "complainant_name", "complainant_address"}
)
_PRODUCT_PREFIX = re.compile(r"^(?:买的是|买了|买的|是|就是|购买的是|办的是|办了)")
_YES_WORDS = re.compile(r"^(?:同意|可以|好|行|愿意|没问题|是|对|ok|OK|得|係|系)")
_NO_WORDS = re.compile(r"^(?:不同意|不可以|不行|不愿意|不要|不用|否|唔|不)")


@dataclass
class Message:
    """The latest user message, pre-digested once per validation call."""

    text: str
    raw: str
    intent: str | None
    confidence: float
    entities: dict[str, list[str]] = field(default_factory=dict)
    # Evidence a channel attached to the message, e.g. a WeChat image's media id
    # ("wechat-media:<id>"), carried in the message metadata rather than its text.
    evidence_ref: str | None = None

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> Message:
        names = ("merchant", "phone", "address", "district", "amount", "date", "product", "demand")
        intent, confidence = latest_intent(tracker)
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        wechat = metadata.get("wechat") if isinstance(metadata, dict) else None
        ref = wechat.get("evidence") if isinstance(wechat, dict) else None
        return cls(
            text=latest_text(tracker),
            raw=raw_text(tracker),
            intent=intent,
            confidence=confidence,
            entities={n: entity_values(tracker, n) for n in names},
            evidence_ref=str(ref) if ref else None,
        )

    def first(self, entity: str) -> str | None:
        values = self.entities.get(entity) or []
        return values[0] if values else None


def _strip(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub("", text.strip()).strip("，,。.：: ")


def _bool_from(message: Message) -> bool | None:
    """Yes/no from a button intent or the words (同意 / 不同意)."""
    if message.intent == "affirm" and message.confidence >= 0.5:
        return True
    if message.intent == "deny" and message.confidence >= 0.5:
        return False
    text = message.text.strip("。.!！ ")
    if not text:
        return None
    if _NO_WORDS.match(text):
        return False
    if _YES_WORDS.match(text):
        return True
    return None


class IntakeFormValidation(FormValidationAction, ABC):
    """Extraction and validation common to ``complaint_form`` and ``report_form``."""

    #: the review slot at the end of the form (complaint_confirmed / report_confirmed)
    confirm_slot: str = ""
    #: minimum characters for the facts / leads text
    min_facts_chars: int = 6
    facts_too_short_response: str = "utter_facts_too_short"

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
        if requested and is_digression(tracker) and not self.is_clear_answer(requested, tracker):
            return []  # nothing extracted → the form is rejected → a rule takes over
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        message = Message.from_tracker(tracker)
        found = self.extract_all(message, tracker, requested, required, dispatcher)
        if requested in required and requested not in found:
            # Keep the form in charge (no rejection); it asks the same slot again.
            found[requested] = None
        return [SlotSet(name, value) for name, value in found.items()]

    @staticmethod
    def is_clear_answer(requested: str, tracker: Tracker) -> bool:
        """True when the message parses as a value for the structured slot we asked for."""
        text = latest_text(tracker)
        if requested == "complainant_phone":
            return find_phone(text) is not None
        if requested == "amount":
            return parse_amount(text) is not None
        if requested == "incident_date":
            return parse_date(text).parsed is not None
        if requested == "county":
            return find_county(text, in_jiangmen=True) is not None
        return False

    def extract_all(
        self,
        message: Message,
        tracker: Tracker,
        requested: str | None,
        required: list[str],
        dispatcher: CollectingDispatcher,
    ) -> dict[str, Any]:
        slots = tracker.slots
        reviewing = requested == self.confirm_slot
        correcting = reviewing or has_correction_cue(message.text)
        found: dict[str, Any] = {}

        if requested in required:
            answer = self.raw_answer(requested, message, tracker)
            if answer is not None:
                found[requested] = answer

        def may_fill(slot: str) -> bool:
            return (
                slot in required
                and slot != requested
                and slot not in found
                and (slots.get(slot) is None or correcting)
            )

        text = message.text
        mentioned: set[str] = set()  # slots this message gives a value for, changed or not
        phone = find_phone(text) or (
            find_phone(message.first("phone")) if message.first("phone") else None
        )
        if phone and "complainant_phone" in required and requested != "complainant_phone":
            mentioned.add("complainant_phone")
            if slots.get("complainant_phone") != phone.number:
                found["complainant_phone"] = phone.number

        amount = find_amount(text)
        if amount is None and message.first("amount"):
            amount = parse_amount(message.first("amount"))
        if amount is not None and "amount" in required:
            mentioned.add("amount")
            if may_fill("amount"):
                found["amount"] = format_amount(amount)

        date_text = message.first("date")
        if date_text or text:
            parsed = parse_date(date_text or text, strict=date_text is None)
            if parsed.parsed and parsed.error is None and "incident_date" in required:
                mentioned.add("incident_date")
                if may_fill("incident_date"):
                    found["incident_date"] = date_text or text

        merchant = message.first("merchant") or find_merchant(text)
        if (
            merchant
            and may_fill("respondent_name")
            and (slots.get("respondent_name") is None or re.search(r"商家|店|公司", text))
        ):
            found["respondent_name"] = merchant

        # DIET may tag the defect (发霉) or the whole phrase (过期牛奶): the product is
        # what is left without defect words, else what the narrative parser finds.
        # While we ask for a name or an address, a tagged "product" is part of that
        # answer (好味食品店 → 食品), never the goods: only the narrative parser counts.
        tagged = None if requested in _NAME_OR_ADDRESS_SLOTS else message.first("product")
        product = clean_product(tagged) or find_product(text)
        if product and may_fill("product") and slots.get("product") is None:
            found["product"] = product

        county = find_county(text)
        if (
            county
            and "county" in required
            and slots.get("county") is None
            and requested not in ("county", "respondent_address")
        ):
            found["county"] = county

        # The whole message first: DIET tags one span (退款) where 退款并赔偿 asks for two.
        demand = parse_demand(text) or parse_demand(message.first("demand"))
        if demand and demand.category != "其他" and may_fill("demand"):
            found["demand"] = demand.detail or label("list_separator").join(demand.categories)

        opening = requested is None and "facts" in required and slots.get("facts") is None
        if opening and len(text) >= 15:
            # The opening message often *is* the story: keep it as the facts draft.
            found["facts"] = message.raw

        mentioned.discard(requested)
        mentioned.update(k for k, v in found.items() if k != requested and v is not None)
        if reviewing and not mentioned:
            if found.get(requested) is not True and self._reopen_named_field(
                message, required, found
            ):
                found[requested] = None  # the reopened field is asked first, then the review
        elif (
            requested in found
            and requested != self.confirm_slot
            and has_correction_cue(text)
            and any(slots.get(k) is not None for k in mentioned)
        ):
            # "金额不对，应该是350元" while we asked for the facts: a correction, not an answer.
            del found[requested]

        for slot, value in list(found.items()):
            old = slots.get(slot)
            if slot != requested and old not in (None, value) and value is not None:
                dispatcher.utter_message(
                    response="utter_slot_updated",
                    field=field_label(slot),
                    value=self.display_value(slot, value),
                )
        return found

    def _reopen_named_field(
        self, message: Message, required: list[str], found: dict[str, Any]
    ) -> bool:
        """ "我要改电话" at the review: clear that field so the form asks it again."""
        for slot, pattern in FIELD_KEYWORDS:
            if slot in required and pattern.search(message.text):
                found[slot] = None
                return True
        return False

    def raw_answer(self, slot: str, message: Message, tracker: Tracker) -> Any:
        """The user's answer to the requested ``slot``, before validation."""
        text = message.text
        if slot in ("consent_share_contact", "anonymous"):
            if slot == "anonymous" and "匿名" in text and not text.startswith(("不", "唔")):
                return True
            if slot == "anonymous" and "实名" in text:
                return False
            value = _bool_from(message)
            return value if value is not None else (text or None)
        if slot == self.confirm_slot:
            if message.intent in ("affirm", "deny") and message.confidence >= 0.5:
                return message.intent == "affirm"
            return None
        if slot == "evidence":
            if message.evidence_ref:
                return [message.evidence_ref]
            if message.intent == "deny" or is_none_answer(text):
                return []
            return [message.raw] if message.raw else None
        if slot == "amount" and (is_none_answer(text) or message.intent == "deny"):
            return AMOUNT_NONE
        if slot == "respondent_name":
            entity = message.first("merchant")
            if entity and len(entity) >= len(text) - 4:
                return entity
            return _strip(_MERCHANT_PREFIX, message.raw) or None
        if slot == "product":
            answer = _strip(_PRODUCT_PREFIX, message.raw)
            if not answer:
                return None
            # 发霉的月饼 answers with 月饼 (the defect belongs to the facts); 两台电饭煲 stays.
            return clean_product(answer) if mentions_defect(answer) else answer
        if slot == "complainant_name":
            return _strip(_NAME_PREFIX, message.raw) or None
        if slot in ("respondent_address", "complainant_address"):
            return _strip(_ADDRESS_PREFIX, message.raw) or None
        if slot == "facts":
            return message.raw or None
        return message.raw or None

    # ------------------------------------------------------------------ display
    def display_value(self, slot: str, value: Any) -> str:
        if value is None:
            return label("not_given")
        if slot == "complainant_phone":
            parsed = find_phone(str(value))
            return parsed.masked if parsed else mask_phone(str(value))
        if slot == "amount":
            parsed_amount = parse_amount(str(value))
            if str(value) == AMOUNT_NONE or parsed_amount is None:
                return label("amount_none")
            return f"{format_amount(parsed_amount)}{label('amount_unit')}"
        if slot == "county":
            return county_display(str(value))
        if slot == "incident_date":
            parsed = parse_date(str(value))
            return parsed.parsed.display() if parsed.parsed else str(value)
        if isinstance(value, bool):
            return label("value_yes") if value else label("value_no")
        if isinstance(value, list):
            return label("list_separator").join(value) if value else label("none")
        return str(value)

    # ------------------------------------------------------------------ validation
    def validate_respondent_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"respondent_name": None}
        name = str(value).strip()[:100]
        result: dict[str, Any] = {"respondent_name": name}
        platform = find_platform(normalise(name)) or find_platform(latest_text(tracker))
        if platform or mentions_online_purchase(latest_text(tracker)):
            result["respondent_is_platform"] = True
        return result

    def validate_respondent_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"respondent_address": None}
        address = str(value).strip()
        online = bool(tracker.get_slot("respondent_is_platform"))
        result: dict[str, Any] = {}
        if is_unknown_answer(normalise(address)):
            result["respondent_address"] = label("unknown")
            if online:
                self._platform_noted(dispatcher, tracker)
                result["county"] = COUNTY_UNKNOWN
            return result
        if len(normalise(address)) < 2:
            dispatcher.utter_message(response="utter_address_too_short")
            return {"respondent_address": None}
        result["respondent_address"] = address
        # The same call the ticket service makes, so what the citizen is shown is what
        # the ticket gets (see respondent_placement).
        placement = resolve(normalize_text(address), platform=online)
        if placement.county:
            result["county"] = placement.county
        elif placement.status is Status.OUTSIDE:
            dispatcher.utter_message(response="utter_county_outside")
            result["county"] = COUNTY_OUTSIDE
        elif online:
            # Art. 12: a platform's bureau follows its domicile, which the citizen's
            # answer about "which district" cannot tell; staff assign it (待分派).
            self._platform_noted(dispatcher, tracker)
            result["county"] = COUNTY_UNKNOWN
        elif tracker.get_slot("county") is None:
            # Ambiguous (白沙) or unrecognised: the form asks which district.
            dispatcher.utter_message(response="utter_county_unclear")
        return result

    @staticmethod
    def _platform_noted(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        platform = find_platform(normalise(tracker.get_slot("respondent_name")))
        dispatcher.utter_message(
            response="utter_platform_noted", platform=platform or label("unknown")
        )

    def validate_county(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"county": None}
        text = normalise(str(value))
        if text in (COUNTY_UNKNOWN, COUNTY_OUTSIDE) or text in COUNTIES:
            return {"county": text}
        county = find_county(text, in_jiangmen=True)
        if county:
            return {"county": county}
        if "不在江门" in text or is_outside_jiangmen(text):
            return {"county": COUNTY_OUTSIDE}
        if is_unknown_answer(text):
            return {"county": COUNTY_UNKNOWN}
        return {"county": None}

    def validate_product(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        product = str(value).strip()[:200] if value else ""
        return {"product": product or None}

    def validate_incident_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"incident_date": None}
        text = normalise(str(value))
        if is_unknown_answer(text):
            return {"incident_date": "unknown", "incident_date_display": label("unknown")}
        result = parse_date(text)
        if result.error == "future":
            dispatcher.utter_message(response="utter_date_in_future")
            return {"incident_date": None}
        if result.parsed is None:
            dispatcher.utter_message(response="utter_invalid_date")
            return {"incident_date": None}
        if result.too_old:
            dispatcher.utter_message(response="utter_date_too_old", date=result.parsed.display())
        return {
            "incident_date": result.parsed.iso(),
            "incident_date_display": result.parsed.display(),
        }

    def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"amount": None}
        if value == AMOUNT_NONE:
            return {"amount": AMOUNT_NONE}
        amount = parse_amount(str(value))
        if amount is None:
            dispatcher.utter_message(response="utter_invalid_amount")
            return {"amount": None}
        return {"amount": format_amount(amount)}

    def validate_facts(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"facts": None}
        facts = str(value).strip()
        if len(normalise(facts)) < self.min_facts_chars:
            dispatcher.utter_message(response=self.facts_too_short_response)
            return {"facts": None}
        return {"facts": facts[:4000]}

    def validate_demand(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Every demand is kept (``demands``); ``demand`` is the primary for the ticket API."""
        if not value:
            return {"demand": None, "demands": None}
        text = normalise(str(value))
        if text in DEMANDS:
            return {"demand": text, "demands": [text], "demand_detail": None}
        parsed = parse_demand(text)
        if parsed:
            return {
                "demand": parsed.category,
                "demands": list(parsed.categories),
                "demand_detail": parsed.detail[:500] if parsed.detail else None,
            }
        if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 2 and not is_unknown_answer(text):
            return {
                "demand": "其他",
                "demands": ["其他"],
                "demand_detail": str(value).strip()[:500],
            }
        dispatcher.utter_message(response="utter_invalid_demand")
        return {"demand": None, "demands": None}

    def validate_demand_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        detail = str(value or "").strip()
        return {"demand_detail": detail[:500] if len(normalise(detail)) >= 2 else None}

    def validate_complainant_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = str(value or "").strip()
        if not name or len(name) > 30 or re.search(r"\d", name):
            dispatcher.utter_message(response="utter_name_invalid")
            return {"complainant_name": None}
        return {"complainant_name": name}

    def validate_complainant_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"complainant_phone": None}
        result = parse_phone(str(value))
        if result.phone:
            return {"complainant_phone": result.phone.number}
        if result.error == "needs_area_code":
            dispatcher.utter_message(response="utter_phone_needs_area_code")
        else:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"complainant_phone": None}

    def validate_complainant_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = str(value or "").strip()
        if len(normalise(address)) < 4:
            if address:
                dispatcher.utter_message(response="utter_address_too_short")
            return {"complainant_address": None}
        return {"complainant_address": address[:300]}

    def validate_evidence(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"evidence": None}
        items = value if isinstance(value, list) else [str(value)]
        return {"evidence": [str(i).strip()[:500] for i in items if str(i).strip()]}

    def _validate_yes_no(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {slot: value}
        if value:
            dispatcher.utter_message(response="utter_please_answer_yes_no")
        return {slot: None}

    def validate_consent_share_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_yes_no("consent_share_contact", value, dispatcher)

    def validate_anonymous(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate_yes_no("anonymous", value, dispatcher)

    def _validate_confirmation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if value is True:
            return {self.confirm_slot: True}
        if value is False and tracker.get_slot("requested_slot") == self.confirm_slot:
            dispatcher.utter_message(response="utter_ask_what_to_correct")
        return {self.confirm_slot: None}


def respondent_placement(slots: Mapping[str, Any]) -> Placement:
    """Where the ticket service will route these slots: the call it makes, on the values
    ``submission.build_payload`` sends (address, county hint, platform flag)."""
    county = slots.get("county")
    return resolve(
        normalize_text(slots.get("respondent_address") or ""),
        normalize_text(county) if county in COUNTIES else None,
        platform=bool(slots.get("respondent_is_platform")),
    )


def county_summary(slots: Mapping[str, Any]) -> str:
    """The 办理单位 the review summary shows: the ticket's county, or 待分派."""
    return county_display(respondent_placement(slots).county)
