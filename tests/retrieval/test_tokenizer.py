from retrieval.tokenizer import DICT_DIR, cut, dictionary_files, tokenize


def test_domain_terms_are_single_tokens() -> None:
    words = cut("个转企补贴怎么领？农民专业合作社和家庭农场都可以用网络经营场所吗，打12315")
    for term in ("个转企", "农民专业合作社", "家庭农场", "网络经营场所", "12315"):
        assert term in words, (term, words)


def test_search_mode_emits_subwords_and_drops_stopwords() -> None:
    toks = tokenize("请问个体工商户的字号可以保留吗？")
    assert "个体工商户" in toks and "工商户" in toks
    assert "请问" not in toks and "的" not in toks and "？" not in toks


def test_rasa_pipeline_reads_the_same_dictionary() -> None:
    """config.yml's JiebaTokenizer must point at the folder retrieval uses."""
    import yaml

    from tests.conftest import REPO

    files = dictionary_files()
    assert files and all(f.parent == DICT_DIR for f in files)
    cfg_path = REPO / "config.yml"
    if not cfg_path.exists():
        return
    cfg = yaml.safe_load(cfg_path.read_text("utf-8"))
    jieba = [c for c in cfg["pipeline"] if c["name"].endswith("JiebaTokenizer")]
    assert jieba and (REPO / jieba[0]["dictionary_path"]).resolve() == DICT_DIR


def test_tokenize_many_in_processes_matches_one_by_one() -> None:
    from retrieval.tokenizer import lexical_terms, tokenize_many

    texts = [
        f"第{i}条 个体工商户转型为企业的，可以保留原字号，农民专业合作社第{i}项" for i in range(600)
    ]
    seen: list[tuple[int, int]] = []
    parallel = tokenize_many(
        texts, workers=2, min_parallel=0, progress=lambda d, t: seen.append((d, t))
    )
    assert parallel == [lexical_terms(t) for t in texts]
    assert seen[-1] == (600, 600)
    assert tokenize_many(texts[:3], workers=2) == [lexical_terms(t) for t in texts[:3]]  # inline


def test_bigrams_stay_inside_runs_of_chinese_characters() -> None:
    from retrieval.tokenizer import cjk_bigrams, lexical_terms

    assert cjk_bigrams("遇到险情，拨打12315热线") == ["遇到", "到险", "险情", "拨打", "热线"]
    assert cjk_bigrams("a") == [] and cjk_bigrams("雪") == []
    terms = lexical_terms("雪盲怎么办")
    assert "雪盲" in terms  # the bigram meets a passage however jieba cut it there
