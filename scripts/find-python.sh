#!/usr/bin/env bash
# Print the path of a Python interpreter of the given minor version (e.g. 3.10), or fail
# with instructions. Order: $YIWEN_PYTHON_<3_10>, pythonX.Y on PATH, pyenv, uv-managed.
set -euo pipefail
ver="$1"
var="YIWEN_PYTHON_${ver/./_}"
if [ -n "${!var:-}" ] && [ -x "${!var}" ]; then echo "${!var}"; exit 0; fi
ok() { "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$ver' else 1)" 2>/dev/null; }
if command -v "python$ver" >/dev/null 2>&1 && ok "$(command -v "python$ver")"; then
  command -v "python$ver"; exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  for p in $(ls -d "$(pyenv root)"/versions/"$ver".*/bin/python 2>/dev/null | sort -V -r); do
    if ok "$p"; then echo "$p"; exit 0; fi
  done
fi
if [ -n "${UV:-}" ] && [ -x "${UV}" ]; then
  p=$("$UV" python find "$ver" 2>/dev/null || true)
  if [ -n "$p" ] && ok "$p"; then echo "$p"; exit 0; fi
fi
cat >&2 <<MSG
错误：找不到 Python $ver。
  Yiwen 需要 Python 3.10（Rasa 3.6 只支持到 3.10）和 Python 3.11（应用环境）。
  安装任一方式后重试：
    pyenv install $ver            # 已有 pyenv 时
    uv python install $ver        # 有网络时，由 uv 提供
  或设置环境变量 $var=/path/to/python$ver 指向已有的解释器。
MSG
exit 1
