"""Calibrate the abstention threshold on labelled questions.

The engine abstains when its confidence (the best cosine similarity between the
query and any passage or curated FAQ question) is below a threshold. The
threshold is chosen on retrieval/calibration_set.yml — questions written by the
team, disjoint from ../shared/eval — as the midpoint of the widest interval that
keeps out-of-scope abstention >= 0.95 while minimising false abstention, and is
stored per encoder in retrieval/calibration.json.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from retrieval.engine import CALIBRATION_PATH, get_engine

SET_PATH = Path(__file__).resolve().parents[1] / "retrieval" / "calibration_set.yml"
TARGET_OOS_ABSTENTION = 0.95


def choose_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float, float]:
    """Threshold, out-of-scope abstention and false abstention at that threshold."""
    candidates = np.unique(np.concatenate([pos, neg]))
    best: tuple[float, float, float, float] | None = None
    for t in candidates:
        oos = float(np.mean(neg < t))
        false_abs = float(np.mean(pos < t))
        if oos < TARGET_OOS_ABSTENTION:
            continue
        key = (false_abs, -oos)
        if best is None or key < (best[2], -best[1]):
            best = (float(t), oos, false_abs, 0.0)
    if best is None:  # cannot reach the target: take the most conservative point
        t = float(neg.max()) + 1e-4
        return t, float(np.mean(neg < t)), float(np.mean(pos < t))
    t = best[0]
    below = neg[neg < t]
    # Put the threshold between the highest refused negative and t, not on a data point.
    lo = float(below.max()) if below.size else t
    t_mid = (lo + t) / 2
    return t_mid, float(np.mean(neg < t_mid)), float(np.mean(pos < t_mid))


def calibrate() -> str:
    data = yaml.safe_load(SET_PATH.read_text("utf-8"))
    engine = get_engine()
    pos = np.array([engine.search(q, k=1)[1] for q in data["in_scope"]])
    neg = np.array([engine.search(q, k=1)[1] for q in data["out_of_scope"]])
    t, oos, false_abs = choose_threshold(pos, neg)
    record = json.loads(CALIBRATION_PATH.read_text("utf-8")) if CALIBRATION_PATH.is_file() else {}
    record.setdefault("fusion", {})["abstain_below"] = round(t, 4)
    record["calibrated"] = {
        "date": date.today().isoformat(),
        "encoder": engine.encoder.name,
        "data": str(SET_PATH.relative_to(SET_PATH.parents[1])),
        "in_scope": len(pos),
        "out_of_scope": len(neg),
        "threshold": round(t, 4),
        "oos_abstention": round(oos, 3),
        "false_abstention": round(false_abs, 3),
        "in_scope_confidence_p10_p50": [round(float(np.percentile(pos, q)), 4) for q in (10, 50)],
        "oos_confidence_p50_p90": [round(float(np.percentile(neg, q)), 4) for q in (50, 90)],
    }
    CALIBRATION_PATH.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", "utf-8")
    c = record["calibrated"]
    return (
        f"阈值 {c['threshold']}（{c['encoder']}）：校准集 {c['in_scope']} 个范围内问题、"
        f"{c['out_of_scope']} 个范围外问题；范围外拒答率 {c['oos_abstention']:.3f}，"
        f"误拒率 {c['false_abstention']:.3f}。已写入 {CALIBRATION_PATH.name}。"
    )
