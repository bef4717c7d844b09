"""Chinese personal names read as the romanized names staff are stored under."""

from __future__ import annotations

from crm_core.names_zh import readings


def test_any_given_name_character_is_read_not_only_common_ones() -> None:
    """王五, 陈曦, 周翘: given names are read by pypinyin, in either order."""
    assert {"wang wu", "wu wang"} <= readings("王五")
    assert "chen xi" in readings("陈曦")
    assert "zhou qiao" in readings("周翘")


def test_traditional_and_u_umlaut_spellings() -> None:
    """Traditional characters are read as their Simplified form; ü is spelt v or u."""
    assert "wang wei" in readings("王偉")
    assert {"lv xin", "lu xin"} <= readings("吕鑫")
    assert "lu nv" in readings("卢女") and "lu nu" in readings("卢女")


def test_surname_readings_come_from_the_surname_table() -> None:
    """单 as a surname is shan; 欧阳 is a two-character surname."""
    assert "shan jie" in readings("单杰")
    assert "ouyang na" in readings("欧阳娜")


def test_what_is_not_a_name_reads_as_nothing() -> None:
    """No surname first, other scripts, or too long a given name: no reading."""
    assert readings("报价单") == set()
    assert readings("王abc") == set()
    assert readings("王大小明") == set()
