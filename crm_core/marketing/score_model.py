"""The deal-score model: a naive Bayes over won/lost counts per field value, calibrated.

In the manner of Odoo's predictive lead scoring: each field value of a closed deal is counted
as won or lost, and an open deal's odds are the book's odds times, for each of its values,
how much likelier that value is among won deals than among lost ones. Ordered facts (stage,
age, days without contact, interactions) count as "reached": a deal lost in proposal counts for
lead, qualified and proposal; a deal open 40 days counts for every band up to 30 days, so an
open deal is compared with the deals that got at least as far. The summed log-odds are then
calibrated (Platt scaling, fitted on out-of-fold sums) so that "70" means about 70 % won.

Each value's term is a number added to the logit; the factors shown are the largest terms,
and the score is exactly the logistic of the intercept plus all the terms.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# numpy is imported inside the functions that train or measure: every command imports this
# module (deals learn as they close), and most never need numpy.
if TYPE_CHECKING:
    import numpy as np


# Ordered facts: a closed deal counts for every band up to the one it reached.
ORDERED = ("stage", "age", "silence", "touches")
CATEGORICAL = ("product", "owner", "team", "industry", "city", "amount")
FEATURES = (
    "stage",
    "product",
    "owner",
    "team",
    "industry",
    "city",
    "amount",
    "age",
    "silence",
    "touches",
)
# Band lower bounds: days open, days without contact, interactions logged.
BANDS: dict[str, tuple[int, ...]] = {
    "age": (0, 7, 14, 30, 60, 90, 180, 365),
    "silence": (0, 7, 14, 30, 60, 90),
    "touches": (0, 1, 2, 3, 5, 8, 13),
}
# Add-one smoothing of every count.
ALPHA = 1.0
# How many folds give the out-of-fold sums the calibration is fitted on.
FOLDS = 5


def band(feature: str, value: int) -> int:
    """The index of the band `value` falls in (the last band whose lower bound it reaches)."""
    # Bounds rise: the last one reached is just before where the value would be inserted.
    return max(0, bisect.bisect_right(BANDS[feature], value) - 1)


@dataclass
class Facts:
    """What the model reads about one deal: a value per feature (absent: unknown)."""

    deal_id: int
    # Categorical: the value's key (product name, owner id, ...). Ordered: the band or stage
    # order reached, as an int.
    values: dict[str, Any] = field(default_factory=dict)
    # The plain values the factor sentences quote (days, counts, names).
    shown: dict[str, Any] = field(default_factory=dict)
    # True won, False lost, None open.
    won: bool | None = None


Counts = dict[str, dict[str, list[int]]]


def _keys(feature: str, value: Any) -> Iterable[str]:
    """The count keys a closed deal adds to: one value, or every ordered band up to its own."""
    if feature in ORDERED:
        return (str(i) for i in range(int(value) + 1))
    return (str(value),)


def count(facts: Iterable[Facts], features: Sequence[str]) -> tuple[Counts, int, int]:
    """Won/lost counts per feature value of closed deals; and the won and lost totals."""
    counts: Counts = {f: {} for f in features}
    won = lost = 0
    for fact in facts:
        if fact.won is None:
            continue
        slot = 0 if fact.won else 1
        won += fact.won
        lost += not fact.won
        for f in features:
            if f in fact.values:
                for key in _keys(f, fact.values[f]):
                    counts[f].setdefault(key, [0, 0])[slot] += 1
    return counts, won, lost


@dataclass(frozen=True)
class Term:
    """One feature value's part of a deal's score."""

    feature: str
    key: str
    # Added to the calibrated logit.
    weight: float
    # The smoothed win rate among closed deals with this value, and the book's, on the same
    # smoothing: weight > 0 exactly when rate > base.
    rate: float
    base: float
    # Closed deals with this value.
    seen: int


@dataclass
class Model:
    """Counts, totals and calibration: everything needed to score and explain a deal."""

    features: tuple[str, ...]
    counts: Counts
    won: int
    lost: int
    # Calibrated logit = slope * naive-Bayes log-odds + shift.
    slope: float = 1.0
    shift: float = 0.0
    # Lower bounds of the amount bands (quintiles of the training amounts).
    amount_bounds: tuple[float, ...] = ()
    # Each value's terms as computed from the counts; emptied whenever the counts change.
    _memo: dict[tuple[str, str], tuple[float, float, float, int] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def to_json(self) -> dict[str, Any]:
        """The model as JSON-ready data (stored in score_models.params)."""
        return {
            "features": list(self.features),
            "counts": self.counts,
            "won": self.won,
            "lost": self.lost,
            "slope": self.slope,
            "shift": self.shift,
            "amount_bounds": list(self.amount_bounds),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        """The model stored by to_json."""
        return cls(
            features=tuple(data["features"]),
            counts={f: {k: list(v) for k, v in c.items()} for f, c in data["counts"].items()},
            won=int(data["won"]),
            lost=int(data["lost"]),
            slope=float(data["slope"]),
            shift=float(data["shift"]),
            amount_bounds=tuple(float(b) for b in data.get("amount_bounds", ())),
        )

    def learn(self, fact: Facts, sign: int = 1) -> None:
        """Add (sign 1) or take back (sign -1) one closed deal's counts."""
        if fact.won is None:
            return
        self._memo.clear()
        slot = 0 if fact.won else 1
        if fact.won:
            self.won = max(0, self.won + sign)
        else:
            self.lost = max(0, self.lost + sign)
        for f in self.features:
            if f in fact.values:
                for key in _keys(f, fact.values[f]):
                    pair = self.counts.setdefault(f, {}).setdefault(key, [0, 0])
                    pair[slot] = max(0, pair[slot] + sign)

    def _raw(self, feature: str, key: str) -> tuple[float, float, float, int] | None:
        """Naive-Bayes log-likelihood ratio, smoothed rate, base rate and count of a value
        (remembered: a book has few values per feature and many deals share them)."""
        key_ = (feature, key)
        if key_ not in self._memo:
            self._memo[key_] = self._compute(feature, key)
        return self._memo[key_]

    def _compute(self, feature: str, key: str) -> tuple[float, float, float, int] | None:
        pair = self.counts.get(feature, {}).get(key)
        if pair is None or self.won == 0 or self.lost == 0:
            return None
        w, lo = pair
        # Categorical values share one distribution per class; ordered bands are yes/no each.
        k = 2 if feature in ORDERED else max(2, len(self.counts[feature]))
        ratio = math.log((w + ALPHA) / (self.won + ALPHA * k)) - math.log(
            (lo + ALPHA) / (self.lost + ALPHA * k)
        )
        rate = (w + ALPHA) / (w + lo + 2 * ALPHA)
        # The base on the same smoothing: won-side and lost-side denominators as above.
        wo, lo_ = self.won + ALPHA * k, self.lost + ALPHA * k
        base = wo / (wo + lo_)
        return ratio, rate, base, w + lo

    def prior(self) -> float:
        """The book's log-odds of winning."""
        return math.log(max(self.won, 1) / max(self.lost, 1))

    def log_odds(self, fact: Facts) -> float:
        """The uncalibrated naive-Bayes log-odds of a deal."""
        total = self.prior()
        for f in self.features:
            if f in fact.values:
                raw = self._raw(f, str(fact.values[f]))
                if raw is not None:
                    total += raw[0]
        return total

    def intercept(self) -> float:
        """The calibrated logit of a deal about which nothing is known."""
        return self.slope * self.prior() + self.shift

    def terms(self, fact: Facts) -> list[Term]:
        """Each known value's calibrated part of the logit."""
        out = []
        for f in self.features:
            if f in fact.values:
                key = str(fact.values[f])
                raw = self._raw(f, key)
                if raw is not None:
                    ratio, rate, base, seen = raw
                    out.append(Term(f, key, self.slope * ratio, rate, base, seen))
        return out

    def probability(self, fact: Facts) -> float:
        """The calibrated probability that the deal is won."""
        return _sigmoid(self.slope * self.log_odds(fact) + self.shift)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def amount_bounds(amounts: Sequence[float]) -> tuple[float, ...]:
    """Lower bounds of five bands holding about a fifth of the amounts each."""
    import numpy as np

    if not amounts:
        return ()
    qs = np.quantile(np.asarray(amounts, dtype=float), [0.2, 0.4, 0.6, 0.8])
    return (0.0, *sorted({round(float(q), 2) for q in qs if q > 0}))


def amount_band(bounds: Sequence[float], amount: float) -> int:
    """The index of the amount band `amount` falls in."""
    return max(0, bisect.bisect_right(bounds, amount) - 1)


def fit_calibration(scores: Sequence[float], outcomes: Sequence[bool]) -> tuple[float, float]:
    """Platt scaling: (slope, shift) minimising log loss of sigmoid(slope * s + shift)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    if len(s) < 2 or y.min() == y.max():
        return 1.0, 0.0
    x = np.column_stack([s, np.ones_like(s)])
    # From the book's odds alone, so the first step starts where the loss is sane.
    theta = np.array([0.0, math.log(y.mean() / (1 - y.mean()))])
    # A whisper of ridge keeps Newton's steps finite when the sums separate the classes.
    ridge = np.diag([1e-2, 1e-2])

    def loss(t: np.ndarray) -> float:
        z = np.clip(x @ t, -40, 40)
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * t @ ridge @ t)

    current = loss(theta)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -40, 40)))
        grad = x.T @ (p - y) + ridge @ theta
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hess, grad)
        # Newton's full step can overshoot far from the optimum: halve it until it helps.
        scale = 1.0
        while scale > 1e-6 and loss(theta - scale * step) > current:
            scale /= 2
        theta = theta - scale * step
        current = loss(theta)
        if float(np.abs(scale * step).max()) < 1e-9:
            break
    slope, shift = float(theta[0]), float(theta[1])
    if slope <= 0:
        # Sums that rank backwards are no model: keep the prior's odds alone.
        return 0.0, float(math.log(y.mean() / (1 - y.mean())))
    return slope, shift


def train(
    facts: Sequence[Facts],
    features: Sequence[str],
    bounds: tuple[float, ...] = (),
    seen_open: Sequence[Facts] | None = None,
) -> Model:
    """Count the closed deals, then calibrate on out-of-fold log-odds of the same deals as
    they looked while open (`seen_open`, outcome set; default: at their close)."""
    closed = [f for f in facts if f.won is not None]
    counts, won, lost = count(closed, features)
    model = Model(tuple(features), counts, won, lost, amount_bounds=bounds)
    folds: list[list[Facts]] = [[] for _ in range(FOLDS)]
    for fact in closed:
        # A hash of the id, not chance: the same book always trains the same model, and ids
        # given out in a rhythm (won, won, lost, ...) do not line up with the folds.
        folds[(fact.deal_id * 2654435761) % 2**32 % FOLDS].append(fact)
    sums: list[float] = []
    outcomes: list[bool] = []
    scored: dict[int, Facts] = {f.deal_id: f for f in seen_open or closed}
    for fold in folds:
        held = Model(tuple(features), _copy(counts), won, lost)
        for fact in fold:
            held.learn(fact, -1)
        for fact in fold:
            sums.append(held.log_odds(scored[fact.deal_id]))
            outcomes.append(bool(fact.won))
    model.slope, model.shift = fit_calibration(sums, outcomes)
    return model


def _copy(counts: Counts) -> Counts:
    return {f: {k: list(v) for k, v in c.items()} for f, c in counts.items()}


def auc(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Area under the ROC curve (ties count half)."""
    import numpy as np

    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=float)
    sorted_p = p[order]
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def log_loss(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean negative log-likelihood of the outcomes (probabilities clipped to [1e-6, 1-1e-6])."""
    import numpy as np

    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    y = np.asarray(outcomes, dtype=float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def deciles(
    probabilities: Sequence[float], outcomes: Sequence[bool]
) -> list[tuple[int, float, float]]:
    """Per tenth of the deals ranked by probability: count, mean predicted, observed rate."""
    import numpy as np

    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    order = np.argsort(p, kind="mergesort")
    out = []
    for part in np.array_split(order, 10):
        if len(part):
            out.append((len(part), float(p[part].mean()), float(y[part].mean())))
    return out
