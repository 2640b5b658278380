"""The parsers read the one normaliser's output (``knowledge.normalize``), made once per message.

OpenCC's phrase table rewrites simplified 破坏土地 as 破坯土地 when handed the whole
text; ``knowledge.normalize`` converts only clauses that hold traditional characters.
The parsers used to run their own conversion, seven times per message, and what they
returned (merchant, product, demand detail) went into the ticket.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bot.actions.complaint_form import ValidateComplaintForm
from bot.actions.parsing import text as text_module
from bot.actions.parsing.complaint_text import (
    clean_product,
    find_merchant,
    find_product,
    mentions_defect,
    parse_demand,
)
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import find_amount, parse_amount
from bot.actions.parsing.phone import digits_from_chinese, find_phone, parse_phone
from bot.actions.parsing.text import has_correction_cue, normalise
from core.places import find_county

PHRASE = "破坏土地"


def test_the_normaliser_keeps_simplified_text_and_converts_traditional() -> None:
    assert normalise(PHRASE) == PHRASE
    assert normalise("破壞土地") == PHRASE
    once = normalise(f"  {PHRASE}，電話１３９１２３４５６７８ ")
    assert once == f"{PHRASE},电话13912345678"
    assert normalise(once) is once  # already normalised: passed through, not converted again


@pytest.mark.parametrize("raw", [PHRASE, "破壞土地"])
def test_the_phrase_survives_every_parser(raw: str) -> None:
    demand = parse_demand(f"要求赔偿{raw}的损失")
    assert demand is not None and demand.detail == f"要求赔偿{PHRASE}的损失"
    assert find_merchant(f"我要投诉{raw}建材店") == f"{PHRASE}建材店"
    assert find_product(f"买了{raw}用的挖掘机") == f"{PHRASE}用的挖掘机"
    assert clean_product(f"{raw}的机器") == f"{PHRASE}的机器"
    assert digits_from_chinese(PHRASE) == PHRASE
    # Parsers that return values still find them next to the phrase.
    assert find_phone(f"{raw}，电话13912345678").number == "13912345678"  # type: ignore[union-attr]
    assert parse_phone(f"{raw} 0750-3123456").phone.number == "0750-3123456"  # type: ignore[union-attr]
    assert str(find_amount(f"{raw}赔偿5000元")) == "5000.00"
    assert str(parse_amount("5000元")) == "5000.00"
    assert str(parse_date(f"{raw}是在2026年3月1日").parsed.value) == "2026-03-01"  # type: ignore[union-attr]
    assert find_county(normalise(f"新会区{raw}")) == "新会区"
    assert mentions_defect(f"{raw}建材店卖的水泥过期了")
    assert not has_correction_cue(raw)


def test_a_form_turn_normalises_the_message_once(
    form_driver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: Counter[str] = Counter()
    real = text_module.normalize_text

    def counting(text: str) -> str:
        calls[text] += 1
        return real(text)

    monkeypatch.setattr(text_module, "normalize_text", counting)
    text_module._normalised.cache_clear()
    message = f"我在新会区的好又多超市买到过期牛奶，花了35元，{PHRASE}"
    complaint = form_driver(ValidateComplaintForm(), "complaint_form")
    complaint.say(message, intent="file_complaint", confidence=0.95)
    assert complaint.slots["respondent_name"] == "好又多超市"
    # Once for the message; the parsers it is handed to do not convert it again. (The
    # slot values they return are validated as values, e.g. 35.00, each once.)
    assert calls[message] == 1
    assert all(count == 1 for count in calls.values()), calls
    assert not any(PHRASE in t for t in calls if t != message), calls
