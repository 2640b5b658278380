"""The NCP policy-QA training file, read one way for every experiment that trains on it.

``NCPPolicies_train_20200301.csv`` (id, docid, question, answer span) is the disjoint
public data issue 11 allows for training; gov_qa, msgabench_gov and dev never are.
The policy documents are not distributed, only the answer spans, so both the
reranker (``bench.train_reranker``) and the encoder fine-tune
(``bench.finetune_encoder``) rebuild text from a document's spans in file order.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bench.common import SHARED

NCP_TRAIN = SHARED / "eval" / "external" / "ncp_policy_qa" / "NCPPolicies_train_20200301.csv"
SENTENCE_END = "。！？；.!?;"


def read_rows(path: Path = NCP_TRAIN) -> list[tuple[str, str, str, str]]:
    """(id, docid, question, answer) rows, stripped; read with quoting off (spans hold
    bare quote characters)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header[:4] == ["id", "docid", "question", "answer"], header
        return [(i, d, q.strip(), a.strip()) for i, d, q, a in (r for r in reader if len(r) == 4)]


def spans_by_doc(rows: list[tuple[str, str, str, str]]) -> dict[str, list[str]]:
    """Each document's distinct non-empty answer spans, in file order."""
    spans: dict[str, list[str]] = {}
    for _id, docid, _q, answer in rows:
        if answer and answer not in spans.setdefault(docid, []):
            spans[docid].append(answer)
    return spans


def as_sentence(span: str) -> str:
    """A span closed with 。 unless it already ends a sentence."""
    return span if span[-1] in SENTENCE_END else span + "。"
