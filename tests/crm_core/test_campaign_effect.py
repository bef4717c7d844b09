"""The campaign effect's intervals: Newcombe's published examples and their coverage."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.marketing.effect import mean_difference, rate_difference, wilson


@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_matches_the_papers_examples(
    x1: int, n1: int, x0: int, n0: int, low: float, high: float
) -> None:
    """The hybrid score interval of the difference, to four decimals."""
    iv = rate_difference(x1, n1, x0, n0)
    assert iv is not None
    assert (round(iv.low, 4), round(iv.high, 4)) == (low, high)


def test_wilson_and_empty_groups() -> None:
    """Wilson's interval of 0/10 starts at 0; an empty group has no difference to show."""
    low, high = wilson(0, 10)
    assert low == 0 and round(high, 4) == 0.2775
    assert rate_difference(1, 10, 0, 0) is None
    assert mean_difference([1.0], [1.0, 2.0]) is None


def test_both_intervals_cover_the_true_difference_about_95_percent_of_the_time() -> None:
    """2,000 simulated campaigns of 80 + 80 customers: coverage between 93 and 97.5 %."""
    rng = np.random.default_rng(2026)
    runs, n, p0, p1 = 2000, 80, 0.2, 0.32
    x1 = rng.binomial(n, p1, runs)
    x0 = rng.binomial(n, p0, runs)
    hits = 0
    for a, b in zip(x1, x0, strict=True):
        iv = rate_difference(int(a), n, int(b), n)
        assert iv is not None
        hits += iv.low <= p1 - p0 <= iv.high
    assert 0.93 <= hits / runs <= 0.975
    # Won value per customer: most customers win nothing, some win a skewed amount.
    hits = 0
    runs, m = 400, 300
    true = 0.3 * 1000 - 0.2 * 1000
    for _ in range(runs):
        a = (rng.random(m) < 0.3) * rng.exponential(1000, m)
        b = (rng.random(m) < 0.2) * rng.exponential(1000, m)
        iv = mean_difference(a.tolist(), b.tolist())
        assert iv is not None
        hits += iv.low <= true <= iv.high
    assert 0.92 <= hits / runs <= 0.98
