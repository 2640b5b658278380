import numpy as np

from yiwen.calibration import TARGET_OOS_ABSTENTION, choose_threshold


def test_threshold_separates_when_possible() -> None:
    pos = np.array([0.91, 0.93, 0.95, 0.97])
    neg = np.array([0.80, 0.84, 0.86, 0.88])
    t, oos, false_abs = choose_threshold(pos, neg)
    assert 0.88 < t <= 0.91
    assert oos == 1.0 and false_abs == 0.0


def test_threshold_meets_target_when_classes_overlap() -> None:
    rng = np.random.default_rng(0)
    pos = rng.normal(0.93, 0.02, 200)
    neg = rng.normal(0.87, 0.02, 200)
    t, oos, false_abs = choose_threshold(pos, neg)
    assert oos >= TARGET_OOS_ABSTENTION
    assert np.mean(neg < t) == oos and np.mean(pos < t) == false_abs
