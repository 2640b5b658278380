#!/usr/bin/env bash
# Create or update one of the two environments from its lock file.
#   scripts/setup-env.sh app    -> .venv/app  (Python 3.11: actions, retrieval, API, tests)
#   scripts/setup-env.sh rasa   -> .venv/rasa (Python 3.10: Rasa 3.6 server, WeChat channel)
# Idempotent: make calls it only when the lock file is newer than the env's stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
which="$1"
UV_VERSION=0.13.9

# 1. uv: use one on PATH, else bootstrap it into .venv/tools with any Python 3.
if command -v uv >/dev/null 2>&1; then UV=$(command -v uv); else
  UV=.venv/tools/bin/uv
  if [ ! -x "$UV" ]; then
    echo "==> 安装 uv $UV_VERSION 到 .venv/tools"
    boot=$(command -v python3 || true)
    [ -n "$boot" ] || { echo "错误：需要 python3 来安装 uv（或自行安装 uv 后重试）。" >&2; exit 1; }
    "$boot" -m venv .venv/tools
    .venv/tools/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  fi
fi
export UV

case "$which" in
  app)
    py=$(scripts/find-python.sh 3.11)
    lock=requirements/app.txt
    # torch: PyPI has only CUDA builds for Linux; the CPU wheel comes from a local
    # wheel folder (pip's configured find-links) or YIWEN_TORCH_FIND_LINKS.
    links="${YIWEN_TORCH_FIND_LINKS:-$("$py" -m pip config get global.find-links 2>/dev/null || true)}"
    extra=()
    for l in $links; do extra+=(--find-links "$l"); done
    [ -n "${YIWEN_TORCH_INDEX:-}" ] && extra+=(--extra-index-url "$YIWEN_TORCH_INDEX")
    ;;
  rasa)
    py=$(scripts/find-python.sh 3.10)
    lock=requirements/rasa.txt
    extra=()
    ;;
  *) echo "usage: $0 app|rasa" >&2; exit 2 ;;
esac

dir=.venv/$which
start=$(date +%s)
if [ ! -x "$dir/bin/python" ]; then
  echo "==> 创建 $which 环境：$dir（$("$py" --version)）"
  "$UV" venv -q -p "$py" "$dir"
fi
echo "==> 安装 $which 环境依赖（$lock）"
if ! "$UV" pip sync -q -p "$dir/bin/python" "${extra[@]}" "$lock"; then
  if [ "$which" = app ] && ! grep -q . <<<"$links"; then
    echo "提示：torch==2.13.0+cpu 需要本地 wheel 目录或 CPU 版索引：设置 YIWEN_TORCH_FIND_LINKS=<目录> 或 YIWEN_TORCH_INDEX=<索引地址> 后重试。" >&2
  fi
  exit 1
fi
if [ "$which" = app ]; then
  "$UV" pip install -q -p "$dir/bin/python" --no-deps -e .
fi
touch "$dir/.ready"
echo "==> $which 环境就绪（$(( $(date +%s) - start )) 秒）"
