import math

import numpy as np
import pytest

from medna_interp.core.metrics import average_precision, binary_metrics, roc_auc


def test_threshold_metrics_hand_computed():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    probs = np.array([0.9, 0.8, 0.3, 0.2, 0.6, 0.1, 0.4, 0.7])
    m = binary_metrics(labels, probs)
    # predictions: 1 1 0 0 1 0 0 1 -> TP 3, FN 1, TN 3, FP 1
    assert (m.tp, m.fn, m.tn, m.fp) == (3, 1, 3, 1)
    assert m.acc == pytest.approx(0.75) and m.sn == pytest.approx(0.75) and m.sp == pytest.approx(0.75)
    assert m.mcc == pytest.approx((3 * 3 - 1 * 1) / math.sqrt(4 * 4 * 4 * 4))
    # pairs (pos > neg): 0.9,0.8,0.7 beat all 4 negatives (12); 0.3 beats 0.2 and 0.1 (2) -> 14/16
    assert m.auc == pytest.approx(14 / 16)


def test_auc_counts_ties_as_half():
    assert roc_auc(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    # pairs (pos, neg): (.9,.9) 1/2, (.9,.1) 1, (.2,.9) 0, (.2,.1) 1 -> 2.5 / 4
    assert roc_auc(np.array([1, 0, 1, 0]), np.array([0.9, 0.9, 0.2, 0.1])) == pytest.approx(0.625)


def test_average_precision_hand_computed():
    # ranked: 1 (P=1, R=.5), 0, 1 (P=2/3, R=1) -> AP = .5*1 + .5*2/3
    assert average_precision(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.7])) == pytest.approx(0.5 + 1 / 3)


def test_degenerate_single_class_gives_none_not_nan():
    m = binary_metrics(np.ones(5), np.array([0.9, 0.2, 0.7, 0.8, 0.6]))
    assert m.auc is None and m.sp is None and m.sn == pytest.approx(0.8) and m.mcc == 0.0
    m = binary_metrics(np.zeros(4), np.array([0.1, 0.2, 0.7, 0.3]))
    assert m.auc is None and m.auprc is None and m.sn is None and m.sp == pytest.approx(0.75)
    m = binary_metrics(np.array([1, 0]), np.array([0.9, 0.8]))  # all predicted positive
    assert m.mcc == 0.0 and not any(isinstance(v, float) and math.isnan(v) for v in m.to_dict().values())
