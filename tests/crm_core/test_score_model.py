"""The deal-score model's arithmetic: reached counting, calibration, AUC, the two fact readers."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.marketing import score_model as sm
from crm_core.marketing import scores
from crm_core.models import Deal
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import START, TestBot


def test_ordered_facts_count_every_band_reached() -> None:
    """A deal lost after 40 days counts for the 0, 7, 14 and 30 day bands, not for 60."""
    lost = sm.Facts(1, {"age": sm.band("age", 40), "product": "a"}, won=False)
    won = sm.Facts(2, {"age": sm.band("age", 3), "product": "a"}, won=True)
    counts, w, lo = sm.count([lost, won], ["age", "product"])
    assert (w, lo) == (1, 1)
    assert counts["age"] == {"0": [1, 1], "1": [0, 1], "2": [0, 1], "3": [0, 1]}
    assert counts["product"] == {"a": [1, 1]}


def test_learning_and_forgetting_a_deal_restores_the_model() -> None:
    """learn(+1) then learn(-1) gives back the same counts and the same probabilities."""
    rng = random.Random(3)
    rate = {"a": 0.8, "b": 0.5, "c": 0.2}
    facts = []
    for i in range(300):
        product = rng.choice("abc")
        won = rng.random() < rate[product]
        facts.append(sm.Facts(i, {"product": product, "age": rng.randrange(8)}, won=won))
    model = sm.train(facts, ["product", "age"])
    probe = sm.Facts(999, {"product": "b", "age": 2})
    before = model.probability(probe)
    extra = sm.Facts(1000, {"product": "b", "age": 5}, won=True)
    model.learn(extra)
    assert model.probability(probe) != before
    model.learn(extra, -1)
    assert math.isclose(model.probability(probe), before, rel_tol=1e-12)


def test_calibration_recovers_a_known_slope_and_shift() -> None:
    """Outcomes drawn with p = sigmoid(0.5 s - 1) give back about 0.5 and -1."""
    rng = random.Random(7)
    s = [rng.uniform(-6, 6) for _ in range(20000)]
    y = [rng.random() < 1 / (1 + math.exp(-(0.5 * v - 1))) for v in s]
    slope, shift = sm.fit_calibration(s, y)
    assert abs(slope - 0.5) < 0.05 and abs(shift + 1) < 0.08


def test_auc_and_log_loss_on_hand_made_cases() -> None:
    """AUC 1 for a perfect ranking, 0.5 for ties everywhere; log loss of 0.5 is ln 2."""
    assert sm.auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert sm.auc([0.5] * 4, [False, True, False, True]) == 0.5
    assert sm.auc([0.9, 0.2, 0.8, 0.1], [False, False, True, True]) == 0.25
    assert math.isclose(sm.log_loss([0.5, 0.5], [True, False]), math.log(2))


def test_open_deals_read_now_match_the_as_of_reader(
    testbot: TestBot, session_factory: sessionmaker[Session]
) -> None:
    """The bulk reader for open deals now (counts in SQL) reads what the as-of reader does."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 100")
    testbot("alice", "log call Acme: before it opened? no, just after")
    with unit_of_work(session_factory) as s:
        deal = s.get(Deal, 1)
        assert deal is not None
        deal.created_at = START - timedelta(days=40)
    pipeline = Pipeline(DEFAULT_STAGES)
    at = START + timedelta(days=9)
    with session_factory() as s:
        rows = scores._rows(s, [Deal.id == 1])
        now_book = scores.Book(s, pipeline, rows, now=at)
        as_of = scores.Book(s, pipeline, rows)
        quick = scores.facts_of(now_book, rows[0], won=None, at=at, bounds=())
        full = scores.facts_of(as_of, rows[0], won=None, at=at, bounds=())
    assert quick.values == full.values and quick.shown == full.shown
    assert quick.shown["touches"] == 1 and quick.shown["silence"] == 9
    assert quick.shown["age"] == 49
