"""Question kinds, evidence sentences and lead choice: pure functions, no index needed."""

from __future__ import annotations

import pytest

from retrieval.answer_type import GENERAL, asking_words, detect, evidence_in, strip_opener
from retrieval.lead import Candidate, key_terms, pick_lead, sentences


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("个转企能拿多少钱", "amount"),
        ("個轉企有冇資助呀？", "amount"),
        ("转企给几多钱", "amount"),
        ("商家骗人要赔多少", "amount"),
        ("江门有几个地理标志商标", "count"),
        ("知识产权质押去年多少笔？", "count"),
        ("小作坊抽检合格率要求是多少", "percent"),
        ("投诉以后多久会受理", "duration"),
        ("网购几耐之内可以退", "duration"),
        ("投诉应该找哪个部门", "place"),
        ("投诉去边度投", "place"),
        ("投诉要准备什么材料", "materials"),
        ("办执照要带啲乜", "materials"),
        ("一般登记事项包括哪些", "list"),
        ("个体户转公司怎么办手续", "procedure"),
        ("点样申请个转企", "procedure"),
        ("个转企是什么意思", "definition"),
        ("江门商事登记有什么创新做法", "benefit"),
        ("今天天气", GENERAL),
    ],
)
def test_detects_what_is_asked(question: str, kind: str) -> None:
    assert detect(question).kind == kind


def test_yes_no_is_detected_alongside_the_kind() -> None:
    t = detect("个体户转成公司有补贴吗？")
    assert t.kind == "amount" and t.yesno
    assert detect("台湾居民可以申请个体工商户吗").yesno
    assert not detect("投诉要准备什么材料").yesno


def test_evidence_patterns() -> None:
    assert evidence_in("每户一次性给予1万元资助", "amount")
    assert not evidence_in("配套了一次性资助等便利措施", "amount")
    assert evidence_in("应当自收到投诉之日起七个工作日内作出决定", "duration")
    assert evidence_in("全市共有8个地理标志商标", "count")
    assert evidence_in("抽检合格率达到95%以上", "percent")
    assert evidence_in("任何内容", GENERAL)


def test_bare_yes_is_stripped_from_a_non_yes_no_lead() -> None:
    assert strip_opener("有。每户一次性资助1万元。") == "每户一次性资助1万元。"
    assert strip_opener("有。") == "有。"  # nothing left to say: keep it
    assert strip_opener("每户1万元。") == "每户1万元。"


def test_sentences_drop_numbering_and_trailers() -> None:
    text = "14.实施市场主体培育计划。对符合条件的,每户一次性给予1万元资助。(责任单位:登记注册科)"
    assert sentences(text) == ["实施市场主体培育计划。", "对符合条件的,每户一次性给予1万元资助。"]


def test_lead_is_the_sentence_with_the_asked_for_fact() -> None:
    question = "个转企有什么奖励"
    curated = Candidate("“个转企”指个体户转型为企业。江门配套了一次性资助等措施。", 0, "FAQ", True)
    passage = Candidate(
        "支持个体工商户转型升级为企业,对符合“个转企”奖补条件的,每户一次性给予1万元资助。"
        "允许“个转企”企业继续使用原字号。",
        1,
        "《若干措施》第14项",
    )
    lead = pick_lead(question, detect(question), [curated, passage])
    assert lead is not None and "1万元" in lead.sentence
    assert lead.citation == "《若干措施》第14项" and not lead.curated


def test_lead_never_comes_from_a_sentence_sharing_nothing() -> None:
    question = "合作社成员可以用知识产权出资吗"
    unrelated = Candidate("本条例自2022年3月1日起施行。", 0, "《X》第五十五条")
    assert pick_lead(question, detect(question), [unrelated]) is None


def test_how_a_question_asks_is_no_key_term() -> None:
    # 不能 is cut out of 能不能, 嘢 is a Cantonese particle: neither is what the citizen asks about.
    assert "能不能" in asking_words("企业能不能加入农民专业合作社")
    assert "不能" not in key_terms("企业能不能加入农民专业合作社")
    assert {"企业", "加入"} <= key_terms("企业能不能加入农民专业合作社")
    assert "嘢" not in key_terms("网上买嘢几耐之内可以无理由退货")
    # A negation inside the question is content, not a filler.
    assert "不" not in asking_words("啥情况投诉不受理")


def test_a_yes_no_question_is_answered_about_its_subject() -> None:
    # 企业能不能加入…: the higher-ranked sentence about 联合社 does not name 企业.
    question = "企业能不能加入农民专业合作社"
    about_unions = Candidate(
        "农民专业合作社可以依法自愿设立或者加入农民专业合作社联合社。", 0, "《法》第九条"
    )
    about_firms = Candidate(
        "符合条件的公民、企业、事业单位,要求加入已成立的农民专业合作社,应当提出书面申请。",
        2,
        "《法》第二十四条",
    )
    lead = pick_lead(question, detect(question), [about_unions, about_firms])
    assert lead is not None and lead.citation == "《法》第二十四条"
    # With no sentence about the subject, the best sentence still leads.
    lead = pick_lead(question, detect(question), [about_unions])
    assert lead is not None and lead.citation == "《法》第九条"


def test_words_no_candidate_holds_do_not_hand_the_lead_to_the_rank() -> None:
    # 以前, 成, 算 are in no candidate: they must not shrink the overlap until the
    # rank prior alone decides between a sentence about debts and one about arrears.
    question = "个体户转成企业以前的债怎么算"
    arrears = Candidate("机关、企业事业单位不得违约拖欠个体工商户账款。", 0, "《条例》第三十一条")
    debts = Candidate(
        "个体工商户转型为企业的,应当结清依法应缴纳的税款等,对原有债权债务作出妥善处理。",
        1,
        "《条例》第十三条",
    )
    lead = pick_lead(question, detect(question), [arrears, debts])
    assert lead is not None and "债权债务" in lead.sentence


def test_long_sentence_is_trimmed_to_the_clause_with_the_fact() -> None:
    question = "快检一年多少批次"
    long = Candidate(
        "组织农贸市场开展食用农产品快检工作,对快检人员开展免费培训上岗,加强快检结果公示,"
        "强化快检数据应用,推动快检工作提质增效,每年完成食用农产品快检不少于55万批次,"
        "不合格产品处置率达100%。",
        0,
        "《若干措施》第16项",
    )
    lead = pick_lead(question, detect(question), [long])
    assert lead is not None and "55万批次" in lead.sentence
    assert len(lead.sentence) <= 110


def test_answer_lead_stops_at_the_sources_header_not_the_word() -> None:
    from yiwen.evaluation import answer_lead

    answer = "经营者依据平台规则处理的，应当公示。\n依据：\n· 《电子商务法》第三十六条"
    assert answer_lead(answer) == "经营者依据平台规则处理的，应当公示。\n"
