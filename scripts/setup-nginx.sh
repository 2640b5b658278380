#!/usr/bin/env bash
# Install what the production profile and its tests need from Debian: nginx (the one
# public entry) and, for the failure tests, the PostgreSQL and Redis server binaries
# (the tests start their own instances on free ports; nothing is started here).
# Idempotent and silent when all is there. supervisord comes from PyPI (app env).
set -euo pipefail

PACKAGES=(nginx-light postgresql redis-server)
have() {
  case "$1" in
    nginx-light) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ;;
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
    redis-server) command -v redis-server >/dev/null 2>&1 ;;
  esac
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  have "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "生产配置需要安装：${missing[*]}。请以 root 身份运行 apt-get install -y ${missing[*]}。" >&2
    exit 1
  fi
else
  SUDO=()
fi
export DEBIAN_FRONTEND=noninteractive
echo "==> 安装生产配置依赖：${missing[*]}"
for pkg in "${missing[@]}"; do
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q "Candidate: [^(]"; then
    "${SUDO[@]}" apt-get update -qq
    break
  fi
done
# Debian's packages start their own services on install; the profile runs its own.
printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
"${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "==> 已安装：${missing[*]}"
