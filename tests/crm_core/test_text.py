"""Name keys: the same company however it is typed."""

from __future__ import annotations

import pytest

from crm_core.text import fold, name_key, to_simplified


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Acme", "acme"),
        ("ACME logistics inc.", "acme logistics"),
        ("Acme Logistics, Inc.", "acme logistics"),
        ("acme   LOGISTICS", "acme logistics"),
        ("The Acme Company", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme Corp. Ltd.", "acme"),
        ("Acme Pty. Ltd.", "acme"),
        ("Müller GmbH", "müller"),
        ("MÜLLER gmbh", "müller"),
        ("Straße AG", "strasse"),
        ("Acme-Foods", "acme foods"),
        ("acme.foods", "acme foods"),
        ("O'Brien & Sons Ltd.", "o brien and sons"),
        ("Ｆｕｌｌ　Width", "full width"),
        ("  spaced   out  ", "spaced out"),
    ],
)
def test_name_key(typed: str, key: str) -> None:
    """Case, punctuation, width and legal suffixes do not matter."""
    assert name_key(typed) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Johnson & Johnson", "Johnson and Johnson"),
        ("AT&T", "AT & T"),
        ("AT&T", "at and t"),
        ("Acme, Inc.", "ACME INC"),
        ("Acme Limited", "acme ltd"),
    ],
)
def test_same_key(a: str, b: str) -> None:
    """`&` is `and`; legal forms and commas are noise."""
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Logistics", "Acme Foods"),
        ("AT&T", "ATT"),
        ("Acme (HK) Limited", "Acme Limited"),
        ("上海 Acme 有限公司", "Acme 有限公司"),
    ],
)
def test_different_key(a: str, b: str) -> None:
    """Words that tell companies apart are kept."""
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize("word", ["Inc", "The", "Co", "公司", "集团"])
def test_a_name_that_is_only_a_suffix_keeps_it(word: str) -> None:
    """A name is never reduced to nothing."""
    assert name_key(word) == fold(word)
    assert name_key(word)


@pytest.mark.parametrize(
    ("traditional", "simplified", "key"),
    [
        ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司", "台湾积体电路制造"),
        ("華為技術有限公司", "华为技术有限公司", "华为技术"),
        ("阿里巴巴集團", "阿里巴巴集团", "阿里巴巴"),
        ("東方電氣", "东方电气", "东方电气"),
    ],
)
def test_traditional_and_simplified_chinese_match(
    traditional: str, simplified: str, key: str
) -> None:
    """Traditional and Simplified spellings share one key, without the legal form."""
    assert name_key(traditional) == name_key(simplified) == key


def test_chinese_suffix_after_latin_name() -> None:
    """A Chinese legal form after a Latin name goes, with or without a space."""
    assert name_key("ACME有限公司") == name_key("ACME 有限公司") == name_key("Acme") == "acme"


def test_to_simplified_leaves_other_text_alone() -> None:
    """Only Traditional characters change."""
    assert to_simplified("Acme 華為 café") == "Acme 华为 café"


@pytest.mark.parametrize(
    ("dotted", "plain"),
    [("Acme S.A.", "Acme SA"), ("Acme L.L.C.", "Acme LLC"), ("Acme B.V.", "Acme BV")],
)
def test_dotted_legal_forms(dotted: str, plain: str) -> None:
    """`Acme S.A.` is `Acme SA` is `acme`."""
    assert name_key(dotted) == name_key(plain) == "acme"
