"""Near misses: a sentence shares the question's topic, names and numbers, not the fact asked."""

from __future__ import annotations

import pytest

from crm_core.models import Interaction
from retrieval.ask import topic_terms
from retrieval.verify import Reading, read_together, slot, wanted


def _read(question: str, *texts: str) -> Reading:
    notes = [Interaction(text=t) for t in texts]
    return read_together(
        question, notes, topic_terms(question, None), passages=50, df={}, book_df={}
    )


@pytest.mark.parametrize(
    ("question", "near_miss", "answer"),
    [
        # A count of a thing: not a rate's word ("a year"), a label ("press 2"), a measure, a
        # count of the next word ("30 drums") nor another classifier (两支 for 多少台).
        (
            "How many mixers a year does Dunmore buy?",
            "Dunmore's mixer line ran at 190C for 8 min, ~30 drums/yr of resin.",
            "Dunmore buys about 12 mixers a year.",
        ),
        ("How many presses does Orrin run?", "Saw a leak on press 2.", "Orrin runs 5 presses."),
        ("联丰一年做多少台车架？", "联丰反映有两支车架接头开裂。", "联丰一年做 5000 台车架。"),
        # A quantity: a standard's number, a date, a tonnage or a share is none.
        (
            "How much insurance coverage does Orrin require?",
            "Orrin needs our ISO 14001 cert and insurance cert by Apr 15.",
            "Orrin requires $2M of insurance coverage.",
        ),
        (
            "顺成有多少工人？",
            "顺成冰箱门封条年用量 40 吨，今年要降成本 10%。",
            "顺成有 300 个工人。",
        ),
        # A length of time: a tonnage, a temperature or a year's plan is none.
        (
            "How long is the lead time for Orrin?",
            "Orrin's lead time complaint: the last order was 200 kg.",
            "Lead time for Orrin is 3-4 weeks.",
        ),
        ("宏远的交期是多久？", "宏远年用量约 30 吨，对交期不满意。", "宏远的交期是 4 周。"),
        ("耐温测试跑了几个小时？", "耐温测试要求 105 度。", "耐温测试跑了 500 小时。"),
        (
            "how long is the Orrin quote good for",
            "Sent Orrin the quote: $9.40/kg at 180 t/yr.",
            "The Orrin quote is valid to Jan 31.",
        ),
        # Which month: a year and a quantity are no month.
        ("新厂预计几月投产？", "新厂明年投产，产能 2 万吨。", "新厂预计 9 月投产。"),
        # "did they say when": the date asked inside the question.
        (
            "Did Orrin say when the new line starts?",
            "Orrin's new line starts after the $40k budget is approved.",
            "Orrin's new line starts on March 3.",
        ),
        # A street address: a city the plant is in is no address.
        (
            "What's the street address of Orrin's Reno plant?",
            "Orrin moves production to the Reno plant in 2 weeks.",
            "Reno plant: 1450 Valley Road, Reno.",
        ),
        # A phone asked by the word alone.
        ("许雅婷电话", "许雅婷说下次分两次交货，每次 2 吨。", "许雅婷电话 0912-345-678。"),
        # A competitor's price: our own price "per kg" shares only the unit with the question.
        (
            "What's Hexley charging Orrin per kg?",
            "Quoted our resin at $8.90/kg.",
            "Hexley charges Orrin $9.50/kg.",
        ),
    ],
)
def test_the_sentence_must_state_the_fact_asked(question: str, near_miss: str, answer: str) -> None:
    assert wanted(question) is not None, question
    assert not _read(question, near_miss).typed, near_miss
    assert _read(question, near_miss, answer).typed, answer


@pytest.mark.parametrize(
    ("question", "near_miss", "answer"),
    [
        # A month is no one's name.
        (
            "Who signed the Orrin contract?",
            "The Orrin contract was signed in Dec 2026.",
            "Dana Whitfield signed the Orrin contract.",
        ),
        # A body that decides answers "who"; the month of its meeting does not.
        (
            "Who makes the final decision on the rollout?",
            "The final decision on the rollout is due at the meeting on May 14.",
            "The final decision on the rollout is made by the technology committee.",
        ),
        # A bank, a distributor, a brand: a product's code or a short acronym names none.
        (
            "Which bank issued Orrin's letter of credit?",
            "Orrin ordered 2 t SE-400, paid by letter of credit.",
            "The letter of credit was issued by Harbor Bank.",
        ),
        (
            "Which resin distributor did we send Kai to?",
            "Not our line, referred Kai to a resin distributor.",
            "Referred Kai to Coastal Resins, a resin distributor.",
        ),
        (
            "许经理用的日本胶是哪个牌子？",
            "许经理说 LED 透镜要用日本胶。",
            "许经理用的日本胶是 Threebond。",
        ),
    ],
)
def test_the_sentence_must_name_what_is_asked(question: str, near_miss: str, answer: str) -> None:
    assert slot(question) is not None, question
    assert not _read(question, near_miss).slotted, near_miss
    assert _read(question, near_miss, answer).slotted, answer


def test_a_counted_thing_read_before_its_rate_and_counts_joined_after_it() -> None:
    # "a year" is the rate, the mixers are counted.
    assert (want := wanted("how many mixers a year does Dunmore buy")) is not None
    assert want.noun == "mixer"
    assert _read("how many pallets do they hold", "Pallets, roughly 5,000 of them.").typed
    assert _read("how many pallets do they hold", "They hold 40 returnable pallets.").typed


@pytest.mark.parametrize(
    ("question", "near_miss", "answer"),
    [
        # Whether it happened: a plan or a request for it says nothing of that.
        (
            "Did Orrin pay the deposit?",
            "Orrin wants to pay the deposit after the audit.",
            "Orrin paid the deposit on Oct 3.",
        ),
        (
            "Has Dana sent the signed contract back?",
            "Dana will send the signed contract after legal reviews it.",
            "Dana has not sent the signed contract yet.",
        ),
        ("方案交了吗？", "客户要求下周交方案。", "方案已经交了。"),
    ],
)
def test_a_plan_does_not_say_it_happened(question: str, near_miss: str, answer: str) -> None:
    assert not _read(question, near_miss).typed, near_miss
    assert _read(question, near_miss, answer).typed, answer


def test_a_length_of_time_is_said_in_many_ways() -> None:
    for note in ("Pilot: 3 clinics, an 8-week run.", "试点三家诊所，为期两个月。"):
        assert _read("how long is the pilot", note).typed, note
        assert _read("试点多长时间？", note).typed, note


def test_a_measure_asked_is_answered_by_one() -> None:
    # 用量多少, 降多少: a tonnage or a share is the answer, not a measure to read past.
    assert _read("顺成用量多少？", "顺成年用量 40 吨。").typed
    assert _read("Kessler 最后答应降多少？", "Kessler: offered 2% off from Jan.").typed
    # Two things asked at once: a note may answer either.
    assert wanted("第一次拜访时他们用谁的胶、用量多少") is None
    assert wanted("试点是几家诊所、多长时间？") is None


def test_a_count_after_its_thing_is_joined_without_a_space() -> None:
    # "车架接头用 3M": a brand after the thing is no count of it; "300 个工人" counts workers.
    assert not _read("联丰一年做多少台车架？", "车架接头用 3M 胶，年用量约 2 吨。").typed
    assert _read("顺成有多少工人？", "顺成有 300 个工人。").typed
