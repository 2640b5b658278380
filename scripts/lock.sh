#!/usr/bin/env bash
# Re-resolve requirements/*.in into the pinned requirements/*.txt lock files.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo .venv/tools/bin/uv)
py311=$(scripts/find-python.sh 3.11); py310=$(scripts/find-python.sh 3.10)
links="${YIWEN_TORCH_FIND_LINKS:-$("$py311" -m pip config get global.find-links 2>/dev/null || true)}"
extra=(); for l in $links; do extra+=(--find-links "$l"); done
"$UV" pip compile -q --no-header -p "$py311" "${extra[@]}" requirements/app.in -o requirements/app.txt
"$UV" pip compile -q --no-header -p "$py310" requirements/rasa.in -o requirements/rasa.txt
echo "lock files updated"
