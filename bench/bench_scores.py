"""Deal scores: held-out quality on the Maven export, and training / scoring time at scale.

Quality (--maven): imports the export with examples/maven-crm/mapping.toml into a fresh SQLite
database, trains on the deals closed before --cut and scores each deal closed on or after it as
it stood when it was last seen open before its outcome was known: on the cut date if it was open
then, else the day it opened. Prints AUC and log loss of the model against the stage's
probability and the book's overall win rate (of the training deals), and calibration per
decile.

Time (--customers): on the demo book at that scale (bench_verbs' cached SQLite copy), times
training and scoring every open deal, as an admin sees them.

    .venv/bin/python bench/bench_scores.py --maven ../shared/data/maven-crm --cut 2017-09-01
    .venv/bin/python bench/bench_scores.py --customers 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import empty_database, sqlite_copy  # noqa: E402
from crm_core.context import Ctx  # noqa: E402
from crm_core.csv_import import import_csv  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.marketing import score_model as sm  # noqa: E402
from crm_core.marketing import scores  # noqa: E402
from crm_core.models import Deal, Role, User  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402

# Maven's amount is the closing value for won deals and the list price for lost ones (the
# export has no value for them): an amount band would read the outcome, so it is left out.
MAVEN_FEATURES = tuple(f for f in sm.FEATURES if f != "amount")


def _columns(fact: sm.Facts, features: tuple[str, ...]) -> list[str]:
    """One-hot columns of a deal: a value, or each ordered band up to the one reached."""
    cols = []
    for f in features:
        if f in fact.values:
            if f in sm.ORDERED:
                cols += [f"{f}>={i}" for i in range(int(fact.values[f]) + 1)]
            else:
                cols.append(f"{f}={fact.values[f]}")
    return cols


def logistic(
    train: list[sm.Facts], test: list[sm.Facts], features: tuple[str, ...], l2: float = 1.0
) -> list[float]:
    """A ridge logistic regression on the same facts (Newton's method), for comparison."""
    index: dict[str, int] = {}
    for fact in train:
        for c in _columns(fact, features):
            index.setdefault(c, len(index) + 1)

    def matrix(facts: list[sm.Facts]) -> np.ndarray:
        x = np.zeros((len(facts), len(index) + 1))
        x[:, 0] = 1.0
        for i, fact in enumerate(facts):
            for c in _columns(fact, features):
                if c in index:
                    x[i, index[c]] = 1.0
        return x

    x = matrix(train)
    y = np.array([1.0 if f.won else 0.0 for f in train])
    w = np.zeros(x.shape[1])
    ridge = np.eye(len(w)) * l2
    ridge[0, 0] = 0.0
    for _ in range(30):
        p = 1 / (1 + np.exp(-(x @ w)))
        step = np.linalg.solve(
            (x * (p * (1 - p))[:, None]).T @ x + ridge, x.T @ (p - y) + ridge @ w
        )
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return list(1 / (1 + np.exp(-(matrix(test) @ w))))


def evaluate(data: Path, cut: datetime) -> None:
    """Train before `cut`, score the deals closed from it on; print the tables."""
    engine, _ = empty_database("scores-maven", None)
    factory = make_session_factory(engine)
    pipeline = Pipeline(DEFAULT_STAGES)
    with unit_of_work(factory) as s:
        import_csv(s, ROOT / "examples" / "maven-crm" / "mapping.toml", data, stages=DEFAULT_STAGES)
    with factory() as s:
        started = time.perf_counter()
        model, won, lost = scores.train(s, pipeline, before=cut, features=MAVEN_FEATURES)
        took = time.perf_counter() - started
        assert model is not None, (won, lost)
        closed = [st.name for st in pipeline.stages if st.closed]
        rows = scores._rows(s, [Deal.stage.in_(closed), Deal.closed_at >= cut])
        book = scores.Book(s, pipeline, rows)
        _, seen_open, _ = scores.closed_facts(s, pipeline, before=cut, features=MAVEN_FEATURES)
        probs, stage_p, outcomes, test_facts = [], [], [], []
        for r in rows:
            at = max(cut, r.created_at)
            fact = scores.facts_of(book, r, won=None, at=at, bounds=())
            probs.append(model.probability(fact))
            test_facts.append(fact)
            stage = pipeline.open_stages[fact.values.get("stage", 0)]
            stage_p.append(float(stage.probability))
            outcomes.append(bool(pipeline.get(r.stage) and pipeline.get(r.stage).won))  # type: ignore[union-attr]
    lr = logistic(seen_open, test_facts, MAVEN_FEATURES)
    rate = won / (won + lost)
    test_won = sum(outcomes)
    print(
        f"train: {won} won / {lost} lost closed before {cut.date()} (trained in {took:.1f} s); "
        f"test: {test_won} won / {len(outcomes) - test_won} lost closed from then on"
    )
    print(f"calibration: slope {model.slope:.3f}, shift {model.shift:.3f}\n")
    print("| scorer | AUC | log loss |")
    print("|---|---:|---:|")
    for name, p in (
        ("deal score (naive Bayes, calibrated)", probs),
        ("logistic regression, same facts (L2 1.0; for comparison)", lr),
        ("stage probability", stage_p),
        (f"book win rate ({rate:.1%})", [rate] * len(outcomes)),
    ):
        print(f"| {name} | {sm.auc(p, outcomes):.3f} | {sm.log_loss(p, outcomes):.3f} |")
    print("\n| decile | deals | mean predicted | observed | gap (points) |")
    print("|---:|---:|---:|---:|---:|")
    worst = 0.0
    for i, (n, pred, seen) in enumerate(sm.deciles(probs, outcomes), 1):
        gap = abs(pred - seen) * 100
        worst = max(worst, gap)
        print(f"| {i} | {n} | {pred:.1%} | {seen:.1%} | {gap:.1f} |")
    print(f"\nlargest decile gap: {worst:.1f} points ({'met' if worst <= 5 else 'missed'}: 5)")
    engine.dispose()


def timing(customers: int, seed: int, runs: int) -> None:
    """Time training and scoring every open deal on the demo book at this scale."""
    engine = make_engine(f"sqlite:///{sqlite_copy(customers, seed, 'scores')}")
    factory = make_session_factory(engine)
    pipeline = Pipeline(DEFAULT_STAGES)
    train_s, score_s = [], []
    for _ in range(runs):
        with unit_of_work(factory) as s:
            admin = s.scalars(select(User).where(User.role == Role.admin)).first()
            assert admin is not None
            ctx = Ctx(s, admin, pipeline, clock=lambda: datetime.now(UTC))
            started = time.perf_counter()
            row = scores.store(s, pipeline, ctx.now())
            train_s.append(time.perf_counter() - started)
            s.flush()
            started = time.perf_counter()
            ranked = scores.score_open(ctx)
            score_s.append(time.perf_counter() - started)
    print(
        f"{customers} customers: {row.won} won / {row.lost} lost learned; "
        f"{len(ranked)} open deals scored"
    )
    print(f"train: median {statistics.median(train_s):.2f} s, max {max(train_s):.2f} s")
    print(
        f"score all open deals: median {statistics.median(score_s):.2f} s, "
        f"max {max(score_s):.2f} s ({runs} runs)"
    )
    engine.dispose()


def main() -> None:
    """Run the evaluation or the timing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maven", type=Path, default=None)
    ap.add_argument("--cut", default="2017-09-01")
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if args.maven is not None:
        evaluate(args.maven, datetime.fromisoformat(args.cut).replace(tzinfo=UTC))
    else:
        timing(args.customers, args.seed, args.runs)


if __name__ == "__main__":
    main()
