"""The intake slots, one row each: how a message names the slot, answers it, and shows it.

Why a table: a slot used to be spread over five places (the keywords that name it for a
correction, the prefix stripped from an answer, the answer reader, the validator and the
summary formatter), and adding or changing one meant finding them all. Now each slot is
one :class:`SlotSpec` row in :data:`INTAKE_SLOTS`; the forms' tables
(:data:`COMPLAINT_SLOTS`, :data:`REPORT_SLOTS`) are its rows for that form, and
``tests/bot/test_intake_slots.py`` checks them against ``bot/domain.yml``.

Rows are tried in order when a message names a field to correct (我要改商家地址), so a
row whose keywords are more specific comes first: 商家地址 (respondent_address) before
地址 (complainant_address) and 商家 (respondent_name).

The patterns here *read* what citizens type; whatever the assistant *says* stays in
``bot/domain.yml`` (responses, named by the parsers) and ``bot/actions/labels.yml``
(field labels, named by ``Display.label_key``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.actions.intake import answers, display, parsers
from bot.actions.intake.answers import Reader
from bot.actions.intake.display import Display
from bot.actions.intake.parsers import Parser
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import parse_amount
from bot.actions.parsing.phone import find_phone
from core.places import find_county

COMPLAINT = "complaint_form"
REPORT = "report_form"
BOTH = frozenset({COMPLAINT, REPORT})


@dataclass(frozen=True)
class SlotSpec:
    """Everything the forms know about one slot.

    * ``keywords``: words that say a message is about this slot (电话写错了 → the phone),
      so a correction or a field named at the review reaches it;
    * ``prefix``: words that introduce an answer (我的名字是), stripped by ``answer``;
    * ``answer``: reads the raw answer from the message when the form asked for this slot;
    * ``parse``: raw answer → value, or the domain response explaining why not;
    * ``display``: label key and formatter for the summary and correction notices
      (``None`` for the review slot itself, which is never shown);
    * ``recognise``: for structured slots, whether the words clearly are such a value, so
      a message the classifier calls a question (13912345678 as ``greet``) still answers;
    * ``forms``: the forms that ask it.
    """

    slot: str
    parse: Parser
    display: Display | None
    forms: frozenset[str]
    keywords: tuple[str, ...] = ()
    prefix: re.Pattern[str] | None = None
    answer: Reader = answers.words
    recognise: Callable[[str], bool] | None = None

    def named_in(self, text: str) -> bool:
        return any(word in text for word in self.keywords)


class SlotTable:
    """Ordered :class:`SlotSpec` rows with at most one row per slot."""

    def __init__(self, specs: Iterable[SlotSpec]) -> None:
        self.specs: tuple[SlotSpec, ...] = tuple(specs)
        self._by_slot = {spec.slot: spec for spec in self.specs}
        if len(self._by_slot) != len(self.specs):
            names = [spec.slot for spec in self.specs]
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"more than one SlotSpec for {twice}")

    def __iter__(self) -> Iterator[SlotSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, slot: object) -> bool:
        return slot in self._by_slot

    def get(self, slot: str | None) -> SlotSpec | None:
        return self._by_slot.get(slot) if slot else None

    def for_form(self, form: str) -> SlotTable:
        return SlotTable(spec for spec in self.specs if form in spec.forms)

    def named_in(self, text: str, among: Iterable[str]) -> str | None:
        """The first slot in ``among`` whose keywords ``text`` contains (row order)."""
        wanted = set(among)
        return next(
            (spec.slot for spec in self.specs if spec.slot in wanted and spec.named_in(text)),
            None,
        )

    def recognises(self, slot: str | None, text: str) -> bool:
        """True when ``text`` clearly is a value for the structured ``slot``."""
        spec = self.get(slot)
        return bool(spec and spec.recognise and spec.recognise(text))

    def label(self, slot: str) -> str:
        """The field's name as the citizen reads it (电话), from labels.yml."""
        spec = self.get(slot)
        return spec.display.label if spec and spec.display else Display(slot, display.plain).label

    def display(self, slot: str, value: object) -> str:
        """``value`` as the summary shows it (a slot without a row is shown as is)."""
        spec = self.get(slot)
        shown = spec.display if spec and spec.display else Display(slot, display.plain)
        return shown.show(value)


_NAME_PREFIX = re.compile(
    r"^(?:我的?(?:姓名|名字)(?:是|叫)?|我叫|我是|本人|姓名(?:是|:)?|名字(?:是|叫)?|叫)"
)
_MERCHANT_PREFIX = re.compile(
    r"^(?:是|叫|就是|那家|这家|商家(?:名字|名称)?(?:是|叫)?|店名(?:是|叫)?|公司(?:名字|名称)?(?:是|叫)?|"
    r"被投诉(?:的)?(?:商家|人)?(?:是)?|被举报(?:的)?(?:商家|人)?(?:是)?)"
)
_ADDRESS_PREFIX = re.compile(r"^(?:地址(?:是|在)?|在|位于|我住(?:在)?|住在|就在|店在|商家在)")
_PRODUCT_PREFIX = re.compile(r"^(?:买的是|买了|买的|是|就是|购买的是|办的是|办了)")


def _plain(label_key: str) -> Display:
    return Display(label_key, display.plain)


# fmt: off
INTAKE_SLOTS = SlotTable((
    SlotSpec(
        "complainant_phone", parsers.complainant_phone,
        Display("complainant_phone", display.masked_phone), BOTH,
        keywords=("电话", "手机", "号码"),
        recognise=lambda text: find_phone(text) is not None,
    ),
    SlotSpec(
        "respondent_address", parsers.respondent_address, _plain("respondent_address"), BOTH,
        keywords=("商家地址", "店的地址", "店铺地址", "经营地址", "商家的地址", "店地址"),
        prefix=_ADDRESS_PREFIX,
    ),
    SlotSpec(
        "complainant_address", parsers.complainant_address, _plain("complainant_address"),
        frozenset({COMPLAINT}),
        keywords=("我的地址", "通讯地址", "我家地址", "住址", "地址"),
        prefix=_ADDRESS_PREFIX,
    ),
    SlotSpec(
        "respondent_name", parsers.respondent_name, _plain("respondent_name"), BOTH,
        keywords=("商家", "店名", "店铺", "公司名", "被投诉", "被举报"),
        prefix=_MERCHANT_PREFIX, answer=answers.merchant,
    ),
    SlotSpec(
        "complainant_name", parsers.complainant_name, _plain("complainant_name"), BOTH,
        keywords=("姓名", "名字", "名称"),
        prefix=_NAME_PREFIX,
    ),
    SlotSpec(
        "incident_date", parsers.incident_date, Display("incident_date", display.date),
        frozenset({COMPLAINT}),
        keywords=("日期", "时间", "哪天", "几号"),
        recognise=lambda text: parse_date(text).parsed is not None,
    ),
    SlotSpec(
        "amount", parsers.amount, Display("amount", display.money), frozenset({COMPLAINT}),
        keywords=("金额", "价钱", "价格", "多少钱", "钱数"),
        answer=answers.amount,
        recognise=lambda text: parse_amount(text) is not None,
    ),
    SlotSpec(
        "product", parsers.product, _plain("product"), frozenset({COMPLAINT}),
        keywords=("商品", "产品", "服务", "买的东西"),
        prefix=_PRODUCT_PREFIX, answer=answers.product,
    ),
    SlotSpec(
        "demand", parsers.demand, _plain("demand"), frozenset({COMPLAINT}),
        keywords=("诉求", "要求", "退货", "退款", "赔偿"),
    ),
    SlotSpec(
        "facts", parsers.facts, _plain("facts"), BOTH,
        keywords=("经过", "事实", "情况", "线索", "描述"),
    ),
    SlotSpec(
        "evidence", parsers.evidence, _plain("evidence"), BOTH,
        keywords=("证据", "照片", "小票", "发票", "截图"),
        answer=answers.evidence,
    ),
    SlotSpec(
        "county", parsers.county, Display("county", display.county), BOTH,
        keywords=("区", "县", "办理单位", "管辖"),
        recognise=lambda text: find_county(text, in_jiangmen=True) is not None,
    ),
    # Asked only when the demand is 其他 (ValidateComplaintForm.required_slots).
    SlotSpec(
        "demand_detail", parsers.demand_detail, _plain("demand_detail"), frozenset({COMPLAINT}),
    ),
    SlotSpec(
        "consent_share_contact", parsers.yes_no, _plain("consent_share_contact"),
        frozenset({COMPLAINT}),
        answer=answers.agreement,
    ),
    SlotSpec(
        "anonymous", parsers.yes_no, _plain("anonymous"), frozenset({REPORT}),
        answer=answers.anonymity,
    ),
    SlotSpec(
        "complaint_confirmed", parsers.confirmation, None, frozenset({COMPLAINT}),
        answer=answers.confirmation,
    ),
    SlotSpec(
        "report_confirmed", parsers.confirmation, None, frozenset({REPORT}),
        answer=answers.confirmation,
    ),
))
# fmt: on

COMPLAINT_SLOTS = INTAKE_SLOTS.for_form(COMPLAINT)
REPORT_SLOTS = INTAKE_SLOTS.for_form(REPORT)
