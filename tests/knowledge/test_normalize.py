"""normalize_text is applied to documents and queries alike, so both must end up equal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.normalize import has_traditional, normalize_text, to_simplified


def test_traditional_query_matches_simplified_corpus_text(core_docs) -> None:
    query = normalize_text("個體工商戶轉型為企業")
    assert query == "个体工商户转型为企业"
    act = core_docs["促进个体工商户发展条例(2022-10-01)"]
    assert "转型为企业" in act.text
    assert "个体工商户" in act.text


def test_full_width_forms_fold_to_half_width() -> None:
    assert normalize_text("２０２２年１１月１日") == "2022年11月1日"
    assert normalize_text("（一）营业执照，") == "(一)营业执照,"
    assert normalize_text("ＡＢＣ１２３？！；：") == "ABC123?!;:"
    # The ideographic full stop and Chinese quotes are not compatibility forms.
    assert normalize_text("“个转企”。") == "“个转企”。"


def test_invisible_characters_line_endings_and_spaces() -> None:
    raw = "第一条\u200b　个体\ufeff工商户\r\n\r\n\r\n\r\n第二条  \t 经营者 \r  结束"
    assert normalize_text(raw) == "第一条 个体工商户\n\n第二条 经营者\n结束"


def test_newlines_are_kept_for_the_chunker() -> None:
    assert normalize_text("第一章 总则\n第一条 目的。\n第二条 范围。").count("\n") == 2


def test_simplified_text_is_left_alone() -> None:
    # OpenCC's phrase table would turn 破坏土地 into 破坯土地; simplified clauses must
    # pass through untouched.
    for text in ("依法惩处破坏土地资源的行为", "著作权", "乾隆年间", "台山市", "手机坏了"):
        assert to_simplified(text) == text
        assert normalize_text(text) == text


def test_traditional_detection() -> None:
    assert has_traditional("請問營業執照怎麼辦")
    assert not has_traditional("请问营业执照怎么办")
    assert normalize_text("請問營業執照怎麼辦？") == "请问营业执照怎么办?"


def test_empty_and_ascii() -> None:
    assert normalize_text("") == ""
    assert normalize_text("   ") == ""
    assert normalize_text("  hello   world ") == "hello world"


_ALPHABET = st.sampled_from(
    list("个體户營業執照转轉型为為企业業，。（）１２３ＡＢ　 \n\r\t\u200b《》“”、；：？！abc123")
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once and "\u200b" not in once and "  " not in once
