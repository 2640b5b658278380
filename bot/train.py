"""Train the Rasa model only when its inputs changed.

The model file is named by a content hash of everything that shapes it:
``config.yml``, the domain, ``bot/data/**``, the jieba dictionary the
tokenizer loads (``retrieval/jieba_dict``), the custom NLU components
(``bot/nlu``) and the Rasa environment's lock file (``requirements/rasa.txt``).
If ``bot/models/<hash>.tar.gz`` exists, nothing happens; otherwise
``rasa train --fixed-model-name <hash>`` runs. Run it with the Rasa environment's Python::

    .venv/rasa/bin/python -m bot.train            # train if needed
    .venv/rasa/bin/python -m bot.train --print-path

This module imports nothing from Rasa, so ``bot.processes`` (app env) can use
the same hash to find the model.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = "config.yml"
DOMAIN_FILE = "bot/domain.yml"
RASA_LOCK = "requirements/rasa.txt"  # another Rasa or TensorFlow makes another model
DATA_DIR = "bot/data"
JIEBA_DICT_DIR = "retrieval/jieba_dict"
NLU_CODE_DIR = "bot/nlu"  # custom pipeline components: their code shapes the model too
MODELS_DIR = "bot/models"
HASH_CHARS = 16


def model_inputs(root: Path = REPO_ROOT) -> list[Path]:
    """Every file whose content changes the trained model, sorted."""
    files: list[Path] = []
    for single in (CONFIG, DOMAIN_FILE, RASA_LOCK):
        path = root / single
        if path.is_file():
            files.append(path)
    for folder in (DATA_DIR, JIEBA_DICT_DIR, NLU_CODE_DIR):
        base = root / folder
        if base.is_dir():
            files.extend(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(set(files))


def content_hash(root: Path = REPO_ROOT) -> str:
    """SHA-256 over (relative path, bytes) of every input; first 16 hex characters."""
    digest = hashlib.sha256()
    for path in model_inputs(root):
        digest.update(path.relative_to(root).as_posix().encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:HASH_CHARS]


def model_path(root: Path = REPO_ROOT) -> Path:
    """Where the model for the current inputs lives (it may not exist yet)."""
    return root / MODELS_DIR / f"{content_hash(root)}.tar.gz"


def rasa_command() -> list[str]:
    """The ``rasa`` script next to this Python, else ``python -m rasa``."""
    script = Path(sys.executable).with_name("rasa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rasa"]


def train(root: Path = REPO_ROOT, force: bool = False) -> Path:
    """Train if the model for the current inputs is missing; return its path."""
    fingerprint = content_hash(root)
    target = root / MODELS_DIR / f"{fingerprint}.tar.gz"
    if target.exists() and not force:
        print(f"bot.train: model up to date ({target.relative_to(root)}), not training")
        return target
    cmd = rasa_command() + [
        "train",
        "--config",
        CONFIG,
        "--domain",
        DOMAIN_FILE,
        "--data",
        DATA_DIR,
        "--out",
        MODELS_DIR,
        "--fixed-model-name",
        fingerprint,
    ]
    print(f"bot.train: inputs changed, training {target.relative_to(root)}")
    print("bot.train: " + " ".join(cmd))
    started = time.perf_counter()
    subprocess.run(cmd, cwd=root, check=True)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if not target.exists():
        raise SystemExit(f"bot.train: rasa train finished but {target} is missing")
    print(f"bot.train: trained in {elapsed:.0f} s, peak RSS {peak_mb:.0f} MB -> {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the Rasa model if its inputs changed.")
    parser.add_argument("--force", action="store_true", help="train even if the model exists")
    parser.add_argument(
        "--print-path", action="store_true", help="print the model path for the current inputs"
    )
    args = parser.parse_args(argv)
    if args.print_path:
        print(model_path())
        return 0
    train(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
