"""Chinese words in time phrases: numerals (一二三…十, 两, 廿), weekdays, parts of the day."""

from __future__ import annotations

# As shown in a recurrence ("每周一 09:00"), Monday first.
WEEKDAY_CHARS = "一二三四五六日"
# One numeral character; numbers of up to three of them are read by `cn_int`.
NUMERAL = "[零〇一二两三四五六七八九十廿]"
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
CN_DIGITS.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
# The character after 周/星期/礼拜, Monday = 0 (digits as well: 周1).
CN_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
CN_WEEKDAYS.update({str(i + 1): i for i in range(7)})
# Parts of the day, by their English names in core.PARTS.
CN_PARTS = {
    "上午": "morning",
    "早上": "morning",
    "早晨": "morning",
    "清晨": "morning",
    "中午": "noon",
    "下午": "afternoon",
    "傍晚": "dusk",
    "晚上": "night",
    "夜里": "night",
    "夜晚": "night",
    "凌晨": "early",
    "半夜": "early",
    # Cantonese: 朝早 morning, 晏昼 / 下昼 afternoon (the view is Simplified: 晏晝 reads 晏昼).
    "朝早": "morning",
    "晏昼": "afternoon",
    "下昼": "afternoon",
}
# Days named relative to today, some with a part of the day.
CN_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "大后天": (3, None),
    "后天": (2, None),
    "明天": (1, None),
    "明日": (1, None),
    "今天": (0, None),
    "今日": (0, None),
    "今晚": (0, "night"),
    "明晚": (1, "night"),
    "今早": (0, "morning"),
    "明早": (1, "morning"),
    "明晨": (1, "morning"),
    # Cantonese: 听日 tomorrow, 听朝 tomorrow morning, 听晚 tomorrow night (聽 reads 听).
    "听日": (1, None),
    "听朝": (1, "morning"),
    # 聽朝早 / 今朝早: tomorrow / this morning, 早 (early) said with them.
    "听朝早": (1, "morning"),
    "今朝早": (0, "morning"),
    "听晚": (1, "night"),
}


def cn_int(text: str) -> int:
    """ "12", "十二", "两", "二十五", "廿五" as an int; ValueError for anything else."""
    if text.isascii() and text.isdigit():
        return int(text)
    if text.startswith("廿"):
        # 廿 is twenty, written in dates: 廿五号 is the 25th.
        ones = text[1:]
        if len(ones) > 1:
            raise ValueError(text)
        return 20 + (_digit(ones) if ones else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            raise ValueError(text)
        return (_digit(tens) if tens else 1) * 10 + (_digit(ones) if ones else 0)
    if len(text) != 1:
        raise ValueError(text)
    return _digit(text)


def _digit(ch: str) -> int:
    if ch not in CN_DIGITS:
        raise ValueError(ch)
    return CN_DIGITS[ch]
