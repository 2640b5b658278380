"""Resident memory of one Rasa replica, by environment: can it come down?

    .venv/app/bin/python -m bench.rasa_memory            # every variant, one after another

Starts ``rasa run --enable-api`` with the current model once per variant, waits until
``/status`` names the model, sends ``--parses`` NLU parses (``/model/parse``: the
tokenizer, the e5 featurizer, DIET and the ResponseSelector all run), then reads the
server's VmRSS and VmHWM. Prints one table. Run it on a quiet machine: nothing else
should load a model at the same time.

Variants: the embedded default (``yiwen up``), the production profile's per-replica
thread limits (``yiwen.topology.REPLICA_THREADS``), and those plus
``MALLOC_ARENA_MAX=2`` (glibc keeps fewer per-thread heaps; TensorFlow's thread pools
otherwise each grow one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port
from bench.rasa import PARSE_SENTENCES, wait_for_model
from bot.train import model_path
from yiwen.topology import REPLICA_THREADS

REPO = Path(__file__).resolve().parents[1]
RASA = REPO / ".venv" / "rasa" / "bin" / "rasa"

VARIANTS: dict[str, dict[str, str]] = {
    "default (yiwen up)": {},
    "replica threads (production profile)": dict(REPLICA_THREADS),
    "replica threads + MALLOC_ARENA_MAX=2": {**REPLICA_THREADS, "MALLOC_ARENA_MAX": "2"},
}


def _status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def measure(extra: dict[str, str], parses: int) -> dict[str, float]:
    port = free_port()
    creds = Path(tempfile.mkdtemp()) / "credentials.yml"
    creds.write_text("rest:\n", encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO), **extra}
    cmd = [
        str(RASA), "run", "--enable-api", "--port", str(port), "--interface", "127.0.0.1",
        "--model", str(model_path()), "--credentials", str(creds),
    ]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_model(port, proc)
        start_s = time.perf_counter() - t0
        loaded = _status_kb(proc.pid)["VmRSS"]
        with httpx.Client(base_url=base, timeout=30) as client:
            for i in range(parses):
                text = PARSE_SENTENCES[i % len(PARSE_SENTENCES)]
                client.post("/model/parse", json={"text": text}).raise_for_status()
        after = _status_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "start_s": start_s,
        "loaded_mb": loaded / 1024,
        "after_mb": after["VmRSS"] / 1024,
        "peak_mb": after["VmHWM"] / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parses", type=int, default=200)
    args = parser.parse_args(argv)
    if not model_path().exists():
        sys.exit(f"没有当前输入的模型（{model_path().name}）：先运行 make model")
    rows = []
    for name, extra in VARIANTS.items():
        print(f"==> {name}", flush=True)
        rows.append((name, measure(extra, args.parses)))
    print(f"\n| Rasa replica ({args.parses} parses) | start s | RSS loaded MB "
          "| RSS after MB | peak MB |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, m in rows:
        print(
            f"| {name} | {m['start_s']:.1f} | {m['loaded_mb']:.0f} | {m['after_mb']:.0f} "
            f"| {m['peak_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
