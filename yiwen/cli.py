"""``yiwen``: one command line for ingest, ask, eval, bench and the services.

Heavy imports happen inside the commands so ``yiwen --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group(help="邑问 Yiwen：江门市场监管智能问答助手")
def main() -> None:
    pass


@main.command(help="导入文档并建立（或更新）检索索引。")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--rebuild", is_flag=True, help="忽略现有索引，强制重建。")
@click.option("--no-faq", is_flag=True, help="不导入常见问题库。")
def ingest(paths: tuple[Path, ...], rebuild: bool, no_faq: bool) -> None:
    from core.progress import StageProgress
    from core.settings import get_settings
    from retrieval.engine import open_engine

    s = get_settings().knowledge
    corpus = list(paths) or s.corpus_dirs
    if not corpus:
        raise click.UsageError(
            "没有可导入的文档目录：请在命令后给出目录，或设置 YIWEN_CORPUS_DIRS。"
        )
    click.echo(f"文档目录：{', '.join(str(p) for p in corpus)}")
    click.echo(f"向量模型：{s.encoder}")
    bar = StageProgress()
    engine, report = open_engine(
        corpus=corpus,
        faq_dir=None if no_faq else True,
        rebuild=rebuild,
        progress=bar,
        log=click.echo,
    )
    bar.close()
    m = engine.index.manifest
    for err in report.errors:
        click.echo(f"  ✗ {err}", err=True)
    faq = f"（其中常见问题 {report.faq_entries} 条）" if report.rebuilt else ""
    click.echo(
        f"{'已重建' if report.rebuilt else '已加载'}：{m.n_documents} 个文档，{m.n_chunks} 个片段"
        f"{faq}，失败 {len(report.errors)} 个文件，"
        f"用时 {report.seconds:.1f} 秒（{report.reason}）。"
    )
    if report.errors:
        sys.exit(2 if report.documents == 0 else 0)


@main.command(help="提问，打印答案和出处。")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@click.option("-k", default=5, show_default=True, help="返回的片段数。")
def ask(question: str, as_json: bool, k: int) -> None:
    from retrieval.engine import get_engine
    from yiwen.api import check_question

    try:
        question = check_question(question)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    ans = get_engine().ask(question, k=k)
    if as_json:
        click.echo(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(ans.text)
    if ans.hits and not ans.abstained:
        click.echo("\n—— 检索到的片段 ——")
        for i, h in enumerate(ans.hits, 1):
            click.echo(f"{i}. {h.citation}  score={h.score:.4f}")
    click.echo(f"\n（置信度 {ans.confidence:.3f}，用时 {ans.latency_ms:.0f} ms）")


@main.command(name="eval", help="按评测约定批量回答问题并计算指标。")
@click.option("--questions", required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option("--no-faq", is_flag=True, help="不使用常见问题库。")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--limit", type=int, default=None, help="只评测前 N 个问题。")
def eval_cmd(
    questions: Path, corpora: tuple[Path, ...], no_faq: bool, out: Path, limit: int | None
) -> None:
    from yiwen.evaluation import format_metrics, run_eval

    metrics = run_eval(questions, list(corpora), use_faq=not no_faq, out=out, limit=limit)
    click.echo(format_metrics(metrics))


@main.command(help="用校准数据确定拒答阈值，写入 retrieval/calibration.json。")
def calibrate() -> None:
    from yiwen.calibration import calibrate as run

    click.echo(run())


@main.command(help="运行性能基准并打印表格。")
@click.option("--lawrefbook/--no-lawrefbook", default=True, help="是否包含全量法规集。")
@click.option(
    "--dense-sample",
    default=500,
    show_default=True,
    help="全量法规集向量化抽样片段数（用于估算总时长）。",
)
def bench(lawrefbook: bool, dense_sample: int) -> None:
    # A subprocess, not an import: ``bench`` is the floor above ``yiwen`` (tests/test_floors.py).
    import subprocess

    args = [sys.executable, "-m", "bench.retrieval", "--dense-sample", str(dense_sample)]
    if not lawrefbook:
        args.append("--no-lawrefbook")
    sys.exit(subprocess.call(args, cwd=Path(__file__).resolve().parents[1]))


@main.command(help="只启动知识问答 / 工单 API（端口 8000）。")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=1, show_default=True, help="uvicorn 工作进程数。")
def serve(host: str | None, port: int | None, workers: int) -> None:
    import uvicorn

    from core import pii
    from core.settings import get_settings

    pii.install()
    s = get_settings().server
    where = {"host": host or s.host, "port": port or s.port, "ws": "none", "log_level": "info"}
    if workers > 1:  # each worker imports the factory and loads its own engine
        uvicorn.run("yiwen.app:create_logged_app", factory=True, workers=workers, **where)
        return
    from yiwen.app import create_app

    uvicorn.run(create_app(), **where)


@main.command(help="启动全部服务并在前台运行（Ctrl-C 停止）。")
@click.option(
    "--prod", is_flag=True, help="生产配置：nginx + 多个 Rasa / 动作服务器副本（supervisord）。"
)
@click.option("--print", "print_only", is_flag=True, help="只生成并打印配置文件路径，不启动。")
def up(prod: bool, print_only: bool) -> None:
    if prod:
        from yiwen.production import run_prod

        sys.exit(run_prod(print_only=print_only))
    from yiwen.supervisor import run_all

    sys.exit(run_all())


@main.command(help="生产配置：逐个重启 Rasa（或动作服务器）副本，采用新模型而不丢对话。")
@click.option("--kind", type=click.Choice(["rasa", "actions"]), default="rasa", show_default=True)
def rollout(kind: str) -> None:
    from yiwen.production import rollout as run_rollout

    sys.exit(run_rollout(kind))


@main.command(help="列出生产配置中运行的进程（名称、类型、pid、端口、健康、重启次数）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
def ps(as_json: bool) -> None:
    from yiwen.production import process_table

    rows = process_table()
    if rows is None:
        click.echo("生产配置未运行：先运行 make run-prod。", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        mark = "健康" if r["healthy"] else "异常"
        click.echo(
            f"{r['name']:<10} {r['kind']:<8} pid={r['pid']!s:<8} port={r['port']!s:<6} "
            f"{mark} 重启 {r['restarts']} 次"
        )


@main.command(help="在终端里与运行中的邑问对话（先运行 make run）。")
@click.option("--url", default=None, help="Rasa 地址，默认 YIWEN_RASA_URL 或 http://127.0.0.1:5005")
def shell(url: str | None) -> None:
    from core.settings import get_settings
    from yiwen.shell import run_shell

    def read() -> str:
        return input("你> ")

    sys.exit(run_shell(url or get_settings().rasa.public_url, read, click.echo))


@main.command(
    help="按保留期限清除个人数据：已送达的待发队列内容、对话事件、复核日志中的提问人标识；"
    "超过 YIWEN_QUESTION_RETENTION_DAYS 天的提问记录。"
)
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    required=True,
    help="清除多少天以前的数据（例如 90）。",
)
def purge(days: int) -> None:
    from core.settings import get_settings
    from yiwen.retention import purge as run_purge

    s = get_settings()  # the environment with .env underneath, as the services see it
    report = run_purge(
        days,
        outbox_path=s.outbox_path,
        database_url=s.tickets.effective_database_url,
        tracker_store_url=s.rasa.tracker_store_url.strip(),
        question_days=s.tickets.question_retention_days,
    )
    click.echo(f"保留期限 {days} 天：")
    for line in report.lines():
        click.echo(f"  {line}")


def _mount_subcommands() -> None:
    """Sub-commands owned by the packages below: a broken import there fails loudly here."""
    from bot.actions.outbox import outbox_cli
    from bot.actions.review_log import misses
    from tickets.cli import deadlines, tokens

    main.add_command(tokens)
    main.add_command(deadlines)
    main.add_command(misses)
    main.add_command(outbox_cli)


_mount_subcommands()

if __name__ == "__main__":
    main()
