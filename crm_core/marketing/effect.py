"""Campaign effects: a difference between the contacted group and the holdout, with its interval.

Proportions use Newcombe's hybrid score interval (method 10 of Newcombe 1998: Wilson intervals of
each rate, combined), which keeps close to 95 % coverage with small groups and rates near 0 or 1
where the plain normal interval does not. Mean values per customer (won value) use Welch's
normal approximation: with the customers counted here (tens to thousands) the mean's sampling
distribution is near enough normal, and it needs no random draws, so a report reads the same
each time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A difference (contacted minus holdout) with its 95 % interval."""

    estimate: float
    low: float
    high: float

    @property
    def above_zero(self) -> bool:
        """The whole interval lies above zero: the contacted group did better."""
        return self.low > 0

    @property
    def below_zero(self) -> bool:
        """The whole interval lies below zero: the contacted group did worse."""
        return self.high < 0


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of a proportion; (0, 1) with no trials."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference(x1: int, n1: int, x0: int, n0: int, z: float = Z95) -> Interval | None:
    """p1 - p0 with Newcombe's hybrid score interval; None when either group is empty."""
    if n1 <= 0 or n0 <= 0:
        return None
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1, z)
    l0, u0 = wilson(x0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def mean_difference(
    contacted: Sequence[float], holdout: Sequence[float], z: float = Z95
) -> Interval | None:
    """Mean(contacted) - mean(holdout) with Welch's normal interval; None below 2 per group."""
    n1, n0 = len(contacted), len(holdout)
    if n1 < 2 or n0 < 2:
        return None
    m1, m0 = sum(contacted) / n1, sum(holdout) / n0
    v1 = sum((x - m1) ** 2 for x in contacted) / (n1 - 1)
    v0 = sum((x - m0) ** 2 for x in holdout) / (n0 - 1)
    se = math.sqrt(v1 / n1 + v0 / n0)
    d = m1 - m0
    return Interval(d, d - z * se, d + z * se)
