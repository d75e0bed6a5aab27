import numpy as np
import pytest
from scipy import stats

from medna_interp.core.stats import benjamini_hochberg, cohens_d, contrast_columns, welch_p


def test_cohens_d_and_welch_p_match_scipy_on_random_data():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(0.3, 1.0, rng.integers(3, 40)), rng.normal(0.0, 2.0, rng.integers(3, 40))
        args = (a.mean(), b.mean(), a.var(ddof=1), b.var(ddof=1), len(a), len(b))
        pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
        assert cohens_d(*args) == pytest.approx((a.mean() - b.mean()) / pooled)
        assert welch_p(*args) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def test_zero_variance_gives_no_nan():
    d = cohens_d([1.0, 1.0], [1.0, 0.5], [0.0, 0.0], [0.0, 0.0], [3, 3], [3, 3])
    p = welch_p([1.0, 1.0], [1.0, 0.5], [0.0, 0.0], [0.0, 0.0], [3, 3], [3, 3])
    assert d.tolist() == [0.0, np.inf] and p.tolist() == [1.0, 0.0]


def test_benjamini_hochberg_known_case_and_monotone():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted .005 .01 .03 .04 -> x4/rank: .02 .02 .04 .04
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    random_p = np.random.default_rng(1).uniform(size=200)
    q = benjamini_hochberg(random_p)
    order = np.argsort(random_p)
    assert np.all(np.diff(q[order]) >= -1e-12) and np.all(q >= random_p) and q.max() <= 1.0


def test_contrast_columns_shapes():
    values = np.random.default_rng(2).normal(size=(10, 4))
    out = contrast_columns(values, np.array([1, 0] * 5))
    assert all(v.shape == (4,) for v in out.values())
