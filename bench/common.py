"""Helpers shared by the benchmark scripts: machine description, percentiles, RSS, servers."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = cpu or platform.processor()
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB of a process, from /proc."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    vals = {}
    for line in status.splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            k, v = line.split(":", 1)
            vals[k] = int(v.split()[0]) / 1024
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(
    port: int, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.Popen:
    """Start the real app (`yiwen serve`) and wait until /healthz answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "yiwen.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise TimeoutError("app did not become healthy")
