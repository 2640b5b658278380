#!/usr/bin/env bash
# Run the whole suite against real services on loopback.
# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are started by this project's
# machines; if one is down we try to start it, and say how when we cannot.
set -uo pipefail
cd "$(dirname "$0")/.."

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432; then
  echo "==> PostgreSQL 未运行，尝试启动"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  port_open 5432 || echo "警告：PostgreSQL 不可用（127.0.0.1:5432）。请先启动 PostgreSQL，或设置 YIWEN_TEST_POSTGRES_URL。" >&2
fi
if ! port_open 6379; then
  echo "==> Redis 未运行，尝试启动"
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
  port_open 6379 || echo "警告：Redis 不可用（127.0.0.1:6379）。" >&2
fi

if [ -x scripts/setup-browser.sh ]; then scripts/setup-browser.sh || exit 1; fi

echo "==> ruff"
.venv/app/bin/ruff check . || exit 1

# Build the knowledge index the tests share (var/test-data) up front, with its progress
# bar, rather than inside a test fixture; a current index is just loaded.
shared_core="$(cd .. && pwd)/shared/corpus/core"
if [ -d "$shared_core" ]; then
  echo "==> 测试用知识索引（$shared_core）"
  YIWEN_DATA_DIR="$PWD/var/test-data" YIWEN_CORPUS_DIRS="[\"$shared_core\"]" \
    .venv/app/bin/yiwen ingest || exit 1
fi

echo "==> pytest"
mkdir -p artifacts
.venv/app/bin/python -m pytest "$@"
