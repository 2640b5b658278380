"""Run a script with the real Rasa classes, in the Rasa environment (Python 3.10).

The test suite runs in the app environment (Python 3.11), where Rasa cannot be
imported; tests that need Rasa's own classes run a script there in a subprocess and
read the JSON object its last output line prints.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"


def run_in_rasa(script: str, env: dict[str, str] | None = None, timeout: float = 240) -> Any:
    """The JSON printed last by ``script`` (skips when the Rasa environment is missing)."""
    if not RASA_PY.exists():
        pytest.skip("the Rasa environment (.venv/rasa) is missing")
    done = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
