"""Message catalogues (English and Simplified Chinese) and the translator."""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
# Marks a "key" that is shown as it is: words an admin chose (a custom field's name).
LITERAL = "text:"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """All messages of one locale."""
    text = (LOCALE_DIR / f"{locale}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def placeholders(message: str) -> set[str]:
    """The `{name}` fields a message uses."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


class Translator:
    """Looks messages up in the user's locale, falling back to English."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT

    def __call__(self, key: str, **params: Any) -> str:
        """The message `key`, formatted with `params`."""
        if key.startswith(LITERAL):
            # A label that is no catalogue key: an admin's own words (a custom field's name).
            return key[len(LITERAL) :]
        message = catalogue(self.locale).get(key) or catalogue(DEFAULT).get(key)
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
