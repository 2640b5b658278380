from knowledge.model import Chunk
from retrieval.index import UNIT_CHARS, dense_units
from retrieval.synonyms import expand_query, load_synonyms
from retrieval.tokenizer import tokenize


def test_colloquial_question_gains_formal_terms() -> None:
    q = "个体户变成公司后专利能过户吗"
    tokens = expand_query(tokenize(q), load_synonyms(), q)
    for formal in ("个体工商户", "转型", "企业", "转移"):
        assert formal in tokens, tokens
    assert len(tokens) == len(set(tokens))


def test_unrelated_question_is_not_expanded() -> None:
    q = "明天天气怎么样"
    assert expand_query(tokenize(q), load_synonyms(), q) == tokenize(q)


def _chunk(text: str) -> Chunk:
    return Chunk(chunk_id="d#0", doc_id="d", title="某条例", text=text, position=0, label="第一条")


def test_short_chunk_is_one_unit() -> None:
    assert len(dense_units(_chunk("第一条 很短的条文。"))) == 1


def test_long_chunk_adds_sentence_windows_that_keep_the_label() -> None:
    sentence = "经营者应当依法登记并公示相关信息，接受社会监督。"
    units = dense_units(_chunk("第一条 " + sentence * 12))
    assert len(units) > 2
    whole, windows = units[0], units[1:]
    assert sentence * 3 in whole
    for w in windows:
        head, body = w.split("\n", 1)
        assert head == "某条例 第一条"
        assert len(body) <= UNIT_CHARS + len(sentence)
        assert body.endswith("。")
