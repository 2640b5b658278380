#!/usr/bin/env bash
# Install what the browser tests need: Debian's chromium (Playwright drives it through
# executable_path, so no browser is ever downloaded) and a CJK font, without which
# Chinese text renders as boxes in screenshots. Idempotent and silent when all is there.
set -euo pipefail

PACKAGES=(chromium fonts-wqy-microhei)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "浏览器测试需要安装：${missing[*]}。请以 root 身份运行 apt-get install -y ${missing[*]}。" >&2
    exit 1
  fi
else
  SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
echo "==> 安装浏览器测试依赖：${missing[*]}"
# Only refresh the package lists when apt cannot find a candidate for a missing package.
for pkg in "${missing[@]}"; do
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q "Candidate: [^(]"; then
    echo "==> apt-get update（软件包列表中找不到 $pkg）"
    "${SUDO[@]}" apt-get update -qq
    break
  fi
done
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "==> 安装失败，刷新软件包列表后重试"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "==> 已安装：${missing[*]}"
