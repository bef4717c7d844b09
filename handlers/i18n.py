"""Message catalogues (English, Simplified and Traditional Chinese) and the translator.

Traditional Chinese (`zh-Hant`) is not a third file to keep in step: it is the Simplified
catalogue converted by OpenCC with Taiwan wording, plus `zh-Hant.fixes.json` for the few
messages the conversion gets wrong. A key added to zh.json is Traditional at once.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from crm_core import rules
from crm_core.errors import Invalid
from crm_core.stages import Stage
from crm_core.text import has_cjk, to_traditional, traditional_share

HANT = "zh-Hant"
LOCALES = ("en", "zh", HANT)
LOCALE_DIR = Path(__file__).parent / "locales"
FIXES = LOCALE_DIR / "zh-Hant.fixes.json"
DEFAULT = "en"
# What a command looks like inside a message: `客户 华东物流`.
_CODE = re.compile(r"(`[^`]*`)")
# Marks a "key" that is shown as it is: words an admin chose (a custom field's name).
LITERAL = "text:"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """All messages of one locale."""
    if locale == HANT:
        return _traditional_catalogue()
    text = (LOCALE_DIR / f"{locale}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


@cache
def _fixes_file() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(FIXES.read_text("utf-8"))
    return data


def fixes() -> dict[str, str]:
    """Hand-written Traditional messages where the conversion of zh.json is wrong."""
    return _fixes_file()["messages"]


def word_fixes() -> dict[str, str]:
    """Words OpenCC leaves in mainland usage -> the Taiwan word (`賬號` -> `帳號`)."""
    return _fixes_file()["words"]


def _code(text: str) -> str:
    """A command in backticks, character by character, then the Taiwan words that are
    aliases of the same verb (`營銷活動` -> `行銷活動`): what is copied still runs."""
    text = to_traditional(text, phrases=False)
    for wrong, right in _fixes_file().get("code_words", {}).items():
        text = text.replace(wrong, right)
    return text


def _prose(text: str) -> str:
    text = to_traditional(text)
    for wrong, right in word_fixes().items():
        text = text.replace(wrong, right)
    return text


def traditional(text: str) -> str:
    """Simplified text as a Taiwan / Hong Kong reader writes it.

    Commands in backticks are converted character by character only, so what a person copies
    still reads as the verb (`查找` must not become the word `查詢`, which is no alias).
    """
    return "".join(
        _code(part) if _CODE.fullmatch(part) else _prose(part) for part in _CODE.split(text)
    )


def _traditional_catalogue() -> dict[str, str]:
    fixed = fixes()
    return {key: fixed.get(key) or traditional(text) for key, text in catalogue("zh").items()}


def placeholders(message: str) -> set[str]:
    """The `{name}` fields a message uses."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def detect(text: str, chinese: str = "zh") -> str | None:
    """The language a message is written in (`en`, `zh`, `zh-Hant`), None when it cannot tell.

    Any Chinese character makes it Chinese; more Traditional-only than Simplified-only
    characters make it Traditional, more Simplified-only ones Simplified. Chinese that both
    scripts write alike (管道, 提醒) is `chinese`: the writer's own script. Text of digits,
    signs and `#12` says nothing.
    """
    if has_cjk(text):
        trad, simp = traditional_share(text)
        return HANT if trad > simp else "zh" if simp > trad else chinese
    return "en" if re.search(r"[A-Za-z]{2,}", text) else None


# The suffix of a message's singular form, used when its `count` is 1 (English only: Chinese
# has no plural, so its `.one` keys repeat the plain message).
ONE = ".one"


class Translator:
    """Looks messages up in the user's locale, falling back to English."""

    def __init__(self, locale: str, stages: Sequence[Stage] = ()) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT
        # The configured pipeline, for the stage labels it declares per locale.
        self.stages = tuple(stages)

    def stage(self, name: str) -> str | None:
        """A stage's configured label in this locale (Traditional from the Simplified one when
        only that is given), or None when the configuration names none."""
        for stage in self.stages:
            if stage.name == name:
                label = stage.label(self.locale)
                if label is None and self.locale == HANT and stage.label("zh"):
                    label = traditional(stage.label("zh") or "")
                return label
        return None

    @property
    def chinese(self) -> bool:
        """Whether the reader reads Chinese (Simplified or Traditional)."""
        return self.locale != "en"

    def __call__(self, key: str, **params: Any) -> str:
        """The message `key`, formatted with `params`."""
        if key.startswith(LITERAL):
            # A label that is no catalogue key: an admin's own words (a custom field's name).
            return key[len(LITERAL) :]
        own = catalogue(self.locale)
        if params.get("count") == 1 and f"{key}{ONE}" in own:
            # "1 deal", not "1 deals": a language with a singular form declares it as `<key>.one`.
            key = f"{key}{ONE}"
        message = own.get(key) or catalogue(DEFAULT).get(key)
        if message is None:
            raise KeyError(f"no message {key!r} in the catalogues")
        for name, value in params.items():
            # "Created Acme Inc.." reads as a typo: a value that ends a sentence ends it once.
            if isinstance(value, str) and value.endswith("."):
                message = message.replace("{" + name + "}.", "{" + name + "}")
        return message.format(**params)

    def has(self, key: str) -> bool:
        """Whether a message exists."""
        return key in catalogue(self.locale) or key in catalogue(DEFAULT)

    def words(self, text: str) -> str:
        """Chinese text written by the code outside the catalogue (weekday names, chart
        labels), in this reader's script."""
        return traditional(text) if self.locale == HANT else text

    def command(self, text: str) -> str:
        """A command a person may type (a verb alias), in this reader's script, still parseable."""
        return to_traditional(text, phrases=False) if self.locale == HANT else text


def client_locale(code: str | None) -> str:
    """A client's language tag (`zh-TW`, `zh-hans`, `en-GB`) as one of ours; English otherwise."""
    try:
        return rules.locale(code or DEFAULT)
    except Invalid:
        return DEFAULT
