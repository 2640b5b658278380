#!/usr/bin/env bash
# Install the staff console's browser libraries (Apache ECharts) from the npm registry,
# exactly as package-lock.json pins them (`npm ci`). The app serves them from
# node_modules/ (yiwen/console/vendor.py); no copy is committed. Idempotent, and instant
# when node_modules/ already matches the lock file (a stamp holds the lock file's hash).
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=node_modules/.yiwen-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f node_modules/echarts/dist/echarts.min.js ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  # Not fatal: everything else works, and the console's 统计 page says what is missing.
  echo "警告：没有 npm，工作人员控制台的统计图表不可用。请安装 nodejs 和 npm（如 apt-get install -y nodejs npm）后运行 make env。" >&2
  exit 0
fi
echo "==> npm ci：安装工作人员控制台的图表库（ECharts）"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" >"$STAMP"
