"""The gate reads a glossary row's other names of a topic word as the word itself (gate9)."""

from __future__ import annotations

from retrieval.glossary import equivalents
from retrieval.tokens import tokens
from tests.retrieval.test_settled import _read


def test_another_name_in_the_glossary_shares_the_topic() -> None:
    # "payment terms" / "pays on net 30", 到货 / 交货, "bill" / "invoice": answered.
    assert _read("How long are Orla Marine's payment terms?", "Orla Marine pays on net 30.").cover
    assert _read("永盛几时到货？", "永盛说交货要两个礼拜。").cover > 0
    reading = _read("What did we knock off Tovi's bill?", "Tovi invoice: credit of $320 given.")
    assert reading.cover > 0 and reading.typed


def test_a_word_with_no_other_name_shares_nothing() -> None:
    # No glossary row holds "lobster" or "captain": a note about the price still shares nothing.
    assert not _read("How many lobsters for the captain's dinner?", "Price list for Tovi.").cover
    assert _read("Tovi 船长晚宴要加多少龙虾？", "Tovi price list: $120 per case.").cover == 0


def test_pairs_of_a_longer_chinese_word_are_no_other_names() -> None:
    # "温度记录" is indexed as 温度, 度记, 记录: 温度 is no other name of 记录.
    assert "记录" not in equivalents("温度")
    assert not _read("永盛的温度多少度？", "永盛要求提供全程记录。").cover
    assert {"pay", "付款"} <= equivalents(tokens("payment")[0])


def test_a_question_is_translated_into_the_other_languages_index_terms() -> None:
    from retrieval.glossary import translated

    english = translated("Which year was the used tractor built, and the price?")
    assert {"拖拉", "二手", "出厂", "报价"} <= set(english)
    # Lone characters (元, 年) stand beside every number in Chinese notes: never given.
    assert not [t for t in english if len(t) < 2]
    assert {"first", "order"} <= set(translated("他们第一批订单什么时候到"))
    # Words no row holds translate to nothing.
    assert translated("who is the captain of the lobster boat?") == []
